"""Files: users' text files read so that every problem is one error naming the file and line; results written
atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def read_csv(path: str | Path, *, what: str = "file") -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header of a CSV file and its ``(line number, {column: value})`` rows.

    Blank lines (also before the header) are skipped; a row that spans lines (a quoted newline) is numbered by
    the line where it starts; a row with fewer values than the header lacks the last columns' keys; more values
    than columns, a file without a header or unparseable CSV is a :class:`DataError` naming file and line.
    """
    path = Path(path)
    reader = csv.reader(io.StringIO(read_text(path, what=what), newline=""))
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    except csv.Error as err:
        raise DataError(f"unparseable CSV ({err})", path=path, line=reader.line_num) from None
    if header is None:
        raise DataError("no header row (the file is empty)", path=path)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        start = reader.line_num + 1
        try:
            for row in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header):
                    raise DataError(f"{len(row) - len(header)} more value(s) than header columns", path=path,
                                    line=line)
                yield line, dict(zip(header, row))
        except csv.Error as err:
            raise DataError(f"unparseable CSV ({err})", path=path, line=reader.line_num) from None

    return header, rows()


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) beside ``path`` and rename it into place, so that a crash or a kill never leaves half
    a file. The temporary name carries the process id: two processes (torchrun ranks) never share one."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """``data`` as indented JSON (non-JSON values such as paths as their text), written atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
