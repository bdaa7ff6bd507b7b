"""What the notebooks and the report show: small display tables built from the tidy tables.

Notebooks call these functions, one per step, so that a notebook and the PDF
cannot disagree. :func:`open_corpus` checks the notebook parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from analysis import comparison
from analysis.coding import evidence, primary, segments as segment_table
from analysis.paths import Layout
from analysis.sources import Corpus, load_corpus

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

    def check_site(self, site: str) -> str:
        if site not in self.sites:
            raise ValueError(f"parameter site: unknown site '{site}' "
                             f"(sites in {self.corpus.layout.sites_csv}: {', '.join(self.sites)})")
        return site

    def evidence(self, site: str, code: str) -> pd.DataFrame:
        """The quotes behind one matrix cell (see :func:`analysis.coding.evidence`)."""
        self.check_site(site)
        known = set(self.corpus.codebook["code"])
        if code not in known:
            raise ValueError(f"unknown code '{code}' (see {self.corpus.layout.codebook_csv})")
        return evidence(self.segments, site, code)


def open_corpus(data_dir: str | Path = "", out_dir: str | Path = "") -> Analysis:
    """Load and validate the corpus named by notebook parameters (empty: the kit's own)."""
    return Analysis(load_corpus(Layout.of(data_dir or None, out_dir or None)))


def study_card(an: Analysis, site: str) -> pd.DataFrame:
    """One row per field of the site's study card: field, value."""
    an.check_site(site)
    row = an.corpus.sites.set_index("site").loc[site]
    source = an.corpus.sources[(an.corpus.sources["site"] == site)
                               & (an.corpus.sources["kind"] == "case_study")]
    fields = [("office", row["name"]), ("level", row["admin_level"]), ("parent", row["parent"]),
              ("province", row["province"]), ("unit studied", row["unit_studied"]),
              ("design", row["design"]), ("methods", row["methods"]),
              ("informants", row["informants"]), ("analysis", row["analysis"]),
              ("framework", row["framework"])]
    for s in source.itertuples():
        fields += [("source", s.source_id), ("title", s.title),
                   ("authors", s.authors or "(not given in the text)"),
                   ("year", s.year or "(not given in the text)")]
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
    """One row per canonical code of ``category`` the site reports: state, counts, clearest quote."""
    an.check_site(site)
    cells = an.matrix[(an.matrix["site"] == site) & (an.matrix["category"] == category)
                      & (an.matrix["state"] != comparison.NOT_REPORTED)]
    best = clearest_quotes(an.segments[an.segments["site"] == site])
    best = best.set_index("canonical_code")
    labels = an.corpus.codebook.set_index("code")["label_en"]
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
    """:func:`site_profile` for a notebook: the table, or a sentence when the site reports
    no primary segment of the category (so a reader never meets an empty table)."""
    from IPython.display import Markdown

    table = site_profile(an, site, category)
    if table.empty:
        return Markdown(f"*The {site} study reports no {category} code about its own office "
                        "(cited-secondary segments about other work are not counted).*")
    return table


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
    """The canonical codes the site's study does not report, by category."""
    an.check_site(site)
    cells = an.matrix[(an.matrix["site"] == site) & (an.matrix["state"] == comparison.NOT_REPORTED)]
    return (cells.groupby("category", sort=False)["code"].agg(", ".join)
            .rename("codes not reported").reset_index())


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
    """Codes x sites of one category, each cell 'state (n)'."""
    part = an.matrix[an.matrix["category"] == category]
    cell = part["state"].str.replace("not_reported", "-") + part["n_segments"].map(
        lambda n: f" ({n})" if n else "")
    wide = part.assign(cell=cell).pivot(index="code", columns="site", values="cell")
    return wide.loc[list(dict.fromkeys(part["code"]))].rename_axis(columns=None)


def cooccurrence_top(an: Analysis, n: int = 15) -> pd.DataFrame:
    """The ``n`` code pairs most often coded on the same passage, summed over sites."""
    pairs = comparison.code_cooccurrence(an.segments)
    total = pairs.groupby(["code_a", "code_b"]).agg(
        n_overlaps=("n_overlaps", "sum"), n_sites=("site", "nunique"),
        sites=("site", lambda s: ", ".join(sorted(s)))).reset_index()
    return total.sort_values(["n_overlaps", "code_a", "code_b"],
                             ascending=[False, True, True]).head(n).reset_index(drop=True)


def similarity_wide(an: Analysis) -> pd.DataFrame:
    """Sites x sites Jaccard similarity over reported canonical codes."""
    sim = comparison.site_similarity(an.matrix)
    return sim.pivot(index="site_a", columns="site_b", values="jaccard").rename_axis(
        index=None, columns=None)


def prevalence(an: Analysis) -> pd.DataFrame:
    """Per canonical code: share of segments and of sites, with Wilson 95% intervals."""
    return comparison.code_prevalence(an.segments, an.matrix)


def small_n_statement(an: Analysis) -> str:
    """What the number of cases can and cannot support, with the intervals computed."""
    from statsmodels.stats.proportion import proportion_confint

    n = len(an.sites)
    low_all, high_all = proportion_confint(n, n, method="wilson")
    low_one, high_one = proportion_confint(1, n, method="wilson")
    return (
        f"With {n} cases, a code reported by all {n} sites has a Wilson 95% interval of "
        f"{low_all:.2f} to {high_all:.2f} for the share of comparable offices that would "
        f"report it, and a code reported by one site {low_one:.2f} to {high_one:.2f}. "
        "The intervals over segments are narrower, but segments are not independent: "
        "one study contributes many segments, and abstracts and conclusions restate "
        "results. Counts describe how much each study says, not how common a practice "
        "is in Indonesian local government. The cases were not sampled to represent "
        "offices; no test of difference between sites is meaningful here, and none is made.")


def evidence_for_code(an: Analysis, code: str) -> pd.DataFrame:
    """Every site's segments for one code: site first, then what :meth:`Analysis.evidence` shows."""
    frames = [an.evidence(site, code).assign(site=site) for site in an.sites]
    table = pd.concat(frames, ignore_index=True)
    table["quote"] = table["quote"].map(one_line)
    return table[["site", "segment_id", "valence", "attribution", "evidence", "section",
                  "start", "end", "quote"]]
