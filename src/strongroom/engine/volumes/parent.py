"""The parent snapshot's tree, read beside a new walk: what an unchanged file can reuse.

Both the walk and the parent's tree come in tree order (docs/format.md §10.4), so one pass
over each, side by side, finds a file's previous entry in constant memory.
"""

from __future__ import annotations

import collections.abc

from strongroom.engine.volumes import tree
from strongroom.engine.volumes.tree import EntryType


class Cursor:
    """Advances through a parent tree as the walk advances; see the module docstring."""

    def __init__(self, entries: collections.abc.Iterable[tree.Known]) -> None:
        self._entries = iter(entries)
        self._current: tree.Known | None = None
        self._key: tuple[tuple[int, bytes], ...] = ()
        self._done = False
        self._advance()

    def _advance(self) -> None:
        self._current = next(self._entries, None)
        if self._current is None:
            self._done = True
        else:
            self._key = tree.order_key(self._current.entry.path)

    def find(self, path: bytes) -> tree.Known | None:
        """The parent's entry (and its line) for ``path``; paths must be asked in tree order."""
        key = tree.order_key(path)
        while not self._done and self._key < key:
            self._advance()
        if not self._done and self._key == key:
            return self._current
        return None


def unchanged(now: tree.Entry, before: tree.Entry | None) -> bool:
    """Whether a file can keep its previous chunks without being read: same size, mtime,
    ctime and inode, and the previous entry carried its data itself."""
    if before is None or before.type != EntryType.FILE or before.linkto is not None:
        return False
    return (
        now.size == before.size
        and now.mtime_ns == before.mtime_ns
        and now.ctime_ns == before.ctime_ns
        and now.inode == before.inode
        and now.holes == before.holes
        and (bool(before.chunks) or not now.regions())
    )
