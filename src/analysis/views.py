"""What the notebooks and the report show: small display tables built from the tidy tables.

Notebooks call these functions, one per step, so that a notebook and the PDF
cannot disagree. :func:`open_corpus` checks the notebook parameters.

Sites are shown by their display name (``short_name`` of ``data/sites.csv``, see
:func:`site_names`); a metadata field left empty is worded by :func:`missing_wording`
("not given in the text" when the row's notes say so, "not yet recorded" otherwise),
the same in the notebooks and the PDF. :func:`styled` is how a notebook shows a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from analysis import comparison
from analysis.coding import evidence, primary, segments as segment_table
from analysis.paths import Layout
from analysis.sources import Corpus, load_corpus

NOT_GIVEN = "not given in the text"
NOT_RECORDED = "not yet recorded"

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")

EVIDENCE_RANK = {"interview": 0, "observation": 1, "document": 2, "author_claim": 3}
SECTION_RANK = {"results": 0, "conclusion": 1, "abstract": 2, "method": 3, "background": 4}


@dataclass
class Analysis:
    """A loaded corpus and the tables every view is built from (computed once)."""

    corpus: Corpus

    @cached_property
    def segments(self) -> pd.DataFrame:
        return segment_table(self.corpus)

    @cached_property
    def matrix(self) -> pd.DataFrame:
        return comparison.site_code_matrix(self.segments, self.corpus.codebook,
                                           self.corpus.site_ids)

    @property
    def sites(self) -> list[str]:
        return self.corpus.site_ids

    @cached_property
    def names(self) -> dict[str, str]:
        """Display name of every site (:func:`site_names`)."""
        return site_names(self.corpus.sites)

    @cached_property
    def labels(self) -> dict[str, str]:
        """English label of every code of the codebook."""
        return dict(zip(self.corpus.codebook["code"], self.corpus.codebook["label_en"]))

    def check_site(self, site: str) -> str:
        if site not in self.sites:
            raise ParameterError(f"parameter site: unknown site '{site}' (sites in "
                                 f"{self.corpus.layout.sites_csv.name}: {', '.join(self.sites)})")
        return site

    def evidence(self, site: str, code: str) -> pd.DataFrame:
        """The quotes behind one matrix cell (see :func:`analysis.coding.evidence`)."""
        self.check_site(site)
        known = set(self.corpus.codebook["code"])
        if code not in known:
            raise ValueError(f"unknown code '{code}' (see {self.corpus.layout.codebook_csv})")
        return evidence(self.segments, site, code)


class ParameterError(ValueError):
    """A notebook parameter that names nothing in the data.

    In a notebook (IPython, papermill) it prints as one line, its message, instead of a
    traceback through the kit's code: IPython calls ``_render_traceback_`` for the lines
    it shows.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


def site_names(sites: pd.DataFrame) -> dict[str, str]:
    """Site slug -> the name a reader sees: ``short_name`` of sites.csv, or, while that is
    empty, the slug with spaces and capitals (``musi_banyuasin`` -> "Musi Banyuasin")."""
    short = sites["short_name"] if "short_name" in sites else pd.Series("", index=sites.index)
    return {site: (name.strip() or site.replace("_", " ").title())
            for site, name in zip(sites["site"], short.fillna(""))}


STATE_WORDS = {"not_reported": "-", "practiced": "practised"}
"""How a cell state reads in British English (the tables keep the data's values)."""


def state_word(state: str) -> str:
    """A framework cell's state as the report and notebooks print it."""
    return STATE_WORDS.get(state, state.replace("_", " "))


def number_word(n: int) -> str:
    """A count as a word when it is small ("four"), else in digits ("23")."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def missing_wording(field: str, notes: str) -> str:
    """How an empty metadata field reads: "not given in the text" when the row's notes say
    the text does not give it (a sentence of the notes naming the field and saying "not
    given", "does not give" or "left empty"), else "not yet recorded" (a new site whose
    fields nobody has filled in yet)."""
    word = field.replace("_", " ").lower()
    singular = word[:-1] if word.endswith("s") and not word.endswith(("ss", "sis")) else word
    for sentence in re.split(r"(?<=[.;])\s+", notes.lower()):
        if re.search(rf"\b({re.escape(word)}|{re.escape(singular)})\b", sentence) and re.search(
                r"not given|does not give|do not give|gives? no|left empty|not named|not stated"
                r"|\bno\b.*\b(is|are) (named|given|stated)", sentence):
            return NOT_GIVEN
    return NOT_RECORDED


def or_missing(value: str, field: str, notes: str) -> str:
    """The field's value, or how its absence reads (:func:`missing_wording`)."""
    return value if value else missing_wording(field, notes)


def open_corpus(data_dir: str | Path = "", out_dir: str | Path = "") -> Analysis:
    """Load and validate the corpus named by notebook parameters (empty: the kit's own)."""
    return Analysis(load_corpus(Layout.of(data_dir or None, out_dir or None)))


def study_card(an: Analysis, site: str) -> pd.DataFrame:
    """One row per field of the site's study card: field, value (an empty field worded by
    :func:`missing_wording`)."""
    an.check_site(site)
    row = an.corpus.sites.set_index("site").loc[site]
    notes = row.get("notes", "") or ""
    fields = [("site", an.names[site]), ("office", row["name"])]
    fields += [(label, or_missing(row[col], col, notes)) for label, col in (
        ("level", "admin_level"), ("parent", "parent"), ("province", "province"),
        ("unit studied", "unit_studied"), ("design", "design"), ("methods", "methods"),
        ("informants", "informants"), ("analysis", "analysis"), ("framework", "framework"))]
    source = an.corpus.sources[(an.corpus.sources["site"] == site)
                               & (an.corpus.sources["kind"] == "case_study")]
    for s in source.itertuples():
        fields += [("source", s.source_id)]
        fields += [(col, or_missing(getattr(s, col), col, s.notes))
                   for col in ("title", "authors", "year", "venue")]
    return pd.DataFrame(fields, columns=["field", "value"])


def clearest_quotes(segments: pd.DataFrame) -> pd.DataFrame:
    """One primary segment per site x canonical code: the clearest evidence for the cell.

    Rule (deterministic): the valence that holds the majority of the cell's
    segments (positive on a tie), then evidence closest to data (interview,
    observation, document, author claim), then section (results, conclusion,
    abstract, ...), then the shorter quote, then segment id.
    """
    prim = primary(segments).copy()
    if prim.empty:
        return prim
    n_pos = prim.groupby(["site", "canonical_code"])["valence"].transform(
        lambda v: (v == "positive").sum())
    n_all = prim.groupby(["site", "canonical_code"])["valence"].transform("size")
    majority = (n_pos * 2 >= n_all).map({True: "positive", False: "negative"})
    prim["_rank_valence"] = (prim["valence"] != majority).astype(int)
    prim["_rank_evidence"] = prim["evidence"].map(EVIDENCE_RANK)
    prim["_rank_section"] = prim["section"].map(SECTION_RANK)
    prim["_length"] = prim["quote"].str.len()
    prim = prim.sort_values(["site", "canonical_code", "_rank_valence", "_rank_evidence",
                             "_rank_section", "_length", "segment_id"])
    best = prim.groupby(["site", "canonical_code"], sort=True).head(1)
    return best.drop(columns=[c for c in best.columns if c.startswith("_")]).reset_index(drop=True)


def site_profile(an: Analysis, site: str, category: str) -> pd.DataFrame:
    """One row per canonical code of ``category`` the site reports: code, label, state,
    n_segments and the clearest quote (whole, line breaks folded) with its segment id."""
    an.check_site(site)
    cells = an.matrix[(an.matrix["site"] == site) & (an.matrix["category"] == category)
                      & (an.matrix["state"] != comparison.NOT_REPORTED)]
    best = clearest_quotes(an.segments[an.segments["site"] == site])
    best = best.set_index("canonical_code")
    labels = an.labels
    table = pd.DataFrame({
        "code": cells["code"].to_numpy(),
        "label": cells["code"].map(labels).to_numpy(),
        "state": cells["state"].to_numpy(),
        "n_segments": cells["n_segments"].to_numpy(),
        "segment_id": cells["code"].map(best["segment_id"]).to_numpy(),
        "quote": cells["code"].map(best["quote"]).map(one_line).to_numpy(),
    })
    return table


def profile_display(an: Analysis, site: str, category: str):
    """:func:`site_profile` for a notebook: a styled table (label, state, segments, clearest
    quote), or a sentence when the site reports no primary segment of the category (so a
    reader never meets an empty table)."""
    from IPython.display import Markdown

    table = site_profile(an, site, category)
    if table.empty:
        return Markdown(f"*The {an.names[site]} study reports no {category} code about its own "
                        "office (segments in which the authors report other studies or places "
                        "are not counted).*")
    shown = table.assign(state=table["state"].map(state_word))
    return styled(shown[["label", "state", "n_segments", "quote", "segment_id"]].rename(
        columns={"label": category.capitalize(), "state": "State", "n_segments": "Segments",
                 "quote": "Clearest quote", "segment_id": "Segment id"}),
        uuid=f"profile-{category}")


class Table(Styler):
    """A styled table whose plain-text form is the table itself, not ``<Styler at 0x...>``:
    readable where HTML is not shown, and the same in every run (committed notebooks stay
    byte-stable)."""

    digits = 2

    def __repr__(self) -> str:
        return self.data.to_string(index=False, float_format=f"{{:.{self.digits}f}}".format)


def styled(table: pd.DataFrame, uuid: str = "table", digits: int = 2) -> Table:
    """A table as a notebook shows it: no index, text left-aligned and wrapped, numbers
    rounded as in the PDF (``digits`` decimals; whole numbers as they are). The HTML is
    deterministic (fixed ``uuid``), so nbval can compare it."""
    table = table.rename(columns=lambda c: c.replace("_", " ").capitalize()
                         if c == c.lower() else c)  # headers as words: "segment id" -> "Segment id"
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    texts = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    ids = [c for c in texts if c.lower() == "id" or c.lower().endswith(" id")]  # never wrapped
    style = (Table(table).hide(axis="index").set_uuid(uuid)
             .format({c: f"{{:.{digits}f}}" for c in floats}, na_rep="")
             .set_properties(subset=texts, **{"text-align": "left"})
             .set_properties(subset=[c for c in texts if c not in ids],
                             **{"white-space": "normal"})
             .set_properties(subset=ids, **{"white-space": "nowrap"})
             .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}]))
    style.digits = digits
    return style


def one_line(text: str) -> str:
    """A quote with the extraction's line breaks and runs of spaces folded, for display."""
    return " ".join(str(text).split())


def first_reported(an: Analysis, site: str) -> str:
    """The first canonical code (codebook order) the site reports: a cell to drill into."""
    an.check_site(site)
    cells = an.matrix[(an.matrix["site"] == site) & (an.matrix["state"] != comparison.NOT_REPORTED)]
    if cells.empty:  # nothing coded (or accepted) yet: the first code, with no quotes
        cells = an.matrix[an.matrix["site"] == site]
    return cells["code"].iloc[0]


def not_reported(an: Analysis, site: str) -> pd.DataFrame:
    """The canonical codes the site's study does not report, by category (English labels)."""
    an.check_site(site)
    cells = an.matrix[(an.matrix["site"] == site) & (an.matrix["state"] == comparison.NOT_REPORTED)]
    labels = an.labels
    return (cells.assign(label=cells["code"].map(labels))
            .groupby("category", sort=False)["label"].agg(", ".join)
            .rename("codes not reported").reset_index())


def evidence_display(an: Analysis, site: str, code: str):
    """The quotes behind one cell, styled for a notebook: whole quotes, line breaks folded."""
    table = an.evidence(site, code)
    table = table.assign(quote=table["quote"].map(one_line),
                         attribution=table["attribution"].map(ATTRIBUTION_WORDS).fillna(
                             table["attribution"]))
    return styled(table, uuid=f"evidence-{code}")


def memo_points(an: Analysis, site: str, heading: str = "Main points") -> str:
    """The ``## Main points`` section of the site's coding memo (Markdown), or a note."""
    path = an.corpus.layout.memo_dir / f"{site}.md"
    if not path.exists():
        return f"*No coding memo at {path.name}.*"
    text = path.read_text(encoding="utf-8")
    lines, keep = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            keep = line[3:].strip().lower().startswith(heading.lower())
            continue
        if keep:
            lines.append(line)
    return "\n".join(lines).strip() or f"*The memo {path.name} has no '{heading}' section.*"


def matrix_table(an: Analysis, category: str) -> pd.DataFrame:
    """Codes x sites of one category, each cell 'state (n)' (a dash: not reported).

    Indexed by code, one column per site slug (the report and notebooks rename them
    with :func:`matrix_display`)."""
    part = an.matrix[an.matrix["category"] == category]
    cell = part["state"].map(state_word) + part["n_segments"].map(
        lambda n: f" ({n})" if n else "")
    wide = part.assign(cell=cell).pivot(index="code", columns="site", values="cell")
    return wide.loc[list(dict.fromkeys(part["code"]))].rename_axis(columns=None)


def matrix_display(an: Analysis, category: str):
    """:func:`matrix_table` for a reader: English labels down, site names across, styled."""
    wide = matrix_table(an, category)
    labels = an.labels
    table = wide.rename(columns=an.names).rename(index=labels).rename_axis(
        category.capitalize()).reset_index()
    return styled(table, uuid=f"matrix-{category}")


def cooccurrence_top(an: Analysis, n: int = 15) -> pd.DataFrame:
    """The ``n`` code pairs most often coded on the same passage, summed over sites."""
    pairs = comparison.code_cooccurrence(an.segments)
    total = pairs.groupby(["code_a", "code_b"]).agg(
        n_overlaps=("n_overlaps", "sum"), n_sites=("site", "nunique"),
        sites=("site", lambda s: ", ".join(sorted(s)))).reset_index()
    return total.sort_values(["n_overlaps", "code_a", "code_b"],
                             ascending=[False, True, True]).head(n).reset_index(drop=True)


def cooccurrence_display(an: Analysis, n: int = 15):
    """:func:`cooccurrence_top` for a reader: labels and site names, styled."""
    top = cooccurrence_top(an, n)
    labels = an.labels
    table = pd.DataFrame({
        "Code": top["code_a"].map(labels), "Coded together with": top["code_b"].map(labels),
        "Overlapping passages": top["n_overlaps"], "Sites": top["n_sites"],
        "Where": top["sites"].map(lambda v: ", ".join(an.names[s] for s in v.split(", ")))})
    return styled(table, uuid="cooccurrence")


def similarity_wide(an: Analysis) -> pd.DataFrame:
    """Sites x sites Jaccard similarity over reported canonical codes (site names)."""
    sim = comparison.site_similarity(an.matrix)
    return sim.pivot(index="site_a", columns="site_b", values="jaccard").rename_axis(
        index=None, columns=None).rename(index=an.names, columns=an.names)


def similarity_display(an: Analysis):
    """:func:`similarity_wide`, styled: the site in the first column, two decimals."""
    wide = similarity_wide(an).astype(float)
    return styled(wide.rename_axis("Site").reset_index(), uuid="similarity")


def prevalence(an: Analysis) -> pd.DataFrame:
    """Per canonical code: share of segments and of sites, with Wilson 95% intervals."""
    return comparison.code_prevalence(an.segments, an.matrix)


def prevalence_display(an: Analysis):
    """:func:`prevalence` for a reader: label, segments and sites with their intervals."""
    table = prevalence(an)
    labels = an.labels
    shown = pd.DataFrame({
        "Category": table["category"], "Code": table["code"].map(labels),
        "Segments": table["n_segments"],
        "Share of segments": [f"{share:.1%}" for share in table["share_segments"].astype(float)],
        "95% interval": [f"{lo:.1%} to {hi:.1%}" for lo, hi in
                         zip(table["seg_ci_low"].astype(float), table["seg_ci_high"].astype(float))],
        "Sites": table["n_sites"],
        "Sites' 95% interval": [f"{lo:.2f} to {hi:.2f}" for lo, hi in
                                zip(table["site_ci_low"].astype(float),
                                    table["site_ci_high"].astype(float))]})
    return styled(shown, uuid="prevalence")


def small_n_statement(an: Analysis) -> str:
    """What the number of cases can and cannot support, with the intervals computed."""
    from statsmodels.stats.proportion import proportion_confint

    n = len(an.sites)
    low_all, high_all = proportion_confint(n, n, method="wilson")
    low_one, high_one = proportion_confint(1, n, method="wilson")
    return (
        f"With {number_word(n)} cases, a code reported by all {number_word(n)} sites has a "
        f"Wilson 95% interval of {low_all:.2f} to {high_all:.2f} for the share of comparable "
        f"offices that would report it, and a code reported by one site {low_one:.2f} to "
        f"{high_one:.2f}. The intervals over segments are narrower, but segments are not "
        "independent: one study contributes many segments, and abstracts and conclusions "
        "restate results. Counts describe how much each study says, not how common a practice "
        "is in Indonesian local government. The cases were not sampled to represent offices; "
        "no test of difference between sites is meaningful here, and none is made.")


def small_n_display(an: Analysis):
    """:func:`small_n_statement` as Markdown (a paragraph, not monospace output)."""
    from IPython.display import Markdown

    return Markdown(small_n_statement(an))


def evidence_for_code(an: Analysis, code: str) -> pd.DataFrame:
    """Every site's segments for one code: site first, then what :meth:`Analysis.evidence` shows."""
    frames = [an.evidence(site, code).assign(site=site) for site in an.sites]
    table = pd.concat(frames, ignore_index=True)
    table["quote"] = table["quote"].map(one_line)
    return table[["site", "segment_id", "valence", "attribution", "evidence", "section",
                  "start", "end", "quote"]]


def evidence_for_code_display(an: Analysis, code: str):
    """:func:`evidence_for_code` for a reader: site names, whole quotes, styled."""
    table = evidence_for_code(an, code)
    table["site"] = table["site"].map(an.names)
    table["attribution"] = table["attribution"].map(ATTRIBUTION_WORDS).fillna(table["attribution"])
    return styled(table, uuid=f"evidence-{code}")


ATTRIBUTION_WORDS = {"primary": "about the site", "cited_secondary": "about other work (cited)"}
