"""One CLI vocabulary: every command spells the shared concepts one way (see cotdistill.cli.options)."""

from __future__ import annotations

import pytest
import typer

from cotdistill.cli.main import _load_commands, main
from cotdistill.errors import ConfigError
from cotdistill.registry import Registry, unknown_name_message

#: Spellings that other commands once used for a concept that now has one spelling.
OLD_SPELLINGS = {"--out", "--path", "--format", "--rationale-format", "--num", "--n", "--shots", "--output-dir",
                 "--rationales-path"}
#: Parameter name -> the only option strings it may have, wherever it occurs.
CONCEPTS = {
    "output": ["-o", "--output"],
    "task_path": ["--task-path"],
    "rationales": ["--rationales"],
    "rationales_format": ["--rationales-format"],
    "config": ["--config"],
    "num_examples": ["-n", "--num-examples"],
    "limit": ["--limit"],
}
#: What a concept's option may be named, whatever the Python parameter is called.
OPTION_CONCEPT = {opt: name for name, opts in CONCEPTS.items() for opt in opts if opt.startswith("--")}


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def all_commands():
    return list(_commands(typer.main.get_command(_load_commands())))


def vocabulary_problems(commands) -> list[str]:
    problems = []
    for name, command in commands:
        for param in command.params:
            opts = list(param.opts) + list(param.secondary_opts)
            where = f"cotdistill {name} {'/'.join(opts) or param.name}"
            if param.param_type_name == "argument":
                if param.name == "output":
                    problems.append(f"{where}: an input argument named 'output' (say what it is)")
                continue
            if stray := sorted(set(opts) & OLD_SPELLINGS):
                problems.append(f"{where}: old spelling {stray}")
            concept = CONCEPTS.get(param.name) or CONCEPTS.get(next((OPTION_CONCEPT[o] for o in opts
                                                                     if o in OPTION_CONCEPT), ""))
            if concept is not None and sorted(opts) != sorted(concept):
                problems.append(f"{where}: expected {'/'.join(concept)}")
            if "--limit" in opts:
                if "seeded random subset" not in (param.help or ""):
                    problems.append(f"{where}: --limit must be the seeded subset and say so")
    return problems


def test_every_command_speaks_the_one_vocabulary():
    commands = all_commands()
    assert len(commands) >= 14
    assert vocabulary_problems(commands) == []


def test_the_walk_catches_a_stray_spelling():
    app = typer.Typer()

    @app.command("a")
    def a(out: str = typer.Option(..., "--out"), output: str = typer.Option(..., "--output"),
          num: int = typer.Option(1, "-n", "--num"), task_path: str = typer.Option(..., "--path")) -> None:
        pass

    @app.command("b")
    def b(output: str = typer.Argument(...)) -> None:
        pass

    problems = vocabulary_problems(_commands(typer.main.get_command(app)))
    assert any("--out" in p and "old spelling" in p for p in problems)
    assert any("--output: expected -o/--output" in p for p in problems)
    assert any("--num" in p for p in problems)
    assert any("--path" in p for p in problems)
    assert any("named 'output'" in p for p in problems)


def test_version(capsys):
    from cotdistill import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cotdistill {__version__}"


def test_choices_are_listed_in_help(capsys):
    assert main(["rationales", "import", "--help"]) == 0
    assert "jsonl|csv|palm_cqa" in capsys.readouterr().out.replace("\n", "").replace(" ", "").replace("│", "")


def test_a_wrong_choice_is_one_line_naming_the_flag(capsys, tmp_path):
    assert main(["eval", "--student", str(tmp_path), "--task", "jsonl", "--mode", "fast", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--mode" in err and "fast" in err


@pytest.mark.parametrize("typed,suggested", [("opnbookqa", "openbookqa"), ("cot_afterlabel", "cot_after_label")])
def test_unknown_names_suggest_the_closest(typed, suggested):
    from cotdistill.data.tasks import TASKS
    from cotdistill.variants import VARIANTS

    registry = TASKS if typed.startswith("opn") else VARIANTS
    with pytest.raises(ConfigError, match=f"did you mean '{suggested}'"):
        registry.get(typed)


def test_no_suggestion_when_nothing_is_close():
    registry: Registry[int] = Registry("thing")
    registry.register("alpha")(1)
    assert unknown_name_message("thing", "zzz", ["alpha"]) == "unknown thing 'zzz' (known: alpha)"
    with pytest.raises(ConfigError, match="unknown thing 'alph' \\(did you mean 'alpha'\\? known: alpha\\)"):
        registry.get("alph")


def test_unknown_task_on_the_command_line_suggests(capsys):
    assert main(["tasks", "show", "--task", "opnbookqa"]) == 2
    assert "did you mean 'openbookqa'" in capsys.readouterr().err
