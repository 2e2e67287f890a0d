"""``cotdistill study`` (run a grid from one YAML), ``cotdistill report`` and ``cotdistill demo``."""

from __future__ import annotations

from pathlib import Path

import typer

from cotdistill.cli.app import app
from cotdistill.cli.options import check_device, device_option
from cotdistill.errors import ConfigError


@app.command("study")
def study(
    config: Path | None = typer.Argument(None, help="Study YAML (tasks, students, variants, seeds, train, eval); "
                                                    "not needed with --status."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output directory (default: output_dir in "
                                                                     "the YAML). Rerunning resumes it."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write the report when the grid is done."),
    only: list[str] = typer.Option([], "--only", metavar="KEY=VALUE", help=(
        "Run only the cells whose task, student, variant or seed label is VALUE (repeatable: values of one key "
        "are alternatives, different keys must all match), e.g. --only task=OpenBookQA --only seed=0.")),
    keep_weights: bool = typer.Option(True, "--keep-weights/--drop-weights", help=(
        "Keep each finished cell's trained student, or delete its weight files once the cell is evaluated "
        "(results, predictions and manifest stay; `cotdistill reproduce` retrains it). For grids larger than "
        "the disk.")),
    check: bool = typer.Option(False, "--check", help=(
        "Check instead of running: resolve every task source, student and teacher endpoint, count the cells and "
        "estimate GPU-hours and disk; trains nothing, writes nothing. Exit 2 when something is wrong.")),
    status: Path | None = typer.Option(None, "--status", metavar="DIR", help=(
        "Show where the study in DIR stands instead of running: cells done, running (worker, host, since, last "
        "heartbeat), stale, left, and an ETA.")),
    workers: int = typer.Option(1, "--workers", min=1, help=(
        "Start this many worker processes on this machine, all on the one output directory (one GPU each where "
        "there are GPUs, the CPU cores split otherwise); each cell runs once.")),
    launcher: str | None = typer.Option(None, "--launcher", help=(
        "Start the workers through a scheduler instead: 'slurm' (through submitit; settings from the YAML's "
        "`slurm:` section and the --slurm-* flags).")),
    slurm_partition: str | None = typer.Option(None, "--slurm-partition", help="Slurm partition."),
    slurm_jobs: int | None = typer.Option(None, "--slurm-jobs", min=1, help="Worker jobs to submit."),
    slurm_max_parallel: int | None = typer.Option(None, "--slurm-max-parallel", min=1,
                                                  help="Most worker jobs running at once."),
    slurm_gpus: int | None = typer.Option(None, "--slurm-gpus-per-cell", min=0, help="GPUs per worker job."),
    slurm_time: int | None = typer.Option(None, "--slurm-time-limit", min=1,
                                          help="Time limit per worker job, in minutes."),
    device: str | None = device_option("every cell's evaluation, key-token scorer, local teacher and training"),
    stage: str = typer.Option("all", "--stage", metavar="[all|teach]", help=(
        "all: the whole study; teach: only the teacher phase (every task's rationales written and audited), "
        "then stop -- e.g. to stop a vLLM server and give its GPU to training before the rerun with all.")),
    lease_ttl: float = typer.Option(600.0, "--lease-ttl", min=1.0, help=(
        "Seconds without a heartbeat after which a worker's cell counts as abandoned and another worker resumes "
        "it (keep it well above the longest pause of a worker). A worker that ran on this machine and has ended "
        "is known at once, without waiting.")),
) -> None:
    """Train and evaluate every cell of a study once (finished cells are skipped), then write the report."""
    from cotdistill.study.config import load_study_config
    from cotdistill.study.runner import run_study

    if status is not None:
        _status(status, lease_ttl)
        return
    if config is None:
        raise ConfigError("give the study YAML (or --status DIR)", field="config")
    cfg = load_study_config(config, overrides={"device": check_device(device)} if device else None)
    if check:
        _check(cfg)
        return
    out = output or (Path(cfg.output_dir) if cfg.output_dir else None)
    if out is None:
        raise ConfigError("give an output directory with -o (or output_dir in the YAML)", field="-o")
    selection = _parse_selection(only, "--only")
    if stage != "all" and (launcher is not None or workers > 1):
        raise ConfigError("--stage runs in one process; start the workers after it", field="--stage")
    if launcher is not None or workers > 1:
        from cotdistill.study.workers import WorkerArgs

        args = WorkerArgs(str(config), str(out), selection, keep_weights, lease_ttl, device)
        if launcher is not None:
            _launch(cfg, args, launcher, {"partition": slurm_partition, "jobs": slurm_jobs,
                                          "max_parallel": slurm_max_parallel, "gpus_per_cell": slurm_gpus,
                                          "time_limit_min": slurm_time})
            return
        from cotdistill.study.workers import run_local_workers

        codes = run_local_workers(args, workers)
        if any(codes):
            typer.echo(f"workers exited with {codes}; their logs: {out / 'workers'}", err=True)
            raise typer.Exit(1)
    else:
        run_study(cfg, out, config_text=config.read_text(), config_file=str(config), only=selection,
                  keep_weights=keep_weights, lease_ttl=lease_ttl, stage=stage)
        if stage == "teach":
            typer.echo(f"teacher phase done: {out / 'teacher'} (audits in {out / 'audits'}); rerun without "
                       "--stage teach to train")
            return
    _finish(out, report)


def _status(directory: Path, lease_ttl: float) -> None:
    from cotdistill.study.status import study_status

    for line in study_status(directory, ttl=lease_ttl).lines():
        typer.echo(line)


def _launch(cfg, args, launcher: str, flags: dict) -> None:
    """Submit the workers to a scheduler and say where to follow them (the report: `cotdistill report` after)."""
    from cotdistill.study.grid import expand_grid, untrained_cells
    from cotdistill.study.workers import SlurmSettings, submit_slurm

    if launcher != "slurm":
        raise ConfigError(f"unknown launcher '{launcher}' (known: slurm)", field="--launcher")
    base = cfg.slurm.model_dump() if cfg.slurm is not None else {}
    settings = SlurmSettings(**{**base, **{k: v for k, v in flags.items() if v is not None}})
    jobs = submit_slurm(args, settings, len(expand_grid(cfg)) + len(untrained_cells(cfg)))
    typer.echo(f"submitted {len(jobs)} worker jobs ({jobs[0].job_id.split('_')[0]}); follow them with "
               f"`cotdistill study --status {args.out}`, then `cotdistill report {args.out}`")


def _check(cfg) -> None:
    import tempfile

    from cotdistill.study.check import check_study

    with tempfile.TemporaryDirectory(prefix="cotdistill-check-") as scratch:
        result = check_study(cfg, scratch=Path(scratch))
    for line in result.lines():
        typer.echo(line)
    if not result.ok:
        raise typer.Exit(2)


def _parse_selection(items: list[str], flag: str) -> dict[str, list[str]]:
    """``KEY=VALUE`` items of a repeatable flag, grouped by key."""
    selection: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"expected KEY=VALUE, got '{item}'", field=flag)
        selection.setdefault(key.strip(), []).append(value.strip())
    return selection


@app.command("reproduce")
def reproduce(
    cell: Path = typer.Argument(..., help="A finished cell directory of a study (OUTPUT/cells/KEY)."),
    output: Path = typer.Option(..., "-o", "--output", help="Where the rerun goes (a new study directory)."),
    device: str | None = device_option("the rerun"),
) -> None:
    """Retrain and re-evaluate one study cell from its manifest and compare its accuracy with the recorded one."""
    from cotdistill.study.reproduce import reproduce_cell

    result = reproduce_cell(cell, output, device=check_device(device) or "auto")
    for mode, (recorded, rerun) in result.accuracy.items():
        typer.echo(f"{mode}: recorded {100 * recorded:.2f}%, rerun {100 * rerun:.2f}% "
                   f"({'same' if recorded == rerun else f'differs by {100 * (rerun - recorded):+.2f} points'})")
    typer.echo(f"rerun cell: {result.rerun_dir}")
    if result.environment_changes:
        changes = "; ".join(f"{name} {recorded} -> {'missing' if here is None else here}"
                            for name, (recorded, here) in result.environment_changes.items())
        typer.echo(f"this run's environment differs from the recorded one ({changes}): a difference in accuracy may "
                   "come from it")
    if not result.identical:
        raise typer.Exit(1)


@app.command("report")
def report(
    study_dir: Path = typer.Argument(..., metavar="STUDY_DIR", help="A study's directory (the -o/--output of "
                                                                    "`cotdistill study`); the report is written "
                                                                    "into it."),
    only: list[str] = typer.Option([], "--only", metavar="KEY=VALUE", help=(
        "Report only the finished cells whose task, student, variant or seed label is VALUE (repeatable, as for "
        "`cotdistill study`), e.g. --only task=OpenBookQA.")),
    exclude: list[str] = typer.Option([], "--exclude", metavar="KEY=VALUE", help=(
        "Leave out the finished cells that match every key given (values of one key are alternatives), e.g. the "
        "seed still running in one slice: --exclude task=CommonsenseQA --exclude student=Gemma-3-270M "
        "--exclude seed=2.")),
) -> None:
    """Write the Markdown + HTML report (table with CIs and significance, plots, costs, provenance)."""
    _finish(study_dir, True, only=_parse_selection(only, "--only"), exclude=_parse_selection(exclude, "--exclude"))


@app.command("demo")
def demo(
    output: Path = typer.Option(Path("cotdistill-demo"), "-o", "--output", help="Output directory; rerunning "
                                                                               "resumes it."),
    budget: str = typer.Option("15m", "--budget", help=(
        "Wall-time budget (e.g. 15m, 900s, 1h). The demo first times this machine on a few training steps and "
        "answers, then runs the largest size of the study that fits (fewer seeds, then fewer questions) and "
        "prints that plan with its ETA before training.")),
) -> None:
    """Run the offline demo study (synthetic task, SmolLM2-135M, four variants), sized to a time budget, and
    write its report."""
    import time

    from cotdistill.study.config import load_study_config
    from cotdistill.study.demo import parse_budget, plan_demo
    from cotdistill.study.runner import run_study

    started = time.perf_counter()
    budget_seconds = parse_budget(budget)
    config = demo_config_path()
    cfg, plan = plan_demo(load_study_config(config), output, budget_seconds, started=started, echo=typer.echo)
    run_study(cfg, output, config_text=config.read_text(), config_file=f"cotdistill (packaged) {config.name}",
              expected_seconds=plan.cell_seconds)
    _finish(output, True)


def demo_config_path() -> Path:
    return Path(__file__).resolve().parents[1] / "study" / "demo.yaml"


def _finish(output: Path, write: bool, only: dict[str, list[str]] | None = None,
            exclude: dict[str, list[str]] | None = None) -> None:
    if not write:
        typer.echo(f"results: {output / 'results.csv'} (report: cotdistill report {output})")
        return
    from cotdistill.report import write_report

    files = write_report(output, only=only, exclude=exclude)
    typer.echo(f"results: {output / 'results.csv'}")
    typer.echo(f"report:  {files.markdown}")
    typer.echo(f"         {files.html}")
