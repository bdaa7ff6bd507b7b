"""The CSV reader checks whole columns at once for valid files, and still names the first
bad line and column of an invalid one, as a row by row check does (analysis.schema)."""

from __future__ import annotations

import pytest

from analysis.errors import InputError
from analysis.schema import Column, Schema, read_table

SCHEMA = Schema("demo", (
    Column("id", pattern=r"[a-z]+-\d+"),
    Column("n", kind="int", required=False),
    Column("colour", choices=("red", "blue")),
    Column("note", required=False),
), unique=("id",))


def write(tmp_path, body: str):
    path = tmp_path / "demo.csv"
    path.write_text("id,n,colour,note\n" + body, encoding="utf-8")
    return path


def test_a_valid_file_reads_with_types_and_physical_lines(tmp_path):
    table = read_table(write(tmp_path, 'a-1,3,red,"two\nlines"\n\nb-2,,blue,\n'), SCHEMA)
    assert table["id"].tolist() == ["a-1", "b-2"]
    assert table["n"].tolist() == [3, None]
    assert table["note"].tolist() == ["two\nlines", ""]
    assert table["_line"].tolist() == [2, 5]


def test_the_first_bad_row_of_a_column_is_named(tmp_path):
    path = write(tmp_path, "a-1,1,red,\nb-2,2,green,\nc-3,3,red,\nd-4,4,pink,\n")
    with pytest.raises(InputError, match=r"demo.csv:3: column 'colour': 'green' is not allowed"):
        read_table(path, SCHEMA)


def test_of_two_bad_columns_the_first_of_the_schema_is_named(tmp_path):
    path = write(tmp_path, "a-1,1,red,\nb-2,2,green,\nc-3,x,red,\n")
    with pytest.raises(InputError, match=r"demo.csv:4: column 'n': 'x' is not a non-negative"):
        read_table(path, SCHEMA)


def test_a_repeated_id_names_its_line_and_the_first(tmp_path):
    path = write(tmp_path, "a-1,1,red,\nb-2,2,blue,\na-1,3,red,\n")
    with pytest.raises(InputError, match=r"demo.csv:4: column 'id': duplicate value 'a-1' \(first on line 2\)"):
        read_table(path, SCHEMA)
