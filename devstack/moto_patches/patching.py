"""Swap attributes of moto's classes and modules, and put the originals back."""

from __future__ import annotations

from typing import Any

_ABSENT = object()  # the attribute was inherited, not set on the owner itself


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
            getattr(owner, name)  # fails now if moto no longer has it
            self._saved[owner, name] = vars(owner).get(name, _ABSENT)
            setattr(owner, name, replacement)

    def original(self, owner: Any, name: str) -> Any:
        """What `owner.name` was: the owner's own attribute (a classmethod stays one), or
        the inherited one."""
        saved = self._saved[owner, name]
        if saved is _ABSENT:
            for base in owner.__mro__[1:]:
                if name in vars(base):
                    return vars(base)[name]
            raise AttributeError(name)
        return saved

    def undo(self) -> None:
        for (owner, name), original in self._saved.items():
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._saved.clear()
