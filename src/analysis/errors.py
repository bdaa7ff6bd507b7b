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
        self.file = one_line(str(file))
        self.line = line
        self.column = column
        self.detail = message = one_line(message)
        where = self.file if line is None else f"{self.file}:{line}"
        what = message if column is None else f"column '{column}': {message}"
        super().__init__(f"{where}: {what}")


class InputWarning(UserWarning):
    """An input that is valid but probably not what the user meant (e.g. a site whose
    coding sheet has no accepted segment). The command line prints it as one line,
    ``warning: FILE: what``, and goes on."""


_BREAKS = {ord(c): c.encode("unicode_escape").decode("ascii")
           for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(text: str) -> str:
    """Every character that some reader takes as a line break written as its escape, so
    a message stays one line whatever a file name or a quoted value holds."""
    return text.translate(_BREAKS)
