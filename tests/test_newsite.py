"""Adding a site by adding data only: the new-site command (analysis.newsite). That the
kit's tables, a site notebook and the report then take the fifth site in with no code
change, before and after its suggestions are reviewed, is the end-to-end test's job
(tests/test_new_site_end_to_end.py), on a copy of the kit."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from analysis import io as kit_io, newsite
from analysis.cli import main
from analysis.errors import InputError, InputWarning
from analysis.newsite import add_site
from analysis.paths import Layout
from analysis.schema import read_table
from analysis.sources import CODING, SITES, SOURCES, load_corpus
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
    with pytest.warns(InputWarning, match="site 'gamma' has no accepted coded segment"):
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
    ("Kepala kantor terbuka.\nCaf\u00e9".encode("latin-1"),
     "not valid UTF-8 at byte 26 .*iconv -f latin1 -t utf-8"),
    ("Kepala kantor terbuka.".encode("utf-16"), "not valid UTF-8 .*iconv -f utf-16 -t utf-8"),
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
    with pytest.warns(InputWarning, match="site 'gamma' has no accepted coded segment"):
        corpus = load_corpus(layout)  # suggestions await review
    assert corpus.sites.set_index("site").loc["gamma", "admin_level"] == stored


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
    real = kit_io.atomic_write_bytes
    calls = []

    def failing(path, data):
        calls.append(path)
        if len(calls) == 5:  # the last file (sites.csv)
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(kit_io, "atomic_write_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        add_site(layout, "gamma", text, **SITE_ARGS)
    monkeypatch.setattr(kit_io, "atomic_write_bytes", real)
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


# ------------------------------------------------------------------- from a PDF or a .docx

def test_a_pdf_is_stored_as_its_extraction_with_the_pdf_checksum_beside_it(corpus_dir, tmp_path):
    from test_pdftext import PAGES, make_pdf

    layout, _ = corpus_dir
    pdf = make_pdf(tmp_path, PAGES, name="Gamma Study.pdf")
    before = read_table(layout.sources_csv, SOURCES)
    result = add_site(layout, "gamma", pdf, **SITE_ARGS)
    raw = (layout.raw_dir / "gamma.txt").read_bytes()
    assert raw == result.extraction.data and b"Halaman" not in raw and b"\f" in raw
    sources = read_table(layout.sources_csv, SOURCES)
    row = sources.set_index("source_id").loc["gamma"]
    assert row["sha256"] == hashlib.sha256(raw).hexdigest()
    assert row["origin_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert row["origin_file"] == "Gamma Study.pdf"
    kept = sources[sources["source_id"] != "gamma"].drop(columns="_line")
    assert kept.equals(before.drop(columns="_line"))  # old rows: same values, origin empty
    assert result.n_suggestions > 0


def test_the_command_says_what_it_extracted_and_removed(corpus_dir, tmp_path, capsys):
    from test_pdftext import PAGES, make_pdf

    layout, _ = corpus_dir
    pdf = make_pdf(tmp_path, PAGES)
    assert main(["new-site", "gamma", str(pdf), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kecamatan", "--unit", "y"]) == 0
    out = capsys.readouterr().out
    assert "extracted the text of study.pdf" in out and "3 pages" in out
    assert "removed running headers/footers: 'Jurnal Administrasi Publik Vol. 3'" in out


def test_a_scanned_pdf_is_refused_and_nothing_is_written(corpus_dir, tmp_path, capsys):
    typst = pytest.importorskip("typst")
    layout, _ = corpus_dir
    source = tmp_path / "scan.typ"
    source.write_text("#rect(width: 5cm, height: 3cm, fill: gray)\n", encoding="utf-8")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(typst.compile(str(source)))
    before = snapshot(layout.data)
    code = main(["new-site", "gamma", str(pdf), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kota", "--unit", "y"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "no text layer" in err
    assert snapshot(layout.data) == before


# --------------------------------------------------------- never silently empty suggestions

NO_RESULTS_HEADING = ("Abstract\nThis study describes an office.\n\n"
                      "Temuan Lapangan\nKepala kantor selalu terbuka kepada pegawai. "
                      "Sarana kantor masih terbatas.\n")


def test_without_a_results_heading_suggestions_are_made_over_the_whole_text(corpus_dir,
                                                                              tmp_path, capsys):
    layout, _ = corpus_dir
    text = tmp_path / "plain.txt"
    text.write_text(NO_RESULTS_HEADING, encoding="utf-8")
    # guessed from the headings alone, everything after 'Abstract' would be abstract_en
    from analysis.autocode import guess_sections
    assert "results" not in set(guess_sections(NO_RESULTS_HEADING, "gamma")["section"])
    assert main(["new-site", "gamma", str(text), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kota", "--unit", "y"]) == 0
    out = capsys.readouterr().out
    assert "no results heading recognised" in out and "over the whole text" in out
    smap = rows(layout.sections_csv("gamma"))
    assert [(r["section"], r["start"], r["end"]) for r in smap] == \
        [("results", "0", str(len(NO_RESULTS_HEADING)))]
    codes = set(read_table(layout.coding_csv("gamma"), CODING)["code"])
    assert {"openness", "infrastructure"} <= codes


NO_HEADING_AT_ALL = ("Komunikasi pimpinan di Kantor Camat Delta\n\nCamat jarang berkomunikasi "
                     "dengan pegawai.\fPegawai bekerja secara individual.\n\nSarana kantor "
                     "masih terbatas.\n")


def test_a_text_with_no_heading_at_all_is_said_to_be_read_as_a_whole(corpus_dir, tmp_path,
                                                                     capsys):
    layout, _ = corpus_dir
    text = tmp_path / "plain.txt"
    text.write_text(NO_HEADING_AT_ALL, encoding="utf-8")
    assert main(["new-site", "gamma", str(text), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kecamatan", "--unit", "y"]) == 0
    out = capsys.readouterr().out
    assert "no results heading recognised" in out and "over the whole text" in out
    assert [(r["section"], r["start"], r["end"]) for r in rows(layout.sections_csv("gamma"))] \
        == [("results", "0", str(len(NO_HEADING_AT_ALL)))]
    assert {"individualism", "infrastructure"} <= set(
        read_table(layout.coding_csv("gamma"), CODING)["code"])


def test_a_run_with_no_suggestion_says_why(corpus_dir, tmp_path, capsys):
    layout, _ = corpus_dir
    text = tmp_path / "plain.txt"
    text.write_text("HASIL\nPenelitian ini membahas anggaran daerah tahun berjalan.\n",
                    encoding="utf-8")
    assert main(["new-site", "gamma", str(text), "--data", str(layout.data), "--name", "x",
                 "--admin-level", "kota", "--unit", "y"]) == 0
    out = capsys.readouterr().out
    assert "suggestions: none, because none of the 1 sentences in abstract/results/conclusion" \
        in out


def test_with_no_terms_at_all_the_reason_names_the_missing_lexicon(corpus_dir, tmp_path):
    layout, text = corpus_dir
    layout.lexicon_csv.unlink()
    for sheet in layout.coding_dir.glob("*.csv"):
        sheet.write_text(sheet.read_text().splitlines()[0] + "\n", encoding="utf-8")
    with pytest.warns(InputWarning, match="site '(alpha|beta)' has no accepted") as caught:
        result = add_site(layout, "gamma", text, **SITE_ARGS)
    assert {"alpha", "beta"} <= {w.message.args[0].split("site '")[1].split("'")[0]
                                 for w in caught}
    assert result.n_suggestions == 0 and "no lexicon.csv" in result.why_none


# ------------------------------------------------------------------- provenance of suggestions

def _accept_all(layout: Layout, site: str) -> None:
    sheet = read_table(layout.coding_csv(site), CODING).drop(columns="_line")
    sheet["status"] = "accepted"
    sheet.to_csv(layout.coding_csv(site), index=False, lineterminator="\n")


def test_an_accepted_suggestion_keeps_its_origin(corpus_dir):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    assert set(read_table(layout.coding_csv("gamma"), CODING)["origin"]) == {"suggested"}
    _accept_all(layout, "gamma")
    coding = load_corpus(layout).coding
    gamma = coding[coding["site"] == "gamma"]
    assert len(gamma) and set(gamma["origin"]) == {"suggested"}
    assert set(coding.loc[coding["site"] != "gamma", "origin"]) == {""}  # hand coding


def test_the_evaluation_leaves_accepted_suggestions_out(corpus_dir):
    from analysis.autocode import leave_one_site_out

    layout, text = corpus_dir
    before = leave_one_site_out(load_corpus(layout))
    add_site(layout, "gamma", text, **SITE_ARGS)
    _accept_all(layout, "gamma")
    corpus = load_corpus(layout)
    assert "gamma" in set(corpus.coding["site"])
    after = leave_one_site_out(corpus)
    assert "gamma" not in set(after["held_out_site"])
    assert after.equals(before)  # neither gold nor training: as if gamma had no coding


# --------------------------------------------------------------------------- site-status

def test_site_status_lists_what_a_new_site_lacks(corpus_dir, capsys):
    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    code = main(["site-status", "gamma", "--data", str(layout.data)])
    out = capsys.readouterr().out
    assert code == 1
    assert "[metadata]" in out and "new-site's placeholder" in out
    assert "the notes do not say why: parent, province, design, methods, informants, " \
        "analysis, framework (" in out
    assert "the notes do not say why: title, authors, year, venue (" in out
    assert "[suggestions]" in out and "not yet reviewed" in out
    assert f"[memo] {layout.memo_dir / 'gamma.md'}" in out
    assert out.rstrip().endswith("thing(s) to do")


def test_site_status_says_nothing_to_do_once_everything_is_done(corpus_dir, capsys):
    from analysis.sitestatus import SITE_FIELDS, SOURCE_FIELDS

    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    _accept_all(layout, "gamma")
    for path, fields, key in ((layout.sites_csv, SITE_FIELDS, "site"),
                              (layout.sources_csv, SOURCE_FIELDS, "source_id")):
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        mine = table[key] == "gamma"
        for name in fields:
            if name != "year":
                table.loc[mine & (table[name] == ""), name] = f"{name} from the text"
        table.loc[mine, "notes"] = "Year not given in the text." if key == "source_id" else ""
        table.to_csv(path, index=False, lineterminator="\n")
    layout.memo_dir.mkdir(parents=True, exist_ok=True)
    (layout.memo_dir / "gamma.md").write_text("# Gamma\n\n## Main points\n\nx\n")
    assert main(["site-status", "gamma", "--data", str(layout.data)]) == 1
    assert "[glosses]" in capsys.readouterr().out
    from analysis.report import needed_glosses
    needed = needed_glosses(layout)
    layout.glosses_csv.write_text(csv_text(["segment_id", "gloss_en"], [
        [sid, f"gloss of {sid}"] for sid in needed.loc[needed["site"] == "gamma", "segment_id"]]),
        encoding="utf-8")
    code = main(["site-status", "gamma", "--data", str(layout.data)])
    assert (code, capsys.readouterr().out) == (0, "gamma: nothing to do\n")


RATINGS = ["minor"] * 4 + ["low"]
"""Methodological limitations, coherence, adequacy, relevance and confidence of a finding."""


def write_findings(layout: Layout, rows: list[list[str]]) -> None:
    """``data/cerqual.csv`` holding ``rows`` under the schema's header, judged_sites
    included when the rows have it."""
    from analysis.synthesis import CERQUAL

    header = (CERQUAL.names if rows and len(rows[0]) == len(CERQUAL.names)
              else CERQUAL.base_names)
    layout.cerqual_csv.write_text(csv_text(header, rows), encoding="utf-8")


def test_site_status_lists_cerqual_findings_the_site_now_contributes_to(corpus_dir):
    from analysis.sitestatus import site_status

    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    _accept_all(layout, "gamma")
    write_findings(layout, [
        ["F1", "Leaders are open.", "openness", "positive", *RATINGS, "Alpha reports it."],
        ["F2", "Infrastructure is lacking.", "infrastructure", "negative", *RATINGS,
         "Beta reports it; so does Gamma."]])
    items = site_status(layout, "gamma")
    cerqual = items[items["kind"] == "cerqual"]
    assert cerqual["what"].str.startswith("F1:").tolist() == [True]
    assert cerqual["where"].tolist() == [f"{layout.cerqual_csv}:2"]


@pytest.mark.parametrize("contributes", [True, False])
@pytest.mark.parametrize("gamma_judged", [True, False])
def test_site_status_and_the_cerqual_table_read_judged_sites_alike(corpus_dir, contributes,
                                                                  gamma_judged):
    """The site's to-do list has the finding exactly when the table marks it to review."""
    from analysis.coding import segments
    from analysis.sitestatus import site_status
    from analysis.synthesis import cerqual_summary, load_cerqual

    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    _accept_all(layout, "gamma")
    corpus = load_corpus(layout)
    coded = segments(corpus)
    gamma_codes = set(coded.query("site == 'gamma'")["canonical_code"])
    alpha = coded.query("site == 'alpha' and attribution == 'primary'")
    code, valence = alpha[alpha["canonical_code"].isin(gamma_codes) == contributes].iloc[0][
        ["canonical_code", "valence"]]

    def summary(judged: str) -> pd.DataFrame:
        write_findings(layout, [["F1", "A finding.", code, valence, *RATINGS, "Reviewed.",
                                 judged]])
        return cerqual_summary(load_cerqual(layout.cerqual_csv, corpus.codebook), coded,
                               corpus.site_ids)

    contributing = set(summary("")["contributing_sites"][0].split(";"))
    assert ("gamma" in contributing) == contributes
    judged = (contributing | {"gamma"}) if gamma_judged else (contributing - {"gamma"})
    to_review = bool(summary(";".join(sorted(judged)))["to_review"][0])
    listed = site_status(layout, "gamma").query("kind == 'cerqual'")
    assert to_review == (contributes != gamma_judged) == (len(listed) == 1)


@pytest.mark.parametrize("judged", ["alpha; gamma", "alpha;", ";alpha", "alpha;;gamma",
                                    "Alpha"])
def test_judged_sites_not_written_as_slugs_separated_by_semicolons_is_refused(corpus_dir,
                                                                               judged):
    from analysis.synthesis import load_cerqual

    layout, _ = corpus_dir
    write_findings(layout, [["F1", "A finding.", "openness", "positive", *RATINGS, "x", judged]])
    with pytest.raises(InputError) as caught:
        load_cerqual(layout.cerqual_csv, load_corpus(layout).codebook)
    message = str(caught.value)
    assert f"{layout.cerqual_csv}:2" in message and "judged_sites" in message, message
    assert "separated by ';' with no spaces" in message, message


def test_site_status_names_the_physical_line_of_a_finding_after_a_multiline_cell(corpus_dir):
    from analysis.sitestatus import site_status

    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    _accept_all(layout, "gamma")
    write_findings(layout, [
        ["F2", "Infrastructure is lacking.", "infrastructure", "negative", *RATINGS,
         "Beta reports it;\nso does Gamma."],
        ["F1", "Leaders are open.", "openness", "positive", *RATINGS, "Alpha reports it."]])
    cerqual = site_status(layout, "gamma").query("kind == 'cerqual'")
    assert cerqual["where"].tolist() == [f"{layout.cerqual_csv}:4"]  # line 3 holds F2's rest


def test_site_status_of_an_unknown_site_names_the_known_ones(corpus_dir, capsys):
    layout, _ = corpus_dir
    assert main(["site-status", "delta", "--data", str(layout.data)]) == 1
    assert "unknown site 'delta' (known: alpha, beta)" in capsys.readouterr().err


def test_new_site_help_names_every_admin_level(capsys):
    from analysis.sources import ADMIN_LEVELS

    with pytest.raises(SystemExit):
        main(["new-site", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert all(level in help_text for level in ADMIN_LEVELS)


def test_a_suggested_sentence_across_a_page_break_reads_back_with_its_form_feed(corpus_dir,
                                                                                tmp_path):
    from test_pdftext import make_pdf

    layout, _ = corpus_dir
    pdf = make_pdf(tmp_path, ["= HASIL DAN PEMBAHASAN\nKepala kantor selalu",
                              "terbuka kepada pegawai. Sarana kantor masih terbatas."],
                   running=False)
    add_site(layout, "gamma", pdf, **SITE_ARGS)
    sheet = read_table(layout.coding_csv("gamma"), CODING)
    quotes = set(sheet.loc[sheet["code"] == "openness", "quote"])
    assert quotes == {"Kepala kantor selalu\n\f\nterbuka kepada pegawai."}
    assert "gamma" in set(load_corpus(layout, accepted_only=False).coding["site"])


def test_site_status_asks_the_memo_to_explain_each_uncoded_results_paragraph(corpus_dir):
    from analysis.sitestatus import site_status

    layout, text = corpus_dir
    add_site(layout, "gamma", text, **SITE_ARGS)
    layout.memo_dir.mkdir(parents=True, exist_ok=True)
    memo = layout.memo_dir / "gamma.md"
    memo.write_text("# Gamma\n\n## Main points\n\nNothing coded yet.\n", encoding="utf-8")
    items = site_status(layout, "gamma")
    listed = items.loc[items["kind"] == "memo", "what"].tolist()
    assert listed and all(w.startswith("uncoded ") for w in listed)
    assert "uncoded results paragraph at offset" in listed[0]
    assert "('Kepala kantor memberi arahan" in listed[0]
    openings = [" ".join(w.split("('", 1)[1].split()[:3]) for w in listed]
    memo.write_text(memo.read_text() + "".join(f"\n'{o}': not coded yet.\n" for o in openings),
                    encoding="utf-8")
    items = site_status(layout, "gamma")
    assert items.loc[items["kind"] == "memo"].empty


def test_site_status_flags_exactly_the_empty_fields_the_report_shows_as_not_yet_recorded():
    from analysis.sitestatus import empty_fields
    from analysis.views import NOT_RECORDED, missing_wording
    row = {"year": "", "venue": "", "authors": "", "title": "Judul",
           "notes": "Year not given in the text. The venue is a journal whose issue we checked."}
    fields = ("title", "authors", "year", "venue")
    flagged = empty_fields(row, fields)
    assert flagged == ["authors", "venue"]  # venue is named in the notes, but not as lacking
    assert flagged == [f for f in fields
                       if not row[f] and missing_wording(f, row["notes"]) == NOT_RECORDED]
