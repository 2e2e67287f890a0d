"""Config-setting flags are declared once (cotdistill.cli.options.ConfigFlags): each one's help is its config
field's description, each one's key is a field of its config, and the values given come back as dotted keys."""

from __future__ import annotations

import functools

import pytest
import typer
import yaml

from cotdistill.cli import options
from cotdistill.cli.main import _load_commands, main
from cotdistill.cli.options import ConfigFlags, config_field, with_overrides
from cotdistill.cli.train_cmds import TRAIN_FLAGS, build_run_config
from cotdistill.train.config import TrainConfig
from cotdistill.train.run_config import TrainRunConfig


@functools.cache
def cli():
    return typer.main.get_command(_load_commands())


def click_command(path: str):
    """The click command of ``path`` (``analyze logit-lens``)."""
    command = cli()
    for name in path.split():
        command = command.commands[name]
    return command


def declared():
    _load_commands()
    return [(flags, flag, key) for flags in options.DECLARED for flag, key in flags.keys.items()]


def test_the_commands_with_config_flags_declare_them():
    commands = {flags.command for flags, _, _ in declared()}
    assert {"train", "export", "teach", "eval", "keytokens", "analyze logit-lens", "tasks show",
            "rationales import", "rationales audit", "variants show", "export-lm-eval", "predict"} <= commands


@pytest.mark.parametrize("flags,flag,key", declared(), ids=lambda x: x.command if isinstance(x, ConfigFlags) else x)
def test_a_flag_is_its_config_fields_option_and_help(flags, flag, key):
    description = config_field(flags.config, key).description
    params = [p for p in click_command(flags.command).params if flag in p.opts]
    assert len(params) == 1, f"{flags.command} has no option {flag}"
    help_text = params[0].help
    # The description, and after it only a note on what the command line adds.
    assert help_text == description or help_text.startswith(description + " "), (flag, help_text)


def test_every_limit_says_whose_seed_draws_it():
    limits = [(flags.command, flags.helps[flag]) for flags, flag, _ in declared() if flag == "--limit"]
    assert len(limits) >= 7
    for command, help_text in limits:
        assert "seeded random subset" in help_text and "Its seed is" in help_text, command


def test_a_key_that_names_no_field_fails_at_declaration(monkeypatch):
    monkeypatch.setattr(options, "DECLARED", [])
    flags = ConfigFlags("train", TrainRunConfig)
    with pytest.raises(LookupError, match="TrainRunConfig has no field 'train.learning_rat'"):
        flags.option("--lr", "train.learning_rat")
    with pytest.raises(LookupError, match="has no field 'student.lora.rank'"):
        flags.option("--lora-rank", "student.lora.rank")  # through an optional section
    with pytest.raises(LookupError):
        flags.option("--lr", "train.learning_rate.value")  # a plain value has no fields


def test_config_field_walks_nested_and_optional_sections():
    assert config_field(TrainRunConfig, "train.learning_rate") is TrainConfig.model_fields["learning_rate"]
    assert config_field(TrainRunConfig, "student.lora.r").description == "LoRA rank."
    assert config_field(TrainRunConfig, "output").description.startswith("Directory of the trained student")


def parsed(command: str, args: list[str]) -> typer.Context:
    return click_command(command).make_context(command, list(args))


def test_overrides_are_the_flags_given_as_dotted_keys():
    ctx = parsed("train", ["--lr", "0.01", "--lora-r", "4", "-o", "out", "--bf16", "False", "--limit", "5"])
    assert TRAIN_FLAGS.overrides(ctx) == {"task.limit": 5, "student.lora.r": 4, "output": "out",
                                          "train.learning_rate": 0.01, "train.bf16": False}
    assert TRAIN_FLAGS.overrides(parsed("train", [])) == {}


def test_with_overrides_keeps_a_sections_other_keys():
    data = {"student": {"model": "tiny", "lora": {"alpha": 8.0}}, "train": None}
    out = with_overrides(data, {"student.lora": {}, "train.seed": 3, "task.name": "jsonl"})
    assert out == {"student": {"model": "tiny", "lora": {"alpha": 8.0}}, "train": {"seed": 3},
                   "task": {"name": "jsonl"}}
    assert with_overrides({"student": {"lora": {"alpha": 8.0}}}, {"student.lora": None}) == {"student": {"lora": None}}


@pytest.fixture()
def run_yaml(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump({"task": {"name": "jsonl", "path": "t.jsonl"}, "output": "o", "overwrite": True,
                                    "student": {"model": "tiny", "lora": {"alpha": 8.0}}}))
    return path


@pytest.mark.parametrize("args,lora,overwrite", [
    ([], {"r": 16, "alpha": 8.0}, True),  # what the YAML says, flags absent
    (["--lora"], {"r": 16, "alpha": 8.0}, True),  # --lora keeps the YAML's LoRA settings
    (["--lora-r", "4"], {"r": 4, "alpha": 8.0}, True),
    (["--no-lora"], None, True),
    (["--no-lora", "--lora-r", "4"], {"r": 4, "alpha": 32.0}, True),  # --lora-r implies --lora
])
def test_train_flags_over_the_yaml(run_yaml, args, lora, overwrite):
    cfg = build_run_config(run_yaml, TRAIN_FLAGS.overrides(parsed("train", args)))
    got = None if cfg.student.lora is None else {k: getattr(cfg.student.lora, k) for k in lora}
    assert got == lora and cfg.overwrite is overwrite


def test_lora_r_alone_turns_lora_on():
    cfg = build_run_config(None, TRAIN_FLAGS.overrides(parsed("train", ["--task", "jsonl", "-o", "x",
                                                                        "--lora-r", "2"])))
    assert cfg.student.lora is not None and cfg.student.lora.r == 2 and cfg.overwrite is False


@pytest.mark.parametrize("argv,message", [
    (["export", "--task", "jsonl", "--label-style", "word", "-o", "OUT"], "--label-style: "),
    (["export", "--rationales", "r.jsonl", "-o", "OUT"], "--task (or 'task' in the config) is required"),
    (["train", "--task", "jsonl", "--rationales", "r.jsonl", "--rationales-format", "csv", "--label-weight", "-1",
      "-o", "OUT"], "--label-weight: "),
    (["tasks", "show", "--task", "jsonl", "--field", "stem=q"], "--field: "),
    (["variants", "show", "--variant", "label_only", "--task", "jsonl", "--param", "x"], "field '--param': expected"),
])
def test_a_bad_flag_value_is_one_line_naming_the_flag(capsys, tmp_path, argv, message):
    # (teach names the YAML key instead: tests/teacher/test_teacher_cli.py)
    argv = [str(tmp_path / "out") if arg == "OUT" else arg for arg in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
