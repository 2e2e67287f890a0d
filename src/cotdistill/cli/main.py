"""Entry point of the ``cotdistill`` console script."""

from __future__ import annotations

import sys

import typer
# typer vendors its own click; its exceptions are the ones raised by the app.
from typer._click import exceptions as click_exceptions

from cotdistill.errors import CotDistillError


def _load_commands():
    # Importing a command module registers its commands on the shared app.
    from cotdistill.cli import (  # noqa: F401
        data_cmds,
        eval_cmds,
        export_cmds,
        keytoken_cmds,
        predict_cmds,
        study_cmds,
        teach_cmds,
        train_cmds,
        variant_cmds,
    )
    from cotdistill.cli.app import app

    return app


def main(argv: list[str] | None = None) -> int:
    app = _load_commands()
    try:
        # Outside standalone mode click returns a command's `typer.Exit` code instead of raising it.
        code = app(args=argv, standalone_mode=False)
    except CotDistillError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except click_exceptions.UsageError as err:
        flag = f" ({err.param.opts[0]})" if getattr(err, "param", None) is not None and err.param.opts else ""
        print(f"error{flag}: {err.format_message()}", file=sys.stderr)
        return 2
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except typer.Exit as err:
        return err.exit_code
    destroy_process_group()
    return code if isinstance(code, int) else 0


def destroy_process_group() -> None:
    """Under torchrun, tear the process group down before the interpreter exits: gloo's worker threads still
    alive at interpreter shutdown can abort a rank ("terminate called without an active exception"), which fails
    the torchrun job after its work is done. Only after success: after an error another rank may be waiting in a
    collective, and destroying the group would hang."""
    if "torch.distributed" not in sys.modules:
        return
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
