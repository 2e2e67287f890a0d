"""Typed configs: pydantic models with a help string on every field, loaded from YAML or flags.

Each pipeline stage defines one :class:`StageConfig` subclass. Unknown keys are rejected and every
validation error names the YAML key (``train.learning_rate``) and the file, so ``cotdistill`` can print it
as one line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cotdistill.errors import ConfigError
from cotdistill.files import read_text

C = TypeVar("C", bound="StageConfig")


class StageConfig(BaseModel):
    """Base of every config: strict keys, help text per field (``Field(description=...)``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any], *, source: str = "<config>", prefix: str = "") -> C:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise config_error_from_validation(err, source=source, prefix=prefix) from None

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, *, section: str | None = None) -> C:
        data = read_yaml(path)
        if section is not None:
            data = data.get(section, {}) or {}
        return cls.from_dict(data, source=str(path), prefix=f"{section}." if section else "")

    def resolved_hash(self, length: int = 12) -> str:
        """Stable hash of the fully resolved config (defaults included): identifies a run."""
        return config_hash(self.model_dump(mode="json"), length)

    @classmethod
    def field_help(cls) -> dict[str, str]:
        return {name: (f.description or "") for name, f in cls.model_fields.items()}


def config_hash(data: Any, length: int = 12) -> str:
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:length]


def read_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", path=path)
    try:
        data = yaml.safe_load(read_text(path, what="config file"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {getattr(err, 'problem', err)}", path=path, line=line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("top level must be a mapping of keys to values", path=path)
    return data


def yaml_key(loc: tuple[Any, ...] | list[Any]) -> str:
    """``('variants', 2, 'name')`` -> ``variants[2].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def config_error_from_validation(err: ValidationError, *, source: str, prefix: str = "",
                                 flags: Mapping[str, str] | None = None,
                                 given: Container[str] = ()) -> ConfigError:
    """The one place a pydantic :class:`ValidationError` becomes a one-line :class:`ConfigError`: the first error,
    named by its YAML key (``variants[2].name``) in ``source``, and how many more there are.

    Where a command line sets config keys, ``flags`` maps each key to its flag and ``given`` holds the keys the
    flags set: an error in a given key names the flag instead, and a missing key a flag sets says so.
    """
    first = err.errors()[0]
    key = (prefix + yaml_key(first["loc"])) if first["loc"] else prefix.rstrip(".")
    key = key or "(top level)"
    msg = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    extra = f" ({len(err.errors()) - 1} more error(s))" if len(err.errors()) > 1 else ""
    flag = (flags or {}).get(key)
    if flag is not None and first["type"] == "missing":
        return ConfigError(f"{flag} (or '{key}' in the config) is required")
    if flag is not None and key in given:
        return ConfigError(f"{flag}: {msg}{extra}")
    return ConfigError(f"key '{key}': {msg}{extra}", path=source)
