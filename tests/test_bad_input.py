"""Bad input, class by class: every refusal is one line naming file (line, column), exit 1.

Input classes covered (one section each below):

1. An input that is not a readable file: a folder, a broken symbolic link, a file
   the user may not read, a named pipe; an output folder that is a file.
2. Cells: offsets in ASCII digits only and of bounded length; NUL characters; long
   values cut short in messages.
3. Missing and header-only files: CASP questions, a site's coding sheet, the codebook
   the other files depend on.
4. ``validate`` checks what the commands read, with their rules: cerqual.csv,
   glosses.csv, corpus.csv, segment ids across sheets; "all valid" exactly when the
   commands accept the data.
5. Paths stay inside the data folder.
6. Line ends, page breaks and byte-order marks: only real line ends split records;
   CRLF and BOM added by editors or git are named as the cause.
7. Agreement inputs: the right sheet and line, sheets of two different texts, and
   Cohen's kappa interval within [-1, 1].
8. Output cells a spreadsheet may take for formulas: the data dictionary says so.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from analysis.errors import InputError, InputWarning
from analysis.paths import Layout
from analysis.sources import load_corpus
from analysis.validation import validate
from conftest import CODING_HEADER, csv_text, run_cli, write_corpus


# --------------------------------------------------------------------------- helpers

def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def write(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(header, rows), encoding="utf-8")
    return path


def error_of(layout: Layout) -> InputError:
    with pytest.raises(InputError) as info:
        load_corpus(layout)
    assert "\n" not in str(info.value), "errors are one line"
    return info.value


def verdicts(layout: Layout) -> dict[str, str]:
    return {Path(f).relative_to(layout.data).as_posix(): v for f, v in validate(layout)}


cli = run_cli


def one_error_line(stderr: str) -> str:
    """The one ``error:`` line, last on standard error (progress lines may come before)."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr
    assert "Traceback" not in stderr
    return errors[0]


def set_checksum(layout: Layout, site: str) -> None:
    """Record the raw text's current checksum in sources.csv (as a user 'fixing' it would)."""
    lines = layout.sources_csv.read_text(encoding="utf-8").split("\n")
    digest = hashlib.sha256((layout.raw_dir / f"{site}.txt").read_bytes()).hexdigest()
    lines = [",".join([*row.split(",")[:-2], digest, row.split(",")[-1]])
             if row.startswith(f"{site},") else row for row in lines]
    layout.sources_csv.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def full(tiny) -> Layout:
    """The tiny corpus with every optional input as well: section map, lexicon, second
    coding, CASP questions and appraisal, guidance, CERQual findings, glosses."""
    text = (tiny.raw_dir / "alpha.txt").read_text(encoding="utf-8")
    write(tiny.sections_csv("alpha"), ["source_id", "section", "start", "end", "heading"],
          [["alpha", "results", 0, len(text), ""]])
    write(tiny.lexicon_csv, ["code", "language", "term", "weight", "note"],
          [["openness", "id", "terbuka", "", ""]])
    tiny.second_coding_dir.mkdir()
    (tiny.second_coding_dir / "alpha.csv").write_bytes(tiny.coding_csv("alpha").read_bytes())
    write(tiny.casp_questions_csv, ["question_no", "question"],
          [[1, "Clear aims?"], [2, "Appropriate method?"]])
    write(tiny.appraisal_dir / "alpha.csv", ["source_id", "question_no", "answer", "reason"],
          [["alpha", 1, "yes", "stated"], ["alpha", 2, "cant_tell", "not said"]])
    quote = "Pegawai bekerja secara individual"
    start = text.index(quote)
    write(tiny.guidance_csv, ["segment_id", "source_id", "start", "end", "quote", "element",
                              "code", "memo"],
          [["guide-001", "alpha", start, start + len(quote), quote, "challenge",
            "individualism", ""]])
    write(tiny.cerqual_csv, ["finding_id", "finding", "codes", "valence",
                             "methodological_limitations", "coherence", "adequacy",
                             "relevance", "confidence", "explanation"],
          [["F1", "Leaders are open", "openness", "positive", "minor", "no_or_very_minor",
            "moderate", "minor", "moderate", "two studies"]])
    write(tiny.glosses_csv, ["segment_id", "gloss_en"], [["alpha-001", "The leader is open"]])
    return tiny


def test_the_full_fixture_is_valid_file_by_file(full):
    found = verdicts(full)
    assert all(v.startswith("ok") for v in found.values()), found
    assert {"sections/alpha.csv", "lexicon.csv", "second_coding/alpha.csv",
            "casp_questions.csv", "appraisal/alpha.csv", "guidance.csv", "cerqual.csv",
            "glosses.csv", "corpus.csv", "codebook.csv", "coding/beta.csv"} <= set(found)


# --------------------------------------------------------------------------- 1. not a readable file

INPUTS = ["sources.csv", "sites.csv", "codebook.csv", "raw/alpha.txt", "coding/alpha.csv",
          "sections/alpha.csv", "lexicon.csv", "second_coding/alpha.csv",
          "casp_questions.csv", "appraisal/alpha.csv", "guidance.csv"]
"""Every input ``load_corpus`` reads (the report's own inputs are in section 4)."""


def replace_by_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("name", INPUTS)
def test_a_folder_in_place_of_an_input_is_one_error_naming_it(full, name):
    replace_by_folder(full.data / name)
    err = error_of(full)
    assert name in str(err) and "is a folder" in str(err)


@pytest.mark.parametrize("name", INPUTS + ["cerqual.csv", "glosses.csv", "corpus.csv"])
def test_validate_fails_a_folder_in_place_of_any_input_and_goes_on(full, name):
    replace_by_folder(full.data / name)
    found = verdicts(full)
    failed = {f: v for f, v in found.items() if not v.startswith("ok")}
    assert any("is a folder" in v for v in failed.values()), failed
    assert found["codebook.csv" if name != "codebook.csv" else "sites.csv"].startswith("ok")


@pytest.mark.parametrize("name", ["sources.csv", "raw/alpha.txt", "coding/alpha.csv",
                                  "sections/alpha.csv"])
def test_tables_on_a_folder_input_exits_1_with_one_line_and_no_traceback(full, name, capsys):
    replace_by_folder(full.data / name)
    status, _, err = cli(capsys, "tables", "--data", full.data, "--out", full.out)
    assert status == 1
    line = one_error_line(err)
    assert name in line and "is a folder" in line


def test_agreement_with_a_folder_as_sheet_b_is_one_line(tiny, tmp_path, capsys):
    folder = tmp_path / "B.csv"
    folder.mkdir()
    status, _, err = cli(capsys, "agreement", "--sheets", tiny.coding_csv("alpha"), folder,
                         "--data", tiny.data, "--out", tmp_path / "out.csv")
    assert status == 1
    line = one_error_line(err)
    assert str(folder) in line and "is a folder" in line


def test_a_coding_sheet_that_is_a_broken_symlink_stops_tables(tiny, capsys):
    sheet = tiny.coding_csv("beta")
    sheet.unlink()
    sheet.symlink_to(tiny.data / "nowhere.csv")
    status, _, err = cli(capsys, "tables", "--data", tiny.data, "--out", tiny.out)
    assert status == 1
    line = one_error_line(err)
    assert "beta.csv" in line and "broken symbolic link" in line
    assert not tiny.tables_dir.exists()


@pytest.mark.parametrize("name", ["guidance.csv", "lexicon.csv", "sections/alpha.csv"])
def test_an_optional_input_that_is_a_broken_symlink_is_not_skipped(full, name):
    path = full.data / name
    path.unlink()
    path.symlink_to(full.data / "gone.csv")
    err = error_of(full)
    assert name in str(err) and "broken symbolic link" in str(err)


@pytest.mark.parametrize("name", ["cerqual.csv", "glosses.csv", "coding/alpha.csv",
                                  "lexicon.csv", "corpus.csv"])
def test_an_input_that_is_a_looping_link_gets_a_verdict_and_validate_goes_on(full, name,
                                                                            capsys):
    path = full.data / name
    path.unlink()
    path.symlink_to(path.name)  # itself
    status, out, err = cli(capsys, "validate", "--data", full.data)
    assert status == 1 and "Traceback" not in err and err == "", err
    verdict = verdicts(full)[name]
    assert verdict.startswith("FAIL") and "symbolic links" in verdict, verdict
    assert "of" in out.splitlines()[-1] and "files valid" in out.splitlines()[-1]


@pytest.mark.parametrize("name, command", [("cerqual.csv", "tables"),
                                           ("glosses.csv", "report")])
def test_a_cerqual_or_gloss_file_that_is_a_broken_link_is_refused_not_read_as_none(
        full, name, command, capsys):
    path = full.data / name
    path.unlink()
    path.symlink_to(full.data / "gone.csv")
    assert verdicts(full)[name].startswith("FAIL")
    status, _, err = cli(capsys, command, "--data", full.data, "--out", full.out)
    assert status == 1
    line = one_error_line(err)
    assert name in line and "broken symbolic link" in line
    assert not full.out.exists() or not any(full.out.iterdir())  # no table, no cache entry


@pytest.mark.parametrize("folder", ["coding", "second_coding", "appraisal", "sections"])
@pytest.mark.parametrize("instead", ["a file", "a broken link"])
def test_a_folder_of_sheets_that_is_not_a_folder_is_refused_not_read_as_empty(
        full, folder, instead, capsys):
    path = full.data / folder
    shutil.rmtree(path)
    if instead == "a file":
        path.write_text("x\n", encoding="utf-8")
    else:
        path.symlink_to(full.data / "gone")
    verdict = verdicts(full)[folder]
    assert verdict.startswith("FAIL") and ("not a folder" if instead == "a file"
                                           else "broken symbolic link") in verdict, verdict
    _, out, _ = cli(capsys, "validate", "--data", full.data)
    failed = [line.split()[0] for line in out.splitlines() if " FAIL " in line]
    # the folder itself is named, never a link's target (and coding/'s sheets fail with it)
    assert failed[0] == str(path) and all(f.startswith(f"{path}/") for f in failed[1:]), failed
    status, _, err = cli(capsys, "tables", "--data", full.data, "--out", full.out)
    assert status == 1 and folder in one_error_line(err)
    assert not full.tables_dir.exists()


def test_a_folder_of_sheets_the_user_may_not_list_is_refused_naming_it(full, monkeypatch):
    real = Path.iterdir

    def iterdir(self):
        if self == full.appraisal_dir:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    verdict = verdicts(full)["appraisal"]
    assert verdict.startswith("FAIL") and "permission denied" in verdict, verdict
    err = error_of(full)
    assert Path(err.file) == full.appraisal_dir


@pytest.mark.parametrize("name", ["codebook.csv", "raw/beta.txt", "coding/beta.csv"])
def test_a_file_the_user_may_not_read_is_one_error_naming_it(tiny, monkeypatch, name):
    target = (tiny.data / name).resolve()
    real = Path.read_bytes

    def read_bytes(self):
        if self.resolve() == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    err = error_of(tiny)
    assert name in str(err) and "permission denied" in str(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode "
                    "(the simulated case above covers it)")
def test_an_unreadable_file_really_is_refused(tiny):
    tiny.codebook_csv.chmod(0)
    err = error_of(tiny)
    assert "codebook.csv" in str(err) and "permission denied" in str(err)


def test_a_named_pipe_in_place_of_an_input_is_refused_without_waiting(tiny):
    tiny.codebook_csv.unlink()
    os.mkfifo(tiny.codebook_csv)
    err = error_of(tiny)
    assert "codebook.csv" in str(err) and "not a regular file" in str(err)


def test_an_output_folder_that_is_a_file_is_one_line(tiny, capsys):
    blocker = tiny.out
    blocker.write_text("not a folder", encoding="utf-8")
    status, _, err = cli(capsys, "tables", "--data", tiny.data, "--out", blocker, "--quiet")
    assert status == 1
    assert str(blocker) in one_error_line(err)


# --------------------------------------------------------------------------- 2. cells

def set_offset(layout: Layout, site: str, row: int, column: str, value: str) -> None:
    path = layout.coding_csv(site)
    lines = path.read_text(encoding="utf-8").split("\n")
    fields = lines[row].split(",")
    fields[CODING_HEADER.index(column)] = value
    lines[row] = ",".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("value, message", [
    ("1" * 5000, "5000 digits"),
    ("1" * 13, "13 digits"),
    ("\u0661\u0662", "ASCII digits"),          # Arabic-Indic 12
    ("\uff11\uff12", "ASCII digits"),          # full-width 12
    ("-3", "ASCII digits"),
    ("1e3", "ASCII digits"),
])
def test_an_offset_must_be_a_short_run_of_ascii_digits(tiny, value, message):
    set_offset(tiny, "beta", 2, "start", value)
    err = error_of(tiny)
    assert (Path(err.file).name, err.line, err.column) == ("beta.csv", 3, "start")
    assert message in str(err)
    assert len(str(err)) < 400, "a long value is cut short in the message"


def test_a_year_in_non_ascii_digits_is_refused(tiny):
    edit(tiny.sources_csv, "Study of alpha,,,", "Study of alpha,,\u0662\u0660\u0662\u0660,")
    err = error_of(tiny)
    assert (err.line, err.column) == (2, "year")


def test_a_nul_character_in_a_memo_is_refused_naming_line_and_column(tiny):
    edit(tiny.coding_csv("alpha"), ",results,\n", ',results,"a memo\nwith a \x00 inside"\n')
    err = error_of(tiny)
    assert (Path(err.file).name, err.line, err.column) == ("alpha.csv", 3, "memo")
    assert "NUL" in str(err)


def test_a_nul_character_in_a_raw_text_is_refused(tiny):
    raw = tiny.raw_dir / "beta.txt"
    raw.write_bytes(raw.read_bytes().replace(b"Hasil", b"Ha\x00sil"))
    set_checksum(tiny, "beta")
    err = error_of(tiny)
    assert Path(err.file).name == "beta.txt" and err.line == 5 and "NUL" in str(err)


def test_a_new_site_text_with_a_nul_character_is_refused_and_nothing_written(tiny, tmp_path,
                                                                             capsys):
    text = tmp_path / "study.txt"
    text.write_bytes(b"Abstrak\n\nKepala dinas terbuka.\x00\n")
    before = sorted(p for p in tiny.data.rglob("*"))
    status, _, err = cli(capsys, "new-site", "gamma", text, "--data", tiny.data,
                         "--name", "Office", "--admin-level", "kota", "--unit", "Bagian")
    assert status == 1
    line = one_error_line(err)
    assert "study.txt:3" in line and "NUL" in line
    assert sorted(p for p in tiny.data.rglob("*")) == before


# ---------------------------------------------------------------------- 3. missing, header-only

def test_a_header_only_casp_questions_file_is_named_and_validate_goes_on(full, capsys):
    write(full.casp_questions_csv, ["question_no", "question"], [])
    err = error_of(full)
    assert Path(err.file).name == "casp_questions.csv" and "no questions" in str(err)
    found = verdicts(full)
    assert found["casp_questions.csv"].startswith("FAIL")
    assert found["appraisal/alpha.csv"] == "not checked: needs casp_questions.csv"
    assert found["cerqual.csv"].startswith("ok") and found["glosses.csv"].startswith("ok")
    status, out, _ = cli(capsys, "validate", "--data", full.data)
    assert status == 1 and f"{len(found) - 2} of {len(found)} files valid" in out


def test_appraisals_without_casp_questions_are_refused_not_dropped(full):
    full.casp_questions_csv.unlink()
    err = error_of(full)
    assert Path(err.file).name == "casp_questions.csv" and "file not found" in str(err)
    assert verdicts(full)["appraisal/alpha.csv"] == "not checked: needs casp_questions.csv"


def test_a_site_without_a_coding_sheet_is_an_error(tiny):
    tiny.coding_csv("beta").unlink()
    err = error_of(tiny)
    assert Path(err.file).name == "beta.csv" and "has no coding sheet" in str(err)
    assert verdicts(tiny)["coding/beta.csv"].startswith("FAIL")


def test_a_header_only_coding_sheet_is_valid_with_a_warning_every_command_repeats(tiny,
                                                                                  capsys):
    sheet = tiny.coding_csv("beta")
    sheet.write_text(",".join(CODING_HEADER) + "\n", encoding="utf-8")
    verdict = verdicts(tiny)["coding/beta.csv"]
    assert verdict.startswith("ok (0 segments)") and "warning: site 'beta'" in verdict
    status, _, err = cli(capsys, "tables", "--data", tiny.data, "--out", tiny.out, "--quiet")
    assert status == 0
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "beta.csv" in warnings[0] and "no accepted" in warnings[0]


def test_files_that_need_a_missing_codebook_say_so(full):
    full.codebook_csv.unlink()
    found = verdicts(full)
    assert found["codebook.csv"].startswith("FAIL") and "file not found" in found["codebook.csv"]
    for name in ("lexicon.csv", "coding/alpha.csv", "coding/beta.csv",
                 "second_coding/alpha.csv", "guidance.csv", "cerqual.csv"):
        assert found[name] == "not checked: needs codebook.csv", name
    assert found["glosses.csv"].startswith("not checked: needs coding/")


# --------------------------------------------------------------------------- 4. validate = commands

def commands_accept(layout: Layout) -> bool:
    """Do the stages accept the data? (what ``tables`` and ``report`` load before they write)"""
    from analysis import report, synthesis
    try:
        corpus = load_corpus(layout)
        synthesis.load_findings(corpus)
        report.load_corpus_meta(layout)
        report.load_glosses(layout, report._known_segment_ids(corpus))
    except InputError:
        return False
    return True


def bad_cerqual(layout):
    edit(layout.cerqual_csv, ",openness,", ",openess,")


def bad_gloss(layout):
    edit(layout.glosses_csv, "alpha-001,", "alpha-099,")


def bad_date(layout):
    edit(layout.data / "corpus.csv", "2026-11-23", "23/11/2026")


def no_corpus_meta(layout):
    (layout.data / "corpus.csv").unlink()


def duplicate_across_sheets(layout):
    edit(layout.coding_csv("beta"), "beta-002,", "alpha-002,")


def gloss_of_a_suggestion(layout):
    edit(layout.coding_csv("alpha"), ",memo\n", ",memo,status\n")
    text = layout.coding_csv("alpha").read_text(encoding="utf-8").split("\n")
    text = [text[0]] + [line + (",suggested" if line.startswith("alpha-001") else ",")
                        for line in text[1:] if line] + [""]
    layout.coding_csv("alpha").write_text("\n".join(text), encoding="utf-8")


def header_only_sheet(layout):
    layout.coding_csv("beta").write_text(",".join(CODING_HEADER) + "\n", encoding="utf-8")


CASES = {"valid": lambda layout: None, "cerqual code unknown": bad_cerqual,
         "gloss of no segment": bad_gloss, "date not ISO": bad_date,
         "no corpus.csv": no_corpus_meta, "segment id in two sheets": duplicate_across_sheets,
         "gloss of a suggestion": gloss_of_a_suggestion, "header-only sheet": header_only_sheet,
         "header-only casp questions": lambda layout: write(
             layout.casp_questions_csv, ["question_no", "question"], [])}


@pytest.mark.parametrize("case", CASES)
def test_validate_says_all_valid_exactly_when_the_commands_accept(full, case):
    CASES[case](full)
    all_ok = all(v.startswith("ok") for v in verdicts(full).values())
    if case == "header-only sheet":  # accepted, with a warning naming the site
        with pytest.warns(InputWarning, match="site 'beta' has no accepted coded segment"):
            accepted = commands_accept(full)
    else:
        accepted = commands_accept(full)
    assert all_ok == accepted
    assert all_ok == (case in ("valid", "header-only sheet"))


@pytest.mark.parametrize("name, case, message", [
    ("cerqual.csv", bad_cerqual, "'openess' is not a canonical code"),
    ("glosses.csv", bad_gloss, "unknown segment 'alpha-099'"),
    ("corpus.csv", bad_date, "is not a date"),
    ("corpus.csv", no_corpus_meta, "file not found"),
])
def test_validate_reads_the_inputs_of_the_tables_and_report_stages(full, name, case, message):
    case(full)
    verdict = verdicts(full)[name]
    assert verdict.startswith("FAIL") and message in verdict


def test_a_segment_id_in_two_sheets_fails_validate_naming_both(full):
    duplicate_across_sheets(full)
    verdict = verdicts(full)["coding/beta.csv"]
    assert verdict.startswith("FAIL") and "column 'segment_id'" in verdict
    assert "also in alpha.csv, line 3" in verdict


# ---------------------------------------------------------------------- 5. inside the data folder

@pytest.mark.parametrize("path", ["../outside/alpha.txt", "raw/../../outside/alpha.txt",
                                  "/tmp/alpha.txt"])
def test_a_raw_file_outside_the_data_folder_is_refused(tiny, path):
    outside = tiny.data.parent / "outside"
    outside.mkdir()
    (outside / "alpha.txt").write_bytes((tiny.raw_dir / "alpha.txt").read_bytes())
    edit(tiny.sources_csv, "raw/alpha.txt", path)
    err = error_of(tiny)
    assert (Path(err.file).name, err.line, err.column) == ("sources.csv", 2, "file")
    assert "outside the data folder" in str(err)


def test_a_symbolic_link_out_of_the_data_folder_is_refused(tiny):
    outside = tiny.data.parent / "elsewhere.txt"
    raw = tiny.raw_dir / "alpha.txt"
    outside.write_bytes(raw.read_bytes())
    raw.unlink()
    raw.symlink_to(outside)
    err = error_of(tiny)
    assert (err.line, err.column) == (2, "file") and "outside the data folder" in str(err)


# --------------------------------------------------------------------------- 6. line ends

PAGE_BREAK = "yang jelas.\n\x0c\nKepala"
TEXTS = {"delta": "Abstrak\n\nPimpinan terbuka kepada staf.\n\nHasil\n\nKepala bagian memberi "
                  f"arahan {PAGE_BREAK} dinas hadir\x85setiap pagi\u2028dan sore. "
                  "Sarana\u2029kantor terbatas.\n"}
SHEET = [("arahan yang jelas.\n\x0c\nKepala dinas hadir\x85setiap pagi\u2028dan sore",
          "clear_instructions", "positive", "results"),
         ("Sarana\u2029kantor terbatas", "infrastructure", "negative", "results"),
         ("Pimpinan terbuka kepada staf", "openness", "positive", "results")]
BOOK = [("openness", "", "dimension"), ("clear_instructions", "", "practice"),
        ("infrastructure", "", "barrier")]


def test_records_split_on_line_feeds_only():
    from analysis.io import physical_lines
    text = "a\x0cb\x0bc\x1cd\x85e\u2028f\u2029g\r\nh\ni"
    assert physical_lines(text) == ["a\x0cb\x0bc\x1cd\x85e\u2028f\u2029g\r\n", "h\n", "i"]
    assert physical_lines("x\n") == ["x\n"] and physical_lines("") == []


def test_a_pdftotext_text_with_page_breaks_is_coded_and_read_back(tmp_path):
    layout = write_corpus(tmp_path, TEXTS, {"delta": SHEET}, BOOK)
    corpus = load_corpus(layout)
    assert corpus.coding["quote"].tolist() == [entry[0] for entry in SHEET]
    for row in corpus.coding.itertuples():
        assert corpus.texts["delta"][row.start:row.end] == row.quote
    assert corpus.coding["_line"].tolist() == [2, 5, 6]


def test_line_numbers_after_a_page_break_are_those_of_an_editor(tmp_path):
    layout = write_corpus(tmp_path, TEXTS, {"delta": SHEET}, BOOK)
    edit(layout.coding_csv("delta"), ",openness,", ",opennes,")
    err = error_of(layout)
    assert (err.line, err.column) == (6, "code")


def multiline_corpus(tmp_path) -> Layout:
    return write_corpus(tmp_path, {"delta": TEXTS["delta"].replace("\x0c", "")},
                        {"delta": [("arahan yang jelas.\n\nKepala", "clear_instructions",
                                    "positive", "results")]}, BOOK)


def test_a_coding_sheet_saved_with_crlf_line_ends_says_so(tmp_path):
    layout = multiline_corpus(tmp_path)
    sheet = layout.coding_csv("delta")
    sheet.write_bytes(sheet.read_bytes().replace(b"\n", b"\r\n"))
    err = error_of(layout)
    assert err.column == "quote" and "CRLF" in str(err) and "dos2unix" in str(err)


@pytest.mark.parametrize("change, cause", [
    (lambda data: data.replace(b"\n", b"\r\n"), "CRLF"),
    (lambda data: b"\xef\xbb\xbf" + data, "byte-order mark"),
])
def test_a_raw_text_changed_by_an_editor_names_the_cause(tiny, change, cause):
    raw = tiny.raw_dir / "alpha.txt"
    raw.write_bytes(change(raw.read_bytes()))
    err = error_of(tiny)
    assert err.column == "sha256" and cause in str(err)
    assert "otherwise the expected text" in str(err)


@pytest.mark.parametrize("change, cause", [
    (lambda data: data.replace(b"\n", b"\r\n"), "CRLF"),
    (lambda data: b"\xef\xbb\xbf" + data, "byte-order mark"),
])
def test_a_changed_raw_text_with_its_checksum_updated_still_names_the_cause(full, change,
                                                                             cause):
    raw = full.raw_dir / "alpha.txt"
    raw.write_bytes(change(raw.read_bytes()))
    set_checksum(full, "alpha")
    err = error_of(full)                                    # the section map sees it first
    assert Path(err.file).name == "alpha.csv" and "spans end at" in str(err)
    assert cause in str(err)
    full.sections_csv("alpha").unlink()
    err = error_of(full)                                    # then the quotes
    assert err.column == "quote" and cause in str(err)


# --------------------------------------------------------------------------- 7. agreement inputs

def test_an_unknown_code_in_sheet_b_names_b_and_its_line(tiny, tmp_path, capsys):
    b = tmp_path / "B.csv"
    b.write_text(tiny.coding_csv("alpha").read_text(encoding="utf-8")
                 .replace(",individualism,", ",loneliness,"), encoding="utf-8")
    status, _, err = cli(capsys, "agreement", "--sheets", tiny.coding_csv("alpha"), b,
                         "--by", "category", "--data", tiny.data, "--out", tmp_path / "o.csv")
    assert status == 1
    assert f"{b}:3: column 'code': unknown code 'loneliness'" in one_error_line(err)


def test_sheets_of_two_different_texts_are_refused_naming_both(tiny, tmp_path, capsys):
    status, _, err = cli(capsys, "agreement", "--sheets", tiny.coding_csv("alpha"),
                         tiny.coding_csv("beta"), "--data", tiny.data,
                         "--out", tmp_path / "o.csv")
    assert status == 1
    line = one_error_line(err)
    assert "beta.csv:2: column 'source_id'" in line
    assert "codes source(s) beta" in line and "codes alpha" in line
    assert not (tmp_path / "o.csv").exists()


def test_cohen_kappa_interval_stays_within_minus_1_and_1_and_says_which_it_is(tmp_path,
                                                                              capsys):
    from analysis.agreement import agreement_table, ratings_summary, read_ratings
    pairs = [("y", "y")] * 9 + [("y", "n")] + [("n", "n")] * 10   # kappa 0.90, Wald 0.71-1.09
    path = tmp_path / "ratings.csv"
    write(path, ["unit", "coder", "value"],
          [row for i, (a, b) in enumerate(pairs) for row in ([f"u{i}", "A", a],
                                                               [f"u{i}", "B", b])])
    kappa = agreement_table(read_ratings(path), resamples=20).set_index("statistic").loc[
        "cohen_kappa"]
    assert kappa.value == pytest.approx(0.9)
    assert kappa.ci_low == pytest.approx(0.7099, abs=1e-4) and kappa.ci_high == 1.0
    assert "clipped to [-1, 1]" in kappa.note
    summary = ratings_summary(read_ratings(path), resamples=20)
    assert summary["cohen_kappa_ci"][1] == 1.0 and "Wald" in summary["cohen_kappa_interval"]
    status, out, _ = cli(capsys, "agreement", "--ratings", path, "--resamples", 20)
    assert status == 0 and "Cohen CI: asymptotic (Wald) 95 % interval" in out
    assert "1.09" not in out


# --------------------------------------------------------------------------- 8. output cells

def test_the_data_dictionary_warns_about_cells_a_spreadsheet_takes_for_formulas(tiny, capsys):
    status, _, _ = cli(capsys, "tables", "--data", tiny.data, "--out", tiny.out, "--quiet")
    readme = (tiny.tables_dir / "README.md").read_text(encoding="utf-8")
    assert status == 0
    assert all(f"`{c}`" in readme for c in "=+-@") and "formula" in readme


def test_a_judged_site_that_sites_csv_lacks_is_refused_at_its_line(full, capsys):
    rows = full.cerqual_csv.read_text(encoding="utf-8").splitlines()
    full.cerqual_csv.write_text(f"{rows[0]},judged_sites\n{rows[1]},alpha;atlantis\n",
                                encoding="utf-8")
    verdict = verdicts(full)["cerqual.csv"]
    assert verdict.startswith("FAIL") and "unknown site 'atlantis'" in verdict, verdict
    status, _, err = cli(capsys, "tables", "--data", full.data, "--out", full.out)
    line = one_error_line(err)
    assert status == 1 and "cerqual.csv:2" in line and "judged_sites" in line, line


@pytest.mark.parametrize("name, column, old", [
    ("glosses.csv", "gloss_en", "The leader is open"), ("sites.csv", "name", "Office alpha"),
    ("cerqual.csv", "explanation", "two studies")])
def test_a_required_cell_of_only_white_space_is_an_empty_value(full, name, column, old):
    edit(full.data / name, old, "   ")
    verdict = verdicts(full)[name]
    assert verdict.startswith("FAIL") and "only white space" in verdict, verdict
    assert f"column '{column}'" in verdict, verdict


def test_a_dollar_sign_in_a_code_label_prints_as_itself_in_the_figures(full, capsys):
    edit(full.codebook_csv, ",dimension,openness,", ",dimension,open$x^$ness,")
    from analysis import figures, views
    an = views.open_corpus(str(full.data), str(full.out))
    figure = figures.framework_figure(an.matrix, "dimension", names=an.names, labels=an.labels)
    svg = figures.save_svg(figure, full.out / "f.svg").read_text(encoding="utf-8")
    assert an.labels["openness"] == "open$x^$ness"
    assert "open$x^$ness" in svg.replace("&#36;", "$"), "the label, not mathtext"
