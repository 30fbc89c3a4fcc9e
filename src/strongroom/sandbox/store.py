"""The object store: every object by group/resource, namespace and name, and a change history.

Objects are plain JSON dicts that are never mutated once stored: a write stores a new dict, so
readers may hold references without copying. One global counter gives every change its
resourceVersion, and every increment is exactly one :class:`Event`, which keeps the bounded
history contiguous (watch positions are array offsets). Callers take :attr:`Store.lock` around a
read-modify-write; :attr:`Store.changed` is notified after each change.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
GroupResource = tuple[str, str]

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"


@dataclasses.dataclass(frozen=True)
class Event:
    """One change: the object after it (for DELETED, its last state) and before it."""

    rv: int
    type: str
    group_resource: GroupResource
    namespace: str
    obj: Obj
    previous: Obj | None


def key_of(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])


class Store:
    """In-memory objects with per-resource and per-namespace indexes and a watch history."""

    def __init__(self, history: int = 20000, start_rv: int = 1) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.closed = False
        self._rv = start_rv
        self._oldest = start_rv
        self._history: collections.deque[Event] = collections.deque()
        self._max_history = history
        self._objects: dict[GroupResource, dict[str, dict[str, Obj]]] = {}
        self._sorted: dict[tuple[GroupResource, str | None], list[Obj]] = {}
        self._listeners: list[Callable[[Event], None]] = []

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener(event)`` after every change, with the lock held."""
        self._listeners.append(listener)

    def get(self, gr: GroupResource, namespace: str, name: str) -> Obj | None:
        with self.lock:
            return self._objects.get(gr, {}).get(namespace, {}).get(name)

    def put(self, gr: GroupResource, obj: Obj) -> Obj:
        """Store ``obj`` (a dict the store now owns) with a new resourceVersion."""
        with self.lock:
            ns, name = key_of(obj)
            bucket = self._objects.setdefault(gr, {}).setdefault(ns, {})
            previous = bucket.get(name)
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            bucket[name] = obj
            self._record(
                Event(self._rv, ADDED if previous is None else MODIFIED, gr, ns, obj, previous)
            )
            return obj

    def remove(self, gr: GroupResource, namespace: str, name: str) -> Obj | None:
        """Remove an object; its DELETED event carries the deletion's resourceVersion."""
        with self.lock:
            bucket = self._objects.get(gr, {}).get(namespace)
            if bucket is None or name not in bucket:
                return None
            previous = bucket.pop(name)
            if not bucket:
                del self._objects[gr][namespace]
            self._rv += 1
            last = dict(previous)
            last["metadata"] = dict(previous["metadata"], resourceVersion=str(self._rv))
            self._record(Event(self._rv, DELETED, gr, namespace, last, previous))
            return last

    def _record(self, event: Event) -> None:
        self._sorted = {k: v for k, v in self._sorted.items() if k[0] != event.group_resource}
        self._history.append(event)
        while len(self._history) > self._max_history:
            dropped = self._history.popleft()
            self._oldest = dropped.rv
        for listener in self._listeners:
            listener(event)
        self.changed.notify_all()

    def items(self, gr: GroupResource, namespace: str | None) -> tuple[int, list[Obj]]:
        """The current resourceVersion and objects sorted by (namespace, name); not copies."""
        with self.lock:
            cached = self._sorted.get((gr, namespace))
            if cached is None:
                buckets = self._objects.get(gr, {})
                names = [namespace] if namespace is not None else sorted(buckets)
                cached = []
                for ns in names:
                    bucket = buckets.get(ns or "", {})
                    cached.extend(bucket[n] for n in sorted(bucket))
                self._sorted[(gr, namespace)] = cached
            return self._rv, cached

    def all_objects(self) -> list[tuple[GroupResource, str, Obj]]:
        """Every stored object with its group/resource and namespace."""
        with self.lock:
            return [
                (gr, ns, obj)
                for gr, buckets in self._objects.items()
                for ns, bucket in buckets.items()
                for obj in bucket.values()
            ]

    def count_in(self, gr: GroupResource, namespace: str) -> int:
        with self.lock:
            return len(self._objects.get(gr, {}).get(namespace, {}))

    def resources_in(self, namespace: str) -> list[GroupResource]:
        """Group/resources holding at least one object in ``namespace``."""
        with self.lock:
            return [gr for gr, b in self._objects.items() if b.get(namespace)]

    def drop_resource(self, gr: GroupResource) -> list[Obj]:
        """Remove every object of a group/resource (each as a DELETED event)."""
        with self.lock:
            removed = []
            for ns, bucket in list(self._objects.get(gr, {}).items()):
                for name in list(bucket):
                    gone = self.remove(gr, ns, name)
                    if gone is not None:
                        removed.append(gone)
            self._objects.pop(gr, None)
            return removed

    def events_after(self, rv: int) -> list[Event] | None:
        """Events with a resourceVersion above ``rv``; None if the history no longer has them."""
        with self.lock:
            if rv < self._oldest:
                return None
            start = rv - self._oldest
            if start >= len(self._history):
                return []
            return [self._history[i] for i in range(start, len(self._history))]

    @property
    def oldest_rv(self) -> int:
        with self.lock:
            return self._oldest

    def dump(self) -> dict[str, Any]:
        """A JSON-able image of every object and the counter (for persistence)."""
        with self.lock:
            entries: list[dict[str, Any]] = []
            for (group, plural), buckets in self._objects.items():
                for bucket in buckets.values():
                    entries.extend(
                        {"group": group, "resource": plural, "object": o} for o in bucket.values()
                    )
            return {"resourceVersion": self._rv, "objects": entries}

    def load(self, image: dict[str, Any]) -> None:
        """Replace the contents with a :meth:`dump` image; the history starts empty."""
        with self.lock:
            self._objects = {}
            self._sorted = {}
            self._history.clear()
            for entry in image.get("objects", []):
                obj = entry["object"]
                ns, name = key_of(obj)
                gr = (entry["group"], entry["resource"])
                self._objects.setdefault(gr, {}).setdefault(ns, {})[name] = obj
            self._rv = int(image.get("resourceVersion", self._rv))
            self._oldest = self._rv

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.changed.notify_all()
