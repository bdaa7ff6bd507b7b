"""Load and validate the corpus: sources, sites, raw texts, codebook, lexicon, section maps,
coding sheets, second codings, CASP appraisal and guidance.

Every loader checks its table against a schema (see :mod:`analysis.schema`) and
the cross-table invariants of DESIGN.md, and raises :class:`~analysis.errors.InputError`
naming file, line and column on the first violation. :func:`load_inputs` runs
every loader in data-flow order through a :class:`Checks` object, which either
stops at the first error (:func:`load_corpus`, for every command) or records one
verdict per file and goes on (:func:`analysis.validation.validate`, for the
``validate`` command): both apply the same rules by construction.

Every input path lies inside the data folder: a ``file`` of ``sources.csv`` that is
absolute, climbs out with ``..`` or resolves (through a symbolic link) outside
it is refused.
"""

from __future__ import annotations

import codecs
import fnmatch
import hashlib
import re
import stat
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError, InputWarning
from analysis.io import read_input_bytes, read_problem, refuse_nul
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
LANGUAGES = ("id", "en")
"""Languages of the lexicon (each has a stemmer in :mod:`analysis.autocode`)."""

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

LEXICON = Schema("lexicon", (
    Column("code", pattern=SLUG, hint="a canonical code of codebook.csv"),
    Column("language", choices=LANGUAGES),
    Column("term", pattern=r"[^+]+(\+[^+]+)*",
           hint="a word or phrase; parts joined by ' + ' must all occur in the sentence"),
    Column("weight", required=False, optional=True, pattern=r"\d{1,6}(\.\d{1,9})?",
           hint="a non-negative number, or empty for 1"),
    Column("note", required=False, optional=True),
))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(read_input_bytes(path)).hexdigest()


# --------------------------------------------------------------------------- line-end hints

_FIX_BYTES = ("restore the file byte for byte (git config core.autocrlf false, then "
              "git checkout -- FILE), or strip the mark and convert to LF line ends "
              "(e.g. dos2unix FILE)")


def _added_marks(data: bytes) -> list[str]:
    marks = []
    if data.startswith(codecs.BOM_UTF8):
        marks.append("starts with a byte-order mark (bytes EF BB BF)")
    if b"\r\n" in data:
        marks.append("has CRLF (Windows) line ends")
    return marks


def _checksum_hint(data: bytes, expected: str) -> str:
    """Why a raw text's checksum may differ: a byte-order mark or CRLF line ends added by
    an editor or by git's ``core.autocrlf`` (the usual cause on Windows)."""
    marks = _added_marks(data)
    if not marks:
        return ""
    plain = data.removeprefix(codecs.BOM_UTF8).replace(b"\r\n", b"\n")
    if hashlib.sha256(plain).hexdigest() == expected:
        return (f"; the file {' and '.join(marks)} and is otherwise the expected text: "
                f"{_FIX_BYTES}")
    return f"; note: the file {' and '.join(marks)}"


def _text_hint(text: str, source_id: str, start: int, end: int, quote: str) -> str:
    """A hint when the quote is found once a byte-order mark or CRLF line ends are
    discounted (the text was changed after the coding was made)."""
    if quote.replace("\r\n", "\n") == text[start:end].replace("\r\n", "\n") or (
            "\r" in quote and "\r" not in text):
        return ("; the quote holds CRLF line ends where the raw text has LF: the sheet was "
                "saved with Windows line ends (a spreadsheet program, or git core.autocrlf="
                "true); convert the sheet to LF line ends (e.g. dos2unix FILE, or git config "
                "core.autocrlf false and check it out again)")
    if text.startswith("\ufeff") and text[start + 1:end + 1] == quote:
        return (f"; the raw text of '{source_id}' starts with a byte-order mark (U+FEFF) "
                f"that shifts every offset by one: {_FIX_BYTES}")
    if "\r\n" in text and quote.replace("\n", "\r\n") in text:
        return (f"; the raw text of '{source_id}' has CRLF line ends, and every CR shifts "
                f"the offsets after it: {_FIX_BYTES}")
    return ""


def _map_end_hint(text: str, position: int) -> str:
    """A hint when a section map ends where the text would end without an added byte-order
    mark or CRLF line ends."""
    bom = text.startswith("\ufeff")
    crs = text.count("\r\n")
    if (bom or crs) and position == len(text) - bom - crs:
        marks = ([("a byte-order mark (U+FEFF)")] if bom else []) + (
            [f"{crs} CRLF line ends"] if crs else [])
        return (f"; the text has {' and '.join(marks)}, which account for the difference: "
                f"{_FIX_BYTES}")
    return ""


# --------------------------------------------------------------------------- loaders

def read_raw_text(path: Path, sha256: str | None = None,
                  where: tuple[Path, int] | None = None) -> str:
    """Read a raw text: verify its checksum, decode UTF-8 strictly, change nothing.

    ``where`` is the (table, line) that names the file, used in error messages. A
    text holding a NUL character is refused.
    """
    table, line = where if where else (path, None)
    try:
        data = read_input_bytes(path)
    except InputError as exc:
        if where is None:
            raise
        raise InputError(table, f"raw file {path}: {exc.detail}", line=line,
                         column="file") from None
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise InputError(table, f"checksum mismatch for {path}: file has {actual}, "
                             f"expected {sha256} (raw texts must stay byte-identical)"
                             f"{_checksum_hint(data, sha256)}", line=line, column="sha256")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 at byte {exc.start} "
                         f"(raw texts must be UTF-8)",
                         line=data[: exc.start].count(b"\n") + 1) from None
    refuse_nul(path, text, "raw text")
    return text


def load_sites(layout: Layout) -> pd.DataFrame:
    """One row per site (data/sites.csv)."""
    return read_table(layout.sites_csv, SITES)


def inside_data(layout: Layout, relative: str) -> Path:
    """``DATA/relative``, refused unless it stays inside the data folder: no absolute
    path, no ``..``, and no symbolic link that leads out of it."""
    rel = Path(relative)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"'{relative}' leads outside the data folder (expected a path "
                         "under data/, e.g. raw/site.txt, without '..')")
    path = layout.data / rel
    try:
        root, resolved = layout.data.resolve(), path.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of symbolic links
        raise ValueError(f"'{relative}' cannot be resolved ({exc})") from None
    if not resolved.is_relative_to(root):
        raise ValueError(f"'{relative}' resolves to {resolved}, outside the data folder "
                         f"{root} (a symbolic link?)")
    return path


def load_sources(layout: Layout, sites: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per document (data/sources.csv); every site must exist in sites.csv and
    every ``file`` lie inside the data folder."""
    sources = read_table(layout.sources_csv, SOURCES)
    known = set(sites["site"]) if sites is not None else None
    for row in records(sources):
        if row.kind == "case_study" and not row.site:
            raise InputError(layout.sources_csv, "empty value (a case study names its site)",
                             line=row._line, column="site")
        if known is not None and row.site and row.site not in known:
            raise InputError(layout.sources_csv, f"unknown site '{row.site}' (not in "
                             f"{layout.sites_csv.name})", line=row._line, column="site")
        try:
            inside_data(layout, row.file)
        except ValueError as exc:
            raise InputError(layout.sources_csv, str(exc), line=row._line,
                             column="file") from None
    return sources


def load_text(layout: Layout, row) -> str:
    """The raw text of one row of sources.csv, its checksum verified."""
    return read_raw_text(layout.data / row.file, row.sha256, where=(layout.sources_csv, row._line))


def load_texts(layout: Layout, sources: pd.DataFrame) -> dict[str, str]:
    """The raw text of every source, keyed by source_id, checksums verified."""
    return {row.source_id: load_text(layout, row) for row in records(sources)}


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


_LETTER = re.compile(r"[^\W\d_]")

NEGATIVE = "<negative>"
"""A lexicon term part met when a problem word stands near the term's other parts
(``sarana + <negative>``; see :mod:`analysis.autocode`)."""
NOT = "!"
"""The prefix of a lexicon term part met when its word does *not* occur (``!tidak``)."""


def term_problem(term: str) -> str:
    """What is wrong with a lexicon term's grammar (``a + b``, ``<negative>``, ``!word``),
    or ``""``: every part needs a word, and one part must be a word that must occur."""
    parts = [part.strip() for part in term.split("+")]
    if any(not _LETTER.search(part.removeprefix(NOT)) for part in parts):
        return "has a part without a word"
    if all(part == NEGATIVE or part.startswith(NOT) for part in parts):
        return f"needs a part that must occur (not only '{NEGATIVE}' or '!word' parts)"
    return ""


def load_lexicon(path: str | Path, codebook: pd.DataFrame) -> pd.DataFrame:
    """The hand-written lexicon of the new-site suggestions: one row per canonical code x
    language x term.

    Columns: code, language, term, weight (float, 1 when empty), note, _line.
    Raises :class:`InputError` for a code that is not canonical, a term with a part
    without a word, or a code x language x term given twice.
    """
    path = Path(path)
    table = read_table(path, LEXICON)
    canonical = set(codebook.loc[codebook["parent"] == "", "code"])
    seen: dict[tuple[str, str, str], int] = {}
    for code, language, term, line in zip(table["code"], table["language"], table["term"],
                                          table["_line"]):
        if code not in canonical:
            raise InputError(path, f"'{code}' is not a canonical code of codebook.csv "
                             "(suggestions are made for canonical codes)", line=line,
                             column="code")
        problem = term_problem(term)
        if problem:
            raise InputError(path, f"term '{term}' {problem}", line=line, column="term")
        key = (code, language, " ".join(term.lower().split()))
        if key in seen:
            raise InputError(path, f"duplicate term '{term}' for {code} ({language}); first "
                             f"on line {seen[key]}", line=line, column="term")
        seen[key] = line
    table["weight"] = [float(w) if w != "" else 1.0 for w in table["weight"]]
    return table


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
                             f"(text there: {actual[:60]!r})"
                             f"{_text_hint(text, source_id, start, end, quote)}",
                             line=line, column="quote")


def check_codes(path: Path, sheet: pd.DataFrame, codebook: pd.DataFrame) -> None:
    """Every code of a coding sheet is in the codebook, and every barrier is negative."""
    categories = dict(zip(codebook["code"], codebook["category"]))
    for code, valence, line in zip(sheet["code"].tolist(), sheet["valence"].tolist(),
                                   sheet["_line"].tolist()):
        if code not in categories:
            raise InputError(path, f"unknown code '{code}' (not in codebook.csv)",
                             line=line, column="code")
        if categories[code] == "barrier" and valence != "negative":
            raise InputError(path, "a barrier is always 'negative'", line=line,
                             column="valence")


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
    check_codes(path, sheet, codebook)
    if sections and len(sheet):
        # per source of the sheet (usually one: no groupby, which costs more than the check
        # on the small sheets of a large corpus)
        ids = sheet["source_id"].to_numpy(object)
        starts = sheet["start"].to_numpy("int64")
        given = sheet["section"].to_numpy(object)
        for source_id in sorted(set(ids)):
            smap = sections.get(source_id)
            if smap is None:
                continue
            rows = np.flatnonzero(ids == source_id)
            labels = sections_at(smap, starts[rows])
            wrong = np.flatnonzero(labels != given[rows])
            if len(wrong):
                row, label = sheet.iloc[rows[wrong[0]]], labels[wrong[0]]
                raise InputError(path, f"'{row['section']}' disagrees with the section map "
                                 f"(offset {row['start']} lies in '{label}')",
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
        raise InputError(path, f"spans end at {position}, the text at {len(text)}"
                         f"{_map_end_hint(text, position)}")
    return smap


def load_casp_questions(path: Path) -> pd.DataFrame:
    """One row per question of the CASP checklist (at least one)."""
    table = read_table(path, CASP_QUESTIONS)
    if table.empty:
        raise InputError(path, "no questions (expected one row per CASP question: "
                         "question_no,question)")
    return table


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
                             f"(expected one of {_numbers(known_q)})", line=row._line,
                             column="question_no")
    missing = known_q - set(table["question_no"])
    if missing:
        raise InputError(path, f"questions {sorted(missing)} are not answered")
    return table


def _numbers(values: set[int]) -> str:
    ordered = sorted(values)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ", ".join(map(str, ordered))


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
    lexicon: pd.DataFrame | None = None

    @property
    def site_ids(self) -> list[str]:
        return sorted(self.sites["site"])


# --------------------------------------------------------------------------- every input

class Checks:
    """Runs the loading steps of a corpus, one per input file.

    ``strict`` (every command): the first error is raised. Otherwise (``validate``):
    each step's verdict is recorded and the run goes on; a step whose prerequisite
    failed is recorded as ``not checked: needs FILE``. A verdict is ``ok ...``,
    ``FAIL <error>`` or ``not checked: ...``.
    """

    def __init__(self, layout: Layout, strict: bool = True):
        self.layout = layout
        self.strict = strict
        self.verdicts: list[tuple[str, str]] = []
        self.failed: set[Path] = set()

    def name(self, path: Path) -> str:
        """``path`` as the data folder's README names it (``coding/manoi.csv``)."""
        try:
            return path.relative_to(self.layout.data).as_posix()
        except ValueError:
            return str(path)

    def step(self, path: Path, load: Callable[[], object],
             describe: Callable[[object], str] = lambda result: "ok",
             needs: Iterable[Path] = ()):
        """``load()`` as the check of ``path``; its result, or ``None`` if it failed or was
        not run because one of ``needs`` (input files) failed."""
        blocked = [need for need in needs if need in self.failed]
        if blocked:
            self.failed.add(path)
            self.verdicts.append((str(path), f"not checked: needs {self.name(blocked[0])}"))
            return None
        try:
            result = load()
        except InputError as exc:
            if self.strict:
                raise
            self.failed.add(path)
            self.verdicts.append((str(path), f"FAIL {exc}"))
            return None
        self.verdicts.append((str(path), describe(result)))
        return result

    def warn(self, path: Path, message: str) -> str:
        """A warning about a valid input: a Python warning (``InputWarning``, which the
        command line prints as one line) when strict; returned for the verdict."""
        if self.strict:
            warnings.warn(f"{path}: {message}", InputWarning, stacklevel=3)
        return message


def present(path: Path) -> bool:
    """The file exists, or is a symbolic link (a broken one is then reported, not skipped),
    or is there but cannot be looked at (no permission on its folder: reading it says so)."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return True


def _csv_files(folder: Path, step) -> list[Path]:
    """The ``*.csv`` files of an optional folder (none when it is absent). A folder that is
    there but cannot be listed (a file, a broken or looping link, no permission) gets a
    verdict of its own through ``step``: an error, not "no files"."""
    if not present(folder):
        return []
    try:
        if not stat.S_ISDIR(folder.stat().st_mode):
            raise NotADirectoryError(20, "Not a directory", str(folder))
        return sorted(p for p in folder.iterdir() if fnmatch.fnmatchcase(p.name, "*.csv"))
    except OSError as exc:
        reason = ("not a folder (expected a folder of CSV files)"
                  if isinstance(exc, NotADirectoryError) else
                  "permission denied (the folder cannot be listed: check its permissions)"
                  if isinstance(exc, PermissionError) else read_problem(folder, exc))

        def refuse():
            raise InputError(folder, reason)
        step(folder, refuse)
        return []


def _unknown_site(layout: Layout, path: Path):
    """The check of a file named for a site that sites.csv does not list."""
    def load():
        raise InputError(path, f"unknown site '{path.stem}' (the file name must be a site of "
                         f"{layout.sites_csv.name})")
    return load


def _sheet_verdict(checks: Checks, path: Path, site: str, sheet: pd.DataFrame,
                   main: bool) -> str:
    """``ok (N segments...)``; for a site's main sheet (``main``, when the tables would use
    it) without an accepted segment, a warning too."""
    status = sheet["status"].tolist()  # plain counts: a pandas call per sheet costs more
    accepted = sum(s in ("", "accepted") for s in status)
    suggested = status.count("suggested")
    counts = f"{accepted} segments" + (f", {suggested} suggested" if suggested else "")
    if main and accepted == 0:
        why = (f"{suggested} suggestions await review" if suggested
               else "the sheet has no rows")
        return (f"ok ({counts}); warning: " + checks.warn(
            path, f"site '{site}' has no accepted coded segment ({why}): every table and the "
                  "report show it with no finding"))
    return f"ok ({counts})"


def load_inputs(checks: Checks, *, accepted_only: bool = True,
                require_sheets: bool = True) -> Corpus:
    """Run every input's loader in data-flow order through ``checks``.

    Strict, this returns the validated :class:`Corpus`; otherwise the fields whose
    files failed are ``None`` or lack those files' rows. A coding sheet is required
    for every site of sites.csv (a missing one is an error) unless ``require_sheets``
    is false (a command that is about to write the sheets, such as import-coding); a
    site whose sheet has no accepted segment is valid but gets a warning.
    """
    layout = checks.layout
    step = checks.step
    sites = step(layout.sites_csv, lambda: load_sites(layout), lambda t: f"ok ({len(t)} sites)")
    sources = step(layout.sources_csv, lambda: load_sources(layout, sites),
                   lambda t: f"ok ({len(t)} sources)", needs=[layout.sites_csv])
    texts: dict[str, str] = {}
    text_files: dict[str, Path] = {}
    for row in records(sources) if sources is not None else []:
        path = layout.data / row.file
        text_files[row.source_id] = path
        text = step(path, lambda row=row: load_text(layout, row),
                    lambda t, row=row: f"ok (sha256 {row.sha256[:12]}..., {len(t)} characters)")
        if text is not None:
            texts[row.source_id] = text
    codebook = step(layout.codebook_csv, lambda: load_codebook(layout),
                    lambda t: f"ok ({len(t)} codes, {(t['parent'] == '').sum()} canonical)")
    lexicon = None
    if present(layout.lexicon_csv):
        lexicon = step(layout.lexicon_csv, lambda: load_lexicon(layout.lexicon_csv, codebook),
                       lambda t: f"ok ({len(t)} terms)", needs=[layout.codebook_csv])
    sections: dict[str, pd.DataFrame] = {}
    map_files: dict[str, Path] = {}
    _csv_files(layout.sections_dir, step)  # a sections/ that is no folder is refused, not skipped
    for source_id, path in sorted((s, layout.sections_csv(s)) for s in text_files):
        if not present(path):
            continue  # a section map is optional
        map_files[source_id] = path
        smap = step(path, lambda p=path, s=source_id: load_section_map(p, s, texts[s]),
                    lambda t: f"ok ({len(t)} spans)", needs=[text_files[source_id]])
        if smap is not None:
            sections[source_id] = smap

    own = (sources.groupby("site")["source_id"].agg(set).to_dict()
           if sources is not None else {})
    known_sites = set(sites["site"]) if sites is not None else set()

    def sheet_needs(site: str) -> list[Path]:
        ids = sorted(own.get(site, set()))
        return [layout.sites_csv, layout.sources_csv, layout.codebook_csv,
                *(text_files[s] for s in ids), *(map_files[s] for s in ids if s in map_files)]

    def load_sheet(path: Path, site: str, seen: dict[str, tuple[str, int]] | None):
        if not present(path):
            raise InputError(path, f"file not found: site '{site}' of "
                             f"{layout.sites_csv.name} has no coding sheet (restore it, or "
                             "remove the site from sites.csv and sources.csv)")
        sheet = load_coding_sheet(path, site, texts, codebook, sources, sections,
                                  own_sources=own.get(site, set()))
        if seen is not None:  # segment ids are unique across the sites' sheets
            for segment_id, line in zip(sheet["segment_id"], sheet["_line"]):
                if segment_id in seen:
                    other, other_line = seen[segment_id]
                    raise InputError(path, f"duplicate value '{segment_id}' (also in "
                                     f"{other}.csv, line {other_line})", line=line,
                                     column="segment_id")
            seen.update({sid: (site, line) for sid, line in
                         zip(sheet["segment_id"], sheet["_line"])})
        return sheet

    def per_site(paths: Iterable[Path], load, describe=lambda path, site, table: "ok",
                 needs=sheet_needs) -> list[pd.DataFrame]:
        """Check each file named for a site (``coding/<site>.csv``, ...), in name order:
        ``load(path, site)`` reads one, ``describe(path, site, table)`` gives its verdict."""
        out = []
        for path in sorted(paths):
            site = path.stem
            if sites is not None and site not in known_sites:
                step(path, _unknown_site(layout, path))
                continue
            result = step(path, lambda p=path, s=site: load(p, s),
                          lambda t, p=path, s=site: describe(p, s, t), needs=needs(site))
            if result is not None:
                out.append(result)
        return out

    seen: dict[str, tuple[str, int]] = {}
    required = {layout.coding_csv(s) for s in known_sites} if require_sheets else set()
    sheets = per_site(
        set(_csv_files(layout.coding_dir, step)) | required,
        lambda p, s: load_sheet(p, s, seen),
        lambda p, s, t: _sheet_verdict(checks, p, s, t, main=accepted_only))
    coding = pd.concat(sheets, ignore_index=True) if sheets else _empty_coding()
    if accepted_only:
        coding = coding[coding["status"].isin(["", "accepted"])].reset_index(drop=True)

    second = per_site(_csv_files(layout.second_coding_dir, step), lambda p, s: load_sheet(p, s, None),
                      lambda p, s, t: _sheet_verdict(checks, p, s, t, main=False))

    corpus = Corpus(layout, sites, sources, texts, codebook, coding, sections,
                    second_coding=pd.concat(second, ignore_index=True) if second else None,
                    lexicon=lexicon)
    appraisals = _csv_files(layout.appraisal_dir, step)
    if present(layout.casp_questions_csv) or appraisals:
        corpus.casp_questions = step(
            layout.casp_questions_csv, lambda: _casp_questions(layout),
            lambda t: f"ok ({len(t)} questions)")
    tables = per_site(appraisals,
                      lambda p, s: load_appraisal(p, sources, corpus.casp_questions),
                      lambda p, s, t: f"ok ({len(t)} answers)",
                      lambda s: [layout.sites_csv, layout.sources_csv, layout.casp_questions_csv])
    if tables:
        corpus.appraisal = pd.concat(tables, ignore_index=True)
    if present(layout.guidance_csv):
        corpus.guidance = step(
            layout.guidance_csv, lambda: load_guidance(layout.guidance_csv, texts, codebook),
            lambda t: f"ok ({len(t)} segments)",
            needs=[layout.sources_csv, layout.codebook_csv, *text_files.values()])
    return corpus


def _casp_questions(layout: Layout) -> pd.DataFrame:
    """The CASP questions, required as soon as an appraisal answers them."""
    if not present(layout.casp_questions_csv):
        raise InputError(layout.casp_questions_csv, "file not found (the appraisals in "
                         f"{layout.appraisal_dir.name}/ answer its questions)")
    return load_casp_questions(layout.casp_questions_csv)


def load_corpus(layout: Layout | None = None, *, accepted_only: bool = True,
                require_sheets: bool = True) -> Corpus:
    """Load and validate every input of a corpus; the first bad input raises
    :class:`InputError`.

    ``coding`` holds the segments of every site's sheet with a leading ``site``
    column. Rows with ``status`` ``suggested`` or ``rejected`` (suggestions of the
    new-site command) are kept out unless ``accepted_only`` is false. With
    ``require_sheets`` false, a site of sites.csv may lack its coding sheet.
    """
    return load_inputs(Checks(layout or Layout()), accepted_only=accepted_only,
                       require_sheets=require_sheets)


def _empty_coding() -> pd.DataFrame:
    return pd.DataFrame(columns=["site", *CODING.names, "_line"])
