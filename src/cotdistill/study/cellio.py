"""What surrounds a running cell: its log file (everything it prints or logs) and a full disk turned into one
error that says how to go on."""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterator
from pathlib import Path

from cotdistill.errors import CotDistillError


@contextlib.contextmanager
def cell_log(path: Path) -> Iterator[None]:
    """Everything the cell prints or logs (trainer progress bars included) goes to its log file."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # transformers' logger does not propagate to the root logger; its level (warnings) is left as the user set it.
    loggers = [logging.getLogger(), logging.getLogger("transformers")]
    root_level = loggers[0].level
    loggers[0].setLevel(logging.INFO)
    for lg in loggers:
        lg.addHandler(handler)
    with path.open("a", buffering=1) as stream, contextlib.redirect_stdout(stream), \
            contextlib.redirect_stderr(stream):
        try:
            yield
        finally:
            for lg in loggers:
                lg.removeHandler(handler)
            loggers[0].setLevel(root_level)
            handler.close()


@contextlib.contextmanager
def out_of_disk_as_error(directory: Path) -> Iterator[None]:
    """Turn a full disk while a cell runs into a one-line error naming the cell and the way out.

    safetensors reports a full disk with its own exception type that carries only the OS message, hence the text
    match beside the errno check. The cell stays unfinished, so a rerun resumes it from its last checkpoint.
    """
    try:
        yield
    except Exception as exc:
        if getattr(exc, "errno", None) != errno.ENOSPC and "No space left on device" not in str(exc):
            raise
        raise CotDistillError("out of disk space while running this cell; free space (or rerun with "
                              "--drop-weights to delete each finished cell's weights) and rerun the same command: "
                              "the cell resumes from its last checkpoint", path=directory) from exc
