"""`changes`: what a recoding changed in the synthesis, against a git revision or old tables.

The main fixture is a temporary git repository holding a copy of the kit's data (in a
subfolder, as a project folder inside a larger repository would be). Expected changes
are worked out here from the edited coding rows, the codebook and cerqual.csv with the
csv module, not by the comparison code under test.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis import changes
from analysis.paths import ROOT, Layout
from analysis.tables import build_tables
from conftest import run_cli

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


@pytest.fixture
def cli(capsys, monkeypatch):
    """``python -m analysis ARGS`` run in this process from folder ``cwd``, git looking
    for a repository no higher than ``cwd``'s parent: (exit status, stdout, stderr)."""
    def run(*args, cwd: Path) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(cwd.parent))
        return run_cli(capsys, *args)
    return run


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def edit_row(path: Path, segment_id: str, **fields: str) -> None:
    rows = read_rows(path)
    hits = [r for r in rows if r["segment_id"] == segment_id]
    assert len(hits) == 1
    hits[0].update(fields)
    write_rows(path, rows)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository with the kit's data at ``study/data``, committed."""
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "data", root / "study" / "data")
    (root / ".gitattributes").write_text("* -text\n")  # raw texts byte for byte
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "original coding")
    return root


def codebook(data: Path) -> dict[str, dict]:
    return {r["code"]: r for r in read_rows(data / "codebook.csv")}


def canonical(book: dict, code: str) -> str:
    return book[code]["parent"] or code


def counted(row: dict) -> bool:
    return row["attribution"] == "primary" and row.get("status", "") in ("", "accepted")


def recode(data: Path):
    """Flip the valence of one Manoi row and change the code of one Mesuji row.

    Returns (valence row, code row, the code row's new code), rows as they were."""
    book = codebook(data)
    flip = next(r for r in read_rows(data / "coding" / "manoi.csv")
                if counted(r) and r["valence"] == "positive" and not book[r["code"]]["parent"]
                and book[r["code"]]["category"] in ("dimension", "practice", "outcome"))
    moved = next(r for r in read_rows(data / "coding" / "mesuji.csv")
                 if counted(r) and not book[r["code"]]["parent"]
                 and book[r["code"]]["category"] == "practice")
    new_code = next(c for c, r in book.items()
                    if not r["parent"] and r["category"] == "practice" and c != moved["code"])
    edit_row(data / "coding" / "manoi.csv", flip["segment_id"], valence="negative")
    edit_row(data / "coding" / "mesuji.csv", moved["segment_id"], code=new_code)
    return flip, moved, new_code


def things(table: pd.DataFrame, kind: str) -> set[tuple[str, str]]:
    part = table[table["kind"] == kind]
    return set(zip(part["site"], part["item"]))


def test_a_valence_and_a_code_change_report_exactly_their_segments_cells_and_findings(repo,
                                                                                     tmp_path):
    data = repo / "study" / "data"
    flip, moved, new_code = recode(data)
    status_before = git(repo, "status", "--porcelain")
    found, printed, written = changes.run(Layout(data, tmp_path / "out"), since="HEAD")

    # the two segments, and only the field each edit touched
    assert things(found, "segment") == {("manoi", flip["segment_id"]),
                                        ("mesuji", moved["segment_id"])}
    seg = found[found["kind"] == "segment"].set_index("item")
    assert seg.loc[[flip["segment_id"]], ["field", "old", "new"]].values.tolist() == [
        ["valence", "positive", "negative"]]
    assert seg.loc[[moved["segment_id"]], ["field", "old", "new"]].values.tolist() == [
        ["code", moved["code"], new_code]]

    # the matrix cells they move: the flipped row's cell, the moved row's old and new cells
    expected_cells = {("manoi", flip["code"]), ("mesuji", moved["code"]), ("mesuji", new_code)}
    assert things(found, "matrix_cell") == expected_cells
    book = codebook(data)
    before = sum(1 for r in read_rows(data / "coding" / "manoi.csv")
                 if counted(r) and canonical(book, r["code"]) == flip["code"]
                 and r["valence"] == "positive") + 1  # the flipped row was positive
    cell = found[(found["kind"] == "matrix_cell") & (found["item"] == flip["code"])
                 & (found["site"] == "manoi")].set_index("field")
    assert (cell.loc["n_positive", "old"], cell.loc["n_positive", "new"]) == (
        str(before), str(before - 1))
    assert "n_segments" not in cell.index and "segment_ids" not in cell.index

    # the CERQual findings: those resting on the flipped code, and those the moved row
    # leaves or enters (not one holding both its old and its new code)
    expected_findings = set()
    for finding in read_rows(data / "cerqual.csv"):
        codes = set(finding["codes"].split(";"))
        if flip["code"] in codes or ((moved["code"] in codes) != (new_code in codes)):
            expected_findings.add(("", finding["finding_id"]))
    assert expected_findings, "the chosen rows should move at least one finding"
    assert things(found, "cerqual") == expected_findings

    # nothing else: no code, no coverage; a shown quote only in a moved cell
    assert set(found["kind"]) <= {"matrix_cell", "cerqual", "segment", "shown_quote"}
    assert things(found, "shown_quote") <= expected_cells

    # reported most important first, written, and the working tree left as it was
    kinds = list(dict.fromkeys(found["kind"]))
    assert kinds == [k for k in changes.KINDS if k in kinds]
    assert [p.name for p in written] == ["changes.md", "changes.csv"]
    on_disk = pd.read_csv(tmp_path / "out" / "changes" / "changes.csv", dtype=str,
                          keep_default_na=False)
    assert on_disk.equals(found.astype(str))
    md = (tmp_path / "out" / "changes" / "changes.md").read_text(encoding="utf-8")
    assert md.index("## Framework-matrix cells (3)") < md.index("## CERQual findings") \
        < md.index("## Coded segments (2)")
    assert f"| manoi | {flip['segment_id']} | valence positive → negative |" in md
    assert "3 matrix cells" in printed.splitlines()[0]
    assert git(repo, "status", "--porcelain") == status_before


def test_no_change_says_so_in_one_line_and_exits_zero(repo, tmp_path, cli):
    status, out, err = cli("changes", "--since", "HEAD", "--data", repo / "study" / "data",
                           "--out", tmp_path / "out", cwd=tmp_path)
    assert status == 0, err
    assert out.splitlines() == [
        "no changes from HEAD (" + git(repo, "rev-parse", "HEAD")[:10]
        + "), study/data/ to working data, study/data/"]
    written = pd.read_csv(tmp_path / "out" / "changes" / "changes.csv")
    assert written.empty and list(written.columns) == list(changes.COLUMNS)


def test_an_old_tables_or_data_folder_gives_the_same_changes_as_the_revision(repo, tmp_path):
    data = repo / "study" / "data"
    build_tables(Layout(data, tmp_path / "before"))
    same, printed, _ = changes.run(Layout(data, tmp_path / "out"),
                                   old_dir=tmp_path / "before" / "tables")
    assert same.empty, same
    assert "codebook was not compared" in (tmp_path / "out" / "changes" /
                                           "changes.md").read_text(encoding="utf-8")
    shutil.copytree(data, tmp_path / "old_data")
    flip, moved, _ = recode(data)
    from_tables, _, _ = changes.run(Layout(data, tmp_path / "out"), old_dir=tmp_path / "before")
    from_git, _, _ = changes.run(Layout(data, tmp_path / "out2"), since="HEAD")
    from_data, _, _ = changes.run(Layout(data, tmp_path / "out3"), old_dir=tmp_path / "old_data")
    assert things(from_tables, "segment") == {("manoi", flip["segment_id"]),
                                              ("mesuji", moved["segment_id"])}
    assert from_tables.equals(from_git) and from_data.equals(from_git)


def test_a_bad_revision_is_one_line_exit_1_and_nothing_written(repo, tmp_path, cli):
    status, _, err = cli("changes", "--since", "no-such-rev", "--data", repo / "study" / "data",
                         "--out", tmp_path / "out", cwd=tmp_path)
    assert status == 1
    assert err.splitlines() == [
        "error: 'no-such-rev' is not a revision of the git repository at repo"]
    assert not (tmp_path / "out").exists()


def test_a_data_folder_outside_git_is_one_line_exit_1(tiny, tmp_path, cli):
    status, _, err = cli("changes", "--since", "HEAD", "--data", tiny.data, "--out", tiny.out,
                         cwd=tmp_path)
    assert status == 1
    [line] = err.splitlines()
    assert line.startswith("error: ") and "not inside a git repository" in line
    assert not tiny.out.exists()


def test_a_data_folder_missing_at_the_revision_is_an_error(repo, tmp_path):
    (repo / "other").mkdir()
    shutil.copytree(repo / "study" / "data", repo / "other" / "data")
    with pytest.raises(ValueError, match="'other/data' does not exist at revision 'HEAD'"):
        changes.run(Layout(repo / "other" / "data", tmp_path / "out"), since="HEAD")
    assert not (tmp_path / "out").exists()


def test_an_invalid_old_revision_is_located_at_the_revision(repo, tmp_path):
    data = repo / "study" / "data"
    sheet = data / "coding" / "langkat.csv"
    good = sheet.read_bytes()
    edit_row(sheet, "langkat-001", code="no_such_code")
    git(repo, "commit", "-qam", "bad code")
    sheet.write_bytes(good)
    with pytest.raises(ValueError, match=r"^HEAD:study/data/coding/langkat.csv:2: "
                                         r"column 'code': unknown code 'no_such_code'"):
        changes.run(Layout(data, tmp_path / "out"), since="HEAD")


def test_a_code_renamed_in_the_codebook_and_sheets_is_one_rename():
    old = pd.DataFrame({"code": ["openness", "mesuji_kesamaan", "x_child"],
                        "parent": ["", "openness", "openness"],
                        "category": ["dimension"] * 3,
                        "definition": ["Sharing information.", "Shared goals.", "Other."],
                        "label_en": ["Openness", "Shared goals", "X"]})
    new = old.copy()
    new["code"] = ["transparency", "mesuji_shared_goals", "x_child"]
    new["parent"] = ["", "transparency", "transparency"]
    new.loc[1, "definition"] = "Shared   goals."  # whitespace does not matter
    new.loc[2, "label_en"] = "Y"
    assert changes.codebook_renames(old, new) == {"openness": "transparency",
                                                  "mesuji_kesamaan": "mesuji_shared_goals"}
    rows = pd.DataFrame(changes.codebook_changes(old, new))
    assert rows[["change", "item", "field", "old", "new"]].values.tolist() == [
        ["renamed", "mesuji_shared_goals", "code", "mesuji_kesamaan", "mesuji_shared_goals"],
        ["renamed", "transparency", "code", "openness", "transparency"],
        ["changed", "mesuji_shared_goals", "definition", "Shared goals.", "Shared   goals."],
        ["changed", "x_child", "label_en", "X", "Y"],
    ]  # x_child's parent follows the rename: not reported as re-parenting


def test_a_new_definition_is_not_a_rename_but_a_removal_and_an_addition():
    old = pd.DataFrame({"code": ["a"], "parent": [""], "category": ["dimension"],
                        "definition": ["One thing."]})
    new = old.assign(code=["b"], definition=["Another thing."])
    rows = pd.DataFrame(changes.codebook_changes(old, new))
    assert sorted(zip(rows["change"], rows["item"])) == [("added", "b"), ("removed", "a")]


def test_long_text_changes_show_the_differing_middle():
    old = "word " * 40 + "kinerja pegawai" + " tail" * 40
    new = "word " * 40 + "kinerja tim" + " tail" * 40
    before, after = changes.excerpts(old, new, context=10)
    assert "pegawai" in before and "tim" in after
    assert before.startswith("…") and before.endswith("…") and len(before) < 60
