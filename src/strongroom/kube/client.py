"""The Kubernetes client the engine uses: raw JSON dicts, rate limited, retried, thread-safe.

::

    with client.Client.from_kubeconfig(path, context="prod") as kube:
        cms = kube.discovery.find("configmaps")
        for page in kube.list_pages(cms, namespace="shop", label_selector="app=web"):
            for item in page.items: ...

Every request takes a token from one shared :class:`~strongroom.kube.ratelimit.TokenBucket`
and is retried by one :class:`~strongroom.kube.retry.RetryPolicy` when its verb allows it.
Objects are plain dicts as decoded from the wire (see :mod:`strongroom.kube.bodies`); the
client library's model classes are never built. All errors are
:class:`~strongroom.kube.errors.KubeError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

from strongroom.kube import (
    _transport,
    bodies,
    config,
    credentials,
    discovery,
    errors,
    ratelimit,
    retry,
    wire,
)

T = TypeVar("T")
PatchType = Literal["merge", "json", "strategic", "apply"]
Propagation = Literal["Foreground", "Background", "Orphan"]
ResourceRef = discovery.APIResource | str
PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
DEFAULT_FIELD_MANAGER = "strongroom"


class Client:
    """One API server. Share one instance between threads; :meth:`close` when done."""

    def __init__(
        self,
        cluster: config.ClusterConfig,
        *,
        qps: float = 50.0,
        burst: int = 100,
        clock: ratelimit.Clock | None = None,
        retry_policy: retry.RetryPolicy | None = None,
        pool_size: int = 16,
        read_timeout: float = _transport.READ_TIMEOUT,
        connect_timeout: float = _transport.CONNECT_TIMEOUT,
        tokens: credentials.TokenSource | None = None,
    ) -> None:
        self.cluster = cluster
        self._clock = clock or ratelimit.SystemClock()
        self.limiter = ratelimit.TokenBucket(qps, burst, clock=self._clock)
        self.retry_policy = retry_policy or retry.RetryPolicy()
        self._transport = _transport.Transport(
            cluster,
            tokens or credentials.token_source(cluster),
            pool_size=pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.discovery = discovery.Discovery(self)

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        **options: Any,
    ) -> Client:
        """A client for ``context`` of ``kubeconfig`` (see :func:`config.load`)."""
        return cls(config.load(kubeconfig, context), **options)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------

    def call(self, attempt_once: Callable[[], T], *, idempotent: bool) -> T:
        """Run ``attempt_once`` under the rate limiter, retrying as the policy allows."""
        attempt = 1
        while True:
            self.limiter.acquire()
            try:
                return attempt_once()
            except errors.KubeError as exc:
                if not self.retry_policy.should_retry(attempt, exc, idempotent=idempotent):
                    raise
                self._clock.sleep(self.retry_policy.delay(attempt, exc))
                attempt += 1

    def request(
        self,
        method: str,
        path: str,
        *,
        query: _transport.Query = (),
        body: Any = None,
        content_type: str = _transport.JSON,
        idempotent: bool,
        timeout: float | None = None,
    ) -> Any:
        """One API request with rate limiting and retries; returns the decoded JSON."""
        return self.call(
            lambda: self._transport.request(
                method, path, query=query, body=body, content_type=content_type, timeout=timeout
            ),
            idempotent=idempotent,
        )

    def get_path(self, path: str) -> Any:
        """GET any API path (discovery documents, ``/version``)."""
        return self.request("GET", path, idempotent=True)

    def resource(self, ref: ResourceRef) -> discovery.APIResource:
        """``ref`` itself, or the served resource a name designates (see Discovery.find)."""
        return ref if isinstance(ref, discovery.APIResource) else self.discovery.find(ref)

    def server_version(self) -> dict[str, Any]:
        """The ``/version`` document (gitVersion, major, minor, ...)."""
        version: dict[str, Any] = self.get_path("/version")
        return version

    # -- reads ------------------------------------------------------------------------------

    def list_pages(
        self,
        resource: ResourceRef,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> Iterator[bodies.ListPage]:
        """Every page of a list, following continue tokens; lazily, one page in memory.

        ``namespace=None`` lists a namespaced resource across all namespaces. A continue
        token that expired mid-way raises :class:`~strongroom.kube.errors.Gone`.
        """
        res = self.resource(resource)
        query: list[tuple[str, str]] = [("limit", str(limit))] if limit else []
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        path = res.path(namespace)
        token = ""
        while True:
            page_query = [*query, ("continue", token)] if token else query
            body = self.request("GET", path, query=page_query, idempotent=True)
            page = wire.list_page(res, namespace, body)
            yield page
            token = page.continue_token
            if not token:
                return

    def list(
        self,
        resource: ResourceRef,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> Iterator[bodies.KubeObject]:
        """Every item of :meth:`list_pages`, one by one."""
        for page in self.list_pages(
            resource,
            namespace,
            label_selector=label_selector,
            field_selector=field_selector,
            limit=limit,
        ):
            yield from page.items

    def get(
        self, resource: ResourceRef, name: str, namespace: str | None = None
    ) -> bodies.KubeObject:
        """One object; :class:`~strongroom.kube.errors.NotFound` if it does not exist."""
        res = self.resource(resource)
        obj: bodies.KubeObject = self.request("GET", res.path(namespace, name), idempotent=True)
        return obj

    # -- writes -----------------------------------------------------------------------------

    def create(
        self,
        resource: ResourceRef,
        body: bodies.KubeObject,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str = DEFAULT_FIELD_MANAGER,
    ) -> bodies.KubeObject:
        """POST a new object (namespace defaults to ``body.metadata.namespace``)."""
        res = self.resource(resource)
        ns = namespace or body.get("metadata", {}).get("namespace")
        query = _write_query(dry_run, field_manager)
        created: bodies.KubeObject = self.request(
            "POST", res.path(ns), query=query, body=body, idempotent=False
        )
        return created

    def replace(
        self,
        resource: ResourceRef,
        body: bodies.KubeObject,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str = DEFAULT_FIELD_MANAGER,
        subresource: str | None = None,
    ) -> bodies.KubeObject:
        """PUT an object; retried only when it carries a resourceVersion (optimistic lock)."""
        res = self.resource(resource)
        meta = body.get("metadata", {})
        ns = namespace or meta.get("namespace")
        path = res.path(ns, meta.get("name", ""))
        if subresource:
            path += f"/{subresource}"
        replaced: bodies.KubeObject = self.request(
            "PUT",
            path,
            query=_write_query(dry_run, field_manager),
            body=body,
            idempotent=bool(meta.get("resourceVersion")),
        )
        return replaced

    def patch(
        self,
        resource: ResourceRef,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: PatchType = "merge",
        field_manager: str = DEFAULT_FIELD_MANAGER,
        force: bool = False,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> bodies.KubeObject:
        """PATCH an object. ``json`` takes a list of operations; ``apply`` is server-side
        apply of a full object (``force`` takes over conflicting fields) and is retried."""
        res = self.resource(resource)
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}")
        if patch_type == "json" and not isinstance(patch, list):
            raise ValueError("a JSON patch is a list of operations")
        path = res.path(namespace, name) + (f"/{subresource}" if subresource else "")
        query = _write_query(dry_run, field_manager)
        if force and patch_type == "apply":
            query.append(("force", "true"))
        patched: bodies.KubeObject = self.request(
            "PATCH",
            path,
            query=query,
            body=patch,
            content_type=PATCH_CONTENT_TYPES[patch_type],
            idempotent=patch_type == "apply",
        )
        return patched

    def delete(
        self,
        resource: ResourceRef,
        name: str,
        namespace: str | None = None,
        *,
        propagation: Propagation | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE an object; returns the deleted object or a Status (the server decides).

        Retried like a read; if a retried attempt finds the object already gone (the first
        one landed but its answer was lost), that surfaces as NotFound.
        """
        res = self.resource(resource)
        query: list[tuple[str, str]] = []
        if propagation:
            query.append(("propagationPolicy", propagation))
        if grace_period_seconds is not None:
            query.append(("gracePeriodSeconds", str(grace_period_seconds)))
        if dry_run:
            query.append(("dryRun", "All"))
        deleted: dict[str, Any] = self.request(
            "DELETE", res.path(namespace, name), query=query, idempotent=True
        )
        return deleted

    # -- watch ------------------------------------------------------------------------------

    def watch(
        self,
        resource: ResourceRef,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> Iterator[bodies.WatchEvent]:
        """Events until the server ends the watch (``timeout_seconds``) or the caller stops.

        Starting the watch is retried; a broken stream afterwards ends the iteration (resume
        from the last event's resourceVersion). An ERROR event with 410 raises
        :class:`~strongroom.kube.errors.Gone`, any other ERROR event its ApiError.
        """
        res = self.resource(resource)
        query = [("watch", "true")]
        for key, value in (
            ("resourceVersion", resource_version),
            ("labelSelector", label_selector),
            ("fieldSelector", field_selector),
            ("timeoutSeconds", None if timeout_seconds is None else str(timeout_seconds)),
            ("allowWatchBookmarks", "true" if allow_bookmarks else None),
        ):
            if value:
                query.append((key, value))
        read_timeout = None if timeout_seconds is None else timeout_seconds + 10.0
        path = res.path(namespace)
        lines = self.call(
            lambda: self._transport.open_lines(path, query=query, timeout=read_timeout),
            idempotent=True,
        )
        for line in lines:
            yield wire.watch_event(path, line)

    def wait_for_condition(
        self,
        resource: ResourceRef,
        name: str,
        namespace: str | None = None,
        *,
        condition: str = "Established",
        status: str = "True",
        timeout: float = 60.0,
        poll_interval: float = 0.2,
    ) -> bodies.KubeObject:
        """Poll until ``status.conditions`` has ``condition`` at ``status``; the object then.

        Raises :class:`~strongroom.kube.errors.ConditionTimeout` after ``timeout`` seconds.
        """
        deadline = self._clock.monotonic() + timeout
        while True:
            try:
                obj = self.get(resource, name, namespace)
            except errors.NotFound:
                obj = {}
            conditions = obj.get("status", {}).get("conditions") or []
            if any(c.get("type") == condition and c.get("status") == status for c in conditions):
                return obj
            if self._clock.monotonic() >= deadline:
                raise errors.ConditionTimeout(
                    f"{self.resource(resource).group_resource} {name}: "
                    f"not {condition}={status} after {timeout:g}s"
                )
            self._clock.sleep(poll_interval)


def _write_query(dry_run: bool, field_manager: str) -> list[tuple[str, str]]:
    query = [("fieldManager", field_manager)] if field_manager else []
    if dry_run:
        query.append(("dryRun", "All"))
    return query
