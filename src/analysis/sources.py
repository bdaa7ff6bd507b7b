"""Load and validate the corpus: sources, sites, raw texts, codebook and coding sheets.

Every loader checks its table against a schema (see :mod:`analysis.schema`) and
the cross-table invariants of DESIGN.md, and raises :class:`~analysis.errors.InputError`
naming file, line and column on the first violation. :func:`load_corpus` loads
everything; :func:`validate` checks each file separately and reports a verdict
per file, for the ``validate`` command.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.paths import Layout
from analysis.schema import SLUG, Column, Schema, read_table, records

CATEGORIES = ("dimension", "practice", "barrier", "outcome")
VALENCES = ("positive", "negative")
EVIDENCE = ("interview", "observation", "document", "author_claim")
ATTRIBUTIONS = ("primary", "cited_secondary")
CODED_SECTIONS = ("abstract", "background", "method", "results", "conclusion")
MAP_SECTIONS = CODED_SECTIONS + ("front_matter", "abstract_en", "literature", "references", "other")
KINDS = ("case_study", "practitioner_guidance")
ADMIN_LEVELS = ("provinsi", "kabupaten", "kota", "kecamatan", "distrik", "kelurahan", "desa",
                "sekretariat_daerah", "dinas", "badan")
"""The level or kind of the office a study concerns: a territorial unit (provinsi down to
desa), or an office of a regional government (its parent names which); docs/new_site.md."""
ORIGINS = ("hand", "suggested")
CASP_ANSWERS = ("yes", "cant_tell", "no")
GUIDANCE_ELEMENTS = ("challenge", "material", "strategy", "outcome")

SOURCES = Schema("sources", (
    Column("source_id", pattern=SLUG, hint="a lower-case slug"),
    Column("site", required=False, pattern=SLUG, hint="a site of sites.csv, or empty"),
    Column("kind", choices=KINDS),
    Column("title", required=False),
    Column("authors", required=False),
    Column("year", required=False, pattern=r"\d{4}", hint="a four-digit year, or empty"),
    Column("venue", required=False),
    Column("language", pattern=r"[a-z]{2}", hint="a two-letter language code"),
    Column("file", pattern=r"[A-Za-z0-9_./-]+\.txt", hint="a path under data/, e.g. raw/site.txt"),
    Column("sha256", pattern=r"[0-9a-f]{64}", hint="64 lower-case hex digits"),
    Column("notes", required=False),
    Column("origin_file", required=False, optional=True, pattern=r"[^/\\]+",
           hint="the name of the file the text was extracted from, no folder"),
    Column("origin_sha256", required=False, optional=True, pattern=r"[0-9a-f]{64}",
           hint="64 lower-case hex digits: the sha256 of the file the text came from"),
    # where a bibliographic field the text does not give was taken from (a public record's
    # URL, also named in notes); empty: every filled field is from the text itself
    Column("bib_source", required=False, optional=True, pattern=r"https?://\S+",
           hint="the URL of the public record, or empty"),
), unique=("source_id",))

SITES = Schema("sites", (
    Column("site", pattern=SLUG, hint="a lower-case slug"),
    Column("name"),
    Column("short_name", required=False, optional=True),  # display name ("Musi Banyuasin")
    Column("admin_level", choices=ADMIN_LEVELS),
    Column("parent", required=False),
    Column("province", required=False),
    Column("unit_studied"),
    Column("design", required=False),
    Column("methods", required=False),
    Column("informants", required=False),
    Column("analysis", required=False),
    Column("framework", required=False),
    Column("notes", required=False, optional=True),
), unique=("site",))

CODEBOOK = Schema("codebook", (
    Column("code", pattern=SLUG, hint="a lower-case slug"),
    Column("parent", required=False, pattern=SLUG),
    Column("category", choices=CATEGORIES),
    Column("label_en"),
    Column("label_id"),
    Column("definition"),
    Column("include"),
    Column("exclude"),
    Column("note", required=False, optional=True),
), unique=("code",))

_SPAN = (
    Column("segment_id", pattern=r"[a-z][a-z0-9_]*-\d+", hint="<site>-NNN"),
    Column("source_id", pattern=SLUG),
    Column("start", kind="int"),
    Column("end", kind="int"),
    Column("quote"),
)

CODING = Schema("coding", _SPAN + (
    Column("code", pattern=SLUG),
    Column("valence", choices=VALENCES),
    Column("evidence", choices=EVIDENCE),
    Column("informant", required=False),
    Column("attribution", choices=ATTRIBUTIONS),
    Column("section", choices=CODED_SECTIONS),
    Column("memo", required=False),
    Column("origin", required=False, optional=True, choices=ORIGINS,
           hint="hand, or suggested (made by new-site); empty means hand"),
    Column("status", required=False, optional=True, choices=("accepted", "suggested", "rejected")),
), unique=("segment_id",))

GUIDANCE = Schema("guidance", _SPAN + (
    Column("element", choices=GUIDANCE_ELEMENTS),
    Column("code", pattern=SLUG),
    Column("memo", required=False),
), unique=("segment_id",))

SECTIONS = Schema("sections", (
    Column("source_id", pattern=SLUG),
    Column("section", choices=MAP_SECTIONS),
    Column("start", kind="int"),
    Column("end", kind="int"),
    Column("heading", required=False),
))

CASP_QUESTIONS = Schema("casp_questions", (
    Column("question_no", kind="int"),
    Column("question"),
), unique=("question_no",))

APPRAISAL = Schema("appraisal", (
    Column("source_id", pattern=SLUG),
    Column("question_no", kind="int"),
    Column("answer", choices=CASP_ANSWERS),
    Column("reason"),
), unique=("question_no",))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_raw_text(path: Path, sha256: str | None = None, where: tuple[Path, int] | None = None) -> str:
    """Read a raw text: verify its checksum, decode UTF-8 strictly, change nothing.

    ``where`` is the (table, line) that names the file, used in error messages.
    """
    table, line = where if where else (path, None)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(table, f"raw file {path} not found", line=line, column="file") from None
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise InputError(table, f"checksum mismatch for {path}: file has {actual}, "
                             f"expected {sha256} (raw texts must stay byte-identical)",
                             line=line, column="sha256")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 at byte {exc.start} "
                         f"(raw texts must be UTF-8)",
                         line=data[: exc.start].count(b"\n") + 1) from None


def load_sites(layout: Layout) -> pd.DataFrame:
    """One row per site (data/sites.csv)."""
    return read_table(layout.sites_csv, SITES)


def load_sources(layout: Layout, sites: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per document (data/sources.csv); every site must exist in sites.csv."""
    sources = read_table(layout.sources_csv, SOURCES)
    known = set(sites["site"]) if sites is not None else None
    for row in records(sources):
        if row.kind == "case_study" and not row.site:
            raise InputError(layout.sources_csv, "empty value (a case study names its site)",
                             line=row._line, column="site")
        if known is not None and row.site and row.site not in known:
            raise InputError(layout.sources_csv, f"unknown site '{row.site}' (not in "
                             f"{layout.sites_csv.name})", line=row._line, column="site")
    return sources


def load_texts(layout: Layout, sources: pd.DataFrame) -> dict[str, str]:
    """The raw text of every source, keyed by source_id, checksums verified."""
    return {
        row.source_id: read_raw_text(layout.data / row.file, row.sha256,
                                     where=(layout.sources_csv, row._line))
        for row in records(sources)
    }


def load_codebook(layout: Layout) -> pd.DataFrame:
    """One row per code. Canonical codes have no parent; a site code names a canonical parent
    of the same category."""
    book = read_table(layout.codebook_csv, CODEBOOK)
    canonical = {r.code: r.category for r in records(book) if not r.parent}
    for row in records(book):
        if not row.parent:
            continue
        if row.parent not in canonical:
            raise InputError(layout.codebook_csv, f"parent '{row.parent}' is not a canonical "
                             "code (a code with an empty parent)", line=row._line, column="parent")
        if canonical[row.parent] != row.category:
            raise InputError(layout.codebook_csv, f"category '{row.category}' differs from its "
                             f"parent's ('{canonical[row.parent]}')", line=row._line,
                             column="category")
    book["canonical_code"] = [r.parent or r.code for r in records(book)]
    return book


def check_spans(path: Path, frame: pd.DataFrame, texts: dict[str, str],
                allowed_sources: set[str] | None = None) -> None:
    """Offsets in range, start < end, and ``text[start:end] == quote`` for every row."""
    columns = ("source_id", "start", "end", "quote", "_line")
    for source_id, start, end, quote, line in zip(*(frame[c].tolist() for c in columns)):
        if source_id not in texts:
            raise InputError(path, f"unknown source '{source_id}' (not in sources.csv)",
                             line=line, column="source_id")
        if allowed_sources is not None and source_id not in allowed_sources:
            raise InputError(path, f"source '{source_id}' does not belong to this sheet's "
                             f"site (expected one of: {', '.join(sorted(allowed_sources))})",
                             line=line, column="source_id")
        text = texts[source_id]
        if not start < end:
            raise InputError(path, f"start {start} is not before end {end}",
                             line=line, column="start")
        if end > len(text):
            raise InputError(path, f"end {end} is past the end of the text "
                             f"({len(text)} characters)", line=line, column="end")
        actual = text[start:end]
        if actual != quote:
            raise InputError(path, f"quote differs from the raw text at {start}:{end} "
                             f"(text there: {actual[:60]!r})", line=line, column="quote")


def load_coding_sheet(path: Path, site: str, texts: dict[str, str], codebook: pd.DataFrame,
                      sources: pd.DataFrame,
                      sections: dict[str, pd.DataFrame] | None = None,
                      own_sources: set[str] | None = None) -> pd.DataFrame:
    """One row per coded segment of one site's coding sheet, all invariants checked.

    ``own_sources``: the site's source ids, when the caller has them (else looked up).
    """
    sheet = read_table(path, CODING)
    own = own_sources if own_sources is not None else set(
        sources.loc[sources["site"] == site, "source_id"])
    check_spans(path, sheet, texts, own)
    categories = dict(zip(codebook["code"], codebook["category"]))
    for code, valence, line in zip(sheet["code"].tolist(), sheet["valence"].tolist(),
                                   sheet["_line"].tolist()):
        if code not in categories:
            raise InputError(path, f"unknown code '{code}' (not in codebook.csv)",
                             line=line, column="code")
        if categories[code] == "barrier" and valence != "negative":
            raise InputError(path, "a barrier is always 'negative'", line=line,
                             column="valence")
    if sections:
        for source_id, rows in sheet.groupby("source_id", sort=True):
            smap = sections.get(source_id)
            if smap is None:
                continue
            labels = sections_at(smap, rows["start"].to_numpy("int64"))
            wrong = labels != rows["section"].to_numpy(object)
            if wrong.any():
                i = int(np.flatnonzero(wrong)[0])
                row = rows.iloc[i]
                raise InputError(path, f"'{row['section']}' disagrees with the section map "
                                 f"(offset {row['start']} lies in '{labels[i]}')",
                                 line=row["_line"], column="section")
    sheet.insert(0, "site", site)
    return sheet


def sections_at(section_map: pd.DataFrame, offsets: np.ndarray) -> np.ndarray:
    """The section label of the span containing each offset (the map is contiguous)."""
    starts = section_map["start"].to_numpy("int64")
    index = np.searchsorted(starts, offsets, side="right") - 1
    labels = section_map["section"].to_numpy(object)
    return np.where(index >= 0, labels[np.clip(index, 0, None)], "")


def section_at(section_map: pd.DataFrame, offset: int) -> str:
    """The section label of the span containing ``offset``."""
    return str(sections_at(section_map, np.array([offset]))[0])


def load_section_map(path: Path, source_id: str, text: str) -> pd.DataFrame:
    """Contiguous spans covering ``text`` from 0 to its end, one row per span."""
    smap = read_table(path, SECTIONS)
    position = 0
    for row in records(smap):
        if row.source_id != source_id:
            raise InputError(path, f"source '{row.source_id}' in the map of '{source_id}'",
                             line=row._line, column="source_id")
        if row.start != position:
            raise InputError(path, f"span starts at {row.start}, expected {position} "
                             "(spans must be contiguous)", line=row._line, column="start")
        if row.end <= row.start:
            raise InputError(path, f"end {row.end} is not after start {row.start}",
                             line=row._line, column="end")
        position = row.end
    if position != len(text):
        raise InputError(path, f"spans end at {position}, the text at {len(text)}")
    return smap


def load_appraisal(path: Path, sources: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """One row per CASP question for one study."""
    table = read_table(path, APPRAISAL)
    known_sources = set(sources["source_id"])
    known_q = set(questions["question_no"])
    for row in records(table):
        if row.source_id not in known_sources:
            raise InputError(path, f"unknown source '{row.source_id}'", line=row._line,
                             column="source_id")
        if row.question_no not in known_q:
            raise InputError(path, f"question {row.question_no} is not a CASP question "
                             f"(expected 1-{max(known_q)})", line=row._line, column="question_no")
    missing = known_q - set(table["question_no"])
    if missing:
        raise InputError(path, f"questions {sorted(missing)} are not answered")
    return table


def load_guidance(path: Path, texts: dict[str, str], codebook: pd.DataFrame) -> pd.DataFrame:
    """One row per guidance passage x barrier code it names or addresses."""
    table = read_table(path, GUIDANCE)
    check_spans(path, table, texts)
    categories = dict(zip(codebook["code"], codebook["category"]))
    for row in records(table):
        if categories.get(row.code) != "barrier":
            raise InputError(path, f"'{row.code}' is not a barrier code of codebook.csv",
                             line=row._line, column="code")
    return table


@dataclass
class Corpus:
    """Every validated input of one corpus."""

    layout: Layout
    sites: pd.DataFrame
    sources: pd.DataFrame
    texts: dict[str, str]
    codebook: pd.DataFrame
    coding: pd.DataFrame
    sections: dict[str, pd.DataFrame] = field(default_factory=dict)
    appraisal: pd.DataFrame | None = None
    casp_questions: pd.DataFrame | None = None
    guidance: pd.DataFrame | None = None
    second_coding: pd.DataFrame | None = None

    @property
    def site_ids(self) -> list[str]:
        return sorted(self.sites["site"])


def _load_section_maps(layout: Layout, texts: dict[str, str]) -> dict[str, pd.DataFrame]:
    maps = {}
    for source_id, text in sorted(texts.items()):
        path = layout.sections_csv(source_id)
        if path.exists():
            maps[source_id] = load_section_map(path, source_id, text)
    return maps


def _unknown_sheets(layout: Layout, folder: Path, sites: pd.DataFrame) -> None:
    known = set(sites["site"])
    for path in sorted(folder.glob("*.csv")) if folder.exists() else []:
        if path.stem not in known:
            raise InputError(path, f"unknown site '{path.stem}' (the file name must be a site "
                             f"of {layout.sites_csv.name})")


def load_corpus(layout: Layout | None = None, *, accepted_only: bool = True) -> Corpus:
    """Load and validate every input of a corpus.

    ``coding`` holds the segments of every site's sheet with a leading ``site``
    column. Rows with ``status`` ``suggested`` or ``rejected`` (suggestions of the
    new-site command) are kept out unless ``accepted_only`` is false.
    """
    layout = layout or Layout()
    sites = load_sites(layout)
    sources = load_sources(layout, sites)
    texts = load_texts(layout, sources)
    codebook = load_codebook(layout)
    sections = _load_section_maps(layout, texts)
    _unknown_sheets(layout, layout.coding_dir, sites)
    sheets = []
    own = sources.groupby("site")["source_id"].agg(set).to_dict()
    for site in sorted(sites["site"]):
        path = layout.coding_csv(site)
        if path.exists():
            sheets.append(load_coding_sheet(path, site, texts, codebook, sources, sections,
                                            own_sources=own.get(site, set())))
    coding = pd.concat(sheets, ignore_index=True) if sheets else _empty_coding()
    seen: dict[str, str] = {}
    for row in records(coding):
        if row.segment_id in seen and seen[row.segment_id] != row.site:
            raise InputError(layout.coding_csv(row.site), f"duplicate value '{row.segment_id}' "
                             f"(also in {seen[row.segment_id]}.csv)", line=row._line,
                             column="segment_id")
        seen[row.segment_id] = row.site
    if accepted_only:
        coding = coding[coding["status"].isin(["", "accepted"])].reset_index(drop=True)
    corpus = Corpus(layout, sites, sources, texts, codebook, coding, sections)
    if layout.casp_questions_csv.exists():
        corpus.casp_questions = read_table(layout.casp_questions_csv, CASP_QUESTIONS)
        _unknown_sheets(layout, layout.appraisal_dir, sites)
        tables = [load_appraisal(p, sources, corpus.casp_questions)
                  for p in sorted(layout.appraisal_dir.glob("*.csv"))]
        if tables:
            corpus.appraisal = pd.concat(tables, ignore_index=True)
    if layout.guidance_csv.exists():
        corpus.guidance = load_guidance(layout.guidance_csv, texts, codebook)
    if layout.second_coding_dir.exists():
        _unknown_sheets(layout, layout.second_coding_dir, sites)
        second = [load_coding_sheet(p, p.stem, texts, codebook, sources, sections,
                                    own_sources=own.get(p.stem, set()))
                  for p in sorted(layout.second_coding_dir.glob("*.csv"))]
        if second:
            corpus.second_coding = pd.concat(second, ignore_index=True)
    return corpus


def _empty_coding() -> pd.DataFrame:
    return pd.DataFrame(columns=["site", *CODING.names, "_line"])


def validate(layout: Layout) -> list[tuple[str, str]]:
    """Check every input file; return one ``(file, verdict)`` pair per file.

    A verdict is ``ok ...`` or the one-line error. Files are checked in the order
    the data flow reads them; a file whose prerequisites failed is reported as
    ``skipped``.
    """
    verdicts: list[tuple[str, str]] = []

    def check(path: Path, fn, describe=lambda result: "ok"):
        try:
            result = fn()
        except InputError as exc:
            verdicts.append((str(path), f"FAIL {exc}"))
            return None
        verdicts.append((str(path), describe(result)))
        return result

    sites = check(layout.sites_csv, lambda: load_sites(layout),
                  lambda t: f"ok ({len(t)} sites)")
    sources = check(layout.sources_csv, lambda: load_sources(layout, sites),
                    lambda t: f"ok ({len(t)} sources)") if sites is not None else None
    texts: dict[str, str] = {}
    if sources is not None:
        for row in records(sources):
            path = layout.data / row.file
            text = check(path, lambda row=row, path=path: read_raw_text(
                path, row.sha256, where=(layout.sources_csv, row._line)),
                lambda t, row=row: f"ok (sha256 {row.sha256[:12]}..., {len(t)} characters)")
            if text is not None:
                texts[row.source_id] = text
    codebook = check(layout.codebook_csv, lambda: load_codebook(layout),
                     lambda t: f"ok ({len(t)} codes, {(t['parent'] == '').sum()} canonical)")
    if layout.lexicon_csv.exists() and codebook is not None:
        from analysis.autocode import load_lexicon
        check(layout.lexicon_csv, lambda: load_lexicon(layout.lexicon_csv, codebook),
              lambda t: f"ok ({len(t)} terms)")
    sections: dict[str, pd.DataFrame] = {}
    for source_id, text in sorted(texts.items()):
        path = layout.sections_csv(source_id)
        if path.exists():
            smap = check(path, lambda p=path, s=source_id, t=text: load_section_map(p, s, t),
                         lambda t: f"ok ({len(t)} spans)")
            if smap is not None:
                sections[source_id] = smap
    if sites is not None:
        sheets = sorted(layout.coding_dir.glob("*.csv"))
        sheets += sorted(layout.second_coding_dir.glob("*.csv"))
        for path in sheets:
            site = path.stem
            if site not in set(sites["site"]):
                verdicts.append((str(path), f"FAIL {InputError(path, f'unknown site {site!r}')}"))
            elif sources is None or codebook is None:
                verdicts.append((str(path), "skipped (sources or codebook invalid)"))
            else:
                check(path, lambda p=path, s=site: load_coding_sheet(
                    p, s, texts, codebook, sources, sections),
                    lambda t: f"ok ({len(t)} segments)")
    if layout.casp_questions_csv.exists():
        questions = check(layout.casp_questions_csv,
                          lambda: read_table(layout.casp_questions_csv, CASP_QUESTIONS),
                          lambda t: f"ok ({len(t)} questions)")
        if questions is not None and sources is not None:
            for path in sorted(layout.appraisal_dir.glob("*.csv")):
                check(path, lambda p=path: load_appraisal(p, sources, questions),
                      lambda t: f"ok ({len(t)} answers)")
    if layout.guidance_csv.exists() and codebook is not None:
        check(layout.guidance_csv, lambda: load_guidance(layout.guidance_csv, texts, codebook),
              lambda t: f"ok ({len(t)} segments)")
    return verdicts
