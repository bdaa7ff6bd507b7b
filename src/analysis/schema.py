"""Table schemas and a strict CSV reader that reports file, line and column.

Why not a general schema library: the errors users need name the *physical*
line of the offending record in the file (coding sheets hold quotes that span
several lines), and that line is known only to the reader that parsed the file.
So the kit reads every input table here with the ``csv`` module, checks it
against a :class:`Schema`, and returns an all-string :class:`pandas.DataFrame`
(integers converted) with a ``_line`` column holding each record's first line.

Policy on columns: a missing required column is an error; an **unknown extra
column is an error too**, because a misspelt optional column (``memos``) would
otherwise be dropped silently. Optional columns may be absent and are then empty.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import InputError

SLUG = r"[a-z][a-z0-9_]*"


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``required``: every row must have a non-empty value. ``optional``: the column
    itself may be absent. ``kind`` is ``str`` or ``int`` (non-negative integer).
    """

    name: str
    required: bool = True
    kind: str = "str"
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    optional: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Schema:
    name: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def base_names(self) -> list[str]:
        """The columns a file must have (the optional ones left out): a writer's header."""
        return [c.name for c in self.columns if not c.optional]


def _records(path: Path):
    """Yield (first_line, fields) for each CSV record, header included."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})", line=line) from None
    if not text.strip():
        raise InputError(path, "file is empty (expected a header row)")
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, strict=True)
    prev = 0
    try:
        for fields in reader:
            yield prev + 1, fields
            prev = reader.line_num
    except csv.Error as exc:
        raise InputError(path, f"malformed CSV ({exc})", line=prev + 1) from None


def read_table(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read and check one CSV input table against ``schema``.

    Returns a DataFrame with the schema's columns (in schema order), ``int``
    columns as Python ints, every other value a string (empty when absent), and
    a ``_line`` column: the physical line where each record starts.
    """
    path = Path(path)
    records = iter(_records(path))
    _, header = next(records)
    header = [h.strip() for h in header]
    known = set(schema.names)
    for i, name in enumerate(header):
        if name not in known:
            raise InputError(path, f"unknown column '{name}' (expected columns: "
                             f"{', '.join(schema.names)})", line=1)
        if name in header[:i]:
            raise InputError(path, f"column '{name}' appears twice", line=1)
    for col in schema.columns:
        if col.name not in header and not col.optional:
            raise InputError(path, f"missing column '{col.name}' (expected columns: "
                             f"{', '.join(schema.names)})", line=1)
    rows, lines = [], []
    for line, fields in records:
        if not "".join(fields).strip():
            continue  # blank line
        if len(fields) != len(header):
            raise InputError(path, f"{len(fields)} fields, expected {len(header)} "
                             f"(as in the header)", line=line)
        rows.append(fields)
        lines.append(line)
    columns = dict(zip(header, map(list, zip(*rows)))) if rows else {}
    empty = [""] * len(rows)
    data = {c.name: columns.get(c.name, empty) for c in schema.columns}
    for col in schema.columns:
        values = data[col.name]
        distinct = set(values)
        if not _all_valid(path, col, distinct):  # the row by row check names the first bad line
            for value, line in zip(values, lines):
                _check_value(path, line, col, value)
        if col.kind == "int":
            data[col.name] = [int(v) if v != "" else None for v in values]
        elif len(distinct) < len(values):  # repeated values (codes, valences) share one string
            shared = {v: sys.intern(v) for v in distinct}
            data[col.name] = [shared[v] for v in values]
    data["_line"] = lines
    frame = pd.DataFrame(data, columns=[*schema.names, "_line"], dtype=object)
    for name in schema.unique:
        if len(set(data[name])) == len(lines):
            continue  # all distinct; else the loop names the first repeat
        seen: dict[str, int] = {}
        for value, line in zip(frame[name], lines):
            if value in seen:
                raise InputError(path, f"duplicate value '{value}' (first on line "
                                 f"{seen[value]})", line=line, column=name)
            seen[value] = line
    return frame


def records(frame: pd.DataFrame):
    """Iterate a table's rows as objects with attribute access (``row._line`` included,
    which ``DataFrame.itertuples`` would rename)."""
    from types import SimpleNamespace
    columns = list(frame.columns)
    for values in zip(*(frame[c].tolist() for c in columns)):
        yield SimpleNamespace(**dict(zip(columns, values)))


def _all_valid(path: Path, col: Column, distinct: set[str]) -> bool:
    """True when every distinct value of a column passes :func:`_check_value` (each checked
    once: codes, valences and sections repeat down a sheet)."""
    try:
        for value in distinct:
            _check_value(path, 0, col, value)
    except InputError:
        return False
    return True


def _check_value(path: Path, line: int, col: Column, value: str) -> None:
    if value == "":
        if col.required:
            raise InputError(path, "empty value (expected "
                             f"{col.hint or _expected(col)})", line=line, column=col.name)
        return
    if col.kind == "int" and not re.fullmatch(r"\d+", value):
        raise InputError(path, f"'{value}' is not a non-negative integer",
                         line=line, column=col.name)
    if col.choices and value not in col.choices:
        raise InputError(path, f"'{value}' is not allowed (expected one of: "
                         f"{', '.join(col.choices)})", line=line, column=col.name)
    if col.pattern and not re.fullmatch(col.pattern, value):
        raise InputError(path, f"'{value}' does not match the expected form "
                         f"({col.hint or col.pattern})", line=line, column=col.name)


def _expected(col: Column) -> str:
    if col.choices:
        return "one of: " + ", ".join(col.choices)
    if col.kind == "int":
        return "a non-negative integer"
    return "a value"
