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

Policy on cells: records end at real line ends only (``\\n``, ``\\r\\n``), so a form
feed, NEL or U+2028 from a PDF extraction stays in its cell and line numbers are
those of an editor; no cell may hold a NUL character; ``int`` cells are ASCII
digits, at most :data:`MAX_INT_DIGITS` of them; patterns match ASCII classes.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.io import physical_lines, read_input_bytes

SLUG = r"[a-z][a-z0-9_]*"

MAX_INT_DIGITS = 12
"""An ``int`` cell has at most this many digits (offsets into texts of up to a terabyte):
a longer one is a mistake, and Python refuses to convert one of over 4300 digits."""


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    ``required``: every row must have a non-empty value. ``optional``: the column
    itself may be absent. ``kind`` is ``str`` or ``int`` (a non-negative integer
    written in ASCII digits, at most :data:`MAX_INT_DIGITS` of them). ``pattern`` is
    matched with ASCII classes (``\\d`` is 0-9 only).
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
    """Yield (first_line, fields) for each CSV record, header included.

    Records are split on real line ends only (``\\n``, ``\\r\\n``): a form feed, NEL or
    U+2028 inside a cell (text extracted from a PDF has them) is part of the cell, and
    line numbers are those an editor shows.
    """
    data = read_input_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not valid UTF-8 (byte {exc.start}; save the file as UTF-8)",
                         line=line) from None
    if not text.strip():
        raise InputError(path, "file is empty (expected a header row)")
    reader = csv.reader(physical_lines(text), strict=True)
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
    _refuse_nul_fields(path, 1, header, None)
    header = [h.strip() for h in header]
    known = set(schema.names)
    for i, name in enumerate(header):
        if name not in known:
            raise InputError(path, f"unknown column {quoted(name)} (expected columns: "
                             f"{', '.join(schema.names)})", line=1)
        if name in header[:i]:
            raise InputError(path, f"column '{name}' appears twice", line=1)
    for col in schema.columns:
        if col.name not in header and not col.optional:
            raise InputError(path, f"missing column '{col.name}' (expected columns: "
                             f"{', '.join(schema.names)})", line=1)
    rows, lines = [], []
    for line, fields in records:
        joined = "".join(fields)
        if not joined.strip():
            continue  # blank line
        if len(fields) != len(header):
            raise InputError(path, f"{len(fields)} fields, expected {len(header)} "
                             f"(as in the header)", line=line)
        if "\x00" in joined:
            _refuse_nul_fields(path, line, fields, header)
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
                raise InputError(path, f"duplicate value {quoted(str(value))} (first on line "
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


def _refuse_nul_fields(path: Path, line: int, fields: list[str],
                       names: list[str] | None) -> None:
    """No cell may hold a NUL character: it would be copied into every output. ``names``:
    the column names (``None`` for the header row itself)."""
    for i, value in enumerate(fields):
        at = value.find("\x00")
        if at >= 0:
            physical = line + sum(f.count("\n") for f in fields[:i]) + value.count("\n", 0, at)
            where = "the cell" if names else f"header field {i + 1}"
            raise InputError(path, f"NUL character in {where} (a binary file, or one saved "
                             "as UTF-16? Save it as UTF-8 text)", line=physical,
                             column=names[i] if names else None)


def quoted(value: str, limit: int = 60) -> str:
    """A cell value quoted for an error message, cut short when long."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[: limit - 20]!r}... ({len(value)} characters)"


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
    if value == "" or (col.required and not value.strip()):
        if col.required:
            raise InputError(path, f"{'empty value' if value == '' else 'only white space'} "
                             f"(expected {col.hint or _expected(col)})", line=line,
                             column=col.name)
        return
    if col.kind == "int":
        if not re.fullmatch(r"[0-9]+", value):
            raise InputError(path, f"{quoted(value)} is not a non-negative integer (expected "
                             "ASCII digits 0-9)", line=line, column=col.name)
        if len(value) > MAX_INT_DIGITS:
            raise InputError(path, f"'{value[:MAX_INT_DIGITS]}...' has {len(value)} digits, "
                             f"more than any offset or count needs (at most {MAX_INT_DIGITS})",
                             line=line, column=col.name)
    if col.choices and value not in col.choices:
        raise InputError(path, f"{quoted(value)} is not allowed (expected one of: "
                         f"{', '.join(col.choices)})", line=line, column=col.name)
    if col.pattern and not re.fullmatch(col.pattern, value, re.ASCII):
        raise InputError(path, f"{quoted(value)} does not match the expected form "
                         f"({col.hint or col.pattern})", line=line, column=col.name)


def _expected(col: Column) -> str:
    if col.choices:
        return "one of: " + ", ".join(col.choices)
    if col.kind == "int":
        return "a non-negative integer"
    return "a value"
