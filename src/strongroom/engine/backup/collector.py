"""Collect the items of a backup from the API server as a stream (Velero's itemCollector).

:meth:`Collector.items` discovers the served resources, lists the selected ones concurrently
and page by page (:func:`strongroom.kube.listing.list_many`: per namespace when the namespace
list is concrete, else cluster-wide; the label selector sent to the server; one list per OR
selector), applies the item rules of :mod:`.filters`, pulls in related items
(:mod:`.related`) by GET when they were not collected, then appends the CRDs of the custom
resources taken and the Namespace objects kept (Velero's nsTracker). It yields
:class:`strongroom.archive.writer.Item` s with compact JSON bodies and keeps only names in
memory (group-resource, namespace, name per item, for de-duplication and the resource list),
never bodies: memory does not grow with the size of the objects.

A list or GET that fails is logged as an error (a warning for a related item that no longer
exists) and the run goes on: the backup ends PartiallyFailed. So does an API group whose
discovery failed (an aggregated API that is down): its resources are unknown, so it is an
error naming the group, not a warning. A failure that makes going on
pointless (discovery or the namespace list failing, the API server unreachable) ends the
iteration early and sets :attr:`Collector.failure`: the backup ends Failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Protocol

from strongroom.archive import errors as archive_errors
from strongroom.archive import layout, writer
from strongroom.engine import logs, results
from strongroom.engine.backup import filters, related, selectors
from strongroom.engine.backup import spec as spec_mod
from strongroom.kube import bodies, client, discovery, listing
from strongroom.kube import errors as kube_errors


class Progress(Protocol):
    """What a backup reports while it collects (the CLI renders it)."""

    def update(self, items: int, resource: str) -> None:
        """``items`` taken so far; ``resource`` the group-resource of the latest one."""


class NoProgress:
    def update(self, items: int, resource: str) -> None:
        pass


class _Fatal(Exception):
    """Collection cannot go on; carries the one-line reason."""


class Collector:
    """Streams the items of one backup; use once."""

    def __init__(
        self,
        kube: client.Client,
        spec: spec_mod.BackupSpec,
        *,
        log: logs.RunLog,
        progress: Progress | None = None,
        workers: int = 4,
        page_size: int = 500,
    ) -> None:
        self._kube = kube
        self._spec = spec
        self._log = log
        self._progress = progress or NoProgress()
        self._workers = workers
        self._page_size = page_size
        self._by_gr: dict[str, discovery.APIResource] = {}
        # group-resource -> namespace ("" when cluster-scoped) -> names taken
        self._taken: dict[str, dict[str, set[str]]] = {}
        self._item_namespaces: set[str] = set()
        self._rbac = related.RbacIndex(self._list_all)
        self._filters: filters.Filters  # set once namespaces are known
        self.count = 0
        self.failure: str | None = None

    # -- public -----------------------------------------------------------------------------

    def items(self) -> Iterator[writer.Item]:
        """Every item of the backup, in Velero's order; see the module docstring."""
        try:
            yield from self._collect()
        except (_Fatal, kube_errors.KubeError) as exc:
            self.failure = str(exc)
            self._log.error(f"backup failed: {exc}")

    def resource_list(self) -> dict[str, list[str]]:
        """Velero's resource list: ``{"<apiVersion>/<Kind>": ["ns/name" | "name", ...]}``."""
        found: dict[str, list[str]] = {}
        for gr, by_ns in self._taken.items():
            res = self._by_gr[gr]
            key = f"{res.api_version}/{res.kind}"
            names = found.setdefault(key, [])
            for ns, taken in by_ns.items():
                names.extend(f"{ns}/{n}" if ns else n for n in taken)
        return {key: sorted(names) for key, names in sorted(found.items())}

    # -- phases -----------------------------------------------------------------------------

    def _collect(self) -> Iterator[writer.Item]:
        snapshot = self._kube.discovery.snapshot()
        for failed in snapshot.failures:
            self._log.error(
                f"discovery of API group {failed.group} failed: {failed.reason}; "
                "its resources are not in the backup"
            )
        ordered = filters.ordered(snapshot.resources)
        self._by_gr = {r.group_resource: r for r in snapshot.resources if r.supports("get")}
        rfilter, scope, ignored = filters.resource_rules(snapshot.resources, self._spec)
        for warning in ignored:
            self._log.warning(warning)
        namespaces = self._namespaces()
        labelled = sorted(n for n, (_, excluded) in namespaces.items() if excluded)
        for name in labelled:
            self._log.info(f"namespace {name} is labelled {filters.EXCLUDE_LABEL}=true; excluded")
        nsfilter = filters.NamespaceFilter.build(
            self._spec.included_namespaces, self._spec.excluded_namespaces
        ).with_excluded(labelled)
        self._filters = filters.Filters(
            nsfilter, rfilter, self._spec.include_cluster_resources, scope
        )
        active = sorted(n for n, (is_active, _) in namespaces.items() if is_active)
        requests = self._requests(ordered, active)
        self._log.info(
            f"collecting {len({r.resource.group_resource for r in requests})} resources "
            f"with {len(requests)} lists"
        )
        yield from self._listed(requests)
        yield from self._custom_definitions()
        yield from self._namespace_objects()
        self._log.info(f"collected {self.count} items")

    def _namespaces(self) -> dict[str, tuple[bool, bool]]:
        """Existing namespaces: name -> (active, labelled exclude-from-backup)."""
        found = {}
        try:
            for ns in self._kube.list("namespaces", limit=self._page_size):
                name = ns.get("metadata", {}).get("name")
                if name:
                    found[name] = (not filters.terminating(ns), filters.excluded_by_label(ns))
        except kube_errors.KubeError as exc:
            raise _Fatal(f"cannot list namespaces: {exc}") from exc
        return found

    def _requests(
        self, ordered: list[discovery.APIResource], existing: list[str]
    ) -> list[listing.ListRequest]:
        nsfilter = self._filters.namespaces
        per_namespace = nsfilter.expand(existing) if nsfilter.concrete else [None]
        out = []
        for res in ordered:
            if res.group_resource == filters.NAMESPACES or not self._filters.lists_resource(res):
                continue
            for selector in self._spec.server_selectors():
                for ns in per_namespace if res.namespaced else [None]:
                    out.append(listing.ListRequest(res, ns, label_selector=selector))
        return out

    def _listed(self, requests: list[listing.ListRequest]) -> Iterator[writer.Item]:
        pages = listing.list_many(
            self._kube,
            requests,
            workers=self._workers,
            max_pending=self._workers * 2,
            limit=self._page_size,
        )
        try:
            for page in pages:
                if isinstance(page, listing.ListFailure):
                    self._list_failed(page)
                    continue
                res = self._by_gr[page.resource]
                if page.items:
                    self._log.debug(
                        f"listed {len(page.items)} {page.resource}", namespace=page.namespace
                    )
                for obj in page.items:
                    yield from self._take(res, obj)
        finally:
            close = getattr(pages, "close", None)  # stops the list workers however this ends
            if callable(close):
                close()

    def _list_failed(self, failure: listing.ListFailure) -> None:
        req, exc = failure.request, failure.error
        if isinstance(exc, kube_errors.ApiUnreachable):
            raise _Fatal(f"the API server became unreachable: {exc}")
        where = results.for_item(req.namespace if req.resource.namespaced else None)
        self._log.error(f"cannot list {req.resource.group_resource}: {exc}", where)

    def _custom_definitions(self) -> Iterator[writer.Item]:
        """The CRDs of the custom resources taken, appended at the end as Velero does."""
        for gr in sorted(self._taken):
            if "." not in self._by_gr[gr].group or gr == related.CRDS:
                continue
            yield from self._related(related.Ref(related.CRDS, None, gr), quiet_missing=True)

    def _namespace_objects(self) -> Iterator[writer.Item]:
        """Namespaces kept: selected by name and (without selectors) all of them, or matching
        a selector, named literally, or holding an item taken."""
        res = self._by_gr.get(filters.NAMESPACES)
        if res is None or not self._filters.keeps_namespaces():
            return
        parsed = [selectors.parse(t) for t in self._spec.selector_texts()]
        nsfilter = self._filters.namespaces
        try:
            for ns in self._kube.list(res, limit=self._page_size):
                name = ns.get("metadata", {}).get("name", "")
                labels = ns.get("metadata", {}).get("labels")
                if not nsfilter.should_include(name):
                    continue
                if (
                    not parsed
                    or any(s.matches(labels) for s in parsed)
                    or nsfilter.literally_included(name)
                    or name in self._item_namespaces
                ):
                    yield from self._take(res, ns)
        except kube_errors.ApiUnreachable as exc:
            raise _Fatal(f"the API server became unreachable: {exc}") from exc
        except kube_errors.KubeError as exc:
            self._log.error(f"cannot list namespaces: {exc}", results.CLUSTER)

    # -- one item ---------------------------------------------------------------------------

    def _take(self, res: discovery.APIResource, obj: bodies.KubeObject) -> Iterator[writer.Item]:
        meta = obj.get("metadata", {})
        name = meta.get("name", "")
        ns = meta.get("namespace") if res.namespaced else None
        gr = res.group_resource
        if not name or self._is_taken(gr, ns, name):
            return
        ref = related.Ref(gr, ns, name)
        if ns is not None and not self._filters.namespaces.should_include(ns):
            return
        if filters.excluded_by_label(obj):
            self._log.info(f"{ref}: labelled {filters.EXCLUDE_LABEL}=true; skipped")
            return
        if filters.terminating(obj):
            self._log.info(f"{ref}: being deleted; skipped")
            return
        try:
            layout.item_path(gr, ns, name)
        except archive_errors.ItemNameError as exc:
            self._log.error(f"{ref}: {exc}", results.for_item(ns))
            return
        self._mark(gr, ns, name)
        body = json.dumps(obj, separators=(",", ":")).encode("utf-8")
        yield writer.Item(gr, ns, name, body, secret=gr == "secrets")
        self.count += 1
        self._progress.update(self.count, gr)
        refs = related.direct(gr, obj)
        del obj, body
        for each in refs:
            yield from self._related(each)
        if gr == related.SERVICE_ACCOUNTS and ns:
            for binding, role in self._rbac.for_account(ns, name):
                yield from self._related(binding)
                if role is not None and self._is_taken(
                    binding.group_resource, binding.namespace, binding.name
                ):
                    yield from self._related(role)

    def _related(self, ref: related.Ref, *, quiet_missing: bool = False) -> Iterator[writer.Item]:
        gr, ns = ref.group_resource, ref.namespace
        if self._is_taken(gr, ns, ref.name) or not self._filters.takes_related(gr, ns):
            return
        res = self._by_gr.get(gr)
        if res is None:
            return
        try:
            obj = self._kube.get(res, ref.name, ns)
        except kube_errors.NotFound:
            if not quiet_missing:
                self._log.warning(f"{ref}: referenced but not found", results.for_item(ns))
            return
        except kube_errors.ApiUnreachable as exc:
            raise _Fatal(f"the API server became unreachable: {exc}") from exc
        except kube_errors.KubeError as exc:
            self._log.error(f"cannot get {ref}: {exc}", results.for_item(ns))
            return
        self._log.info(f"{ref}: taken as a related item")
        yield from self._take(res, obj)

    def _list_all(self, group_resource: str, namespace: str | None) -> Iterator[bodies.KubeObject]:
        """Every object of a resource, one by one (for the RBAC index); logs a failure."""
        res = self._by_gr.get(group_resource)
        if res is None:
            return
        try:
            yield from self._kube.list(res, namespace, limit=self._page_size)
        except kube_errors.ApiUnreachable as exc:
            raise _Fatal(f"the API server became unreachable: {exc}") from exc
        except kube_errors.KubeError as exc:
            self._log.error(f"cannot list {group_resource}: {exc}", results.for_item(namespace))

    def _is_taken(self, gr: str, ns: str | None, name: str) -> bool:
        return name in self._taken.get(gr, {}).get(ns or "", ())

    def _mark(self, gr: str, ns: str | None, name: str) -> None:
        by_ns = self._taken.setdefault(sys.intern(gr), {})
        by_ns.setdefault(sys.intern(ns or ""), set()).add(name)
        if ns:
            self._item_namespaces.add(ns)
