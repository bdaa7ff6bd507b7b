"""Cross-site comparison: framework matrix, co-occurrence, similarity, prevalence.

All functions take tidy tables and return tidy tables; none loops in Python
over segments, so the cost grows linearly with the corpus.
Only ``primary`` segments count as evidence about a site.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.coding import primary

STATES = {
    "dimension": {"positive": "practiced", "mixed": "mixed", "negative": "lacking"},
    "practice": {"positive": "practiced", "mixed": "mixed", "negative": "lacking"},
    "barrier": {"positive": "reported", "mixed": "reported", "negative": "reported"},
    "outcome": {"positive": "improved", "mixed": "mixed", "negative": "problem"},
}
"""State of a cell by category and by the valences of its segments."""
NOT_REPORTED = "not_reported"
STATE_ORDER = ["practiced", "improved", "mixed", "lacking", "problem", "reported", NOT_REPORTED]

SIMILARITY_MAX_SITES = 200
"""Pairwise site similarity grows with the square of the sites; above this many
sites it is not computed (the table is written empty and the notebook says so)."""


def canonical_codes(codebook: pd.DataFrame) -> pd.DataFrame:
    """The canonical codes (rows with no parent) in codebook order: code, category, label_en."""
    book = codebook[codebook["parent"] == ""]
    return book[["code", "category", "label_en", "label_id"]].reset_index(drop=True)


def site_code_matrix(segments: pd.DataFrame, codebook: pd.DataFrame,
                     sites: list[str]) -> pd.DataFrame:
    """One row per site x canonical code, every pair present (``not_reported`` included).

    Columns: site, category, code, n_segments, n_positive, n_negative,
    n_cited_secondary (not counted in the state), state, segment_ids (the primary
    segments behind the cell, ``;``-separated: the link to the quotes).
    """
    codes = canonical_codes(codebook)
    grid = pd.MultiIndex.from_product([sorted(sites), codes["code"]], names=["site", "code"])
    prim = primary(segments).assign(is_positive=lambda t: t["valence"] == "positive")
    grouped = prim.groupby(["site", "canonical_code"])
    counts = pd.DataFrame({
        "n_segments": grouped.size(),
        "n_positive": grouped["is_positive"].sum(),
        "segment_ids": grouped["segment_id"].agg(";".join),
    })
    counts.index.names = ["site", "code"]
    secondary = segments[segments["attribution"] == "cited_secondary"]
    n_secondary = secondary.groupby(["site", "canonical_code"]).size()
    n_secondary.index.names = ["site", "code"]
    table = counts.reindex(grid)
    table["n_cited_secondary"] = n_secondary.reindex(grid).fillna(0).astype("int64")
    table = table.reset_index()
    table["n_segments"] = table["n_segments"].fillna(0).astype("int64")
    table["n_positive"] = table["n_positive"].fillna(0).astype("int64")
    table["n_negative"] = table["n_segments"] - table["n_positive"]
    table["segment_ids"] = table["segment_ids"].fillna("")
    table["category"] = table["code"].map(codes.set_index("code")["category"])
    valence = np.select([table["n_segments"] == 0, table["n_negative"] == 0,
                         table["n_positive"] == 0], ["none", "positive", "negative"], "mixed")
    table["state"] = [NOT_REPORTED if v == "none" else STATES[c][v]
                      for c, v in zip(table["category"], valence)]
    return table[["site", "category", "code", "n_segments", "n_positive", "n_negative",
                  "n_cited_secondary", "state", "segment_ids"]]


def matrix_wide(matrix: pd.DataFrame, category: str, value: str = "state") -> pd.DataFrame:
    """The site x code matrix of one category as a wide table (codes as rows, sites as columns),
    codes in codebook order."""
    part = matrix[matrix["category"] == category]
    order = list(dict.fromkeys(part["code"]))
    wide = part.pivot(index="code", columns="site", values=value)
    return wide.loc[order]


def code_cooccurrence(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per site x pair of canonical codes whose primary segments overlap in the text.

    Two segments co-occur when they share at least one character of the same
    source (the same passage coded with both codes). Columns: site, code_a,
    code_b (code_a < code_b), n_overlaps. Computed with a sort and a binary
    search, not a quadratic join.
    """
    prim = primary(segments)[["site", "source_id", "start", "end", "canonical_code"]]
    prim = prim.sort_values(["source_id", "start", "end"], kind="stable").reset_index(drop=True)
    if prim.empty:
        return pd.DataFrame(columns=["site", "code_a", "code_b", "n_overlaps"])
    source_no = pd.factorize(prim["source_id"])[0].astype("int64")
    span = int(prim["end"].max()) + 1
    keys = source_no * span + prim["start"].to_numpy("int64")
    ends = source_no * span + prim["end"].to_numpy("int64")
    # candidates j > i of the same source with start_j < end_i overlap i (start_j >= start_i)
    upper = np.searchsorted(keys, ends, side="left")
    first = np.arange(len(prim)) + 1
    n_pairs = np.maximum(upper - first, 0)
    left = np.repeat(np.arange(len(prim)), n_pairs)
    offsets = np.arange(n_pairs.sum()) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs)
    right = np.repeat(first, n_pairs) + offsets
    a = prim["canonical_code"].to_numpy()[left]
    b = prim["canonical_code"].to_numpy()[right]
    pairs = pd.DataFrame({"site": prim["site"].to_numpy()[left],
                          "code_a": np.where(a < b, a, b), "code_b": np.where(a < b, b, a)})
    pairs = pairs[pairs["code_a"] != pairs["code_b"]]
    out = pairs.groupby(["site", "code_a", "code_b"]).size().rename("n_overlaps").reset_index()
    return out.sort_values(["site", "code_a", "code_b"]).reset_index(drop=True)


def presence(matrix: pd.DataFrame) -> pd.DataFrame:
    """Site x canonical code 0/1 table: 1 where the site reports the code (any state)."""
    present = (matrix["state"] != NOT_REPORTED).astype("int64")
    wide = present.groupby([matrix["site"], matrix["code"]]).sum().unstack("code", fill_value=0)
    return wide.sort_index()


def site_similarity(matrix: pd.DataFrame) -> pd.DataFrame:
    """One row per ordered pair of sites: Jaccard similarity over the canonical codes each reports.

    Columns: site_a, site_b, n_shared, n_union, jaccard (empty when neither reports
    any code). The diagonal is included (jaccard 1). Empty above
    :data:`SIMILARITY_MAX_SITES` sites.
    """
    columns = ["site_a", "site_b", "n_shared", "n_union", "jaccard"]
    table = presence(matrix)
    if len(table) > SIMILARITY_MAX_SITES:
        return pd.DataFrame(columns=columns)
    x = table.to_numpy()
    shared = x @ x.T
    sizes = x.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, shared / np.maximum(union, 1), np.nan)
    names = table.index.to_numpy()
    n = len(names)
    return pd.DataFrame({
        "site_a": np.repeat(names, n), "site_b": np.tile(names, n),
        "n_shared": shared.ravel(), "n_union": union.ravel(), "jaccard": jaccard.ravel().round(6),
    })[columns]


def code_prevalence(segments: pd.DataFrame, matrix: pd.DataFrame,
                    alpha: float = 0.05) -> pd.DataFrame:
    """One row per canonical code: how common it is across primary segments and across sites.

    Columns: category, code, n_segments, share_segments with its Wilson interval
    (``seg_ci_low``, ``seg_ci_high``), n_sites reporting it, n_sites_total,
    share_sites with its Wilson interval. Intervals from
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    from statsmodels.stats.proportion import proportion_confint

    per_code = matrix.groupby("code", sort=False).agg(
        category=("category", "first"), n_segments=("n_segments", "sum"),
        n_sites=("state", lambda s: int((s != NOT_REPORTED).sum())),
        n_sites_total=("site", "nunique")).reset_index()
    total = int(per_code["n_segments"].sum())
    per_code["n_segments_total"] = total
    low, high = proportion_confint(per_code["n_segments"], max(total, 1), alpha=alpha,
                                   method="wilson")
    per_code["share_segments"] = (per_code["n_segments"] / max(total, 1)).round(6)
    per_code["seg_ci_low"], per_code["seg_ci_high"] = np.round(low, 6), np.round(high, 6)
    low, high = proportion_confint(per_code["n_sites"], per_code["n_sites_total"], alpha=alpha,
                                   method="wilson")
    per_code["share_sites"] = (per_code["n_sites"] / per_code["n_sites_total"]).round(6)
    per_code["site_ci_low"], per_code["site_ci_high"] = np.round(low, 6), np.round(high, 6)
    return per_code[["category", "code", "n_segments", "n_segments_total", "share_segments",
                     "seg_ci_low", "seg_ci_high", "n_sites", "n_sites_total", "share_sites",
                     "site_ci_low", "site_ci_high"]]


def category_counts(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per site x category x valence: number of primary segments (zeros included)."""
    prim = primary(segments)
    counts = prim.groupby(["site", "category", "valence"]).size()
    grid = pd.MultiIndex.from_product(
        [sorted(segments["site"].unique()), ["dimension", "practice", "barrier", "outcome"],
         ["positive", "negative"]], names=["site", "category", "valence"])
    return counts.reindex(grid, fill_value=0).rename("n_segments").reset_index()
