"""The one exception type users see: a bad input, located to file, line and column."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A user input that does not meet its schema.

    The message is one line: ``FILE:LINE: column 'COL': what is wrong (expected ...)``.
    ``line`` is the physical line in the file where the offending record starts
    (1 is the header row of a CSV); it is ``None`` when the problem is the file as a whole.
    """

    def __init__(self, file: str | Path, message: str, line: int | None = None,
                 column: str | None = None):
        self.file = str(file)
        self.line = line
        self.column = column
        self.detail = message
        where = self.file if line is None else f"{self.file}:{line}"
        what = message if column is None else f"column '{column}': {message}"
        super().__init__(f"{where}: {what}")
