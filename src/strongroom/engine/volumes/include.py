"""Restoring part of a tree: the entries under some paths, and the folders above them.

What :meth:`Include.filter` yields is itself a valid tree (docs/format.md §10.4), so it can be
placed as a whole one. A hard-linked file whose first name (the one carrying the data) is
left out while a later name is kept has its data moved to the first kept name, and the names
after it link to that one. Memory: the paths given, and the left-out first names of link
groups (files with more than one link only).
"""

from __future__ import annotations

import collections.abc

from strongroom.engine.volumes import errors, tree


class Include:
    """Entries at or below any of ``paths`` (relative, ``/``-separated), and their folders."""

    def __init__(self, paths: collections.abc.Iterable[bytes]) -> None:
        self._paths: list[bytes] = []
        for path in paths:
            path = path.rstrip(b"/")
            problem = tree.path_problem(path)
            if problem is not None:
                raise errors.IncludeError(f"include path {path!r} {problem}")
            self._paths.append(path)
        self._left_out: dict[int, tree.Entry] = {}
        self._moved: dict[int, bytes] = {}

    def wants(self, path: bytes) -> bool:
        """``path`` is at or below an include path."""
        return any(path == p or path.startswith(p + b"/") for p in self._paths)

    def _above(self, path: bytes) -> bool:
        return any(p.startswith(path + b"/") for p in self._paths)

    def filter(
        self, entries: collections.abc.Iterable[tree.Entry]
    ) -> collections.abc.Iterator[tree.Entry]:
        for entry in entries:
            if self.wants(entry.path):
                yield self._relink(entry)
            elif entry.type == tree.EntryType.DIR and self._above(entry.path):
                yield entry
            elif entry.linkgroup is not None and entry.linkto is None:
                self._left_out[entry.linkgroup] = entry

    def _relink(self, entry: tree.Entry) -> tree.Entry:
        group = entry.linkgroup
        if entry.linkto is None or group is None:
            return entry
        if group in self._moved:
            return entry._replace(linkto=self._moved[group])
        first = self._left_out.pop(group, None)
        if first is None:
            return entry
        self._moved[group] = entry.path
        return entry._replace(linkto=None, size=first.size, chunks=first.chunks, holes=first.holes)
