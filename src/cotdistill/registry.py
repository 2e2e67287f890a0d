"""Registries of pluggable pieces by name (tasks, variants, selectors, teacher backends, metrics).

Modelled on lm-evaluation-harness: a piece registers itself with a decorator, users refer to it by name in
configs, and an unknown name fails with the list of known ones (and the closest, when one is close).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from cotdistill.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object mapping with a decorator to add entries and helpful errors for unknown names."""

    def __init__(self, kind: str, entries: Iterable[tuple[str, T]] = ()):
        self.kind = kind
        self._entries: dict[str, T] = {}
        for name, obj in entries:
            self.register(name)(obj)

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
            raise ConfigError(unknown_name_message(self.kind, name, self._entries), field=field) from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown task 'opnbookqa' (did you mean 'openbookqa'? known: ...)``; no suggestion when none is close."""
    names = sorted(known)
    return f"unknown {kind} '{name}' ({did_you_mean(name, names)}known: {', '.join(names)})"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``did you mean 'openbookqa'? `` for the closest known name, or ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), sorted(known), n=1)
    return f"did you mean '{close[0]}'? " if close else ""
