"""The CLI's one vocabulary: the options several commands share, each spelled one way.

- ``-o/--output``: what the command writes (a file or a folder). Never an input: a command that reads a study
  takes it as the argument ``STUDY_DIR``.
- ``--task-path``: local file or folder of a task (omitted: the Hugging Face hub).
- ``--rationales`` / ``--rationales-format``: a teacher's rationales (store, file or palm_cqa folder) and their
  format.
- ``--config``: a YAML config of the command's stage.
- ``-n/--num-examples``: how many examples a command prints or builds; other counts are ``--num-<things>``.
- ``--limit N``: everywhere the same: a seeded random subset of N examples of the task, kept in file order
  (``task.limit``); each command's help says whose seed draws it.

A flag that sets a config key is declared once, by :meth:`ConfigFlags.option` in the command's signature: its help
is the config field's description, and :meth:`ConfigFlags.overrides` reads the values given back as dotted keys.

tests/cli/test_vocabulary.py walks every command and fails on any other spelling of these;
tests/cli/test_options.py holds each declared flag to its config field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, get_args

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from cotdistill.configbase import config_error_from_validation


def output_option(help: str, default: Any = ...) -> Any:
    """``-o/--output``: what the command writes."""
    return typer.Option(default, "-o", "--output", help=help)


def config_file_option(help: str) -> Any:
    """``--config``: a YAML config of the command's stage."""
    return typer.Option(None, "--config", help=help)


def device_option(what: str) -> Any:
    """``--device``: where the command's model runs (checked before any work: a device that is not there is a
    one-line error, exit 2)."""
    from cotdistill.models.device import DEVICE_HELP

    return typer.Option(None, "--device", help=f"Where {what} runs: {DEVICE_HELP} Default: the config's (auto).")


def check_device(setting: str | None) -> str | None:
    """``--device`` checked now, so that a missing device is answered before any model or data is loaded."""
    if setting is not None:
        from cotdistill.models.device import resolve_device

        resolve_device(setting, field="--device")
    return setting


def num_examples_option(default: int, help: str, *, min: int = 0) -> Any:
    return typer.Option(default, "-n", "--num-examples", min=min, help=help)


def choices_metavar(config: type[BaseModel], name: str) -> str:
    """``[a|b|c]``: the choices of a config field, for a flag that the config validates itself (so that its
    errors name the config key)."""
    return "[" + "|".join(get_args(field_type(config, name))) + "]"


def field_type(config: type[BaseModel], name: str) -> Any:
    """The type of a config field (e.g. its ``Literal`` of choices), so that a flag offers what the config accepts
    and ``--help`` lists the choices."""
    return config.model_fields[name].annotation


def config_field(config: type[BaseModel], key: str) -> FieldInfo:
    """The field of ``config`` at the dotted ``key`` (``train.learning_rate``), through nested configs (optional
    ones too: ``student.lora.r``); a key that names no field is a :class:`LookupError`."""
    model: type[BaseModel] | None = config
    field: FieldInfo | None = None
    for part in key.split("."):
        if model is None or part not in model.model_fields:
            raise LookupError(f"{config.__name__} has no field '{key}'")
        field = model.model_fields[part]
        model = _nested_config(field.annotation)
    assert field is not None
    return field


def _nested_config(annotation: Any) -> type[BaseModel] | None:
    """The config class a field holds (``LoraSettings`` of ``LoraSettings | None``), or None for a plain value."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def with_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (a config's raw YAML) with each dotted key of ``overrides`` set in it, the sections on the way
    created. A section given as a mapping (``--lora``: ``student.lora = {}``) keeps the keys the YAML has in it."""
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if isinstance(value, dict) and isinstance(node.get(leaf), dict):
            value = {**node[leaf], **value}
        node[leaf] = value
    return data


#: Every :class:`ConfigFlags`, for the test that holds each declared flag to its config field.
DECLARED: list[ConfigFlags] = []


class ConfigFlags:
    """The flags of one command that set keys of one config.

    Each flag is declared once, as the typer option in the command's signature (``flags.option("--lr",
    "train.learning_rate")``); its help is the config field's description (plus a note on what only the command
    line knows). The command reads the values given back with :meth:`overrides` (the dotted keys to set), and
    :attr:`flag_of_key` lets a validation error name the flag instead of the key.
    """

    def __init__(self, command: str, config: type[BaseModel]):
        self.command = command
        self.config = config
        #: Flag (its first spelling, ``--lora`` of ``--lora/--no-lora``) -> dotted config key.
        self.keys: dict[str, str] = {}
        #: Flag -> its help: the config field's description and the flag's note.
        self.helps: dict[str, str] = {}
        self._converters: dict[str, Callable[[Any], Any]] = {}
        DECLARED.append(self)

    def option(self, flag: str, key: str, *, short: str | None = None, default: Any = None, note: str = "",
               convert: Callable[[Any], Any] | None = None, **typer_options: Any) -> Any:
        """The typer option ``flag`` (``--drop-unparsed/--keep-unparsed`` for a switch; ``short``: also ``-o``)
        that sets ``key``.

        ``note`` is appended to the description (e.g. whose seed draws ``--limit``); ``convert`` turns the parsed
        value into the config's (``--bf16 true`` -> ``True``); ``typer_options`` go to :func:`typer.Option`.
        """
        description = config_field(self.config, key).description
        if not description:
            raise LookupError(f"{self.config.__name__}.{key} has no description to serve as the help of {flag}")
        name = flag.split("/")[0]
        self.keys[name] = key
        self.helps[name] = f"{description} {note}" if note else description
        if convert is not None:
            self._converters[name] = convert
        names = (short, flag) if short else (flag,)
        return typer.Option(default, *names, help=self.helps[name], **typer_options)

    @property
    def flag_of_key(self) -> dict[str, str]:
        return {key: flag for flag, key in self.keys.items()}

    def validate(self, data: dict[str, Any], overrides: Mapping[str, Any], *, source: str,
                 flag_of_key: Mapping[str, str] | None = None) -> Any:
        """The config from ``data`` (its YAML, read from ``source``) with ``overrides`` set; an error in a key a
        flag set names the flag (``flag_of_key``, default this command's), any other the key and ``source``."""
        flags = self.flag_of_key if flag_of_key is None else flag_of_key
        try:
            return self.config.model_validate(with_overrides(data, overrides))
        except ValidationError as err:
            raise config_error_from_validation(err, source=source, flags=flags, given=set(overrides)) from None

    def overrides(self, ctx: typer.Context) -> dict[str, Any]:
        """Dotted key -> value of each declared flag whose value is not None, in the command's option order."""
        values: dict[str, Any] = {}
        for param in ctx.command.params:
            flag = next((opt for opt in param.opts if opt in self.keys), None)
            value = ctx.params.get(param.name) if flag is not None else None
            if value is None:
                continue
            convert = self._converters.get(flag)
            values[self.keys[flag]] = convert(value) if convert is not None else value
        return values
