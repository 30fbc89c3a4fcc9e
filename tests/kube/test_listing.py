"""Paginated lists with selectors, and concurrent listing of many resources."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from strongroom.kube import bodies, client, discovery, errors, listing
from tests.kube.conftest import configmap, namespace


@pytest.fixture
def seeded(kube: client.Client) -> client.Client:
    for ns in ("shop", "blog"):
        kube.create("namespaces", namespace(ns))
        for i in range(5):
            kube.create("configmaps", configmap(f"{ns}-{i}", ns, tier="web" if i % 2 else "db"))
    return kube


#: Published into every namespace by the cluster itself, as a real cluster does.
ROOT_CA = "kube-root-ca.crt"


def names(items: list[bodies.KubeObject]) -> list[str]:
    return sorted(i["metadata"]["name"] for i in items if i["metadata"]["name"] != ROOT_CA)


def test_pages_follow_continue_tokens(seeded: client.Client) -> None:
    pages = list(seeded.list_pages("configmaps", "shop", limit=2))
    total = sum(len(p.items) for p in pages)
    assert total in (5, 6)  # 5 seeded, plus the namespace's root CA bundle if published
    assert [len(p.items) for p in pages[:-1]] == [2] * (len(pages) - 1) and len(pages) == 3
    assert all(p.continue_token for p in pages[:-1]) and pages[-1].continue_token == ""
    assert pages[0].remaining == total - 2
    assert all(p.resource_version for p in pages)
    items = [i for p in pages for i in p.items]
    assert names(items) == [f"shop-{i}" for i in range(5)]
    assert {(i["apiVersion"], i["kind"]) for i in items} == {("v1", "ConfigMap")}
    assert all(p.resource == "configmaps" and p.namespace == "shop" for p in pages)


def test_all_namespaces_and_cluster_scoped(seeded: client.Client) -> None:
    everywhere = [i for i in seeded.list("configmaps", limit=3) if "-" in i["metadata"]["name"]]
    assert {i["metadata"]["namespace"] for i in everywhere} >= {"shop", "blog"}
    nss = {i["metadata"]["name"] for i in seeded.list("namespaces")}
    assert {"default", "shop", "blog"} <= nss


def test_label_selectors(seeded: client.Client) -> None:
    web = list(seeded.list("configmaps", "shop", label_selector="tier=web"))
    assert names(web) == ["shop-1", "shop-3"]
    db = list(seeded.list("configmaps", label_selector="tier in (db),tier!=web", limit=1))
    assert names(db) == ["blog-0", "blog-2", "blog-4", "shop-0", "shop-2", "shop-4"]
    assert list(seeded.list("configmaps", label_selector="tier=none")) == []


def test_field_selectors(seeded: client.Client) -> None:
    one = list(seeded.list("configmaps", field_selector="metadata.name=blog-3"))
    assert names(one) == ["blog-3"]
    in_ns = list(seeded.list("configmaps", field_selector="metadata.namespace=blog"))
    assert names(in_ns) == [f"blog-{i}" for i in range(5)]
    both = list(
        seeded.list(
            "configmaps", label_selector="tier=web", field_selector="metadata.namespace=shop"
        )
    )
    assert names(both) == ["shop-1", "shop-3"]


def test_expired_continue_token_is_gone(seeded: client.Client) -> None:
    res = seeded.discovery.find("configmaps")
    with pytest.raises((errors.Gone, errors.BadRequest)):
        seeded.request(
            "GET",
            res.path("shop"),
            query=[("limit", "2"), ("continue", "not-a-token")],
            idempotent=True,
        )


def test_list_many_yields_every_page(seeded: client.Client) -> None:
    cms = seeded.discovery.find("configmaps")
    requests = [listing.ListRequest(cms, ns) for ns in ("shop", "blog")]
    requests.append(listing.ListRequest(seeded.discovery.find("namespaces")))
    requests.append(listing.ListRequest(cms, "shop", label_selector="tier=web"))
    got = list(listing.list_many(seeded, requests, workers=3, limit=2))
    assert all(isinstance(g, bodies.ListPage) for g in got)
    pages = [g for g in got if isinstance(g, bodies.ListPage)]
    per_ns: dict[str | None, list[str]] = {}
    for page in pages:
        per_ns.setdefault(page.namespace, []).extend(i["metadata"]["name"] for i in page.items)
    per_ns = {ns: sorted(n for n in got_names if n != ROOT_CA) for ns, got_names in per_ns.items()}
    assert per_ns["blog"] == [f"blog-{i}" for i in range(5)]
    assert per_ns["shop"] == sorted([f"shop-{i}" for i in range(5)] + ["shop-1", "shop-3"])
    assert "default" in per_ns[None]


def test_list_many_reports_failures_and_goes_on(seeded: client.Client) -> None:
    cms = seeded.discovery.find("configmaps")
    ghost = discovery.APIResource("ghosts", "example.com", "v1", "Ghost", True)
    got = list(
        listing.list_many(
            seeded,
            [listing.ListRequest(ghost, "shop"), listing.ListRequest(cms, "blog")],
            workers=2,
        )
    )
    failures = [g for g in got if isinstance(g, listing.ListFailure)]
    assert len(failures) == 1 and isinstance(failures[0].error, errors.NotFound)
    assert failures[0].request.resource == ghost
    pages = [g for g in got if isinstance(g, bodies.ListPage)]
    assert names([i for p in pages for i in p.items]) == [f"blog-{i}" for i in range(5)]


class SlowLister:
    """Counts pages handed out and not yet consumed, to check the memory bound."""

    def __init__(self, pages_per_request: int) -> None:
        self.pages_per_request = pages_per_request
        self.produced = 0
        self.lock = threading.Lock()

    def list_pages(
        self,
        resource: discovery.APIResource | str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> Iterator[bodies.ListPage]:
        for n in range(self.pages_per_request):
            with self.lock:
                self.produced += 1
            yield bodies.ListPage(str(resource), namespace, [], bodies.ResourceVersion(str(n)))


def test_list_many_bounds_pages_in_flight() -> None:
    lister = SlowLister(pages_per_request=50)
    res = discovery.APIResource("things", "", "v1", "Thing", True)
    requests = [listing.ListRequest(res, f"ns{i}") for i in range(6)]
    stream = listing.list_many(lister, requests, workers=3, max_pending=4)
    consumed = 0
    for _ in stream:
        consumed += 1
        threading.Event().wait(0.002)
        with lister.lock:
            # at most max_pending queued + one page held by each of the 3 workers
            assert lister.produced - consumed <= 4 + 3
    assert consumed == 300


def test_list_many_stops_workers_when_abandoned() -> None:
    lister = SlowLister(pages_per_request=10_000)
    res = discovery.APIResource("things", "", "v1", "Thing", True)
    stream = listing.list_many(lister, [listing.ListRequest(res, "a")] * 3, workers=3)
    for n, _ in enumerate(stream):
        if n == 5:
            break
    stream.close()
    assert lister.produced < 100
    assert not [t for t in threading.enumerate() if t.name.startswith("kube-list-")]
