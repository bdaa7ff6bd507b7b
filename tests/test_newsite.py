"""Adding a site by adding data only: the new-site command (analysis.newsite), and a fifth
site that tables, a site notebook and the report take in with no code change."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import newsite
from analysis.cli import main
from analysis.errors import InputError
from analysis.newsite import add_site
from analysis.paths import ROOT, Layout
from analysis.schema import read_table
from analysis.sources import CODING, SITES, load_corpus
from analysis.tables import compute_tables
from conftest import csv_text

NEW_TEXT = ("Kinerja Pegawai di Kantor Camat Gamma\n\nAbstrak\n"
            "Kepala kantor selalu terbuka kepada pegawai. "
            "Pegawai masih bekerja secara individual.\n\n"
            "PENDAHULUAN\nKeterbukaan adalah dimensi komunikasi menurut teori.\n\n"
            "HASIL DAN PEMBAHASAN\nKepala kantor memberi arahan yang jelas setiap pagi. "
            "Sarana kantor masih terbatas.\nPegawai mendapat penghargaan atas prestasi kerja.\n\n"
            "KESIMPULAN\nKeterbukaan pimpinan meningkatkan motivasi kerja pegawai.\n\n"
            "DAFTAR PUSTAKA\nDevito, J. (2016). Terbuka dan jelas. Pearson.\n")
SITE_ARGS = {"name": "Kantor Camat Gamma", "admin_level": "kota", "unit": "Kantor Camat"}
LEXICON = [["openness", "id", "terbuka", "", ""],
           ["individualism", "id", "secara + individual", "", ""],
           ["clear_instructions", "id", "arahan", "", ""],
           ["infrastructure", "id", "sarana", "", ""],
           ["timeliness", "id", "terlambat", "", ""]]


@pytest.fixture
def corpus_dir(tiny, tmp_path) -> tuple[Layout, Path]:
    """The two-site test corpus with a lexicon, and a new text to add."""
    tiny.lexicon_csv.write_text(csv_text(["code", "language", "term", "weight", "note"], LEXICON),
                                encoding="utf-8")
    text = tmp_path / "gamma_study.txt"
    text.write_bytes(NEW_TEXT.encode("utf-8"))
    return tiny, text


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# --------------------------------------------------------------------------- what it writes

def test_new_site_copies_the_text_and_adds_source_and_site_rows(corpus_dir):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    assert (layout.raw_dir / "gamma.txt").read_bytes() == text.read_bytes()
    source = rows(layout.sources_csv)[-1]
    assert source == {"source_id": "gamma", "site": "gamma", "kind": "case_study", "title": "",
                      "authors": "", "year": "", "venue": "", "language": "id",
                      "file": "raw/gamma.txt",
                      "sha256": hashlib.sha256(text.read_bytes()).hexdigest(),
                      "notes": newsite.SOURCE_NOTE}
    site = rows(layout.sites_csv)[-1]
    assert (site["site"], site["name"], site["admin_level"], site["unit_studied"]) == \
        ("gamma", "Kantor Camat Gamma", "kota", "Kantor Camat")
    assert site["province"] == site["design"] == site["informants"] == ""


def test_existing_rows_keep_their_bytes(corpus_dir):
    layout, text = corpus_dir
    before = layout.sources_csv.read_bytes()
    add_site(layout, "gamma", text, **SITE_ARGS)
    after = layout.sources_csv.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1


def test_the_section_map_is_guessed_from_headings(corpus_dir):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    smap = rows(layout.sections_csv("gamma"))
    assert [r["section"] for r in smap] == ["front_matter", "abstract", "background", "results",
                                           "conclusion", "references"]
    assert smap[-1]["end"] == str(len(NEW_TEXT))


def test_every_suggestion_is_a_sentence_at_exact_offsets_marked_suggested(corpus_dir):
    layout, text = corpus_dir
    result = add_site(layout, "gamma", text, **SITE_ARGS)
    sheet = read_table(layout.coding_csv("gamma"), CODING)
    assert result.n_suggestions == len(sheet) > 0
    assert set(sheet["status"]) == {"suggested"}
    for row in sheet.itertuples():
        assert NEW_TEXT[row.start:row.end] == row.quote
        assert row.memo.startswith("SUGGESTION, not coded") and "'" in row.memo
    assert sheet["segment_id"].tolist() == [f"gamma-{i:03d}" for i in range(1, len(sheet) + 1)]
    suggested = {(r.quote, r.code) for r in sheet.itertuples()}
    assert ("Kepala kantor selalu terbuka kepada pegawai.", "openness") in suggested
    assert ("Pegawai masih bekerja secara individual.", "individualism") in suggested
    # not in background or references, although both hold lexicon terms
    assert not any("teori" in q or "Devito" in q for q, _ in suggested)


def test_valence_follows_the_category_and_the_memo_says_to_check_it(corpus_dir):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    sheet = read_table(layout.coding_csv("gamma"), CODING).set_index("code")
    assert sheet.loc["infrastructure", "valence"] == "negative"
    assert sheet.loc["openness", "valence"].tolist() == ["positive", "positive"]
    assert "check it" in sheet.loc["clear_instructions", "memo"]
    assert set(sheet["evidence"]) == {"author_claim"} and set(sheet["attribution"]) == {"primary"}


# ------------------------------------------------------------------- suggestions do not count

def test_suggestions_validate_but_count_only_once_accepted(corpus_dir):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    corpus = load_corpus(layout)
    assert "gamma" in corpus.site_ids and "gamma" not in set(corpus.coding["site"])
    assert "gamma" in set(load_corpus(layout, accepted_only=False).coding["site"])
    matrix = compute_tables(corpus)["site_code_matrix"]
    assert set(matrix.loc[matrix["site"] == "gamma", "state"]) == {"not_reported"}

    # accepting = setting status to accepted after checking; rejecting keeps a row out
    sheet = layout.coding_csv("gamma")
    body = sheet.read_text(encoding="utf-8")
    first, second = [line for line in body.splitlines() if ",openness," in line]
    body = body.replace(first, first[: first.rindex(",")] + ",accepted")
    body = body.replace(second, second[: second.rindex(",")] + ",rejected")
    sheet.write_text(body, encoding="utf-8")
    corpus = load_corpus(layout)
    assert corpus.coding.loc[corpus.coding["site"] == "gamma", "code"].tolist() == ["openness"]
    matrix = compute_tables(corpus)["site_code_matrix"].set_index(["site", "code"])
    assert matrix.loc[("gamma", "openness"), "state"] == "practiced"
    assert matrix.loc[("gamma", "openness"), "n_segments"] == 1


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("slug, message", [
    ("alpha", "site 'alpha' already exists"),
    ("Gamma", "not a valid site slug"),
    ("2gamma", "not a valid site slug"),
    ("gam-ma", "not a valid site slug"),
])
def test_a_bad_or_taken_slug_is_refused_and_nothing_is_written(corpus_dir, slug, message):
    layout, text = corpus_dir
    before = snapshot(layout.data)
    with pytest.raises(InputError, match=message):
        add_site(layout, slug, text, **SITE_ARGS)
    assert snapshot(layout.data) == before


def test_a_slug_whose_files_exist_is_refused(corpus_dir):
    layout, text = corpus_dir
    layout.sections_dir.mkdir(exist_ok=True)
    layout.sections_csv("gamma").write_text("stale", encoding="utf-8")
    before = snapshot(layout.data)
    with pytest.raises(InputError, match="already exists"):
        add_site(layout, "gamma", text, **SITE_ARGS)
    assert snapshot(layout.data) == before


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    (b"", "the text is empty"),
    (b" \n\n\t\n", "the text is empty"),
    ("Kepala kantor terbuka.\nCaf\u00e9".encode("latin-1"), "not valid UTF-8 at byte 26"),
])
def test_a_missing_empty_or_non_utf8_text_is_refused(corpus_dir, tmp_path, content, message):
    layout, _ = corpus_dir
    path = tmp_path / "new.txt"
    if content is not None:
        path.write_bytes(content)
    before = snapshot(layout.data)
    with pytest.raises(InputError, match=message) as err:
        add_site(layout, "gamma", path, **SITE_ARGS)
    assert err.value.file == str(path)
    assert snapshot(layout.data) == before


def test_an_admin_level_outside_the_schema_is_refused(corpus_dir):
    layout, text = corpus_dir
    with pytest.raises(InputError, match="'rukun_tetangga' is not allowed") as err:
        add_site(layout, "gamma", text, **{**SITE_ARGS, "admin_level": "Rukun Tetangga"})
    assert err.value.column == "admin_level"
    assert "kecamatan" in str(err.value) and "sekretariat_daerah" in str(err.value)


@pytest.mark.parametrize("given, stored", [
    ("kecamatan", "kecamatan"), ("kelurahan", "kelurahan"), ("desa", "desa"),
    ("distrik", "distrik"), ("kabupaten", "kabupaten"), ("kota", "kota"),
    ("provinsi", "provinsi"), ("dinas", "dinas"), ("badan", "badan"),
    ("sekretariat_daerah", "sekretariat_daerah"), ("Sekretariat Daerah", "sekretariat_daerah"),
    ("sekretariat-daerah", "sekretariat_daerah"), ("setda", "sekretariat_daerah"),
])
def test_the_indonesian_units_a_study_may_concern_are_accepted_as_admin_levels(
        corpus_dir, given, stored):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **{**SITE_ARGS, "admin_level": given})
    assert rows(layout.sites_csv)[-1]["admin_level"] == stored
    assert load_corpus(layout).sites.set_index("site").loc["gamma", "admin_level"] == stored


@pytest.mark.parametrize("field, option", [("name", "--name"), ("admin_level", "--admin-level"),
                                           ("unit", "--unit")])
def test_a_site_field_the_schema_requires_is_asked_for_not_invented(corpus_dir, field, option):
    layout, text = corpus_dir
    column = {"unit": "unit_studied"}.get(field, field)
    required = {c.name for c in SITES.columns if c.required}
    args = {**SITE_ARGS, field: ""}
    if column in required:
        with pytest.raises(InputError, match=f"give {option}") as err:
            add_site(layout, "gamma", text, **args)
        assert err.value.column == column
        assert not (layout.raw_dir / "gamma.txt").exists()
    else:  # the schema allows it empty: the row is written with the field empty
        add_site(layout, "gamma", text, **args)
        assert rows(layout.sites_csv)[-1][column] == ""


def test_a_corpus_that_does_not_validate_is_not_extended(corpus_dir):
    layout, text = corpus_dir
    sheet = layout.coding_csv("alpha")
    sheet.write_text(sheet.read_text().replace(",timeliness,", ",late,"), encoding="utf-8")
    before = snapshot(layout.data)
    with pytest.raises(InputError, match="unknown code 'late'"):
        add_site(layout, "gamma", text, **SITE_ARGS)
    assert snapshot(layout.data) == before


def test_a_failed_write_restores_the_files_written_before_it(corpus_dir, monkeypatch):
    layout, text = corpus_dir
    before = snapshot(layout.data)
    real = newsite.atomic_write_bytes
    calls = []

    def failing(path, data):
        calls.append(path)
        if len(calls) == 5:  # the last file (sites.csv)
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(newsite, "atomic_write_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        add_site(layout, "gamma", text, **SITE_ARGS)
    monkeypatch.setattr(newsite, "atomic_write_bytes", real)
    assert snapshot(layout.data) == before


# --------------------------------------------------------------------------- command line

def test_the_command_reports_what_it_wrote(corpus_dir, capsys):
    layout, text = corpus_dir
    code = main(["new-site", "gamma", str(text), "--data", str(layout.data), "--name",
                 "Kantor Camat Gamma", "--admin-level", "kota", "--unit", "Kantor Camat"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {layout.coding_csv('gamma')}" in out
    assert "status 'suggested'" in out


def test_the_command_refuses_in_one_line_with_exit_status_1(corpus_dir, capsys):
    layout, text = corpus_dir
    code = main(["new-site", "alpha", str(text), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kota", "--unit", "y"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1 and "already exists" in err


def test_suggestion_terms_lists_lexicon_and_learned_terms(corpus_dir, capsys):
    layout, _ = corpus_dir
    assert main(["suggestion-terms", "--data", str(layout.data)]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert list(table.columns) == ["code", "origin", "term", "stems", "weight"]
    assert ["openness", "lexicon", "terbuka", "buka", 1] in table.values.tolist()


# ------------------------------------------------------------------- a fifth site, end to end

KIT_DATA = ROOT / "data"


@pytest.mark.skipif(not (KIT_DATA / "corpus.csv").exists() or not any(
    (KIT_DATA / "coding").glob("*.csv")), reason="the kit's data is not there yet")
def test_a_fifth_site_added_as_data_only_reaches_tables_notebook_and_report(tmp_path):
    """The kit's four sites plus a fifth from new-site, with nothing accepted yet: the tables,
    the site notebook (one kernel) and the PDF take it in with no code change."""
    pytest.importorskip("papermill")
    from analysis.notebooks import SITE_NOTEBOOK, execute
    from analysis.report import build_report
    from analysis.tables import build_tables

    layout = Layout(tmp_path / "data", tmp_path / "reports")
    shutil.copytree(KIT_DATA, layout.data)
    text = tmp_path / "gamma.txt"
    text.write_bytes(NEW_TEXT.encode("utf-8"))
    add_site(layout, "gamma", text, **SITE_ARGS)

    build_tables(layout)
    matrix = pd.read_csv(layout.table("site_code_matrix"), keep_default_na=False)
    assert matrix["site"].nunique() == 5
    assert set(matrix.loc[matrix["site"] == "gamma", "state"]) == {"not_reported"}
    studies = pd.read_csv(layout.table("studies"), keep_default_na=False)
    assert "Kantor Camat Gamma" in set(studies["name"])
    evaluation = pd.read_csv(layout.table("autocode_eval"), keep_default_na=False)
    assert "gamma" not in set(evaluation["held_out_site"])  # no hand coding to compare with

    notebook = layout.notebooks_dir / "gamma.ipynb"
    execute(SITE_NOTEBOOK, notebook, {"site": "gamma", "data_dir": str(layout.data),
                                      "out_dir": str(layout.out)})
    assert "Kantor Camat Gamma" in notebook.read_text(encoding="utf-8")

    pdf = build_report(layout)
    import pypdfium2
    doc = pypdfium2.PdfDocument(str(pdf))
    words = " ".join(" ".join(doc[i].get_textpage().get_text_range().split())
                     for i in range(len(doc)))
    assert "Kantor Camat Gamma" in words
    assert "Evaluation of automatic coding suggestions" in words
