"""User-facing errors.

Every error a user can cause by bad input is a :class:`CotDistillError`: the CLI prints its one-line message
and exits with status 2, without a traceback. The message names where the problem is (file, line, field,
YAML key or CLI flag) so the user can fix it without reading code.
"""

from __future__ import annotations

from pathlib import Path


class CotDistillError(Exception):
    """An error caused by the user's input (data, config, flags); shown as one line, exit code 2."""

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        # One line whatever the message quotes (a YAML parser's excerpt, a server's reply).
        self.reason = " ".join(part.strip() for part in message.splitlines() if part.strip())
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
        if self.field is not None:
            where += (": " if where else "") + f"field '{self.field}'"
        return f"{where}: {self.reason}" if where else self.reason


class DataError(CotDistillError):
    """A data file (task, rationales, predictions) is malformed."""


class ConfigError(CotDistillError):
    """A config (YAML or flags) is invalid."""
