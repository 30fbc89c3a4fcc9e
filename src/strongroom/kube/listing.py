"""List many resources concurrently, yielding pages as they arrive, with bounded memory.

:func:`list_many` runs ``workers`` threads over a queue of :class:`ListRequest` s. Pages go
through a queue of at most ``max_pending`` pages, so at most ``max_pending + workers`` pages
are held at once however large the cluster is. A request that fails with a
:class:`~strongroom.kube.errors.KubeError` yields a :class:`ListFailure` and the others go on
(Velero logs and skips a resource it cannot list); any other exception is re-raised.
Abandoning the iterator stops the workers after their current page.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Protocol

from strongroom.kube import bodies, discovery, errors


@dataclasses.dataclass(frozen=True)
class ListRequest:
    """One list to run: a resource, optionally in one namespace, with selectors."""

    resource: discovery.APIResource
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None


@dataclasses.dataclass(frozen=True)
class ListFailure:
    """A list that failed; pages it yielded before failing were already delivered."""

    request: ListRequest
    error: errors.KubeError


class PageLister(Protocol):
    """What :func:`list_many` needs from a client."""

    def list_pages(
        self,
        resource: discovery.APIResource | str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> Iterator[bodies.ListPage]:
        """Pages of one list, following continue tokens."""


@dataclasses.dataclass(frozen=True)
class _Done:
    pass


@dataclasses.dataclass(frozen=True)
class _Crash:
    error: BaseException


def list_many(
    lister: PageLister,
    requests: Iterable[ListRequest],
    *,
    workers: int = 4,
    max_pending: int = 8,
    limit: int = 500,
) -> Iterator[bodies.ListPage | ListFailure]:
    """Pages (and failures) of every request, in completion order."""
    todo: queue.SimpleQueue[ListRequest] = queue.SimpleQueue()
    count = 0
    for req in requests:
        todo.put(req)
        count += 1
    if count == 0:
        return
    out: queue.Queue[bodies.ListPage | ListFailure | _Done | _Crash] = queue.Queue(max_pending)
    stop = threading.Event()
    n_workers = max(1, min(workers, count))
    threads = [
        threading.Thread(
            target=_work, args=(lister, todo, out, stop, limit), name=f"kube-list-{i}", daemon=True
        )
        for i in range(n_workers)
    ]
    for thread in threads:
        thread.start()
    try:
        finished = 0
        while finished < n_workers:
            item = out.get()
            if isinstance(item, _Done):
                finished += 1
            elif isinstance(item, _Crash):
                raise item.error
            else:
                yield item
    finally:
        stop.set()
        _drain(out, threads)


def _work(
    lister: PageLister,
    todo: queue.SimpleQueue[ListRequest],
    out: queue.Queue[bodies.ListPage | ListFailure | _Done | _Crash],
    stop: threading.Event,
    limit: int,
) -> None:
    try:
        while not stop.is_set():
            try:
                req = todo.get_nowait()
            except queue.Empty:
                break
            try:
                for page in lister.list_pages(
                    req.resource,
                    req.namespace,
                    label_selector=req.label_selector,
                    field_selector=req.field_selector,
                    limit=limit,
                ):
                    _put(out, page, stop)
                    if stop.is_set():
                        return
            except errors.KubeError as exc:
                _put(out, ListFailure(req, exc), stop)
    except BaseException as exc:  # a bug: hand it to the consumer
        _put(out, _Crash(exc), stop)
        return
    _put(out, _Done(), stop)


def _put(
    out: queue.Queue[bodies.ListPage | ListFailure | _Done | _Crash],
    item: bodies.ListPage | ListFailure | _Done | _Crash,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _drain(
    out: queue.Queue[bodies.ListPage | ListFailure | _Done | _Crash],
    threads: list[threading.Thread],
) -> None:
    for thread in threads:
        while thread.is_alive():
            try:
                out.get_nowait()
            except queue.Empty:
                thread.join(0.05)
