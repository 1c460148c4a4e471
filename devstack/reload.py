"""RELOAD=1: notice edits to the service's code, and nothing else.

Only `app.py`, `chalicelib/` and `.chalice/config.json` are watched (about a
hundred files, polled every half second), never the virtualenv, the data
folder or the images and forms a user saves in the project.
"""

from __future__ import annotations

from pathlib import Path

WATCHED_FILES = ("app.py", ".chalice/config.json")
WATCHED_TREES = ("chalicelib",)
SUFFIXES = (".py", ".json")


class SourceWatcher:
    def __init__(self, project: Path) -> None:
        self._project = project
        self._seen = self._snapshot()

    def changed(self) -> bool:
        """Whether any watched file was added, removed or modified since the last call."""
        now = self._snapshot()
        changed, self._seen = now != self._seen, now
        return changed

    def _snapshot(self) -> dict[Path, tuple[int, int]]:
        paths = [self._project / name for name in WATCHED_FILES]
        for tree in WATCHED_TREES:
            paths += [p for p in (self._project / tree).rglob("*") if p.suffix in SUFFIXES]
        found = {}
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
        return found
