"""Errors the user can act on.

`InputError` carries the file, the field or row, and what was expected. The CLI prints it as one line
and exits with status 2; the Python API raises it unchanged.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad user input: names the file, the field or row, and what is expected."""

    def __init__(self, file: str | Path | None, field: str | None, message: str):
        self.file = str(file) if file is not None else None
        self.field = field
        self.message = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.field:
            where.append(self.field)
        prefix = ": ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message
