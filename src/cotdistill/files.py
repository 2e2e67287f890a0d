"""Reading users' text files so that every problem is one error naming the file and line."""

from __future__ import annotations

from pathlib import Path

from cotdistill.errors import DataError


def read_text(path: str | Path, *, what: str = "file") -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark dropped); not found or not UTF-8 is a
    :class:`DataError` naming the file and the line of the first undecodable byte."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} not found", path=path)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - data.rfind(b"\n", 0, err.start)
        raise DataError(f"not UTF-8 text (byte 0x{data[err.start]:02x} at column {column}); save it as UTF-8",
                        path=path, line=line) from None
