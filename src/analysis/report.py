"""The comparison report: ``OUT/comparison.pdf``, typeset with Typst from the written tables.

:func:`build_report` validates the corpus, computes and writes the tidy tables
(:mod:`analysis.tables`), writes the figures (``OUT/figures/*.svg``), then reads
the tables back **from the CSV files it wrote** and generates the Typst source
from them: no number in the PDF is typed by hand, each comes from a table in
``OUT/tables``. The display tables are built by the same functions the notebooks
call (:mod:`analysis.views`), so a notebook and the PDF cannot disagree.

Data text never enters Typst markup: every value is written as a Typst string
literal by :func:`typst_string`, the one escaping function, so characters such as
``# $ * _ < > @ [ ] \\`` and line-start ``=``, ``-`` or ``//`` print as themselves.

The PDF is compiled in memory with the fonts bundled in the ``typst`` package
only (system fonts ignored), and dated with the data's date (``data/corpus.csv``),
never the build time, so the same inputs give the same PDF.

``python -m analysis.report glosses [--data DIR]`` prints, as CSV, the quotes the
report shows that still lack an English gloss in ``data/glosses.csv``.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.io import atomic_write_bytes, atomic_write_text
from analysis.paths import Layout
from analysis.schema import SLUG, Column, Schema, read_table, records
from analysis.sources import Corpus, present
from analysis.synthesis import CONFIDENCE
from analysis.views import (NOT_GIVEN, clearest_quotes, matrix_table, missing_wording,
                            number_word, one_line, site_names)

TEMPLATE = "comparison.typ"

CORPUS_META = Schema("corpus", (
    Column("key", pattern=SLUG, hint="a lower-case key such as title or date"),
    Column("value", required=False),
), unique=("key",))

GLOSSES = Schema("glosses", (
    Column("segment_id", pattern=r"[a-z][a-z0-9_]*-\d+", hint="a segment id such as mesuji-012"),
    Column("gloss_en"),
), unique=("segment_id",))

REPORT_TABLES = ("studies", "appraisal", "site_code_matrix", "segments", "category_counts",
                 "code_prevalence", "coverage", "cerqual", "barrier_training",
                 "data_dictionary")
"""The tables of ``OUT/tables`` the report reads back."""
OPTIONAL_TABLES = ("coder_agreement",)
"""Tables the report shows when the tables stage writes them."""

CATEGORY_SECTIONS = {
    "dimension": ("Interpersonal communication dimensions across sites",
                  "The dimensions of interpersonal communication are the common frame of the "
                  "comparison. The clearest quote of a cell is chosen by rule: the cell’s "
                  "majority valence, then evidence closest to data (interview, observation, "
                  "document, author claim), then results before conclusion and abstract, then "
                  "the shorter quote. Quotes are verbatim Indonesian (the extraction’s line "
                  "breaks folded) with a hand-made English gloss."),
    "practice": ("Leadership and office practices",
                 "What leaders and offices do, per site: practised where the study reports it at "
                 "work, lacking where it reports it missing, mixed where it reports both."),
    "barrier": ("Barriers across sites",
                "What hinders communication and performance, per site. A barrier is "
                "reported where a study names it; the number is its primary segments."),
    "outcome": ("Outcomes",
                "What the studies report as results: improved where performance or service "
                "got better, problem where the study reports delays or shortfalls, mixed "
                "where it reports both."),
}

CASP_ANSWER_LABELS = {"yes": "Yes", "cant_tell": "Can’t tell", "no": "No"}

FIXED_REFERENCES = (
    "CASP UK (2018). CASP Qualitative Checklist. Critical Appraisal Skills Programme.",
    "Lewin S, et al. (2018). Applying GRADE-CERQual to qualitative evidence synthesis "
    "findings: introduction to the series. Implementation Science 13(Suppl 1):2. "
    "doi:10.1186/s13012-017-0688-3.",
    "Wilson EB (1927). Probable inference, the law of succession, and statistical "
    "inference. Journal of the American Statistical Association 22:209–212.",
)


# --------------------------------------------------------------------------- escaping

def typst_string(value: object) -> str:
    """``value`` as a Typst string literal (quotes included), safe in code and after ``#``.

    Inside a string literal Typst interprets only backslash escapes, so escaping
    ``\\`` and ``"`` and writing control characters as escapes is complete: the
    text prints exactly as given, whatever markup characters it holds.
    """
    out = ['"']
    for ch in str(value):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


S = typst_string


def _cell(*parts: str) -> str:
    """A content block of Typst expressions, one per line (each already code, e.g. ``S(x)``)."""
    return "[" + r" \ ".join(f"#{p}" for p in parts if p) + "]"


def _emph(text: str) -> str:
    return f"emph({S(text)})"


def _strong(text: str) -> str:
    return f"strong({S(text)})"


def _muted(text: str) -> str:
    return f"note({S(text)})"


class Ref(str):
    """A cross-reference to a labelled table or figure, inside :meth:`_Body.para`."""


# --------------------------------------------------------------------------- inputs

def load_corpus_meta(layout: Layout) -> dict[str, str]:
    """The ``key,value`` rows of ``data/corpus.csv``; ``title`` and ``date`` (YYYY-MM-DD)
    are required."""
    path = layout.corpus_csv
    if not present(path):
        raise InputError(path, "file not found (the report needs it: key,value rows with at "
                         "least title and date)")
    table = read_table(path, CORPUS_META)
    meta = dict(zip(table["key"], table["value"]))
    lines = dict(zip(table["key"], table["_line"]))
    for key in ("title", "date"):
        if not meta.get(key):
            raise InputError(path, f"no '{key}' row with a value (expected key,value rows "
                             "including title and date)", column="key")
    try:  # fromisoformat alone also takes 20261123 and 2026-W48-1
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["date"], re.ASCII):
            raise ValueError(meta["date"])
        dt.date.fromisoformat(meta["date"])
    except ValueError:
        raise InputError(path, f"'{meta['date']}' is not a date (expected YYYY-MM-DD)",
                         line=lines["date"], column="value") from None
    return meta


def load_glosses(layout: Layout, known_ids: set[str]) -> dict[str, str]:
    """English glosses by segment id (``data/glosses.csv``; empty when the file is absent).

    A gloss for a segment id that is in no coding sheet and not in guidance.csv is
    an error: it would otherwise be silently unused.
    """
    path = layout.glosses_csv
    if not present(path):
        return {}
    table = read_table(path, GLOSSES)
    for row in records(table):
        if row.segment_id not in known_ids:
            raise InputError(path, f"unknown segment '{row.segment_id}' (not in the coding "
                             "sheets or guidance.csv)", line=row._line, column="segment_id")
    return {row.segment_id: " ".join(row.gloss_en.split()) for row in records(table)}


INT_COLUMNS = {"start", "end", "question_no", "paragraph_no"}


def read_back(layout: Layout, name: str) -> pd.DataFrame:
    """A written table as strings (empty cells ''), its count columns (``n_*``) as ints."""
    frame = pd.read_csv(layout.table(name), dtype=str, keep_default_na=False)
    for col in frame.columns:
        if col.startswith("n_") or col in INT_COLUMNS:
            frame[col] = frame[col].map(lambda v: int(v) if v != "" else 0).astype("int64")
    return frame


def _analysis(corpus, segments: pd.DataFrame, matrix: pd.DataFrame):
    """A :class:`analysis.views.Analysis` whose tables are the ones read back from CSV
    (its cached properties pre-filled), so the report calls the notebooks' view functions
    on exactly the numbers in ``OUT/tables``."""
    from analysis.views import Analysis
    an = Analysis(corpus)
    an.__dict__["segments"] = segments
    an.__dict__["matrix"] = matrix
    return an


# --------------------------------------------------------------------------- quotes and glosses

def shown_quotes(segments: pd.DataFrame, guidance: pd.DataFrame | None) -> pd.DataFrame:
    """The quotes the report prints, one row each: segment_id, site, code, quote (one line).

    The clearest quote of every reported site x canonical code cell of the four
    framework tables (dimensions, practices, barriers, outcomes; the rule of
    :func:`analysis.views.clearest_quotes`), then one passage per distinct span of
    the guidance's training materials and strategies (``site`` empty), whose
    first segment id carries the gloss.
    """
    best = clearest_quotes(segments)
    rows = [(r.segment_id, r.site, r.canonical_code, one_line(r.quote))
            for r in best.itertuples()]
    for passage in guidance_passages(guidance).itertuples():
        rows.append((passage.segment_id, "", passage.codes, passage.quote))
    return pd.DataFrame(rows, columns=["segment_id", "site", "code", "quote"])


def guidance_passages(guidance: pd.DataFrame | None) -> pd.DataFrame:
    """One row per distinct span of the guidance coded as a training material or strategy:
    segment_id (the first of the span), elements, codes (';'-separated), start, quote."""
    cols = ["segment_id", "elements", "codes", "start", "quote"]
    if guidance is None or guidance.empty:
        return pd.DataFrame(columns=cols)
    part = guidance[guidance["element"].isin(["material", "strategy"])]
    rows = []
    for (start, _end), span in part.groupby(["start", "end"], sort=True):
        span = span.sort_values("segment_id")
        rows.append((span["segment_id"].iloc[0],
                     ";".join(dict.fromkeys(span["element"])),
                     ";".join(dict.fromkeys(span["code"])), int(start),
                     one_line(span["quote"].iloc[0])))
    return pd.DataFrame(rows, columns=cols)


def _known_segment_ids(corpus) -> set[str]:
    ids = set(corpus.coding["segment_id"])
    if corpus.guidance is not None:
        ids |= set(corpus.guidance["segment_id"])
    return ids


def needed_glosses(layout: Layout, corpus: Corpus | None = None) -> pd.DataFrame:
    """The quotes the report shows that have no gloss in ``data/glosses.csv`` yet.

    One row per quote: segment_id, site (empty for the guidance), code, quote.
    Validates the corpus (unless the caller loaded it: ``corpus``, accepted coding only)
    and glosses.csv first.
    """
    from analysis.coding import segments as segment_table
    from analysis.sources import load_corpus
    corpus = load_corpus(layout) if corpus is None else corpus
    glosses = load_glosses(layout, _known_segment_ids(corpus))
    shown = shown_quotes(segment_table(corpus), corpus.guidance)
    return shown[~shown["segment_id"].isin(glosses)].reset_index(drop=True)


# --------------------------------------------------------------------------- the body

class _Body:
    """The generated Typst source, line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def heading(self, text: str, numbered: bool = True) -> None:
        numbering = "" if numbered else "numbering: none, "
        self.add("", f"#heading(level: 1, {numbering}{S(text)})")

    def para(self, *parts: str, sticky: bool = False) -> None:
        """A paragraph of plain text (escaped); a :class:`Ref` part becomes a reference
        ("Table 3"). Parts are joined as given: put the spaces in the text. A sticky
        paragraph stays on the page of what follows it (a lead-in to a list)."""
        code = "".join(f"#ref(<{p}>)" if isinstance(p, Ref) else f"#{S(p)}" for p in parts if p)
        self.add("", f"#block(sticky: true)[{code}]" if sticky else f"#par[{code}]")

    def table(self, caption: str, columns: str, header: list[str], rows: list[list[str]],
              size: str = "8pt", label: str = "") -> None:
        """A numbered table figure; ``rows`` hold Typst expressions, one per cell."""
        self.add("", f"#tablefig({S(caption)}, datatable(columns: {columns}, size: {size},",
                 "  header: (" + ", ".join(S(h) for h in header) + ",),")
        for row in rows:
            self.add("  " + ", ".join(row) + ",")
        self.add(f")){' <' + label + '>' if label else ''}")

    def figure(self, caption: str, path: str, width: str = "100%", label: str = "") -> None:
        self.add("", f"#imagefig({S(caption)}, {S(path)}, width: {width})"
                 + (f" <{label}>" if label else ""))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _pct(share: str) -> str:
    return "n/a" if share == "" else f"{float(share):.1%}"


def _number(value: str, form: str = "{:.2f}", undefined: str = "n/a") -> str:
    """A statistic read back from a table in ``form``, never a negative zero ("-0.00"
    reads as 0.00); ``undefined`` where it is undefined (empty)."""
    if value in ("", "nan"):
        return undefined
    text = form.format(float(value))
    return form.format(0.0) if text == form.format(-0.0) else text


def _list_phrase(items) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, one: str, many: str) -> str:
    """``n`` and the noun in the right number: ``3 studies``."""
    return f"{n} {one if n == 1 else many}"


def _count(n: int, one: str, many: str) -> str:
    """A count of studies or sites in words and the noun in the right number: ``four studies``."""
    return f"{number_word(n)} {one if n == 1 else many}"


@dataclass
class _Ctx:
    """What every section of the body reads: the tables read back, the corpus (names,
    labels, notes), the glosses, the figures and the optional appendix tables."""

    t: dict[str, pd.DataFrame]
    corpus: object
    meta: dict[str, str]
    glosses: dict[str, str]
    figures: dict[str, str]
    extra: dict[str, pd.DataFrame]

    @cached_property
    def an(self):
        return _analysis(self.corpus, self.t["segments"], self.t["site_code_matrix"])

    @property
    def labels(self) -> dict[str, str]:
        return self.an.labels

    @cached_property
    def best(self) -> pd.DataFrame:
        """The clearest quote of each site x canonical code (indexed so), for every
        framework section."""
        return clearest_quotes(self.an.segments).set_index(["site", "canonical_code"])

    @cached_property
    def label_id(self) -> dict[str, str]:
        return dict(zip(self.corpus.codebook["code"], self.corpus.codebook["label_id"]))

    @property
    def names(self) -> dict[str, str]:
        return self.an.names

    @cached_property
    def site_notes(self) -> dict[str, str]:
        notes = self.corpus.sites.get("notes", pd.Series("", index=self.corpus.sites.index))
        return dict(zip(self.corpus.sites["site"], notes.fillna("")))

    @cached_property
    def source_notes(self) -> dict[str, str]:
        """The notes of each site's case study (sources.csv), by site."""
        case = self.corpus.sources[self.corpus.sources["kind"] == "case_study"]
        return dict(zip(case["site"], case["notes"]))

    def name(self, site: str) -> str:
        return self.names.get(site, site)

    def site_list(self, value: str) -> str:
        """';'-separated slugs as names in a phrase ("Manoi, Mesuji and Langkat"), or 'none'."""
        return _list_phrase(self.name(s) for s in value.split(";") if s) or "none"


def _missing(value: str, field: str, notes: str) -> str:
    """The value as a string expression, or how its absence reads, muted
    (:func:`analysis.views.missing_wording`)."""
    return S(value) if value else _muted(missing_wording(field, notes))


def _agreement_sentence(c: _Ctx, agreement: pd.DataFrame) -> str:
    pooled = agreement[agreement["label"] == "(all)"]
    parts = [f"the second coding of {c.name(r.site)} agrees with the kit’s coding on "
             f"{_number(r.percent_agreement, '{:.1f}%')} of sentence × category units "
             f"(Cohen’s kappa {_number(r.cohen_kappa)}, F1 {_number(r.f1)})"
             for r in records(pooled)]
    n_second = agreement["site"].nunique()
    n_other = len(c.t["studies"]) - n_second
    return (f"{_count(n_second, 'study has', 'studies have').capitalize()} a second coding: "
            + "; ".join(parts) + ". The second coders worked blind to the first coding "
            "but from the same codebook, whose include rules quote passages of the studies, "
            "and the first coding had been audited against the text: the figures measure how "
            "reliably the codebook is applied and are likely higher than two coders building "
            "their own codes would reach."
            + (f" The other {_count(n_other, 'study rests', 'studies rest')} on one coder; the "
               "codebook’s include and exclude rules and the coding memos are the safeguard "
               "there." if n_other else ""))


def _abstract(body: _Body, c: _Ctx) -> None:
    t, labels = c.t, c.labels
    studies, counts, prevalence = t["studies"], t["category_counts"], t["code_prevalence"]
    matrix, cerqual, barriers, cov = (t["site_code_matrix"], t["cerqual"],
                                      t["barrier_training"], t["coverage"])
    by_cat = counts.groupby("category")["n_segments"].sum()
    n_primary = int(counts["n_segments"].sum())
    n_secondary = int(matrix["n_cited_secondary"].sum())
    n = len(studies)
    sentences = [
        f"This report compares {_count(n, 'published qualitative case study', 'published qualitative case studies')} "
        f"of Indonesian local-government offices ({_list_phrase(c.name(s) for s in studies['site'])}) "
        "on interpersonal communication, leadership practices, barriers and outcomes. ",
        f"Coding each study’s own findings gave {_plural(n_primary, 'primary segment', 'primary segments')} "
        f"({int(by_cat.get('dimension', 0))} on communication dimensions, "
        f"{int(by_cat.get('practice', 0))} on practices, {int(by_cat.get('barrier', 0))} on "
        f"barriers, {int(by_cat.get('outcome', 0))} on outcomes)"
        + (f"; {_plural(n_secondary, 'further segment reports', 'further segments report')} other "
           f"studies or places and {'is' if n_secondary == 1 else 'are'} not counted as evidence "
           "about a site. " if n_secondary else ". "),
    ]
    dims = prevalence[prevalence["category"] == "dimension"]
    if len(dims):
        everywhere = [labels[x].lower() for x in dims.loc[dims["n_sites"] == dims["n_sites_total"], "code"]]
        nowhere = [labels[x].lower() for x in dims.loc[dims["n_sites"] == 0, "code"]]
        if everywhere:
            sentences.append(f"Of the {number_word(len(dims))} communication dimensions, "
                             f"{_list_phrase(everywhere)} {'is' if len(everywhere) == 1 else 'are'} "
                             "reported by every study. ")
        else:
            sentences.append(f"None of the {number_word(len(dims))} communication dimensions is "
                             "reported by every study. ")
        if nowhere:
            sentences.append(f"No study reports {_list_phrase(nowhere)}. ")
    if len(cerqual):
        conf = cerqual["confidence"].value_counts()
        parts = [f"{int(conf[x])} {x.replace('_', ' ')}" for x in CONFIDENCE if x in conf]
        review = int((cerqual["to_review"] == "True").sum()) if "to_review" in cerqual else 0
        single = int((cerqual["n_studies"].astype(int) == 1).sum())
        sentences.append(
            "The summary of findings holds "
            f"{_plural(len(cerqual), 'finding', 'findings')}"
            + (f", {single} of them resting on a single study" if single else "")
            + f" (confidence: {', '.join(parts)})"
            + (f"; {_plural(review, 'judgment is', 'judgments are')} to be reviewed because the "
               "studies behind the finding have changed since it was made. " if review else ". "))
    if len(barriers):
        codes = barriers.groupby("code")["addressed"].first()
        unaddressed = [labels[x].lower() for x, a in codes.items() if a != "True"]
        sentences.append(
            f"Of the {_plural(len(codes), 'barrier', 'barriers')} the studies report, the training "
            f"guidance offers material or strategy for {len(codes) - len(unaddressed)}"
            + (f"; it does not address {_list_phrase(unaddressed)}. " if unaddressed else ". "))
    shares = [float(s) for s in cov["share_coded"] if s != ""]
    if shares:
        sentences.append(f"The coding covers {min(shares):.1%} to {max(shares):.1%} of each "
                         "study’s results and conclusion paragraphs.")
    body.heading("Abstract", numbered=False)
    body.para(*sentences)
    body.para(
        "How to read this report. Each study was coded against one codebook (Appendix A): a "
        "segment is a verbatim passage of the study with one code, a valence (positive where "
        "a dimension or practice is at work or an outcome improved, negative where it is "
        "lacking or a problem) and an attribution. Only primary segments, evidence about the "
        "study’s own site, are counted; passages where the authors report other studies or "
        "places are kept out. A cell of the framework matrix is practised (only positive "
        "segments), mixed, lacking (only negative) or not reported, with the number of "
        "segments behind it and the clearest quote. Every number in the text and tables is "
        "read from the tables (tables/*.csv) that the same build wrote; Appendix B is their "
        "data dictionary.")


def _gap_phrase(given: list[int], n_fields: int) -> str:
    """How many texts give their bibliographic fields only in part or not at all, from
    the number of fields each gives: "of the four texts, one gives only in part and three
    give none of them"; for one text "which its text gives only in part"; "" without gaps."""
    gaps = [(sum(0 < n < n_fields for n in given), "only in part"), (given.count(0), "none")]
    gaps = [(n, how + (" of them" if how == "none" else "")) for n, how in gaps if n]
    if not gaps:
        return ""
    if len(given) == 1:
        return f"which its text gives {gaps[0][1]}"
    return (f"of the {number_word(len(given))} texts, "
            + _list_phrase(f"{number_word(n)} {'gives' if n == 1 else 'give'} {how}"
                           for n, how in gaps))


def _studies(body: _Body, c: _Ctx) -> None:
    studies = c.t["studies"]
    biblio = ("title", "authors", "year", "venue")
    gap_phrase = _gap_phrase([sum(getattr(r, f) != "" for f in biblio)
                              for r in records(studies)], len(biblio))
    body.heading("Studies included")
    body.para(f"The synthesis includes {_count(len(studies), 'case study', 'case studies')}. ",
              Ref("tab-studies"), " describes each as its text gives it, ", Ref("tab-frameworks"),
              " the concepts each study uses, and ", Ref("tab-biblio"), " the bibliographic "
              "details"
              + (f" (title, authors, year, venue): {gap_phrase}" if gap_phrase else "")
              + ". A field a text does not give is left empty in the data and shown as “not "
              "given in the text”, never guessed; one filled in from a public record outside "
              "the text names that record in the references; a field nobody has filled in "
              "yet (a newly added study) is shown as “not yet recorded”.")
    rows = []
    for r in records(studies):
        notes = c.site_notes.get(r.site, "")
        region = ", ".join(p for p in (r.admin_level, r.parent and f"in {r.parent}", r.province) if p)
        rows.append([_cell(_strong(c.name(r.site)), S(r.name)), S(region),
                     _missing(r.design, "design", notes), _missing(r.methods, "methods", notes),
                     _missing(r.informants, "informants", notes)])
    body.table("The studies: office, region, design, methods and informants "
               "(tables/studies.csv).", "(1.3fr, 1.1fr, 1.2fr, 1.1fr, 1.6fr)",
               ["Site and office", "Region", "Design", "Methods", "Informants"], rows,
               size="8pt", label="tab-studies")
    rows = [[_strong(c.name(r.site)), _missing(r.framework, "framework", c.site_notes.get(r.site, ""))]
            for r in records(studies)]
    body.table("The framework each study uses, in its own terms (tables/studies.csv).",
               "(1fr, 6fr)", ["Site", "Framework used"], rows, size="8pt",
               label="tab-frameworks")
    rows = [[_strong(c.name(r.site))] + [_missing(getattr(r, f), f, c.source_notes.get(r.site, ""))
                                         for f in biblio] for r in records(studies)]
    body.table("Bibliographic details of the studies (tables/studies.csv; data/sources.csv "
               "notes say where a detail comes from).", "(1fr, 2.6fr, 1.5fr, 0.8fr, 1fr)",
               ["Site", "Title", "Authors", "Year", "Venue"], rows, size="8pt",
               label="tab-biblio")


def _appraisal(body: _Body, c: _Ctx) -> None:
    appraisal, sites = c.t["appraisal"], list(c.t["studies"]["site"])
    body.heading("Appraisal of the studies")
    if appraisal.empty:
        body.para("No study has been appraised yet (data/appraisal/ holds no answers).")
        return
    questions = appraisal.drop_duplicates("question_no").sort_values("question_no")
    body.para(
        f"Each study was appraised with the {number_word(len(questions))} questions of the CASP "
        "Qualitative Checklist (CASP UK 2018), answered Yes, Can’t tell or No with a one-line "
        "reason grounded in what the text says or fails to say. ", Ref("tab-casp"),
        " sets the answers side by side; ", Ref("tab-casp-reasons"), " gives the reasons.")
    answers = {(r.site, r.question_no): r.answer for r in records(appraisal)}
    rows = []
    for q in records(questions):
        rows.append([_cell(_strong(f"Q{q.question_no}"), S(q.question))]
                    + [S(CASP_ANSWER_LABELS.get(answers.get((s, q.question_no), ""),
                                                "not appraised")) for s in sites])
    yes = appraisal[appraisal["answer"] == "yes"].groupby("site").size()
    asked = appraisal.groupby("site").size()
    rows.append([_strong("Questions answered Yes")]
                + [S(f"{int(yes.get(s, 0))} of {int(asked[s])}") if s in asked
                   else _muted("not appraised") for s in sites])
    body.table("CASP qualitative checklist: the answers per study (tables/appraisal.csv).",
               f"(2.8fr, {', '.join(['1fr'] * len(sites))})",
               ["Question", *(c.name(s) for s in sites)], rows, size="8pt", label="tab-casp")
    rows = []
    for q in records(questions):
        rows.append([f"group(3, {S(f'Q{q.question_no}. {q.question}')})"])
        for r in records(appraisal[appraisal["question_no"] == q.question_no]):
            rows.append([S(c.name(r.site)), S(CASP_ANSWER_LABELS.get(r.answer, r.answer)),
                         S(r.reason)])
    body.table("CASP qualitative checklist: the reason for each answer (tables/appraisal.csv).",
               "(1.1fr, 0.8fr, 5fr)", ["Site", "Answer", "Reason"], rows, size="8pt",
               label="tab-casp-reasons")


def _figure_width(n_sites: int) -> str:
    """Figures grow with the number of sites; the widest fills the text width."""
    return f"{min(100, 46 + 12 * n_sites)}%"


def _quote_cell(c: _Ctx, segment_id: str, quote: str) -> str:
    gloss = c.glosses.get(segment_id)
    return f"quoted({S(segment_id)}, {S(quote)}, {S(gloss) if gloss else 'none'})"


def _framework(body: _Body, c: _Ctx, category: str) -> None:
    """One framework section: the figure, then per code the state of each reporting site with
    its clearest quote and gloss, and the sites that do not report it."""
    title, intro = CATEGORY_SECTIONS[category]
    wide = matrix_table(c.an, category)
    best = c.best
    body.heading(title)
    reported = [code for code in wide.index if (wide.loc[code] != "-").any()]
    silent = [c.labels[code].lower() for code in wide.index if code not in reported]
    body.para(intro, " ", Ref(f"fig-{category}"), " shows the matrix; ", Ref(f"tab-{category}"),
              " gives, for each code a study reports, the state and number of primary segments "
              "at each site with the clearest quote and its English gloss, and names the sites "
              "that do not report it, which is not evidence that the office lacks it."
              + (f" No study reports {_list_phrase(silent)}." if silent else ""))
    body.figure(f"{title}: state per site; the number is the primary segments behind the "
                "cell (tables/site_code_matrix.csv).", c.figures[category],
                width=_figure_width(len(wide.columns)), label=f"fig-{category}")
    rows = []
    for code in reported:
        # an en dash, not parentheses: Indonesian labels often hold parentheses themselves
        rows.append([f"group(3, {S(f'{c.labels[code]} – {c.label_id[code]}')})"])
        absent = []
        for site in wide.columns:
            if wide.loc[code, site] == "-":
                absent.append(c.name(site))
                continue
            seg = best.loc[(site, code)]
            rows.append([S(c.name(site)), S(wide.loc[code, site]),
                         _quote_cell(c, seg["segment_id"], one_line(seg["quote"]))])
        if absent:
            rows.append([f"table.cell(colspan: 3, {_muted('Not reported by ' + _list_phrase(absent) + '.')})"])
    body.table(f"{title.removesuffix(' across sites')} across sites: state (primary segments) and the clearest quote of each "
               "cell with its English gloss (tables/site_code_matrix.csv, tables/segments.csv, "
               "data/glosses.csv).", "(1fr, 1fr, 5fr)",
               ["Site", "State (segments)", "Clearest quote and English gloss"], rows,
               size="8pt", label=f"tab-{category}")


CONCERN_LABELS = {"no_or_very_minor": "no or very minor", "minor": "minor",
                  "moderate": "moderate", "serious": "serious"}
TO_REVIEW = "judgment to be reviewed"


def _cerqual(body: _Body, c: _Ctx) -> None:
    cerqual = c.t["cerqual"]
    body.heading("Summary of findings (GRADE-CERQual)")
    if cerqual.empty:
        body.para("No cross-site finding has been judged yet: data/cerqual.csv is absent or "
                  "empty.")
        return
    body.para(
        "Each cross-site finding is assessed in the manner of GRADE-CERQual (Lewin et al. "
        "2018) on four components, methodological limitations (informed by the CASP "
        "appraisal), coherence, adequacy and relevance, and given an overall confidence. "
        "Two columns of ", Ref("tab-cerqual"), " are computed from the coding, not judged: the "
        "studies and primary segments that support the finding (adequacy) and the sites whose "
        "segments of the same codes run the other way (a coherence flag). The judgments and "
        "their explanation, under each finding, are the synthesis team’s (data/cerqual.csv), "
        "each made on the contributing studies it records; where the coding now gives other "
        f"contributing studies, the row says “{TO_REVIEW}” instead of the old explanation.")
    rows = []
    for r in records(cerqual):
        codes = ", ".join(c.labels[x] for x in r.codes.split(";"))
        stale = getattr(r, "to_review", "False") == "True"
        explanation = (_cell("(" + _strong(TO_REVIEW.capitalize() + ".") + " + " + S(
            f" Judged on {c.site_list(r.judged_sites) if r.judged_sites else 'studies not recorded'}; "
            f"the coding now gives {c.site_list(r.contributing_sites)}. The explanation "
            "written then is not shown.") + ")") if stale
            else _cell("(" + _emph("Explanation: ") + " + " + S(r.explanation) + ")"))
        judged = [S(CONCERN_LABELS.get(v, v)) for v in (
            r.methodological_limitations, r.coherence, r.adequacy, r.relevance)]
        rows.append([
            _cell(_strong(r.finding_id), S(r.finding),
                  _muted(f"Codes: {codes} ({r.valence})")),
            _cell(S(c.site_list(r.contributing_sites)),
                  S(f"{r.n_studies} of {r.n_sites_total} studies"),
                  S(_plural(r.n_segments, "segment", "segments"))),
            _cell(S(c.site_list(r.disagreeing_sites)),
                  S(_plural(r.n_disagreeing_segments, "segment", "segments"))),
            *judged,
            _strong(r.confidence.replace("_", " ")),
        ])
        rows.append([f"table.cell(colspan: 8, inset: (bottom: 6pt), {explanation})"])
    body.table("Summary of findings: each cross-site finding with its contributing studies, "
               "the CERQual components, the overall confidence and its explanation "
               "(tables/cerqual.csv; contributing and disagreeing sites computed from the "
               "coding).",
               "(3.1fr, 1.5fr, 1.3fr, 1.25fr, 1fr, 1fr, 1fr, 1fr)",
               ["Finding", "Contributing studies (adequacy, computed)",
                "Sites running against it (coherence, computed)",
                "Method\u00adological limitations", "Coherence", "Adequacy", "Relevance",
                "Confidence"], rows, size="7.5pt", label="tab-cerqual")


def _implications(body: _Body, c: _Ctx) -> None:
    bt, labels = c.t["barrier_training"], c.labels
    body.heading("Implications for training")
    if bt.empty:
        body.para("No site reports a barrier, so there is nothing to map to the training "
                  "guidance.")
        return
    passages = guidance_passages(c.corpus.guidance)
    body.para(
        "The practitioner guidance for a technical training course (bimbingan teknis) on "
        "public communication and service ethics is the reference for what training "
        "addresses. ", Ref("tab-barrier-training"), " takes each barrier the sites report and "
        "counts the guidance passages coded with the same barrier code: passages that name it "
        "as a challenge, and training materials or strategies that address it. A barrier "
        "counts as addressed when the guidance offers at least one material or strategy for "
        "it" + ("; the last column names those materials and strategies by their passage id "
                "in " if len(passages) else "."), Ref("tab-guidance") if len(passages) else "",
        ", which quotes them." if len(passages) else "")
    rows = []
    for code, part in sorted(bt.groupby("code", sort=False), key=lambda g: labels[g[0]].lower()):
        r = next(records(part.head(1)))
        where = ", ".join(f"{c.name(p.site)} ({p.n_site_segments})" for p in records(part))
        ids = [p.segment_id for p in records(passages) if code in p.codes.split(";")]
        rows.append([S(labels[code]), S(where), S(str(r.n_guidance_challenge)),
                     S(str(r.n_guidance_material)), S(str(r.n_guidance_strategy)),
                     S("yes") if r.addressed == "True" else _strong("not addressed"),
                     _muted(", ".join(ids)) if ids else _muted("none")])
    body.table("The barriers the sites report (with their primary segments) and what the "
               "training guidance offers for each (tables/barrier_training.csv).",
               "(1.5fr, 1.9fr, 0.75fr, 0.75fr, 0.75fr, 0.9fr, 1.6fr)",
               ["Barrier", "Sites reporting it (segments)", "Guidance: challenge",
                "Guidance: materials", "Guidance: strategies", "Addressed",
                "Materials and strategies"], rows, size="7.5pt", label="tab-barrier-training")
    gaps = bt[bt["addressed"] != "True"]
    if len(gaps):
        per_site = [f"{c.name(site)}: {', '.join(labels[x].lower() for x in part['code'])}"
                    for site, part in gaps.groupby("site", sort=True)]
        body.para("Barriers the guidance does not address (no material or strategy): "
                  + "; ".join(per_site) + ". Training as the guidance designs it would leave "
                  "these untouched; they call for other measures or new course content.")
    else:
        body.para("The guidance offers a material or strategy for every barrier the sites "
                  "report.")
    if len(passages):
        rows = [[S(p.elements.replace(";", ", ")),
                 S(", ".join(labels[x] for x in p.codes.split(";"))),
                 _quote_cell(c, p.segment_id, p.quote)] for p in records(passages)]
        body.table("The guidance’s training materials and strategies, verbatim with an English "
                   "gloss, and the barriers they address (data/guidance.csv, data/glosses.csv).",
                   "(0.8fr, 1.3fr, 5fr)", ["Element", "Barriers addressed", "Passage"], rows,
                   size="8pt", label="tab-guidance")


def _authorship(c: _Ctx) -> str:
    """Which texts give their authors, computed from sources.csv: given by the text, recorded
    from another source (the notes say the text does not give them), or unknown."""
    given, elsewhere, unknown = [], [], []
    for s in records(c.corpus.sources):
        who = c.name(s.site) if s.site else "the training guidance"
        if not s.authors:
            unknown.append(who)
        elif missing_wording("authors", s.notes) == NOT_GIVEN:
            elsewhere.append(who)
        else:
            given.append(who)
    n = len(c.corpus.sources)
    parts = []
    if given:
        parts.append(f"the {'text' if len(given) == 1 else 'texts'} of {_list_phrase(given)} "
                     f"{'gives its' if len(given) == 1 else 'give their'} authors")
    if elsewhere:
        parts.append(f"for {_list_phrase(elsewhere)} the authors are recorded from a source "
                     "other than the text, as the notes of data/sources.csv say")
    if unknown:
        parts.append(f"for {_list_phrase(unknown)} no author is known")
    return (f"Authorship. Of the {number_word(n)} texts, " + "; ".join(parts) + ". "
            + ("Empty fields are shown as missing, never filled in by guess; the references "
               "say so." if unknown else "The references give what is recorded."))


def _limitations(body: _Body, c: _Ctx) -> None:
    t = c.t
    studies, cov, prevalence = t["studies"], t["coverage"], t["code_prevalence"]
    n = len(studies)
    body.heading("Limitations of the synthesis")
    interval = ""
    everywhere = prevalence[prevalence["n_sites"] == prevalence["n_sites_total"]]
    once = prevalence[prevalence["n_sites"] == 1]
    if len(everywhere):
        r = everywhere.iloc[0]
        interval += (f" A code reported by all {number_word(int(r['n_sites_total']))} sites has "
                     f"a Wilson 95% interval of {float(r['site_ci_low']):.2f} to "
                     f"{float(r['site_ci_high']):.2f} for the share of comparable offices that "
                     "would report it")
    if len(once):
        r = once.iloc[0]
        interval += ((", and" if interval else " A") + " a code reported by one site "
                     f"{float(r['site_ci_low']):.2f} to {float(r['site_ci_high']):.2f}")
    if interval:
        interval += " (Wilson 1927; tables/code_prevalence.csv)."
    n_secondary = int(t["site_code_matrix"]["n_cited_secondary"].sum())
    coders = c.meta.get("coders", "")
    agreement = t.get("coder_agreement")
    agreement = (agreement[agreement["level"] == "category"] if agreement is not None
                 else pd.DataFrame())
    per_site = t["site_code_matrix"].groupby("site")["n_segments"].apply(
        lambda v: int(pd.to_numeric(v).sum()))
    uncoded = [c.name(site) for site in studies["site"] if per_site.get(site, 0) == 0]
    items = [
        f"No accepted coding yet for {_list_phrase(uncoded)}. "
        + ("Its study shows" if len(uncoded) == 1 else "These studies show")
        + " every code as not reported: the coding sheet holds no accepted segment (suggestions "
        "await review), so what the study says is missing from every count, not absent "
        "(python -m analysis site-status)."
    ] if uncoded else []
    items += [
        f"Few cases. The synthesis rests on {_count(n, 'study', 'studies')}, not sampled to "
        "represent Indonesian local-government offices; counts describe how much each study "
        "says, not how common a practice is." + interval + " Segments are not independent "
        "(abstracts and conclusions restate results), and no test of difference between "
        "sites is made.",
        "PDF-extracted texts. The studies are text extractions of PDFs, with stray spaces, "
        "broken lines, hyphenation and typos; quotes are kept verbatim (only line breaks are "
        "folded for display), and the tables and figures of the original articles are lost.",
        _coders_heading(agreement["site"].nunique() if len(agreement) else 0, n)
        + (f"Coders, as data/corpus.csv records them: {coders}. " if coders else "")
        + (_agreement_sentence(c, agreement) if len(agreement) else
           "No second coder has coded the same texts yet, so no agreement statistic can be "
           "reported; the codebook’s include and exclude rules and the coding memos are the "
           "safeguard for now."),
        "What the studies report, not what the offices do. A code a study does not report is "
        "not evidence that the office lacks it."
        + (f" {_plural(n_secondary, 'segment', 'segments')} in which the authors report other "
           f"studies or places {'is' if n_secondary == 1 else 'are'} left out of every count."
           if n_secondary else ""),
        _authorship(c),
        "Judgments. The CASP appraisal and the CERQual judgments were made by the synthesis "
        "team and not checked independently; the English glosses are aids to reading, not "
        "translations.",
    ]
    for item in items:
        body.add("", f"#list.item({S(item)})")
    body.para(
        "Coverage of the coding. ", Ref("tab-coverage"), " gives, per study, the results and "
        "conclusion paragraphs that at least one coded segment overlaps (paragraphs recovered "
        "from the extraction by the rule in analysis.coverage). Uncoded paragraphs are "
        "explained in each site’s coding memo (docs/coding/).")
    rows = [[S(c.name(r.site)), S(str(r.n_paragraphs)), S(str(r.n_coded)), S(_pct(r.share_coded))]
            for r in records(cov)]
    body.table("Coverage of the coding: results and conclusion paragraphs with at least one "
               "coded segment (tables/coverage.csv).", "(1.5fr, 1fr, 1fr, 1fr)",
               ["Site", "Paragraphs", "Coded", "Share coded"], rows, size="8.5pt",
               label="tab-coverage")
    if len(agreement):
        body.para(
            "Agreement of the second coding. A unit is a sentence of the study × a category; "
            "each coding codes it when one of its segments of that category overlaps the "
            "sentence. The kit’s coding (A) is the reference for precision and recall; ",
            Ref("tab-agreement"), " gives the agreement per category, and tables/"
            "coder_agreement.csv per canonical code as well.")
        rows = []
        for r in records(agreement):
            label = "all categories" if r.label == "(all)" else r.label
            rows.append([S(c.name(r.site)), S(label), S(str(r.n_units)), S(str(r.coded_a)),
                         S(str(r.coded_b)), S(str(r.coded_both)),
                         S(_number(r.percent_agreement, "{:.1f}%")),
                         S(_number(r.cohen_kappa)), S(_number(r.precision)),
                         S(_number(r.recall)), S(_number(r.f1))])
        body.table("Sentence-level agreement of the second coding with the kit’s coding, per "
                   "category (tables/coder_agreement.csv).",
                   "(1.3fr, 1fr, 0.7fr, 0.7fr, 0.7fr, 0.7fr, 0.9fr, 0.8fr, 0.8fr, 0.8fr, 0.8fr)",
                   ["Site", "Category", "Units", "Coded A", "Coded B", "Both", "Agreement",
                    "Cohen’s kappa", "Precision", "Recall", "F1"], rows, size="8pt",
                   label="tab-agreement")


def _reference(c: _Ctx, s) -> str:
    """One source as a reference: what sources.csv records, a missing field said to be so."""
    def field(value: str, name: str) -> str:
        return value or f"{name.capitalize()} {missing_wording(name, s.notes)}"
    record = getattr(s, "bib_source", "")
    return (f"{field(s.authors, 'authors')} ({field(s.year, 'year')}). "
            f"{field(s.title, 'title')}. {field(s.venue, 'venue')}. "
            + (f"Filled in from a public record, not the text: {record}. " if record else ""))


def _references(body: _Body, c: _Ctx) -> None:
    studies = c.t["studies"]
    office = dict(zip(studies["site"], studies["name"]))
    body.heading("References", numbered=False)
    body.para("The texts this synthesis codes (data/sources.csv), as far as the texts and "
              "public records identify them. A field that is not recorded is said to be "
              "missing, never guessed; a field taken from a record outside the text names it.")
    for s in records(c.corpus.sources):
        what = (f"Case study of {c.name(s.site)} ({office.get(s.site, '')})." if s.site
                else "Practitioner guidance: the reference for what training addresses.")
        body.add(f"#list.item[#{S(_reference(c, s))}#note({S(what)})]")
    body.para("The frameworks the studies cite, as the site table gives them:", sticky=True)
    for r in records(studies):
        body.add(f"#list.item[#strong({S(c.name(r.site) + ': ')})"
                 f"#{S(r.framework or missing_wording('framework', c.site_notes.get(r.site, '')))}]")
    body.para("Methods used in this synthesis:", sticky=True)
    for ref in FIXED_REFERENCES:
        body.add(f"#list.item({S(ref)})")


def _appendix(body: _Body, c: _Ctx) -> None:
    codebook = c.corpus.codebook
    body.add("", "#pagebreak()")
    body.heading("Appendix A: the codebook", numbered=False)
    body.para("The codes of data/codebook.csv: canonical codes, and site-specific codes with "
              "the canonical parent they count towards, with English and Indonesian labels. "
              "The code is the identifier the data files use.", sticky=True)
    rows = []
    for category, part in codebook.groupby("category", sort=False):
        rows.append([f"group(3, {S(category.capitalize())})"])
        for r in records(part):
            code = _cell(f"raw({S(r.code)})", _muted(f"parent: {r.parent}") if r.parent else "")
            rows.append([code, _cell(S(r.label_en), _emph(r.label_id)),
                         S(" ".join(r.definition.split()))])
    body.table("The codebook (data/codebook.csv).", "(auto, 1.2fr, 4fr)",
               ["Code", "Label (English, Indonesian)", "Definition"], rows, size="7.5pt")
    body.heading("Appendix B: the data dictionary", numbered=False)
    body.para("Every output table in tables/ and its columns (tables/data_dictionary.csv).",
              sticky=True)
    rows = []
    for name, part in c.t["data_dictionary"].groupby("table", sort=False):
        rows.append([f"group(2, {S(f'{name}.csv: one row per ' + part['rows'].iloc[0].removeprefix('one row per '))})"])
        for r in records(part):
            rows.append([f"raw({S(r.column)})", S(r.description)])
    body.table("The data dictionary (tables/data_dictionary.csv).", "(auto, 1fr)",
               ["Column", "Description"], rows, size="7.5pt")
    for letter, (name, frame) in zip("CDEFGH", c.extra.items()):
        title, intro, summary, render = EXTRA_TABLES[name]
        body.heading(f"Appendix {letter}: {title}", numbered=False)
        body.para(intro + summary(c, frame), sticky=True)
        columns, header, rows = render(c, frame)
        body.table(f"{title} (tables/{name}.csv).", columns, header, rows, size="7.5pt")


def _coders_heading(n_second: int, n: int) -> str:
    """The lead of the limitation on coders: how many of the ``n`` studies a second coder
    coded."""
    if not n_second:
        return "One coder per study. "
    if n_second >= n:
        return "A second coder for every study. "
    return f"A second coder for {number_word(n_second)} of the {number_word(n)} studies. "


def _stat(value: str) -> str:
    """A statistic in the appendix: two decimals (no negative zero), a dash when undefined."""
    return _number(value, undefined="–")


def _autocode_summary(c: _Ctx, frame: pd.DataFrame) -> str:
    """What each lexicon found pooled over the held-out sites, in words (a sentence per
    lexicon of the rows held_out_site = category = "(all)")."""
    pooled = frame[(frame["held_out_site"] == "(all)") & (frame["category"] == "(all)")]
    parts = []
    for r in records(pooled):
        made = f"made {_plural(int(r.coded_auto), 'suggestion', 'suggestions')}"
        found = (f"found {r.coded_both} of the {r.coded_hand} hand-coded units (recall "
                 f"{_stat(r.recall)}" + (f", precision {_stat(r.precision)})" if r.precision
                                           else ")"))
        parts.append(f"“{r.lexicon.replace('+', ' + ')}” {made} and {found}")
    if not parts:
        return ""
    units = pooled["n_units"].iloc[0]
    return (f" Pooled over the held-out sites ({units} sentence × category units), "
            + "; ".join(parts) + ".")


def _autocode_rows(c: _Ctx, frame: pd.DataFrame):
    rows = []
    for r in records(frame):
        site = "all sites" if r.held_out_site == "(all)" else c.name(r.held_out_site)
        rows.append([S(site), S(r.lexicon.replace("+", " + ")),
                     S("all" if r.category == "(all)" else r.category)]
                    + [S(str(getattr(r, col))) for col in (
                        "n_units", "coded_hand", "coded_auto", "coded_both")]
                    + [S(_stat(getattr(r, col))) for col in ("precision", "recall", "cohen_kappa")]
                    + [_muted(r.note) if r.note else S("")])
    return ("(1.25fr, 1.3fr, 0.9fr, 0.85fr, 0.75fr, 0.8fr, 0.55fr, 0.8fr, 0.65fr, 0.75fr, 1.5fr)",
            ["Held-out site", "Lexicon", "Category", "Sentences", "Hand-coded", "Suggested",
             "Both", "Precision", "Recall", "Cohen’s kappa", "Note"], rows)


EXTRA_TABLES = {
    "autocode_eval": (
        "Evaluation of automatic coding suggestions",
        "How well the new-site suggestions find the hand coding, leave one site out: each "
        "site’s text is coded by the suggestions made without its own coding and compared "
        "with its accepted hand coding sentence by sentence (docs/new_site.md). Two lexicons "
        "are compared. “learned” uses only terms learned from the other sites’ coding: the "
        "honest estimate for a new study. “seed + learned” adds the hand-written terms of "
        "data/lexicon.csv, which is what new-site uses; it is optimistic here, because the "
        "seed terms come from a codebook that quotes every site. Precision is the share of "
        "suggested sentences the hand coding also codes, recall the share of hand-coded "
        "sentences the suggestions find; rounded to two decimals.",
        _autocode_summary, _autocode_rows),
}
"""Optional tables other stages write into OUT/tables, shown in the appendix when present:
title, lead-in, a function giving the sentences that summarise the table (appended to the
lead-in) and a renderer returning (columns, header, rows)."""


def _extra_tables(layout: Layout) -> dict[str, pd.DataFrame]:
    extra = {}
    for path in sorted(layout.tables_dir.glob("*.csv")):
        if path.stem in EXTRA_TABLES:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if len(frame):  # a table with no rows has nothing to show
                extra[path.stem] = frame
    return extra


def report_title(title: str, n_sites: int) -> str:
    """The title of data/corpus.csv with ``{n_sites}`` replaced by the count in words."""
    return title.replace("{n_sites}", number_word(n_sites))


def render_source(meta: dict[str, str], t: dict[str, pd.DataFrame], corpus,
                  glosses: dict[str, str], figures: dict[str, str],
                  extra: dict[str, pd.DataFrame]) -> str:
    """The complete Typst source: the template, then the body generated from the tables."""
    c = _Ctx(t, corpus, meta, glosses, figures, extra)
    date = dt.date.fromisoformat(meta["date"])
    body = _Body()
    body.add(f"#show: report.with(title: {S(report_title(meta['title'], len(t['studies'])))}, "
             f"date: datetime(year: {date.year}, month: {date.month}, day: {date.day}), "
             f"date-text: {S(meta['date'])}, date-note: {S(meta.get('date_meaning', ''))})")
    _abstract(body, c)
    body.add("", "#outline(depth: 1, indent: 1em)", "#pagebreak()")
    _studies(body, c)
    _appraisal(body, c)
    for category in ("dimension", "practice", "barrier", "outcome"):
        _framework(body, c, category)
    _cerqual(body, c)
    _implications(body, c)
    _limitations(body, c)
    _references(body, c)
    _appendix(body, c)
    template = resources.files("analysis").joinpath("templates", TEMPLATE).read_text("utf-8")
    return template + "\n// ---- generated from OUT/tables by analysis.report ----\n" + body.text()


# --------------------------------------------------------------------------- build

def compile_pdf(source: str, root: Path, date: dt.date) -> bytes:
    """Compile Typst ``source`` in memory with the bundled fonts only, dated ``date``.

    ``root`` is the folder that image paths such as ``/figures/x.svg`` start from.
    Typst's warnings are printed to standard error.
    """
    import typst
    stamp = dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc)
    try:
        pdf, warnings = typst.compile_with_warnings(
            source.encode("utf-8"), root=str(root), font_paths=[], ignore_system_fonts=True,
            timestamp=stamp)
    except typst.TypstError as exc:
        raise RuntimeError(f"typst could not compile the report: {exc.message} "
                           f"({exc.diagnostic})") from None
    for warning in warnings:
        _progress(f"typst warning: {warning.message}")
    return pdf


def _progress(message: str) -> None:
    print(f"report: {message}", file=sys.stderr, flush=True)


def build_report(layout: Layout) -> Path:
    """Validate, write tables and figures, typeset ``OUT/comparison.pdf``; return its path."""
    from analysis import figures as fig
    from analysis.sources import load_corpus
    from analysis.tables import compute_tables, write_tables

    _progress(f"validating {layout.data}")
    corpus = load_corpus(layout)
    meta = load_corpus_meta(layout)
    glosses = load_glosses(layout, _known_segment_ids(corpus))
    _progress("computing tables")
    write_tables(compute_tables(corpus), layout)
    _progress(f"reading back tables from {layout.tables_dir}")
    t = {name: read_back(layout, name) for name in REPORT_TABLES + OPTIONAL_TABLES
         if name in REPORT_TABLES or layout.table(name).exists()}
    extra = _extra_tables(layout)
    _progress("writing figures")
    names = site_names(corpus.sites)
    labels = dict(zip(corpus.codebook["code"], corpus.codebook["label_en"]))
    figure_paths = {}
    for category in ("dimension", "practice", "barrier", "outcome"):
        path = layout.figures_dir / f"framework_{category}.svg"
        fig.save_svg(fig.framework_figure(t["site_code_matrix"], category, names=names,
                                          labels=labels), path)
        figure_paths[category] = "/" + path.relative_to(layout.out).as_posix()
    _progress("generating typst source")
    source = render_source(meta, t, corpus, glosses, figure_paths, extra)
    atomic_write_text(layout.report_build_dir / "comparison.typ", source)
    _progress("compiling pdf")
    pdf = compile_pdf(source, layout.out.resolve(), dt.date.fromisoformat(meta["date"]))
    path = atomic_write_bytes(layout.report_pdf, pdf)
    missing = [sid for sid in shown_quotes(t["segments"], corpus.guidance)["segment_id"]
               if sid not in glosses]
    if missing:
        _progress(f"{_plural(len(missing), 'quote lacks', 'quotes lack')} an English gloss "
                  "(.venv/bin/python -m analysis.report glosses)")
    _progress(f"wrote {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m analysis.report",
                                     description="report helpers")
    sub = parser.add_subparsers(dest="what", required=True)
    g = sub.add_parser("glosses", help="print the shown quotes that lack a gloss, as CSV")
    g.add_argument("--data", type=Path, default=None, metavar="DIR")
    args = parser.parse_args(argv)
    try:
        table = needed_glosses(Layout.of(args.data))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    print(f"{_plural(len(table), 'shown quote lacks', 'shown quotes lack')} an English gloss"
          if len(table) else "every shown quote has an English gloss", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
