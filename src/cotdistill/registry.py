"""Registries of pluggable pieces by name (tasks, variants, selectors, teacher backends, metrics).

Modelled on lm-evaluation-harness: a piece registers itself with a decorator, users refer to it by name in
configs, and an unknown name fails with the list of known ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from cotdistill.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object mapping with a decorator to add entries and helpful errors for unknown names."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is already registered")
            self._entries[name] = obj
            return obj

        return add

    def get(self, name: str, *, field: str | None = None) -> T:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise ConfigError(f"unknown {self.kind} '{name}' (known: {known})", field=field) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
