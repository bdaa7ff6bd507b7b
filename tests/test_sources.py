"""Loading and validating the corpus: every bad input is one located error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.sources import load_corpus
from analysis.validation import validate


def edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture does not contain {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def error_of(layout) -> InputError:
    with pytest.raises(InputError) as info:
        load_corpus(layout)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return info.value


def test_a_valid_corpus_loads_with_every_segment_and_its_site(tiny):
    corpus = load_corpus(tiny)
    assert sorted(corpus.coding["site"].unique()) == ["alpha", "beta"]
    assert len(corpus.coding) == 7
    for row in corpus.coding.itertuples():
        assert corpus.texts[row.source_id][row.start:row.end] == row.quote


def test_offsets_count_code_points_so_text_after_an_emoji_still_matches(tiny):
    corpus = load_corpus(tiny)
    row = corpus.coding.set_index("segment_id").loc["beta-002"]
    assert row.quote == "Sarana kantor terbatas"
    assert corpus.texts["beta"][row.start:row.end] == row.quote


def test_missing_column_names_file_header_line_and_column(tiny):
    edit(tiny.sites_csv, ",unit_studied,", ",")
    err = error_of(tiny)
    assert err.file.endswith("sites.csv") and err.line == 1
    assert "missing column 'unit_studied'" in str(err)


def test_unknown_extra_column_is_an_error_naming_it(tiny):
    edit(tiny.coding_csv("alpha"), ",memo\n", ",memos\n")
    err = error_of(tiny)
    assert "unknown column 'memos'" in str(err) and err.line == 1


def test_unknown_site_in_sources_names_row_and_column(tiny):
    edit(tiny.sources_csv, "beta,beta,", "beta,gamma,")
    err = error_of(tiny)
    assert (err.line, err.column) == (3, "site") and "unknown site 'gamma'" in str(err)


def test_coding_sheet_for_a_site_not_in_sites_csv_is_refused(tiny):
    (tiny.coding_dir / "gamma.csv").write_text(
        tiny.coding_csv("alpha").read_text(encoding="utf-8"), encoding="utf-8")
    err = error_of(tiny)
    assert err.file.endswith("gamma.csv") and "unknown site 'gamma'" in str(err)


def test_checksum_mismatch_points_at_the_sha256_column(tiny):
    raw = tiny.raw_dir / "alpha.txt"
    raw.chmod(0o644)
    raw.write_bytes(raw.read_bytes() + b" ")
    err = error_of(tiny)
    assert err.column == "sha256" and err.line == 2 and "checksum mismatch" in str(err)


def test_non_utf8_raw_file_is_refused_with_its_line(tiny):
    import hashlib
    raw = tiny.raw_dir / "beta.txt"
    data = "Baris satu\nKantor Distrik caf\xe9\n".encode("latin-1")
    raw.write_bytes(data)
    text = tiny.sources_csv.read_text(encoding="utf-8")
    old = re.search(r"raw/beta.txt,([0-9a-f]{64})", text).group(1)
    edit(tiny.sources_csv, old, hashlib.sha256(data).hexdigest())
    err = error_of(tiny)
    assert err.file.endswith("beta.txt") and err.line == 2 and "UTF-8" in str(err)


def test_duplicate_ids_report_both_lines(tiny):
    edit(tiny.coding_csv("alpha"), "alpha-002,", "alpha-001,")
    err = error_of(tiny)
    assert err.column == "segment_id" and err.line == 3 and "first on line 2" in str(err)


def test_empty_file_is_refused(tiny):
    tiny.codebook_csv.write_text("", encoding="utf-8")
    err = error_of(tiny)
    assert err.file.endswith("codebook.csv") and "empty" in str(err)


def test_quote_must_equal_the_raw_text_at_its_offsets(tiny):
    edit(tiny.coding_csv("alpha"), "Tugas sering terlambat", "Tugas selalu terlambat")
    err = error_of(tiny)
    assert err.column == "quote" and err.line == 5 and "differs from the raw text" in str(err)


def test_offsets_out_of_range_are_refused(tiny):
    lines = tiny.coding_csv("beta").read_text(encoding="utf-8").splitlines()
    fields = lines[3].split(",")
    fields[3] = "99999"
    lines[3] = ",".join(fields)
    tiny.coding_csv("beta").write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = error_of(tiny)
    assert err.column == "end" and err.line == 4 and "past the end" in str(err)


def test_start_must_be_before_end(tiny):
    lines = tiny.coding_csv("beta").read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[3] = fields[2]
    lines[1] = ",".join(fields)
    tiny.coding_csv("beta").write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = error_of(tiny)
    assert err.column == "start" and "not before end" in str(err)


def test_unknown_code_is_refused(tiny):
    edit(tiny.coding_csv("alpha"), ",timeliness,", ",punctuality,")
    err = error_of(tiny)
    assert err.column == "code" and "unknown code 'punctuality'" in str(err)


@pytest.mark.parametrize("column,old,new", [
    ("valence", ",negative,author_claim", ",neutral,author_claim"),
    ("evidence", ",author_claim,", ",hearsay,"),
    ("attribution", ",primary,", ",secondary,"),
    ("section", ",results,", ",discussion,"),
])
def test_values_outside_a_vocabulary_name_the_allowed_ones(tiny, column, old, new):
    edit(tiny.coding_csv("alpha"), old, new)
    err = error_of(tiny)
    assert err.column == column and "expected one of" in str(err)


def test_a_barrier_coded_positive_is_refused(tiny):
    edit(tiny.coding_csv("beta"), "infrastructure,negative", "infrastructure,positive")
    err = error_of(tiny)
    assert err.column == "valence" and "barrier" in str(err)


def test_site_code_must_name_a_canonical_parent_of_its_category(tiny):
    edit(tiny.codebook_csv, "alpha_open_door,openness,dimension", "alpha_open_door,openness,practice")
    err = error_of(tiny)
    assert err.column == "category"


def test_line_numbers_count_physical_lines_of_multiline_quotes(tiny):
    text = tiny.coding_csv("alpha").read_text(encoding="utf-8")
    # a quoted field spanning two physical lines before the broken row
    text = text.replace(",alpha-001 memo", "")
    lines = text.splitlines()
    lines[1] = lines[1][: lines[1].rindex(",")] + ',"a memo\nover two lines"'
    lines[2] = lines[2].replace(",individualism,", ",loneliness,")
    tiny.coding_csv("alpha").write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = error_of(tiny)
    assert err.line == 4 and err.column == "code"


def test_validate_gives_one_verdict_per_file_and_flags_only_the_bad_one(tiny):
    edit(tiny.coding_csv("beta"), ",infrastructure,", ",plumbing,")
    verdicts = dict(validate(tiny))
    bad = [f for f, v in verdicts.items() if not v.startswith("ok")]
    assert bad == [str(tiny.coding_csv("beta"))]
    assert verdicts[str(tiny.raw_dir / "alpha.txt")].startswith("ok (sha256")


def test_the_lexicon_is_loaded_with_the_other_inputs(tiny):
    tiny.lexicon_csv.write_text("code,language,term\nopenness,id,terbuka\n", encoding="utf-8")
    corpus = load_corpus(tiny)
    rows = corpus.lexicon[["code", "term", "weight"]].values.tolist()
    assert rows == [["openness", "terbuka", 1.0]]
    tiny.lexicon_csv.write_text("code,language,term\nalpha_open_door,id,pintu\n",
                                encoding="utf-8")
    err = error_of(tiny)
    assert err.file.endswith("lexicon.csv") and (err.line, err.column) == (2, "code")


def test_the_inputs_side_imports_no_later_stage():
    """sources reads input data only: no import (even inside a function) of a stage that
    itself imports sources, such as autocode (the lexicon loader lives in sources)."""
    import ast

    from analysis import sources
    tree = ast.parse(Path(sources.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    kit = {name for name in imported if name and name.startswith("analysis")}
    assert kit <= {"analysis.errors", "analysis.io", "analysis.paths", "analysis.schema"}, kit


def test_a_section_that_disagrees_with_the_section_map_names_its_row(tiny):
    from conftest import TEXTS

    text = TEXTS["alpha"]
    results = text.index("Hasil")
    (tiny.data / "sections").mkdir(exist_ok=True)
    tiny.sections_csv("alpha").write_text(
        "source_id,section,start,end,heading\n"
        f"alpha,abstract,0,{results},Abstrak\nalpha,results,{results},{len(text)},Hasil\n",
        encoding="utf-8")
    # the two abstract rows say so: the sheet loads; then the second one says results
    edit(tiny.coding_csv("alpha"), ",results,", ",abstract,", count=2)
    assert len(load_corpus(tiny).coding) == 7
    edit(tiny.coding_csv("alpha"), ",abstract,", ",results,", count=2)
    edit(tiny.coding_csv("alpha"), ",results,", ",abstract,", count=1)
    err = error_of(tiny)
    assert (err.line, err.column) == (3, "section")
    assert "'results' disagrees with the section map" in str(err) and "lies in 'abstract'" \
        in str(err)
