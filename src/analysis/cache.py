"""A keyed cache for a costly derived table, under ``OUT/cache/``.

A cached table is stored with the key of the inputs it was computed from; it is
served only when the key of the current inputs is the same, and recomputed (and
stored again) otherwise. A key is a SHA-256 over

* the *code version*: the source bytes of the module that computes the table and
  of every module of this package it imports, directly or not
  (:func:`code_files`), and the pandas and numpy versions;
* the *inputs*: every table the computation receives (column names, dtypes and
  :func:`pandas.util.hash_pandas_object` of the values, row by row), every text
  (its SHA-256) and every input file it reads (its bytes).

So an edit of one coding row, one lexicon term, one character of a text, one
section boundary or one line of the evaluation's code gives another key. The
cache holds one entry per table (the last one computed), written atomically.

An entry is stored only if its CSV text reads back to the same CSV text
(:func:`analysis.io.csv_text`): a table served from the cache is written
byte-identical to a fresh computation.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from analysis.io import atomic_write_text, csv_text

PACKAGE = "analysis"
FORMAT = 1
"""Version of the entry format; part of every key."""
SMALL_TABLE = 1000
"""Tables of at most this many rows enter a key value by value, larger ones row hash by row
hash (:func:`pandas.util.hash_pandas_object`, one vectorised pass)."""


def _imported_modules(path: Path) -> set[str]:
    """The modules of this package that the source file at ``path`` imports (at any depth
    of its code, lazy imports included)."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                found |= {f"{PACKAGE}.{alias.name}" for alias in node.names}
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(PACKAGE + ".")}
    return found


def _source_file(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


@lru_cache(maxsize=None)
def code_files(module: str) -> tuple[Path, ...]:
    """The source files of ``module`` and of every module of this package it imports,
    transitively, sorted."""
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _source_file(name)
        if path is None:  # a name imported from a package (a function), not a module
            continue
        seen[name] = path
        todo.extend(_imported_modules(path) - set(seen))
    return tuple(sorted(seen.values()))


def code_version(module: str) -> str:
    """SHA-256 of the source of ``module`` and the modules it imports (:func:`code_files`),
    and of the pandas and numpy versions."""
    digest = hashlib.sha256(f"pandas {pd.__version__} numpy {np.__version__}".encode())
    for path in code_files(module):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class Key:
    """A SHA-256 built from labelled parts: tables, texts, files and strings."""

    def __init__(self, label: str) -> None:
        self._digest = hashlib.sha256(f"{label} format {FORMAT}".encode())

    def _part(self, label: str, data: bytes) -> None:
        self._digest.update(f"\0{label}\0{len(data)}\0".encode())
        self._digest.update(data)

    def text(self, label: str, value: str) -> "Key":
        self._part(label, value.encode("utf-8"))
        return self

    def table(self, label: str, frame: pd.DataFrame | None) -> "Key":
        """Column names, dtypes and every value (not the index): the values themselves
        (as JSON, with their types) for a small table, a 64-bit hash of each row for a
        large one."""
        if frame is None:
            return self.text(label, "(none)")
        header = json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()])
        if len(frame) <= SMALL_TABLE:
            values = json.dumps(frame.to_numpy(dtype=object).tolist(), default=repr,
                                ensure_ascii=False).encode("utf-8")
        else:
            values = pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64).tobytes()
        self._part(label, header.encode() + b"\0" + values)
        return self

    def file(self, label: str, path: Path) -> "Key":
        """The bytes of a file, or its absence."""
        self._part(label, path.read_bytes() if path.exists() else b"\0(absent)")
        return self

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): ("int" if pd.api.types.is_integer_dtype(t) else
                     "float" if pd.api.types.is_float_dtype(t) else
                     "bool" if pd.api.types.is_bool_dtype(t) else "str")
            for c, t in frame.dtypes.items()}


def _parse(text: str, dtypes: dict[str, str]) -> pd.DataFrame:
    """A table from its CSV text, each column in its stored kind (``str`` keeps empty
    strings, ``float`` reads empty as NaN)."""
    kinds = {"int": "int64", "float": "float64", "bool": "bool", "str": str}
    return pd.read_csv(io.StringIO(text), dtype={c: kinds[k] for c, k in dtypes.items()},
                       keep_default_na=False,
                       na_values={c: [""] for c, k in dtypes.items() if k == "float"})


def load(path: Path, key: str) -> pd.DataFrame | None:
    """The table stored at ``path`` under ``key``, or ``None`` (absent, another key, or
    unreadable: a cache is never an error)."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry.get("key") != key or entry.get("format") != FORMAT:
            return None
        return _parse(entry["csv"], entry["dtypes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(path: Path, key: str, frame: pd.DataFrame) -> bool:
    """Store ``frame`` under ``key`` if its CSV text reads back unchanged; True if stored."""
    text = csv_text(frame)
    dtypes = _dtypes(frame)
    if csv_text(_parse(text, dtypes)) != text:
        return False
    atomic_write_text(path, json.dumps({"format": FORMAT, "key": key, "dtypes": dtypes,
                                        "csv": text}, ensure_ascii=False) + "\n")
    return True


def cached_table(path: Path, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The table stored at ``path`` under ``key``; else ``compute()``, stored, returned."""
    found = load(path, key)
    if found is not None:
        return found
    frame = compute()
    try:
        store(path, key, frame)
    except OSError:  # a read-only output folder: the table is still right, just not cached
        pass
    return frame
