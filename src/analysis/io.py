"""Reading inputs safely; atomic, deterministic writing of outputs.

Inputs are read by :func:`read_input_bytes`, which turns every operating-system
error (a missing file, a folder, a broken symbolic link, a file it may not read)
into one :class:`~analysis.errors.InputError` naming the path, and by
:func:`physical_lines`, which splits text into records on real line ends only.

Every output is written to a temporary file in its own folder and renamed over
the target, so a failed run leaves the previous output intact and a reader never
sees half a file. CSVs are written with fixed formatting (LF line ends, no index)
so the same table gives the same bytes.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pandas as pd

from analysis.errors import InputError


def read_problem(path: Path, exc: OSError) -> str:
    """What went wrong reading ``path``, in words, for an :class:`InputError`."""
    if isinstance(exc, FileNotFoundError):
        if path.is_symlink():
            return (f"broken symbolic link (it points to {os.readlink(path)}, which does not "
                    "exist)")
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder (expected a file)"
    if isinstance(exc, PermissionError):
        return "permission denied (the file cannot be read: check its permissions)"
    return f"cannot be read ({exc.strerror or exc})"


def read_input_bytes(path: str | Path) -> bytes:
    """The bytes of an input file; any failure to read it is one :class:`InputError`
    naming the path (never an ``OSError`` traceback). A device, pipe or socket is refused
    before reading (reading a pipe would wait for ever)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise InputError(path, "not a regular file (a device, pipe or socket; expected a "
                             "file)")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, read_problem(path, exc)) from None


def physical_lines(text: str) -> list[str]:
    """``text`` split after every line feed, ends kept (``\\r\\n`` stays with its line).

    Unlike :meth:`str.splitlines`, form feed (a page break in ``pdftotext`` output),
    vertical tab, NEL, U+2028 and U+2029 are ordinary characters here: only a real
    line end starts a new line, so line numbers are those of ``grep -n`` and editors.
    """
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def refuse_nul(path: str | Path, text: str, what: str = "text") -> None:
    """Raise an :class:`InputError` naming the line of the first NUL character of ``text``
    (a binary or UTF-16 file; a NUL would be copied into every output)."""
    at = text.find("\x00")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        column = at - (text.rfind("\n", 0, at) + 1) + 1
        raise InputError(path, f"NUL character at character {column} of the line: a {what} "
                         "must not contain NUL (a binary file, or one saved as UTF-16?)",
                         line=line)


def default_mode(directory: bool = False) -> int:
    """The permissions a newly created file (or folder) gets under the current umask:
    ``mkstemp`` and ``mkdtemp`` would otherwise leave outputs private to their owner."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    return atomic_write_with(path, lambda fh: fh.write(data))


def atomic_write_with(path: str | Path, write, text: bool = False) -> Path:
    """Call ``write(handle)`` on a temporary file beside ``path``, then rename it to
    ``path``: a file object opened for bytes, or for UTF-8 text with no newline
    translation when ``text``. Nothing is left at ``path`` if ``write`` raises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text
              else os.fdopen(fd, "wb")) as fh:
            write(fh)
        os.chmod(tmp, default_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


CSV_FORMAT = {"index": False, "lineterminator": "\n", "float_format": "%.6g"}
"""The canonical CSV of a table: no index, LF line ends, floats to 6 significant digits."""


def csv_text(frame: pd.DataFrame) -> str:
    """The canonical CSV text of a table (:data:`CSV_FORMAT`)."""
    return frame.to_csv(**CSV_FORMAT)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """The canonical CSV of ``frame`` written atomically to ``path``, streamed to the file
    (the same bytes as ``csv_text(frame)`` in UTF-8, without holding the whole text and
    its encoding in memory: what sets the peak memory of ``tables`` on a large corpus)."""
    return atomic_write_with(path, lambda fh: frame.to_csv(fh, **CSV_FORMAT), text=True)


def atomic_write_all(files: dict[Path, bytes]) -> None:
    """Write every file (path -> bytes) atomically, all or nothing: if one write fails, the
    files written before it get their previous content back (or are removed)."""
    previous = {path: (path.read_bytes() if path.exists() else None) for path in files}
    done: list[Path] = []
    try:
        for path, content in files.items():
            atomic_write_bytes(path, content)
            done.append(path)
    except BaseException:
        for path in reversed(done):
            if previous[path] is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, previous[path])
        raise
