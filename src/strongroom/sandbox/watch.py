"""Watch streams: events after a resourceVersion, selectors, bookmarks, timeouts.

Semantics follow the API server's watch cache:

- no ``resourceVersion`` (or ``0``): synthetic ADDED events for what exists now, then changes;
  with ``sendInitialEvents=true`` they end with a BOOKMARK annotated
  ``k8s.io/initial-events-end``;
- ``resourceVersion=N``: every change after N, or a single ERROR event (Status 410 Expired,
  "too old resource version") when the bounded history no longer reaches back to N;
- with selectors, an object that starts matching arrives as ADDED and one that stops matching
  as DELETED;
- ``allowWatchBookmarks=true``: BOOKMARK events carrying only the latest resourceVersion, every
  :data:`BOOKMARK_INTERVAL` seconds and shortly before the stream times out;
- ``timeoutSeconds``: the stream ends (cleanly) after that long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from strongroom.sandbox import cluster, objects, reads, status, store

Obj = dict[str, Any]
Write = Callable[[bytes], None]

BOOKMARK_INTERVAL = 1.0
DEFAULT_TIMEOUT = 1800.0


def _line(kind: str, obj: Obj) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


def start_rv(call: cluster.Call) -> int | None:
    """The resourceVersion to watch after, or None for "what exists now, then changes"."""
    text = call.query.get("resourceVersion", "")
    if text in ("", "0"):
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise status.bad_request(f"invalid resource version: {text!r}") from exc


class Watch:
    """One watch request, validated up front so that errors can still be plain responses."""

    def __init__(self, c: cluster.Cluster, call: cluster.Call) -> None:
        call.require("watch")
        self._cluster = c
        self._call = call
        self._rtype = call.rtype
        self._filter = reads.Filter(call.rtype, call.query)
        if call.route.name is not None:
            names = reads.Filter(call.rtype, {"fieldSelector": f"metadata.name={call.route.name}"})
            self._filter.fields = names.fields
        self._since = start_rv(call)
        self._initial_end = call.query.get("sendInitialEvents", "") == "true"
        self._bookmarks = call.query.get("allowWatchBookmarks", "") in ("true", "1")
        timeout = call.query.get("timeoutSeconds", "")
        try:
            self._timeout = float(timeout) if timeout else DEFAULT_TIMEOUT
        except ValueError as exc:
            raise status.bad_request(f"invalid timeoutSeconds: {timeout!r}") from exc

    def _visible(self, event: store.Event) -> Iterator[tuple[str, Obj]]:
        if event.group_resource != self._rtype.group_resource:
            return
        ns = self._call.route.namespace
        if ns is not None and event.namespace != ns:
            return
        now = self._filter.matches(event.obj)
        before = self._filter.matches(event.previous)
        shown = objects.with_type(event.obj, self._rtype)
        if event.type == store.DELETED:
            if before:
                yield store.DELETED, shown
        elif now and before:
            yield store.MODIFIED, shown
        elif now:
            yield store.ADDED, shown
        elif before:
            yield store.DELETED, shown

    def _bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        meta: Obj = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return _line(
            "BOOKMARK",
            {"kind": self._rtype.kind, "apiVersion": self._rtype.group_version, "metadata": meta},
        )

    def stream(self, write: Write) -> None:
        """Write events as JSON lines until the timeout, the server stops or the client goes."""
        deadline = time.monotonic() + self._timeout
        cursor = self._since
        if cursor is None:
            cursor, items = self._cluster.store.items(
                self._rtype.group_resource, self._call.route.namespace
            )
            for obj in items:
                if self._filter.matches(obj):
                    write(_line(store.ADDED, objects.with_type(obj, self._rtype)))
            if self._initial_end and self._bookmarks:
                write(self._bookmark(cursor, initial_end=True))
        elif cursor < self._cluster.store.oldest_rv:
            self._expired(write, cursor)
            return
        self._follow(write, cursor, deadline)

    def _expired(self, write: Write, rv: int) -> None:
        error = status.gone(f"too old resource version: {rv} ({self._cluster.store.oldest_rv})")
        write(_line("ERROR", error.status()))

    def _follow(self, write: Write, cursor: int, deadline: float) -> None:
        changes = self._cluster.store
        next_bookmark = time.monotonic() + BOOKMARK_INTERVAL
        final_bookmark_sent = False
        while True:
            with changes.changed:
                events = changes.events_after(cursor)
                if events == []:
                    wait = min(deadline, next_bookmark) - time.monotonic()
                    if wait > 0 and not changes.closed:
                        changes.changed.wait(wait)
                    events = changes.events_after(cursor)
            if events is None:
                self._expired(write, cursor)
                return
            for event in events:
                cursor = event.rv
                for kind, obj in self._visible(event):
                    write(_line(kind, obj))
            now = time.monotonic()
            if changes.closed or now >= deadline:
                return
            if self._bookmarks and (
                now >= next_bookmark or (deadline - now < 1.0 and not final_bookmark_sent)
            ):
                final_bookmark_sent = deadline - now < 1.0
                write(self._bookmark(cursor))
                next_bookmark = now + BOOKMARK_INTERVAL
            elif now >= next_bookmark:
                next_bookmark = now + BOOKMARK_INTERVAL
