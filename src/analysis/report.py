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
import sys
from importlib import resources
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.io import atomic_write_bytes, atomic_write_text
from analysis.paths import Layout
from analysis.schema import SLUG, Column, Schema, read_table, records
from analysis.synthesis import CONFIDENCE

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
    "practice": ("Leadership and office practices",
                 "What leaders and offices do, per site: the state of each practice and the "
                 "number of primary segments behind it."),
    "barrier": ("Barriers across sites",
                "What hinders communication and performance, per site. A barrier is "
                "reported where a study names it; the number is its primary segments."),
    "outcome": ("Outcomes",
                "What the studies report as results: improved where performance or service "
                "got better, problem where the study reports delays or shortfalls, mixed "
                "where it reports both."),
}

CASP_ANSWER_LABELS = {"yes": "Yes", "cant_tell": "Can’t tell", "no": "No"}
NOT_GIVEN = "not given in the text"

FIXED_REFERENCES = (
    "CASP UK (2018). CASP Qualitative Checklist. Critical Appraisal Skills Programme.",
    "Lewin S, et al. (2018). Applying GRADE-CERQual to qualitative evidence synthesis "
    "findings. Implementation Science 13(Suppl 1):2.",
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


def _or_not_given(value: str) -> str:
    """The value as a string expression, or a muted 'not given in the text'."""
    if value:
        return S(value)
    return _muted(NOT_GIVEN)


# --------------------------------------------------------------------------- inputs

def load_corpus_meta(layout: Layout) -> dict[str, str]:
    """The ``key,value`` rows of ``data/corpus.csv``; ``title`` and ``date`` (YYYY-MM-DD)
    are required."""
    path = layout.data / "corpus.csv"
    table = read_table(path, CORPUS_META)
    meta = dict(zip(table["key"], table["value"]))
    lines = dict(zip(table["key"], table["_line"]))
    for key in ("title", "date"):
        if not meta.get(key):
            raise InputError(path, f"no '{key}' row with a value (expected key,value rows "
                             "including title and date)", column="key")
    try:
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
    if not path.exists():
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

    The clearest quote of every site x dimension cell (the rule of
    :func:`analysis.views.clearest_quotes`), then one passage per distinct span of
    the guidance's training materials and strategies (``site`` empty), whose
    first segment id carries the gloss.
    """
    from analysis.views import clearest_quotes, one_line
    best = clearest_quotes(segments)
    best = best[best["category"] == "dimension"]
    rows = [(r.segment_id, r.site, r.canonical_code, one_line(r.quote))
            for r in best.itertuples()]
    for passage in guidance_passages(guidance).itertuples():
        rows.append((passage.segment_id, "", passage.codes, passage.quote))
    return pd.DataFrame(rows, columns=["segment_id", "site", "code", "quote"])


def guidance_passages(guidance: pd.DataFrame | None) -> pd.DataFrame:
    """One row per distinct span of the guidance coded as a training material or strategy:
    segment_id (the first of the span), elements, codes (';'-separated), start, quote."""
    from analysis.views import one_line
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


def needed_glosses(layout: Layout) -> pd.DataFrame:
    """The quotes the report shows that have no gloss in ``data/glosses.csv`` yet.

    One row per quote: segment_id, site (empty for the guidance), code, quote.
    Validates the corpus and glosses.csv first.
    """
    from analysis.coding import segments as segment_table
    from analysis.sources import load_corpus
    corpus = load_corpus(layout)
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


def _number(value: str, form: str = "{:.2f}") -> str:
    """A statistic read back from a table; 'n/a' where it is undefined (empty)."""
    return "n/a" if value in ("", "nan") else form.format(float(value))


def _agreement_sentence(agreement: pd.DataFrame, studies: pd.DataFrame) -> str:
    pooled = agreement[agreement["label"] == "(all)"]
    parts = [f"the second coding of {r.site} agrees with the kit’s coding on "
             f"{_number(r.percent_agreement, '{:.1f}%')} of sentence x category units "
             f"(Cohen’s kappa {_number(r.cohen_kappa)}, F1 {_number(r.f1)})"
             for r in records(pooled)]
    n_second = agreement["site"].nunique()
    return (f"{_plural(n_second, 'study has', 'studies have')} a second coding: "
            + "; ".join(parts) + ". The second coders worked blind to the first coding "
            "but from the same codebook, whose include rules quote passages of the studies, "
            "and the first coding had been audited against the text: the figures measure how "
            "reliably the codebook is applied and are likely higher than two coders building "
            f"their own codes would reach. The other {len(studies) - n_second} "
            "studies rest on one coder; the codebook’s include and exclude rules and the "
            "coding memos are the safeguard there.")


def _join_sites(value: str) -> str:
    return ", ".join(v for v in value.split(";") if v) or "none"


def _labels(codebook: pd.DataFrame) -> dict[str, str]:
    return dict(zip(codebook["code"], codebook["label_en"]))


def _list_phrase(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, one: str, many: str) -> str:
    """``n`` and the noun in the right number: ``3 studies``."""
    return f"{n} {one if n == 1 else many}"


def _abstract(body: _Body, t: dict[str, pd.DataFrame], labels: dict[str, str]) -> None:
    studies, counts, prevalence = t["studies"], t["category_counts"], t["code_prevalence"]
    matrix, cerqual, barriers, cov = (t["site_code_matrix"], t["cerqual"],
                                      t["barrier_training"], t["coverage"])
    by_cat = counts.groupby("category")["n_segments"].sum()
    n_primary = int(counts["n_segments"].sum())
    n_secondary = int(matrix["n_cited_secondary"].sum())
    sentences = [
        f"This report compares {_plural(len(studies), 'published qualitative case study', 'published qualitative case studies')} "
        f"of Indonesian local-government offices ({', '.join(studies['site'])}) on interpersonal "
        "communication, leadership practices, barriers and outcomes. ",
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
        everywhere = [labels[c].lower() for c in dims.loc[dims["n_sites"] == dims["n_sites_total"], "code"]]
        nowhere = [labels[c].lower() for c in dims.loc[dims["n_sites"] == 0, "code"]]
        if everywhere:
            sentences.append(f"Of the {len(dims)} communication dimensions, "
                             f"{_list_phrase(everywhere)} {'is' if len(everywhere) == 1 else 'are'} "
                             "reported by every study. ")
        else:
            sentences.append(f"None of the {len(dims)} communication dimensions is reported by "
                             "every study. ")
        if nowhere:
            sentences.append(f"No study reports {_list_phrase(nowhere)}. ")
    if len(cerqual):
        conf = cerqual["confidence"].value_counts()
        parts = [f"{int(conf[c])} {c.replace('_', ' ')}" for c in CONFIDENCE if c in conf]
        sentences.append("The summary of findings holds "
                         f"{_plural(len(cerqual), 'cross-site finding', 'cross-site findings')} "
                         f"(confidence: {', '.join(parts)}). ")
    if len(barriers):
        codes = barriers.groupby("code")["addressed"].first()
        unaddressed = [labels[c].lower() for c, a in codes.items() if a != "True"]
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
        "places are kept out. A cell of the framework matrix is practiced (only positive "
        "segments), mixed, lacking (only negative) or not reported, with the number of "
        "segments behind it. Every number in the text and tables is read from the tables "
        "(tables/*.csv) that the same build wrote; Appendix B is their data dictionary.")


def _studies(body: _Body, t: dict[str, pd.DataFrame]) -> None:
    studies = t["studies"]
    body.heading("Studies included")
    body.para(f"The synthesis includes {_plural(len(studies), 'case study', 'case studies')}. ",
              Ref("tab-studies"), " describes each as its text gives it, ", Ref("tab-frameworks"),
              " the concepts each study uses, and ", Ref("tab-biblio"), " the bibliographic "
              "details, which most of the texts omit. Fields a text does not give are left empty "
              "in the data and shown as such, never filled in from elsewhere.")
    rows = []
    for r in records(studies):
        region = ", ".join(p for p in (r.admin_level, r.parent and f"in {r.parent}", r.province) if p)
        rows.append([_cell(_strong(r.site), S(r.name)), S(region), _or_not_given(r.design),
                     _or_not_given(r.methods), _or_not_given(r.informants)])
    body.table("The studies: office, region, design, methods and informants "
               "(tables/studies.csv).", "(1.3fr, 1.1fr, 1.2fr, 1.1fr, 1.6fr)",
               ["Site and office", "Region", "Design", "Methods", "Informants"], rows,
               size="8pt", label="tab-studies")
    rows = [[_strong(r.site), _or_not_given(r.framework)] for r in records(studies)]
    body.table("The framework each study uses, in its own terms (tables/studies.csv).",
               "(1fr, 6fr)", ["Site", "Framework used"], rows, size="8pt",
               label="tab-frameworks")
    rows = [[_strong(r.site), _or_not_given(r.title), _or_not_given(r.authors),
             _or_not_given(r.year), _or_not_given(r.venue)] for r in records(studies)]
    body.table("Bibliographic details of the studies as the texts give them "
               "(tables/studies.csv).", "(1fr, 2.6fr, 1.5fr, 0.8fr, 1fr)",
               ["Site", "Title", "Authors", "Year", "Venue"], rows, size="8pt",
               label="tab-biblio")


def _appraisal(body: _Body, t: dict[str, pd.DataFrame]) -> None:
    appraisal, sites = t["appraisal"], list(t["studies"]["site"])
    body.heading("Appraisal of the studies")
    if appraisal.empty:
        body.para("No study has been appraised yet (data/appraisal/ holds no answers).")
        return
    questions = appraisal.drop_duplicates("question_no").sort_values("question_no")
    body.para(
        f"Each study was appraised with the {len(questions)} questions of the CASP Qualitative "
        "Checklist (CASP UK 2018), answered Yes, Can’t tell or No with a one-line reason "
        "grounded in what the text says or fails to say. ", Ref("tab-casp"),
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
                + [S(f"{int(yes.get(s, 0))} of {int(asked.get(s, 0))}") for s in sites])
    body.table("CASP qualitative checklist: the answers per study (tables/appraisal.csv).",
               f"(2.8fr, {', '.join(['1fr'] * len(sites))})", ["Question", *sites], rows,
               size="8pt", label="tab-casp")
    rows = []
    for q in records(questions):
        rows.append([f"group(3, {S(f'Q{q.question_no}. {q.question}')})"])
        for r in records(appraisal[appraisal["question_no"] == q.question_no]):
            rows.append([S(r.site), S(CASP_ANSWER_LABELS.get(r.answer, r.answer)), S(r.reason)])
    body.table("CASP qualitative checklist: the reason for each answer (tables/appraisal.csv).",
               "(1.1fr, 0.8fr, 5fr)", ["Site", "Answer", "Reason"], rows, size="8pt",
               label="tab-casp-reasons")


def _figure_width(n_sites: int) -> str:
    """Figures grow with the number of sites; the widest fills the text width."""
    return f"{min(100, 46 + 12 * n_sites)}%"


def _dimensions(body: _Body, an, labels: dict[str, str], label_id: dict[str, str],
                glosses: dict[str, str], figure: str) -> None:
    from analysis.views import clearest_quotes, matrix_table, one_line
    body.heading("Interpersonal communication dimensions across sites")
    wide = matrix_table(an, "dimension")
    names = [labels[c].lower() for c in wide.index]
    body.para(
        f"The {_plural(len(wide), 'dimension', 'dimensions')} of interpersonal communication "
        f"({_list_phrase(names)}) are the common frame of the comparison. ", Ref("fig-dimension"),
        " shows the state of each dimension at each site; ", Ref("tab-dimensions"), " gives "
        "the number of primary segments and the clearest quote behind each cell. The clearest "
        "quote is chosen by rule: the cell’s majority valence, then evidence closest to data "
        "(interview, observation, document, author claim), then results before conclusion and "
        "abstract, then the shorter quote. Quotes are verbatim Indonesian (the extraction’s "
        "line breaks folded) with a hand-made English gloss.")
    body.figure("Interpersonal communication dimensions: state per site; the number is the "
                "primary segments behind the cell (tables/site_code_matrix.csv).", figure,
                width=_figure_width(len(wide.columns)), label="fig-dimension")
    best = clearest_quotes(an.segments).set_index(["site", "canonical_code"])
    rows = []
    for code in wide.index:
        rows.append([f"group(3, {S(f'{labels[code]} ({label_id[code]})')})"])
        for site in wide.columns:
            if (site, code) in best.index:
                seg = best.loc[(site, code)]
                sid = seg["segment_id"]
                quote = (f"quoted({S(sid)}, {S(one_line(seg['quote']))}, "
                         f"{S(glosses[sid]) if sid in glosses else 'none'})")
            else:
                quote = _muted("no primary segment")
            rows.append([S(site), S(wide.loc[code, site]), quote])
    body.table("The communication dimensions across sites: state (primary segments) and the "
               "clearest quote of each cell with its English gloss (tables/site_code_matrix.csv, "
               "tables/segments.csv, data/glosses.csv).",
               "(1fr, 1fr, 5fr)", ["Site", "State (segments)", "Clearest quote and English gloss"],
               rows, size="8pt", label="tab-dimensions")


def _category(body: _Body, an, category: str, labels: dict[str, str], figure: str) -> None:
    from analysis.views import matrix_table
    title, intro = CATEGORY_SECTIONS[category]
    wide = matrix_table(an, category)
    body.heading(title)
    body.para(intro, " ", Ref(f"fig-{category}"), " shows the matrix and ", Ref(f"tab-{category}"),
              " gives each cell as state (primary segments); a dash marks a code the study does "
              "not report, which is not evidence that the office lacks it.")
    body.figure(f"{title}: state per site; the number is the primary segments behind the "
                "cell (tables/site_code_matrix.csv).", figure,
                width=_figure_width(len(wide.columns)), label=f"fig-{category}")
    rows = [[S(labels[code])] + [S(wide.loc[code, site]) for site in wide.columns]
            for code in wide.index]
    body.table(f"{title}: state (primary segments) per site (tables/site_code_matrix.csv).",
               f"(1.8fr, {', '.join(['1fr'] * len(wide.columns))})",
               [category.capitalize(), *wide.columns], rows, size="8pt", label=f"tab-{category}")


CONCERN_LABELS = {"no_or_very_minor": "no or very minor", "minor": "minor",
                  "moderate": "moderate", "serious": "serious"}


def _cerqual(body: _Body, t: dict[str, pd.DataFrame], labels: dict[str, str]) -> None:
    cerqual = t["cerqual"]
    body.add("", "#page(flipped: true)[")
    body.heading("Summary of findings (GRADE-CERQual)")
    if cerqual.empty:
        body.para("No cross-site finding has been judged yet: data/cerqual.csv is absent or "
                  "empty.")
        body.add("]")
        return
    body.para(
        "Each cross-site finding is assessed in the manner of GRADE-CERQual (Lewin et al. "
        "2018) on four components, methodological limitations (informed by the CASP "
        "appraisal), coherence, adequacy and relevance, and given an overall confidence. "
        "Two columns of ", Ref("tab-cerqual"), " are computed from the coding, not judged: the "
        "studies and primary segments that support the finding (adequacy) and the sites whose "
        "segments of the same codes run the other way (a coherence flag). The judgments and "
        "explanations are the synthesis team’s (data/cerqual.csv).")
    rows = []
    for r in records(cerqual):
        codes = ", ".join(labels[c] for c in r.codes.split(";"))
        rows.append([
            _cell(_strong(r.finding_id), S(r.finding), _muted(f"Codes: {codes} ({r.valence})")),
            _cell(S(_join_sites(r.contributing_sites)),
                  S(f"{r.n_studies} of {r.n_sites_total} studies"),
                  S(_plural(r.n_segments, "segment", "segments"))),
            _cell(S(_join_sites(r.disagreeing_sites)),
                  S(_plural(r.n_disagreeing_segments, "segment", "segments"))),
            S(CONCERN_LABELS.get(r.methodological_limitations, r.methodological_limitations)),
            S(CONCERN_LABELS.get(r.coherence, r.coherence)),
            S(CONCERN_LABELS.get(r.adequacy, r.adequacy)),
            S(CONCERN_LABELS.get(r.relevance, r.relevance)),
            _strong(r.confidence.replace("_", " ")),
            S(r.explanation),
        ])
    body.table("Summary of findings: each cross-site finding with its contributing studies, "
               "the CERQual components and the overall confidence (tables/cerqual.csv; "
               "contributing and disagreeing sites computed from the coding).",
               "(3fr, 1.4fr, 1.3fr, 1.25fr, 0.95fr, 0.95fr, 0.95fr, 0.95fr, 2.9fr)",
               ["Finding", "Contributing studies (adequacy, computed)",
                "Sites running against it (coherence flag, computed)",
                "Methodological limitations", "Coherence", "Adequacy", "Relevance",
                "Confidence", "Explanation"], rows, size="7.5pt", label="tab-cerqual")
    body.add("]")


def _implications(body: _Body, t: dict[str, pd.DataFrame], corpus, labels: dict[str, str],
                  glosses: dict[str, str]) -> None:
    bt = t["barrier_training"]
    body.heading("Implications for training")
    if bt.empty:
        body.para("No site reports a barrier, so there is nothing to map to the training "
                  "guidance.")
        return
    body.para(
        "The practitioner guidance for a technical training course (bimbingan teknis) on "
        "public communication and service ethics is the reference for what training "
        "addresses. ", Ref("tab-barrier-training"), " matches each barrier a site reports with "
        "the guidance passages coded with the same barrier code: passages that name it as a "
        "challenge, and training materials or strategies that address it. A barrier counts as "
        "addressed when the guidance offers at least one material or strategy for it; ",
        Ref("tab-guidance"), " quotes those materials and strategies.")
    rows = []
    for site, part in bt.groupby("site", sort=True):
        rows.append([f"group(7, {S(site)})"])
        for r in records(part):
            rows.append([S(labels[r.code]), S(str(r.n_site_segments)),
                         S(str(r.n_guidance_challenge)), S(str(r.n_guidance_material)),
                         S(str(r.n_guidance_strategy)),
                         S("yes") if r.addressed == "True" else _strong("not addressed"),
                         S(r.guidance_segment_ids.replace(";", ", ")) if r.guidance_segment_ids
                         else _muted("none")])
    body.table("Each site’s barriers and what the training guidance offers for them "
               "(tables/barrier_training.csv).",
               "(1.6fr, 0.7fr, 0.75fr, 0.75fr, 0.75fr, 1fr, 2.3fr)",
               ["Barrier", "Site segments", "Guidance: challenge", "Guidance: materials",
                "Guidance: strategies", "Addressed", "Guidance passages"], rows, size="7.5pt",
               label="tab-barrier-training")
    gaps = bt[bt["addressed"] != "True"]
    if len(gaps):
        per_site = [f"{site}: {', '.join(labels[c].lower() for c in part['code'])}"
                    for site, part in gaps.groupby("site", sort=True)]
        body.para("Barriers the guidance does not address (no material or strategy): "
                  + "; ".join(per_site) + ". Training as the guidance designs it would leave "
                  "these untouched; they call for other measures or new course content.")
    else:
        body.para("The guidance offers a material or strategy for every barrier the sites "
                  "report.")
    passages = guidance_passages(corpus.guidance)
    if len(passages):
        rows = []
        for p in records(passages):
            gloss = glosses.get(p.segment_id)
            rows.append([S(p.elements.replace(";", ", ")),
                         S(", ".join(labels[c] for c in p.codes.split(";"))),
                         f"quoted({S(p.segment_id)}, {S(p.quote)}, "
                         f"{S(gloss) if gloss else 'none'})"])
        body.table("The guidance’s training materials and strategies, verbatim with an English "
                   "gloss, and the barriers they address (data/guidance.csv, data/glosses.csv).",
                   "(0.8fr, 1.3fr, 5fr)", ["Element", "Barriers addressed", "Passage"], rows,
                   size="8pt", label="tab-guidance")


def _limitations(body: _Body, t: dict[str, pd.DataFrame], meta: dict[str, str],
                 extra: dict[str, pd.DataFrame]) -> None:
    studies, cov, prevalence = t["studies"], t["coverage"], t["code_prevalence"]
    n = len(studies)
    body.heading("Limitations of the synthesis")
    interval = ""
    everywhere = prevalence[prevalence["n_sites"] == prevalence["n_sites_total"]]
    once = prevalence[prevalence["n_sites"] == 1]
    if len(everywhere):
        r = everywhere.iloc[0]
        interval += (f" A code reported by all {r['n_sites_total']} sites has a Wilson 95% "
                     f"interval of {float(r['site_ci_low']):.2f} to "
                     f"{float(r['site_ci_high']):.2f} for the share of comparable offices that "
                     "would report it")
    if len(once):
        r = once.iloc[0]
        interval += ((", and" if interval else " A") + " a code reported by one site "
                     f"{float(r['site_ci_low']):.2f} to {float(r['site_ci_high']):.2f}")
    if interval:
        interval += " (Wilson 1927; tables/code_prevalence.csv)."
    n_secondary = int(t["site_code_matrix"]["n_cited_secondary"].sum())
    coders = meta.get("coders", "")
    agreement = t.get("coder_agreement")
    agreement = (agreement[agreement["level"] == "category"] if agreement is not None
                 else pd.DataFrame())
    missing_biblio = int(((studies["authors"] == "") | (studies["year"] == "")).sum())
    items = [
        f"Few cases. The synthesis rests on {_plural(n, 'study', 'studies')}, not sampled to "
        "represent Indonesian local-government offices; counts describe how much each study "
        "says, not how common a practice is." + interval + " Segments are not independent "
        "(abstracts and conclusions restate results), and no test of difference between "
        "sites is made.",
        "PDF-extracted texts. The studies are text extractions of PDFs, with stray spaces, "
        "broken lines, hyphenation and typos; quotes are kept verbatim (only line breaks are "
        "folded for display), and the tables and figures of the original articles are lost.",
        ("Mostly one coder per study. " if len(agreement) else "One coder per study. ")
        + (f"Coders, as data/corpus.csv records them: {coders}. " if coders else "")
        + (_agreement_sentence(agreement, studies) if len(agreement) else
           "No second coder has coded the same texts yet, so no agreement statistic can be "
           "reported; the codebook’s include and exclude rules and the coding memos are the "
           "safeguard for now."),
        "What the studies report, not what the offices do. A code a study does not report is "
        "not evidence that the office lacks it."
        + (f" {_plural(n_secondary, 'segment', 'segments')} in which the authors report other "
           f"studies or places {'is' if n_secondary == 1 else 'are'} left out of every count."
           if n_secondary else ""),
        (f"Incomplete bibliographic data. {missing_biblio} of the {n} texts do not give their "
         "authors or year; these fields are left empty and the references say so."
         if missing_biblio else "Bibliographic data are as the texts give them."),
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
    rows = [[S(r.site), S(str(r.n_paragraphs)), S(str(r.n_coded)), S(_pct(r.share_coded))]
            for r in records(cov)]
    body.table("Coverage of the coding: results and conclusion paragraphs with at least one "
               "coded segment (tables/coverage.csv).", "(1.5fr, 1fr, 1fr, 1fr)",
               ["Site", "Paragraphs", "Coded", "Share coded"], rows, size="8.5pt",
               label="tab-coverage")
    if len(agreement):
        body.para(
            "Agreement of the second coding. A unit is a sentence of the study x a category; "
            "each coding codes it when one of its segments of that category overlaps the "
            "sentence. The kit’s coding (A) is the reference for precision and recall; ",
            Ref("tab-agreement"), " gives the agreement per category, and tables/"
            "coder_agreement.csv per canonical code as well.")
        rows = []
        for r in records(agreement):
            rows.append([S(r.site), S(r.label), S(str(r.n_units)), S(str(r.coded_a)),
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


def _references(body: _Body, t: dict[str, pd.DataFrame]) -> None:
    studies = t["studies"]
    body.heading("References", numbered=False)
    body.para("The case studies, as far as their texts identify them. A field the text does "
              "not give is said to be missing, never filled in from elsewhere.")
    for r in records(studies):
        entry = (f"{r.authors or 'Authors ' + NOT_GIVEN} ({r.year or 'year ' + NOT_GIVEN}). "
                 f"{r.title or 'Title ' + NOT_GIVEN}. {r.venue or 'Venue ' + NOT_GIVEN}. ")
        body.add(f"#list.item[#{S(entry)}#note({S(f'Case study of {r.site} ({r.name}).')})]")
    body.para("The frameworks the studies cite, as the site table gives them:", sticky=True)
    for r in records(studies):
        body.add(f"#list.item[#strong({S(r.site + ': ')})#{S(r.framework or NOT_GIVEN)}]")
    body.para("Methods used in this synthesis:", sticky=True)
    for ref in FIXED_REFERENCES:
        body.add(f"#list.item({S(ref)})")


def _appendix(body: _Body, t: dict[str, pd.DataFrame], codebook: pd.DataFrame,
              extra: dict[str, pd.DataFrame]) -> None:
    body.add("", "#pagebreak()")
    body.heading("Appendix A: the codebook", numbered=False)
    body.para("The codes of data/codebook.csv: canonical codes, and site-specific codes with "
              "the canonical parent they count towards, with English and Indonesian labels.",
              sticky=True)
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
    for name, part in t["data_dictionary"].groupby("table", sort=False):
        rows.append([f"group(2, {S(f'{name}.csv: one row per ' + part['rows'].iloc[0].removeprefix('one row per '))})"])
        for r in records(part):
            rows.append([f"raw({S(r.column)})", S(r.description)])
    body.table("The data dictionary (tables/data_dictionary.csv).", "(auto, 1fr)",
               ["Column", "Description"], rows, size="7.5pt")
    for letter, (name, frame) in zip("CDEFGH", extra.items()):
        title = EXTRA_TITLES.get(name, f"tables/{name}.csv")
        body.heading(f"Appendix {letter}: {title}", numbered=False)
        rows = [[S(v) for v in row] for row in frame.astype(str).itertuples(index=False)]
        body.table(f"{title} (tables/{name}.csv).",
                   "(" + ", ".join(["1fr"] * len(frame.columns)) + ",)",
                   [c.replace("_", "_\u200b") for c in frame.columns], rows, size="7pt")


EXTRA_TITLES = {"autocode_eval": "Evaluation of automatic coding suggestions"}
"""Optional tables other stages write into OUT/tables; in the appendix when present."""


def _extra_tables(layout: Layout) -> dict[str, pd.DataFrame]:
    extra = {}
    for path in sorted(layout.tables_dir.glob("*.csv")):
        if path.stem in EXTRA_TITLES:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if len(frame):  # a table with no rows has nothing to show
                extra[path.stem] = frame
    return extra


def render_source(meta: dict[str, str], t: dict[str, pd.DataFrame], corpus,
                  glosses: dict[str, str], figures: dict[str, str],
                  extra: dict[str, pd.DataFrame]) -> str:
    """The complete Typst source: the template, then the body generated from the tables."""
    labels = _labels(corpus.codebook)
    label_id = dict(zip(corpus.codebook["code"], corpus.codebook["label_id"]))
    an = _analysis(corpus, t["segments"], t["site_code_matrix"])
    date = dt.date.fromisoformat(meta["date"])
    body = _Body()
    body.add(f"#show: report.with(title: {S(meta['title'])}, "
             f"date: datetime(year: {date.year}, month: {date.month}, day: {date.day}), "
             f"date-text: {S(meta['date'])}, date-note: {S(meta.get('date_meaning', ''))})")
    _abstract(body, t, labels)
    body.add("", "#outline(depth: 1, indent: 1em)", "#pagebreak()")
    _studies(body, t)
    _appraisal(body, t)
    _dimensions(body, an, labels, label_id, glosses, figures["dimension"])
    for category in ("practice", "barrier", "outcome"):
        _category(body, an, category, labels, figures[category])
    _cerqual(body, t, labels)
    _implications(body, t, corpus, labels, glosses)
    _limitations(body, t, meta, extra)
    _references(body, t)
    _appendix(body, t, corpus.codebook, extra)
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
    figure_paths = {}
    for category in ("dimension", "practice", "barrier", "outcome"):
        path = layout.figures_dir / f"framework_{category}.svg"
        fig.save_svg(fig.framework_figure(t["site_code_matrix"], category), path)
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
        _progress(f"{len(missing)} quotes lack an English gloss (python -m analysis.report glosses)")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
