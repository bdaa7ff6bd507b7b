"""Add a site by adding data only: the ``new-site`` command.

:func:`add_site` takes a slug and the study's file -- a PDF, a Word .docx or a plain
UTF-8 text (:mod:`analysis.pdftext`) -- and writes, all or nothing:

* ``DATA/raw/<slug>.txt`` -- the text (a plain text byte for byte; a PDF's or .docx's
  extraction), byte-exact from then on;
* a row in ``DATA/sources.csv`` (checksum computed; bibliographic fields empty; for a
  PDF or .docx the original's file name and sha256 in ``origin_file`` and
  ``origin_sha256``, columns added to the table if it lacks them);
* a row in ``DATA/sites.csv`` (what the command line gives; the rest empty);
* ``DATA/sections/<slug>.csv`` -- a section map guessed from the headings
  (:func:`analysis.autocode.guess_sections`), to be checked and refined; when no
  results heading is recognised it is one ``results`` span over the whole text, so that
  suggestions are made over all of it (and :attr:`NewSite.whole_text` says so);
* ``DATA/coding/<slug>.csv`` -- one row per suggested sentence x code, every row
  ``status`` ``suggested`` and ``origin`` ``suggested``: no suggestion counts as a coded
  finding until a researcher sets its status to ``accepted``, and an accepted one keeps
  its origin, so the evaluation of the suggestions never scores them against themselves
  (``docs/new_site.md``).

Every check runs before the first byte is written: a bad slug, a slug already in
use, a missing, empty, non-UTF-8 or scanned (no text layer) file, or a corpus that
does not validate stops with one :class:`~analysis.errors.InputError` and nothing
written. The files are then written into a copy of the corpus and validated there;
only if that passes are they written in place, each atomically, and the ones already
written are restored if a later write fails.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import autocode
from analysis.errors import InputError
from analysis.io import atomic_write_all, atomic_write_bytes
from analysis.paths import Layout
from analysis.pdftext import Extraction, read_study
from analysis.schema import SLUG
from analysis.sources import ADMIN_LEVELS, CODING, SECTIONS, SITES, load_corpus

SOURCE_NOTE = "added by new-site; bibliographic fields to be filled from the text"
SITE_NOTE = ("added by new-site; fill parent, province, design, methods, informants, analysis "
             "and framework from the text")
SITE_OPTIONS = {"name": "--name", "admin_level": "--admin-level", "unit_studied": "--unit"}
"""The sites.csv fields the command line can fill, and the option that fills each."""
ADMIN_ALIASES = {"setda": "sekretariat_daerah", "kab": "kabupaten", "prov": "provinsi"}
"""Short forms --admin-level also takes."""


@dataclass
class NewSite:
    """What :func:`add_site` wrote."""

    site: str
    written: list[Path] = field(default_factory=list)
    n_sections: int = 0
    whole_text: bool = False
    """No results heading was recognised: the map is one results span and suggestions
    were made over the whole text."""
    n_suggestions: int = 0
    n_sentences: int = 0
    codes: list[str] = field(default_factory=list)
    why_none: str = ""
    """Why no suggestion was made (empty when there are suggestions)."""
    extraction: Extraction | None = None


def admin_level_slug(value: str) -> str:
    """The sites.csv form of an --admin-level value: lower case, spaces and hyphens as
    ``_`` (``Sekretariat Daerah`` -> ``sekretariat_daerah``), short forms expanded."""
    slug = re.sub(r"[\s-]+", "_", value.strip().lower())
    return ADMIN_ALIASES.get(slug, slug)


def _check_slug(layout: Layout, slug: str) -> None:
    if not re.fullmatch(SLUG, slug):
        raise InputError(layout.sites_csv, f"'{slug}' is not a valid site slug (lower-case "
                         "letters, digits and _, starting with a letter)", column="site")


def _taken(layout: Layout, slug: str, corpus) -> None:
    if slug in set(corpus.sites["site"]):
        raise InputError(layout.sites_csv, f"site '{slug}' already exists", column="site")
    if slug in set(corpus.sources["source_id"]):
        raise InputError(layout.sources_csv, f"source '{slug}' already exists",
                         column="source_id")
    for path in (layout.raw_dir / f"{slug}.txt", layout.coding_csv(slug),
                 layout.sections_csv(slug), layout.second_coding_dir / f"{slug}.csv",
                 layout.appraisal_dir / f"{slug}.csv"):
        if path.exists():
            raise InputError(path, f"already exists (site '{slug}' would overwrite it)")


def _site_fields(layout: Layout, values: dict[str, str]) -> None:
    """Refuse an admin level outside the schema's choices, and a field the schema requires
    that the command line left empty."""
    level = values.get("admin_level", "")
    if level and level not in ADMIN_LEVELS:
        raise InputError(layout.sites_csv, f"'{level}' is not allowed (expected one of: "
                         f"{', '.join(ADMIN_LEVELS)}; option --admin-level)",
                         column="admin_level")
    required = {c.name for c in SITES.columns if c.required}
    for name, option in SITE_OPTIONS.items():
        if name in required and not values.get(name):
            hint = (f"one of {', '.join(ADMIN_LEVELS)}" if name == "admin_level"
                    else "as the study names it")
            raise InputError(layout.sites_csv, f"every site needs a value here: give "
                             f"{option} ({hint}), read from the study's title or method",
                             column=name)


def _csv_line(header: list[str], row: dict[str, object]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([row.get(h, "") for h in header])
    return buf.getvalue().encode("utf-8")


def _appended(path: Path, row: dict[str, object]) -> bytes:
    """The bytes of a CSV table with one row appended, in the column order of its header;
    the existing bytes are kept as they are. A non-empty value of a column the header
    lacks adds that column at the end (empty in the existing rows, which are then
    rewritten with the csv module's minimal quoting)."""
    old = path.read_bytes()
    header = next(csv.reader(io.StringIO(old.decode("utf-8-sig"))))
    header = [h.strip() for h in header]
    missing = [k for k, v in row.items() if v not in ("", None) and k not in header]
    if missing:
        table = list(csv.reader(io.StringIO(old.decode("utf-8-sig"), newline="")))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header + missing)
        writer.writerows(r + [""] * len(missing) for r in table[1:] if r)
        return buf.getvalue().encode("utf-8") + _csv_line(header + missing, row)
    prefix = old if old.endswith(b"\n") or not old else old + b"\n"
    return prefix + _csv_line(header, row)


def _table_bytes(frame: pd.DataFrame, columns: list[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(frame[columns].itertuples(index=False, name=None))
    return buf.getvalue().encode("utf-8")


def suggestion_sheet(site: str, source_id: str, text: str, suggestions: pd.DataFrame,
                     codebook: pd.DataFrame) -> pd.DataFrame:
    """The coding sheet of a new site: one row per suggested sentence x code.

    ``quote`` is the sentence at its exact offsets; ``valence`` negative for a
    barrier, otherwise positive (a default the memo says to check);
    ``evidence`` author_claim, ``attribution`` primary, ``section`` from the map;
    ``status`` and ``origin`` suggested; the memo names the matched terms. Sorted by start, end,
    code; ``segment_id`` numbered in that order.
    """
    category = dict(zip(codebook["code"], codebook["category"]))
    rows = suggestions.sort_values(["start", "end", "code"], kind="stable")
    sheet = pd.DataFrame({
        "segment_id": [f"{site}-{i:03d}" for i in range(1, len(rows) + 1)],
        "source_id": source_id,
        "start": rows["start"].astype("int64").to_numpy(),
        "end": rows["end"].astype("int64").to_numpy(),
        "quote": [text[s:e] for s, e in zip(rows["start"], rows["end"])],
        "code": rows["code"].to_numpy(object),
        "valence": ["negative" if category[c] == "barrier" else "positive"
                    for c in rows["code"]],
        "evidence": "author_claim",
        "informant": "",
        "attribution": "primary",
        "section": rows["section"].to_numpy(object),
        "memo": [_memo(category[c], score, matched) for c, score, matched in
                 zip(rows["code"], rows["score"], rows["matched"])],
        "origin": "suggested",
        "status": "suggested",
    }, columns=CODING.names)
    return sheet


def _memo(category: str, score: float, matched: str) -> str:
    valence = ("valence negative (a barrier)" if category == "barrier" else
               "valence set to positive by default: check it")
    return (f"SUGGESTION, not coded: lexicon score {score:g} from {matched}. Check the code "
            f"against the codebook's include/exclude rules; {valence}; evidence, informant "
            "and attribution not judged (cited_secondary passages look the same).")


def add_site(layout: Layout, slug: str, text_path: str | Path, *, name: str = "",
             admin_level: str = "", unit: str = "", language: str = "id") -> NewSite:
    """Add site ``slug`` from the study at ``text_path`` (see the module docstring)."""
    _check_slug(layout, slug)
    if language not in autocode.LANGUAGES:
        raise InputError(layout.sources_csv, f"language '{language}' has no stemmer (expected "
                         f"one of: {', '.join(autocode.LANGUAGES)})", column="language")
    extraction = read_study(text_path)
    text = extraction.text
    data = extraction.data  # a plain text's own bytes: it was decoded as strict UTF-8
    corpus = load_corpus(layout)
    _taken(layout, slug, corpus)
    site_values = {"name": name.strip(), "admin_level": admin_level_slug(admin_level),
                   "unit_studied": unit.strip()}
    _site_fields(layout, site_values)
    lexicon = autocode.corpus_lexicon(corpus)

    section_map, whole_text = section_map_for(text, slug, language)
    terms = autocode.suggestion_terms(corpus, language, lexicon=lexicon)
    suggestions = autocode.suggestions_for_text(text, slug, terms, language, section_map)
    sheet = suggestion_sheet(slug, slug, text, suggestions, corpus.codebook)
    why_none = "" if len(sheet) else no_suggestion_reason(text, slug, terms, language,
                                                          section_map, lexicon is not None)

    files: dict[Path, bytes] = {
        layout.raw_dir / f"{slug}.txt": data,
        layout.sections_csv(slug): _table_bytes(section_map, SECTIONS.names),
        layout.coding_csv(slug): _table_bytes(sheet, CODING.names),
        layout.sources_csv: _appended(layout.sources_csv, {
            "source_id": slug, "site": slug, "kind": "case_study", "language": language,
            "file": f"raw/{slug}.txt", "sha256": hashlib.sha256(data).hexdigest(),
            "notes": SOURCE_NOTE if extraction.kind == "text" else
            f"{SOURCE_NOTE}; text extracted from the {extraction.kind.upper()} named in "
            "origin_file by new-site (docs/new_site.md)",
            "origin_file": extraction.origin_file, "origin_sha256": extraction.origin_sha256}),
        layout.sites_csv: _appended(layout.sites_csv, {
            "site": slug, **site_values, "notes": SITE_NOTE}),
    }
    _dry_run(layout, files)
    atomic_write_all(files)
    return NewSite(
        site=slug, written=list(files), n_sections=len(section_map),
        whole_text=whole_text,
        n_suggestions=len(sheet),
        n_sentences=int(sheet[["start", "end"]].drop_duplicates().shape[0]),
        codes=sorted(set(sheet["code"])), why_none=why_none, extraction=extraction)


def section_map_for(text: str, source_id: str, language: str) -> tuple[pd.DataFrame, bool]:
    """The section map new-site writes, and whether it is the whole-text fallback.

    The map guessed from the headings (:func:`analysis.autocode.guess_sections`) when it
    has a ``results`` span that starts at a recognised heading; otherwise one ``results`` span over the whole text (the
    guessed headings are then not trusted: a text whose results heading was not
    recognised would get no suggestion at all), and ``True``.
    """
    guessed = autocode.guess_sections(text, source_id, language)
    results = guessed[guessed["section"] == "results"]
    if (results["heading"] != "").any():  # a results span that starts at a real heading
        return guessed, False
    whole = pd.DataFrame([(source_id, "results", 0, len(text), "")],
                         columns=SECTIONS.base_names)
    return whole, True


def no_suggestion_reason(text: str, source_id: str, terms: pd.DataFrame, language: str,
                         section_map: pd.DataFrame, has_lexicon: bool) -> str:
    """Why a text got no suggestion, in one sentence."""
    if terms.empty and not has_lexicon:
        return ("there are no terms to match: the corpus has no lexicon.csv and no term was "
                "learned from its accepted coding")
    if terms.empty:
        return f"lexicon.csv has no term in language '{language}' and none was learned"
    units = autocode.sentence_units(text, source_id, section_map, language)
    eligible = units[units["section"].isin(autocode.SUGGEST_SECTIONS)
                     & ~units["heading"].astype(bool)]
    where = "/".join(autocode.SUGGEST_SECTIONS)
    if eligible.empty:
        return f"no sentence lies in a section suggestions are made in ({where})"
    return (f"none of the {len(eligible)} sentences in {where} holds terms of one code "
            f"whose weights reach {autocode.THRESHOLD:g} ({len(terms)} terms, "
            f"language '{language}'): code it by hand, or add terms to lexicon.csv")


def _dry_run(layout: Layout, files: dict[Path, bytes]) -> None:
    """Write ``files`` into a copy of the corpus and load it: the real corpus is written
    only if the result validates."""
    with tempfile.TemporaryDirectory(prefix="new-site-") as tmp:
        copy = Path(tmp) / "data"
        shutil.copytree(layout.data, copy, symlinks=True)
        for path, content in files.items():
            target = copy / path.relative_to(layout.data)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        try:
            load_corpus(Layout(copy, Path(tmp) / "reports"), accepted_only=False)
        except InputError as exc:  # a bug of this module, reported against the real files
            detail = str(exc).replace(str(copy), str(layout.data))
            raise InputError(layout.data, f"the new site would not validate, nothing was "
                             f"written: {detail}") from None
