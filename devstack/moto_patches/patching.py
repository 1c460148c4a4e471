"""Swap attributes of moto's classes and modules, and put the originals back."""

from __future__ import annotations

from typing import Any


class Patches:
    def __init__(self) -> None:
        self._saved: dict[tuple[Any, str], Any] = {}

    @property
    def active(self) -> bool:
        return bool(self._saved)

    def apply(self, replacements: dict[tuple[Any, str], Any]) -> None:
        """Set each `(owner, name)` to its replacement, once (a second call does nothing)."""
        if self._saved:
            return
        for (owner, name), replacement in replacements.items():
            self._saved[owner, name] = getattr(owner, name)
            setattr(owner, name, replacement)

    def original(self, owner: Any, name: str) -> Any:
        return self._saved[owner, name]

    def undo(self) -> None:
        for (owner, name), original in self._saved.items():
            setattr(owner, name, original)
        self._saved.clear()
