"""Typed configs: pydantic models with a help string on every field, loaded from YAML or flags.

Each pipeline stage defines one :class:`StageConfig` subclass. Unknown keys are rejected and every
validation error names the YAML key (``train.learning_rate``) and the file, so ``cotdistill`` can print it
as one line.
"""

from __future__ import annotations

import hashlib
import json
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


def config_error_from_validation(err: ValidationError, *, source: str, prefix: str = "") -> ConfigError:
    first = err.errors()[0]
    key = prefix + ".".join(str(p) for p in first["loc"]) if first["loc"] else prefix.rstrip(".")
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    extra = f" ({len(err.errors()) - 1} more error(s))" if len(err.errors()) > 1 else ""
    return ConfigError(f"key '{key}': {msg}{extra}", path=source)
