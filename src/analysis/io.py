"""Atomic, deterministic writing of outputs.

Every output is written to a temporary file in its own folder and renamed over
the target, so a failed run leaves the previous output intact and a reader never
sees half a file. CSVs are written with fixed formatting (LF line ends, no index)
so the same table gives the same bytes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def default_mode(directory: bool = False) -> int:
    """The permissions a newly created file (or folder) gets under the current umask:
    ``mkstemp`` and ``mkdtemp`` would otherwise leave outputs private to their owner."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(frame: pd.DataFrame) -> str:
    """The canonical CSV text of a table: no index, LF line ends, floats to 6 places."""
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    return atomic_write_text(path, csv_text(frame))
