"""Write every tidy output table to ``OUT/tables`` with its data dictionary.

:func:`compute_tables` is pure (corpus in, tables out); :func:`build_tables`
validates the corpus, computes and writes each table atomically, and writes the
data dictionary (``README.md`` and ``data_dictionary.csv``) from
:data:`DICTIONARY`, the single description of every output column.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys

import pandas as pd

from analysis import autocode, cache, comparison, coverage, synthesis
from analysis.coding import segments as segment_table
from analysis.io import atomic_write_text, write_csv
from analysis.paths import Layout
from analysis.sources import ADMIN_LEVELS, Corpus, load_corpus

DICTIONARY: dict[str, tuple[str, dict[str, str]]] = {
    "segments": ("one row per coded segment (a passage x a code) of every site", {
        "site": "site slug (data/sites.csv)",
        "segment_id": "id of the segment in its coding sheet (<site>-NNN)",
        "source_id": "document the quote comes from (data/sources.csv)",
        "start": "offset of the first character of the quote in the raw text (Python code points)",
        "end": "offset one past the last character of the quote",
        "quote": "verbatim raw_text[start:end]",
        "code": "code of data/codebook.csv (canonical or site-specific)",
        "canonical_code": "the code itself if canonical, else its canonical parent",
        "category": "dimension | practice | barrier | outcome",
        "valence": "positive (present, improved) | negative (lacking, a problem; every barrier)",
        "evidence": "interview | observation | document | author_claim",
        "informant": "informant role as the study names it, or empty",
        "attribution": "primary (about the site) | cited_secondary (another study or place)",
        "section": "abstract | background | method | results | conclusion",
        "memo": "the coder's note on a judgment call, or empty",
    }),
    "site_code_matrix": ("one row per site x canonical code, every pair (the framework matrix)", {
        "site": "site slug",
        "category": "dimension | practice | barrier | outcome",
        "code": "canonical code",
        "n_segments": "primary segments of the code (or its site-specific children) at the site",
        "n_positive": "of which positive",
        "n_negative": "of which negative",
        "n_cited_secondary": "cited-secondary segments (evidence about other work; not in the state)",
        "state": "dimension/practice: practiced | mixed | lacking; barrier: reported; "
                 "outcome: improved | mixed | problem; any: not_reported",
        "segment_ids": "the primary segments behind the cell, ';'-separated (see segments.csv)",
    }),
    "category_counts": ("one row per site x category x valence", {
        "site": "site slug", "category": "dimension | practice | barrier | outcome",
        "valence": "positive | negative", "n_segments": "primary segments",
    }),
    "code_cooccurrence": ("one row per site x pair of canonical codes coded on overlapping text", {
        "site": "site slug", "code_a": "canonical code (alphabetically first)",
        "code_b": "canonical code (alphabetically second)",
        "n_overlaps": "pairs of primary segments, one of each code, sharing at least one character",
    }),
    "site_similarity": ("one row per ordered pair of sites (diagonal included); empty above "
                        f"{comparison.SIMILARITY_MAX_SITES} sites", {
        "site_a": "site slug", "site_b": "site slug",
        "n_shared": "canonical codes both sites report",
        "n_union": "canonical codes either site reports",
        "jaccard": "n_shared / n_union (empty when n_union is 0)",
    }),
    "code_prevalence": ("one row per canonical code: prevalence across segments and sites", {
        "category": "dimension | practice | barrier | outcome", "code": "canonical code",
        "n_segments": "primary segments of the code, all sites",
        "n_segments_total": "primary segments of all codes, all sites",
        "share_segments": "n_segments / n_segments_total",
        "seg_ci_low": "Wilson 95% interval, lower bound (statsmodels proportion_confint)",
        "seg_ci_high": "Wilson 95% interval, upper bound",
        "n_sites": "sites reporting the code", "n_sites_total": "sites in the corpus",
        "share_sites": "n_sites / n_sites_total",
        "site_ci_low": "Wilson 95% interval, lower bound",
        "site_ci_high": "Wilson 95% interval, upper bound",
    }),
    "paragraphs": ("one row per results or conclusion paragraph of each case study (coverage)", {
        "site": "site slug", "source_id": "document", "section": "results | conclusion",
        "paragraph_no": "paragraph number within the study's results and conclusion",
        "start": "offset of the paragraph's first character", "end": "offset one past its end",
        "n_segments": "coded segments overlapping the paragraph",
        "coded": "True when n_segments > 0",
        "first_words": "the paragraph's first ten words (whitespace folded)",
    }),
    "coverage": ("one row per site: coding coverage of its results and conclusion paragraphs", {
        "site": "site slug", "n_paragraphs": "paragraphs (see paragraphs.csv)",
        "n_coded": "paragraphs with at least one coded segment",
        "share_coded": "n_coded / n_paragraphs",
    }),
    "studies": ("one row per site: the office and the study (Table 1)", {
        "site": "site slug", "source_id": "the case study", "name": "office studied",
        "admin_level": "level or kind of office: " + " | ".join(ADMIN_LEVELS), "parent": "parent government, or empty",
        "province": "province", "unit_studied": "unit of the office studied",
        "design": "study design", "methods": "data collection methods, ';'-separated",
        "informants": "informant roles named in the text, ';'-separated",
        "analysis": "analysis approach named in the text", "framework": "concepts the study uses",
        "title": "title as the text gives it", "authors": "empty where the text does not give them",
        "year": "empty where the text does not give it", "venue": "empty where not given",
    }),
    "appraisal": ("one row per study x CASP qualitative checklist question", {
        "site": "site slug", "source_id": "the case study", "question_no": "1-10",
        "question": "CASP question", "answer": "yes | cant_tell | no",
        "reason": "one-line reason grounded in the text",
    }),
    "cerqual": ("one row per cross-site finding: GRADE-CERQual summary of findings", {
        "finding_id": "F1, F2, ...", "finding": "the finding as a sentence",
        "codes": "canonical codes the finding rests on, ';'-separated",
        "valence": "valence of the segments that support it",
        "contributing_sites": "sites with supporting primary segments (computed)",
        "n_studies": "number of contributing sites (computed; adequacy)",
        "n_sites_total": "sites in the corpus",
        "n_segments": "supporting primary segments (computed; adequacy)",
        "disagreeing_sites": "sites with primary segments of the opposite valence (computed; coherence flag)",
        "n_disagreeing_segments": "those segments (computed)",
        "methodological_limitations": "concern: no_or_very_minor | minor | moderate | serious",
        "coherence": "concern (judged, informed by disagreeing_sites)",
        "adequacy": "concern (judged, informed by n_studies and n_segments)",
        "relevance": "concern (judged)",
        "confidence": "overall: high | moderate | low | very_low",
        "explanation": "why",
        "judged_sites": "contributing sites the judgment was made on (data/cerqual.csv), ';'-separated",
        "to_review": "True when the contributing sites differ from judged_sites: judgment to be reviewed",
    }),
    "coder_agreement": ("one row per site with a second coding x level x label: sentence-level "
                        "agreement of the second coder (B) with the kit's coding (A)", {
        "site": "site slug",
        "level": "category | canonical_code: what a unit's label is",
        "label": "the category or canonical code; (all) pools every sentence x label unit",
        "n_units": "sentences x labels compared",
        "coded_a": "units the kit's coding codes", "coded_b": "units the second coder codes",
        "coded_both": "units both code",
        "percent_agreement": "share of units where both agree (coded or not), 0-100",
        "cohen_kappa": "Cohen's kappa over the units",
        "precision": "coded_both / coded_b", "recall": "coded_both / coded_a",
        "f1": "harmonic mean of precision and recall",
        "note": "why a value is empty, when it is",
    }),
    "barrier_training": ("one row per site x barrier it reports: the training guidance's content for it", {
        "site": "site slug", "code": "canonical barrier code",
        "n_site_segments": "primary segments of the barrier at the site",
        "n_guidance_challenge": "guidance passages naming the barrier as a challenge",
        "n_guidance_material": "training materials addressing it",
        "n_guidance_strategy": "strategies addressing it",
        "addressed": "True when the guidance offers a material or strategy for it",
        "guidance_segment_ids": "guidance passages (data/guidance.csv), ';'-separated",
    }),
    "autocode_eval": ("one row per held-out site x lexicon x category: leave-one-site-out "
                      "evaluation of the lexicon's coding suggestions against the hand coding, "
                      "sentence by sentence (docs/new_site.md)", {
        "held_out_site": "site whose hand coding is compared (terms learned from the other "
                         "coded sites only); (all) pools the sites",
        "lexicon": "learned: terms learned from the other sites' coding only; seed+learned: "
                   "data/lexicon.csv as well (what new-site uses; optimistic, the seed terms "
                   "come from a codebook that quotes every site)",
        "category": "dimension | practice | barrier | outcome; (all) pools them",
        "n_units": "sentences compared (every sentence of the held-out texts); x 4 categories in (all) rows",
        "coded_hand": "units the accepted hand coding codes",
        "coded_auto": "units the suggestions code",
        "coded_both": "units both code",
        "precision": "coded_both / coded_auto", "recall": "coded_both / coded_hand",
        "cohen_kappa": "Cohen's kappa over the units",
        "note": "why a value is empty: no suggestion (precision), no hand coding (recall), "
                "kappa undefined",
    }),
}


def compute_tables(corpus: Corpus) -> dict[str, pd.DataFrame]:
    """Every output table, keyed by name (the order of :data:`DICTIONARY`)."""
    # cerqual.csv, the last input, is read before anything is computed, so a refused input
    # stores no cache entry; then the suggestions' evaluation, so its sentence units and
    # term counts are freed before the other tables are held (a large corpus's peak memory)
    findings = synthesis.load_findings(corpus)
    evaluation = autocode_evaluation(corpus)
    sites = corpus.site_ids
    segs = segment_table(corpus)
    matrix = comparison.site_code_matrix(segs, corpus.codebook, sites)
    paragraphs = coverage.paragraph_table(corpus)
    tables = {
        "segments": segs,
        "site_code_matrix": matrix,
        "category_counts": comparison.category_counts(segs),
        "code_cooccurrence": comparison.code_cooccurrence(segs),
        "site_similarity": comparison.site_similarity(matrix),
        "code_prevalence": comparison.code_prevalence(segs, matrix),
        "paragraphs": paragraphs,
        "coverage": coverage.coverage_summary(paragraphs, sites),
        "studies": synthesis.study_table(corpus.sites, corpus.sources),
        "appraisal": synthesis.appraisal_table(corpus.appraisal, corpus.casp_questions,
                                               corpus.sources),
        "cerqual": (synthesis.cerqual_summary(findings, segs, sites) if findings is not None
                    else pd.DataFrame(columns=list(DICTIONARY["cerqual"][1]))),
        "coder_agreement": coder_agreement(corpus),
        "barrier_training": synthesis.barrier_training(segs, corpus.guidance, corpus.codebook,
                                                       sites),
        "autocode_eval": evaluation,
    }
    for name, table in tables.items():
        expected = list(DICTIONARY[name][1])
        if list(table.columns) != expected:
            raise RuntimeError(f"table {name} has columns {list(table.columns)}, "
                               f"the dictionary {expected}")
    return tables


EVALUATION_MODULE = "analysis.autocode"


def evaluation_corpus(corpus: Corpus) -> Corpus:
    """The part of the corpus the suggestions' evaluation reads (the parts its cache key
    covers): sites, sources, texts, codebook, coding, section maps, and the lexicon
    file through the layout. Appraisal, guidance and second codings are left out, so
    the evaluation cannot depend on an input the key does not cover."""
    return dataclasses.replace(corpus, appraisal=None, casp_questions=None, guidance=None,
                               second_coding=None)


def evaluation_key(corpus: Corpus) -> str:
    """The cache key of the evaluation: a hash of the code version of
    :mod:`analysis.autocode` (its source and that of every kit module it imports) and of
    every input :func:`evaluation_corpus` holds (see :mod:`analysis.cache`)."""
    key = cache.Key("autocode_eval").text("code", cache.code_version(EVALUATION_MODULE))
    for name in ("sites", "sources", "codebook", "coding"):
        key.table(name, getattr(corpus, name))
    for source_id, text in sorted(corpus.texts.items()):
        key.text(f"text {source_id}", hashlib.sha256(text.encode("utf-8")).hexdigest())
    for source_id, section_map in sorted(corpus.sections.items()):
        key.table(f"sections {source_id}", section_map)
    return key.file("lexicon", corpus.layout.lexicon_csv).hexdigest()


def autocode_evaluation(corpus: Corpus, use_cache: bool = True) -> pd.DataFrame:
    """:func:`analysis.autocode.leave_one_site_out`, served from ``OUT/cache/`` when its
    inputs and code are those of the stored result (:func:`evaluation_key`), else computed
    and stored. The table is the same, byte for byte, as a fresh computation."""
    view = evaluation_corpus(corpus)
    if not use_cache:
        return autocode.leave_one_site_out(view)
    return cache.cached_table(corpus.layout.cache_dir / "autocode_eval.json",
                              evaluation_key(view), lambda: autocode.leave_one_site_out(view))


def coder_agreement(corpus: Corpus) -> pd.DataFrame:
    """Sentence-level agreement of each site's second coding with its coding (primary and
    cited-secondary segments alike: both coders code the same text)."""
    from analysis.agreement import sentence_agreement
    from analysis.text import corpus_sentences

    columns = list(DICTIONARY["coder_agreement"][1])
    if corpus.second_coding is None:
        return pd.DataFrame(columns=columns)
    frames = []
    for site, second in corpus.second_coding.groupby("site", sort=True):
        first = corpus.coding[corpus.coding["site"] == site]
        sources = sorted(set(first["source_id"]) | set(second["source_id"]))
        sentences = corpus_sentences({s: corpus.texts[s] for s in sources})
        for level in ("category", "canonical_code"):
            table = sentence_agreement(first, second, sentences, by=level,
                                       codebook=corpus.codebook)
            table = table.rename(columns={level: "label"})
            table.insert(0, "level", level)
            table.insert(0, "site", site)
            frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    for col in ("percent_agreement", "cohen_kappa", "precision", "recall", "f1"):
        out[col] = out[col].astype(float).round(4)
    return out[columns]


SPREADSHEET_NOTE = (
    "Opening these files in a spreadsheet program: every cell is written exactly as the data "
    "holds it, which is right for CSV. A cell that begins with `=`, `+`, `-` or `@` (a quote "
    "that starts with a dash, a negative kappa) is plain text here, but Excel, LibreOffice "
    "Calc or Google Sheets may read it as a formula when the file is opened directly. Import "
    "the file instead (Excel: Data > From Text/CSV; LibreOffice: the text import dialog) with "
    "the text columns set to Text, or read it with pandas or R.")
"""The data dictionary's note on cells a spreadsheet program may take for formulas."""


def dictionary_table() -> pd.DataFrame:
    """One row per output table x column: table, rows (what a row is), column, description."""
    return pd.DataFrame([(name, rows, col, desc) for name, (rows, cols) in DICTIONARY.items()
                         for col, desc in cols.items()],
                        columns=["table", "rows", "column", "description"])


def dictionary_markdown() -> str:
    lines = ["# Output tables", "",
             "Written by `python -m analysis tables` (and `make tables`, `make report`).",
             "Generated: do not edit. Same inputs give byte-identical files.", "",
             SPREADSHEET_NOTE, ""]
    for name, (rows, cols) in DICTIONARY.items():
        lines += [f"## {name}.csv", "", f"One row: {rows}.", "", "| column | description |",
                  "|---|---|"]
        lines += [f"| `{c}` | {d} |" for c, d in cols.items()]
        lines.append("")
    return "\n".join(lines)


def write_tables(tables: dict[str, pd.DataFrame], layout: Layout,
                 progress: bool = False) -> list:
    written = []
    total = len(tables) + 1  # the tables, then the data dictionary (CSV and README) as one step
    for i, (name, table) in enumerate(tables.items(), 1):
        written.append(write_csv(table, layout.table(name)))
        if progress:
            print(f"[{i}/{total}] {name}.csv ({len(table)} rows)", file=sys.stderr, flush=True)
    written.append(write_csv(dictionary_table(), layout.table("data_dictionary")))
    written.append(atomic_write_text(layout.tables_dir / "README.md", dictionary_markdown()))
    if progress:
        print(f"[{total}/{total}] data dictionary", file=sys.stderr, flush=True)
    return written


def build_tables(layout: Layout, progress: bool = False) -> list:
    """Validate the corpus, compute every table and write it; returns the paths written.

    Tables are computed in full before the first is written, so a bad input
    leaves the previous tables untouched.
    """
    if progress:
        print(f"validating {layout.data}", file=sys.stderr, flush=True)
    tables = compute_tables(load_corpus(layout))  # the corpus is freed before writing
    return write_tables(tables, layout, progress)
