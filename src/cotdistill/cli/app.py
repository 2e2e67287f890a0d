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


def _print_version(value: bool) -> None:
    if value:
        from cotdistill import __version__

        typer.echo(f"cotdistill {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Options of ``cotdistill`` itself (before the command)."""
