"""Shared fixtures: a small valid corpus written into a temporary folder, and the
optional ``../shared`` folder.

``tiny_corpus(tmp_path)`` builds a corpus of two sites in the kit's data layout;
tests break one thing in it and check the error.

``shared`` is the ``../shared`` folder beside the checkout (REFI-QDA schemas and real
exports from CAQDAS tools, the seed texts). A user's clone usually lacks it: a test that
asks for it skips and says why. In CI (``CI=true``) it must be there: the test fails, so
CI never skips it silently. Ask for it as a fixture argument, or with
``@pytest.mark.usefixtures("shared")`` when the test reads paths under ``SHARED``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from pathlib import Path

import pytest

from analysis.paths import ROOT, Layout

SHARED = ROOT.parent / "shared"

PUBLISHED_FOUR = ("langkat", "manoi", "mesuji", "musi_banyuasin")
"""The four published case studies the kit's synthesis was made from. Tests that pin
that synthesis (its texts, its figures) say so in their names (``test_published_four_
studies_...``) and look at these sites only, so a site added later leaves them true."""


def published_four(corpus):
    """``corpus`` restricted to the four published studies (and the guidance)."""
    import dataclasses

    keep = set(PUBLISHED_FOUR)
    sources = corpus.sources[corpus.sources["site"].isin(keep) | (corpus.sources["site"] == "")]
    ids = set(sources["source_id"])
    return dataclasses.replace(
        corpus, sites=corpus.sites[corpus.sites["site"].isin(keep)].reset_index(drop=True),
        sources=sources.reset_index(drop=True),
        texts={k: v for k, v in corpus.texts.items() if k in ids},
        coding=corpus.coding[corpus.coding["site"].isin(keep)].reset_index(drop=True),
        sections={k: v for k, v in corpus.sections.items() if k in ids})

def in_ci() -> bool:
    """True when the environment says this is a CI run (``CI=true``, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_shared(folder: Path = SHARED) -> Path:
    """``folder`` if it exists; else skip the test saying why, or fail it under CI."""
    if not folder.is_dir():
        what = (f"../shared (REFI-QDA schemas, CAQDAS sample exports, seed texts) is not beside "
                f"the checkout ({folder})")
        if in_ci():
            pytest.fail(f"{what}; CI must provide it", pytrace=False)
        pytest.skip(f"{what}; optional for users, see README")
    return folder


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ``../shared`` folder; skips (fails in CI) when it is not beside the checkout."""
    return require_shared()

TEXTS = {
    "alpha": "Abstrak\n\nPimpinan terbuka kepada staf. Pegawai bekerja secara individual.\n\n"
             "Hasil\n\nKepala bagian memberi arahan yang jelas. Tugas sering terlambat.\n",
    "beta": "Abstrak\n\nPegawai saling mendukung 😀 dalam tim.\n\nHasil\n\n"
            "Sarana kantor terbatas. Kinerja pegawai meningkat.\n",
}

CODEBOOK = [
    ("openness", "", "dimension"), ("supportiveness", "", "dimension"),
    ("clear_instructions", "", "practice"), ("individualism", "", "barrier"),
    ("infrastructure", "", "barrier"), ("timeliness", "", "outcome"),
    ("individual_performance", "", "outcome"),
    ("alpha_open_door", "openness", "dimension"),
]

SHEETS = {
    "alpha": [("Pimpinan terbuka kepada staf", "alpha_open_door", "positive", "results"),
              ("Pegawai bekerja secara individual", "individualism", "negative", "results"),
              ("memberi arahan yang jelas", "clear_instructions", "positive", "results"),
              ("Tugas sering terlambat", "timeliness", "negative", "results")],
    "beta": [("Pegawai saling mendukung 😀 dalam tim", "supportiveness", "positive", "results"),
             ("Sarana kantor terbatas", "infrastructure", "negative", "results"),
             ("Kinerja pegawai meningkat", "individual_performance", "positive", "results")],
}

CODING_HEADER = ["segment_id", "source_id", "start", "end", "quote", "code", "valence",
                 "evidence", "informant", "attribution", "section", "memo"]


def csv_text(header, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def coding_rows(site: str, text: str, entries) -> list[list]:
    rows = []
    for i, (quote, code, valence, section) in enumerate(entries, 1):
        start = text.index(quote)
        rows.append([f"{site}-{i:03d}", site, start, start + len(quote), quote, code, valence,
                     "author_claim", "", "primary", section, ""])
    return rows


def build_corpus(root: Path) -> Layout:
    """The two-site fixture corpus (TEXTS, SHEETS, CODEBOOK) under ``root``."""
    return write_corpus(root, TEXTS, SHEETS, CODEBOOK)


def write_corpus(root: Path, texts: dict[str, str], sheets: dict[str, list],
                 codebook: list[tuple[str, str, str]]) -> Layout:
    """A valid corpus under ``root/data``: one case study per text, its coding sheet from
    ``sheets`` ((quote, code, valence, section) entries), the codebook from
    ``codebook`` ((code, parent, category) entries)."""
    data = root / "data"
    (data / "raw").mkdir(parents=True)
    (data / "coding").mkdir()
    sources, sites = [], []
    for site, text in texts.items():
        raw = data / "raw" / f"{site}.txt"
        raw.write_bytes(text.encode("utf-8"))
        sources.append([site, site, "case_study", f"Study of {site}", "", "", "", "id",
                        f"raw/{site}.txt", hashlib.sha256(raw.read_bytes()).hexdigest(),
                        "authors not given in the text"])
        sites.append([site, f"Office {site}", "kabupaten", "", "", "Bagian Umum",
                      "qualitative descriptive", "interview; observation", "kepala bagian",
                      "", "DeVito"])
        (data / "coding" / f"{site}.csv").write_text(
            csv_text(CODING_HEADER, coding_rows(site, text, sheets[site])), encoding="utf-8")
    (data / "sources.csv").write_text(csv_text(
        ["source_id", "site", "kind", "title", "authors", "year", "venue", "language", "file",
         "sha256", "notes"], sources), encoding="utf-8")
    (data / "sites.csv").write_text(csv_text(
        ["site", "name", "admin_level", "parent", "province", "unit_studied", "design",
         "methods", "informants", "analysis", "framework"], sites), encoding="utf-8")
    (data / "codebook.csv").write_text(csv_text(
        ["code", "parent", "category", "label_en", "label_id", "definition", "include",
         "exclude", "note"],
        [[c, p, cat, c.replace("_", " "), c, f"def {c}", f"inc {c}", f"exc {c}", ""]
         for c, p, cat in codebook]), encoding="utf-8")
    (data / "corpus.csv").write_text(csv_text(
        ["key", "value"], [["title", "Fixture corpus"], ["date", "2026-11-23"]]),
        encoding="utf-8")
    return Layout(data, root / "reports")


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``python -m analysis ARGS`` run in this process: exit status, stdout, stderr.

    ``main`` turns a user error into one ``error:`` line and status 1 as the command
    line does (tests/test_cli.py proves, in a subprocess, that the entry point prints
    nothing more). argparse's own exits (``--help``, a usage error) give their status;
    any other exception escapes and fails the test, as a traceback would."""
    from analysis.cli import main
    capsys.readouterr()
    try:
        status = main([str(a) for a in args])
    except SystemExit as exc:
        status = exc.code
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture
def tiny(tmp_path) -> Layout:
    """A valid two-site corpus (one text with a character outside the BMP)."""
    return build_corpus(tmp_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """nbval's cells of the committed notebooks compare outputs computed from the kit's
    own data: they are ``kit_data`` tests (marked here, before ``-m`` selects).

    The ``slow`` tests go first (the others keep their order, nbval's cells too): with
    ``make test``'s ``--dist loadfile --no-loadscope-reorder`` one worker starts the
    slow file at once while the other takes the rest, instead of ending the run alone."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.kit_data)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
