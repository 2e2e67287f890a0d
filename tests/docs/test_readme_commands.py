"""Every ``cotdistill ...`` command shown in README.md exists as written, and runs with tiny stand-ins.

The README's first code block (install and run wrappers, not ``cotdistill`` commands) is skipped. Every other
``cotdistill`` line is parsed by the real command-line parser (an option or choice the CLI does not have fails
here); with ../shared/data present the commands also run, in order, with tiny stand-ins for what would be slow:
the ``tiny`` random student, a few training steps, a few examples, the scripted ``fake`` teacher.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
import yaml

from cotdistill.cli.main import _load_commands, main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def readme_commands(text: str) -> list[list[str]]:
    """The ``cotdistill`` command lines of every ```bash block but the first, continuation lines joined."""
    commands = []
    for block in FENCE.findall(text)[1:]:
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            if line.startswith("cotdistill "):
                commands.append(shlex.split(line)[1:])
    return commands


def parse_with_the_cli(argv: list[str]) -> None:
    """Resolve the (sub)command of ``argv`` and let its parser read the options, without running it."""
    command = typer.main.get_command(_load_commands())
    parent = command.make_context("cotdistill", [], resilient_parsing=True)
    rest = list(argv)
    while hasattr(command, "commands"):
        name = rest.pop(0)
        assert name in command.commands, f"no command '{name}' in {' '.join(argv)}"
        command = command.commands[name]
        parent = command.make_context(name, rest, parent=parent) if not hasattr(command, "commands") else \
            command.make_context(name, [], parent=parent, resilient_parsing=True)


def test_the_readme_shows_commands_after_its_first_block():
    commands = readme_commands(README.read_text())
    shown = {" ".join(argv[:2]) for argv in commands}
    assert {"variants show", "train --config", "eval --student", "teach --task"} <= shown
    text = "```bash\ncotdistill demo\n```\n\n```bash\n# a comment\ncotdistill tasks show --task x \\\n  -n 2\n```\n"
    assert readme_commands(text) == [["tasks", "show", "--task", "x", "-n", "2"]]


@pytest.mark.parametrize("argv", readme_commands(README.read_text()), ids=lambda argv: " ".join(argv[:2]))
def test_every_readme_command_parses(argv):
    parse_with_the_cli(argv)


def test_the_parse_check_fails_on_an_unknown_option():
    with pytest.raises(Exception, match="No such option"):
        parse_with_the_cli(["variants", "show", "--variant", "label_only", "--task", "openbookqa", "--path", "x"])
    with pytest.raises(Exception, match="no command 'shw'"):
        parse_with_the_cli(["tasks", "shw"])


def _option(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv[:-1]):
        if arg in names:
            return argv[i + 1]
    return None


def _set_option(argv: list[str], value: str, *names: str) -> list[str]:
    """``argv`` with option ``names[0]`` (or an alias) set to ``value``, added when absent."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg in names:
            out[i + 1] = value
            return out
    return [*out, names[0], value]


def tiny_stand_in(argv: list[str], tmp: Path, trained: Path) -> list[str]:
    """``argv`` with outputs moved under ``tmp`` and slow parts replaced by tiny ones (see the module doc)."""
    out = [str(tmp / arg) if arg.startswith(("runs/", "docs/figures/")) else arg for arg in argv]
    command = out[0]
    if command == "train":
        out = _set_option(_set_option(_set_option(out, "tiny", "--student"), "2", "--max-steps"), "16", "--limit")
    if command in ("eval", "keytokens", "analyze", "teach", "tasks", "variants"):
        out = _set_option(out, "2", "--limit") if command != "variants" else out
    if command in ("eval", "analyze"):
        # Every README student is the one trained above, by a README command.
        out = [str(trained) if arg.startswith(str(tmp / "runs")) and arg.endswith("student") else arg for arg in out]
    if command == "eval" and (config := _option(out, "--config")) is not None:
        # The README's settings with short generations.
        settings = yaml.safe_load(Path(config).read_text())
        settings["eval"]["max_new_tokens"] = 4
        short = tmp / "eval-short.yaml"
        short.write_text(yaml.safe_dump(settings))
        out = _set_option(out, str(short), "--config")
    if command == "keytokens":
        out = _set_option(_set_option(out, str(trained), "--scorer"), "1", "--limit")
        out += ["--cache-dir", str(tmp / "cache"), "--selector-param", "steps=2", "--threads", "1"]
    if command == "teach":
        out = [*out, "--backend", "fake", "--quiet"]
    return out


@pytest.mark.shared
def test_every_readme_command_runs_with_tiny_stand_ins(shared_data, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the README's paths (../shared/data, configs/) are relative to the repository root
    commands = readme_commands(README.read_text())
    trained = tmp_path / "runs" / "obqa-core" / "cot_after_label" / "student"
    for argv in commands:
        run = tiny_stand_in(argv, tmp_path, trained)
        code = main(run)
        assert code == 0, f"cotdistill {' '.join(run)}: {capsys.readouterr().err}"
    assert (trained / "cotdistill.json").is_file()
