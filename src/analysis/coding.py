"""The coding as tidy tables: one row per coded segment, with its code's place in the codebook."""

from __future__ import annotations

import pandas as pd

from analysis.sources import Corpus

SEGMENT_COLUMNS = ["site", "segment_id", "source_id", "start", "end", "quote", "code",
                   "canonical_code", "category", "valence", "evidence", "informant",
                   "attribution", "section", "memo"]


def segments(corpus: Corpus) -> pd.DataFrame:
    """One row per coded segment (passage x code) of every site.

    ``canonical_code`` is the code itself for a canonical code, its parent for a
    site-specific code; ``category`` comes from the codebook. Sorted by site,
    source, start, end, code: the order is part of the output's identity.
    """
    book = corpus.codebook.set_index("code")
    table = corpus.coding.copy()
    table["canonical_code"] = table["code"].map(book["canonical_code"])
    table["category"] = table["code"].map(book["category"])
    table = table[SEGMENT_COLUMNS]
    table = table.astype({"start": "int64", "end": "int64"})
    return table.sort_values(["site", "source_id", "start", "end", "code"],
                             kind="stable").reset_index(drop=True)


def primary(segments: pd.DataFrame) -> pd.DataFrame:
    """The segments that are evidence about their own site (``cited_secondary`` dropped)."""
    return segments[segments["attribution"] == "primary"]


def evidence(segments: pd.DataFrame, site: str, code: str) -> pd.DataFrame:
    """The quotes behind one cell of a site x code matrix.

    ``code`` may be canonical (its site-specific children are included) or
    site-specific. Rows: one per segment, with offsets, valence and attribution;
    cited-secondary segments are listed too, marked by ``attribution``.
    """
    hit = segments[(segments["site"] == site)
                   & ((segments["canonical_code"] == code) | (segments["code"] == code))]
    return hit[["segment_id", "code", "valence", "evidence", "informant", "attribution",
                "section", "start", "end", "quote"]].reset_index(drop=True)
