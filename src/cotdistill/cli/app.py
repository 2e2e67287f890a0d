"""The typer application; each command module adds its commands to ``app``.

The CLI only parses arguments and calls the library. User errors (:class:`CotDistillError`) print one line
on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="cotdistill",
    help="Chain-of-thought augmented distillation: teacher rationales -> trained students -> measured accuracy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
