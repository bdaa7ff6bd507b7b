"""Coverage of the coding: which results and conclusion paragraphs carry a coded segment.

Paragraphs are recovered from the PDF extraction by a documented rule, because
the texts mark them differently (some put a blank line after every printed line,
some one paragraph per line): a paragraph ends at a line break whose line ends
with sentence-final punctuation (``. ! ? :`` possibly followed by a closing
quote or bracket). A span of the section map starts after its printed heading. Blocks of fewer than :data:`MIN_WORDS` words (headings,
captions, table debris) are not paragraphs and are left out of the figures.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.paths import Layout
from analysis.sources import Corpus, load_corpus

MIN_WORDS = 12
COVERED_SECTIONS = ("results", "conclusion")
_BREAK = re.compile(r"([.!?:][\"'”’)\]]?)[ \t]*(\n[ \t]*)+")


def paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) offsets of the paragraphs inside ``text[start:end]``."""
    spans, cursor = [], start
    for match in _BREAK.finditer(text, start, end):
        cut = match.start(0) + len(match.group(1))
        spans.append((cursor, cut))
        cursor = match.end(0)
    spans.append((cursor, end))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if len(text[a:b].split()) >= MIN_WORDS:
            out.append((a, b))
    return out


def body_start(text: str, start: int, end: int, heading: str) -> int:
    """Where a section span's body begins: after its first line when that line carries the
    printed heading (possibly wrapped in the extraction's Markdown marks), else at ``start``."""
    position = start
    while position < end and text[position].isspace():
        position += 1
    line_end = text.find("\n", position, end)
    line_end = end if line_end < 0 else line_end
    if heading and heading in text[position:line_end]:
        return line_end
    if heading and text.startswith(heading, position):
        return position + len(heading)
    return start


def paragraph_table(corpus: Corpus) -> pd.DataFrame:
    """One row per results or conclusion paragraph of every site's case study.

    Columns: site, source_id, section, paragraph_no, start, end, n_segments
    (segments of the coding, any attribution, that overlap it), coded (bool),
    first_words.
    """
    rows = []
    case = corpus.sources[corpus.sources["kind"] == "case_study"]
    by_source = _segment_bounds(corpus.coding)
    empty = (np.array([], dtype="int64"), np.array([], dtype="int64"))
    for source_id, site in sorted(zip(case["source_id"], case["site"])):
        smap = corpus.sections.get(source_id)
        if smap is None:
            continue
        text = corpus.texts[source_id]
        starts, ends = by_source.get(source_id, empty)
        spans = [(section, a, b)
                 for section, start, end, heading in zip(*(smap[c].tolist() for c in (
                     "section", "start", "end", "heading")))
                 if section in COVERED_SECTIONS
                 for a, b in paragraphs(text, body_start(text, start, end, heading), end)]
        if not spans:
            continue
        a = np.array([s[1] for s in spans], dtype="int64")
        b = np.array([s[2] for s in spans], dtype="int64")
        # segments overlapping [a, b): those starting before b minus those ending by a
        counts = np.searchsorted(starts, b, side="left") - np.searchsorted(ends, a, side="right")
        for number, ((section, pa, pb), n) in enumerate(zip(spans, counts.tolist()), 1):
            rows.append({"site": site, "source_id": source_id, "section": section,
                         "paragraph_no": number, "start": pa, "end": pb, "n_segments": n,
                         "coded": n > 0, "first_words": " ".join(text[pa:pb].split()[:10])})
    columns = ["site", "source_id", "section", "paragraph_no", "start", "end", "n_segments",
               "coded", "first_words"]
    return pd.DataFrame(rows, columns=columns)


def _segment_bounds(coding: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per source: the sorted starts and the sorted ends of its segments (one sort of the
    whole coding, no per-source pandas groups)."""
    source = coding["source_id"].to_numpy(object)
    order = np.argsort(source, kind="stable")
    source = source[order]
    starts = coding["start"].to_numpy("int64")[order]
    ends = coding["end"].to_numpy("int64")[order]
    cuts = np.flatnonzero(source[1:] != source[:-1]) + 1 if len(source) else np.array([], int)
    bounds = {}
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(source)]):
        if b > a:
            bounds[source[a]] = (np.sort(starts[a:b]), np.sort(ends[a:b]))
    return bounds


def coverage_summary(paragraphs_: pd.DataFrame, sites: list[str]) -> pd.DataFrame:
    """One row per site: n_paragraphs, n_coded, share_coded (results and conclusion).

    A site without a section map has n_paragraphs 0 and an empty share.
    """
    grouped = paragraphs_.groupby("site")
    summary = pd.DataFrame({"n_paragraphs": grouped.size(),
                            "n_coded": grouped["coded"].sum()}).reindex(sorted(sites))
    summary = summary.fillna(0).astype("int64")
    summary["share_coded"] = (summary["n_coded"] / summary["n_paragraphs"].where(
        summary["n_paragraphs"] > 0)).round(4)
    return summary.rename_axis("site").reset_index()


def coverage_report(layout: Layout, show_uncoded: bool = True) -> str:
    """The text the ``coverage`` command prints."""
    corpus = load_corpus(layout)
    table = paragraph_table(corpus)
    summary = coverage_summary(table, corpus.site_ids)
    lines = ["site              paragraphs  coded  share"]
    for row in summary.itertuples():
        share = "  n/a" if pd.isna(row.share_coded) else f"{row.share_coded:6.1%}"
        lines.append(f"{row.site:<18}{row.n_paragraphs:>10}{row.n_coded:>7}  {share}")
    if show_uncoded:
        for site, part in table[~table["coded"]].groupby("site"):
            lines.append("")
            lines.append(f"uncoded in {site} (explained in docs/coding/{site}.md):")
            for row in part.itertuples():
                lines.append(f"  {row.section:<10} {row.start:>6}-{row.end:<6} {row.first_words} ...")
    return "\n".join(lines)
