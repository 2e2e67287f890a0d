"""``cotdistill variants``: list the registered variants and show what a student is trained on."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from cotdistill.cli.app import app
from cotdistill.variants import VARIANTS

variants_app = typer.Typer(help="Training variants: list them, show built examples.", no_args_is_help=True)
app.add_typer(variants_app, name="variants")


@variants_app.command("list")
def list_variants() -> None:
    """List every registered variant with its parameters."""
    table = Table("variant", "answer first", "parameters", "what the target is")
    for name in VARIANTS.names():
        cls = VARIANTS.get(name)
        table.add_row(name, "yes" if cls.answer_first else "no", ", ".join(cls.param_names()) or "-",
                      cls.description)
    Console().print(table)
