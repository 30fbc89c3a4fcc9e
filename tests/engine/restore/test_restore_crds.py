"""CRDs are restored first and waited for until Established; their custom objects follow
once discovery knows them, on a cluster that never served them before."""

from __future__ import annotations

from strongroom.kube import client
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h


def test_crds_first_then_custom_objects(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, h.CRD, h.widget_crd())
    source.wait_for_condition(h.CRD, "widgets.example.com")
    source.discovery.refresh()
    h.create(source, "namespaces", h.namespace("shop"))
    for name in ("a", "b"):
        h.create(source, "widgets.example.com", h.widget(name, "shop"))
    h.backup_from(source, repo, "b1", ["widgets.example.com", "namespaces", h.CRD], ["shop"])
    assert target.discovery.snapshot() and not any(
        r.group == "example.com" for r in target.discovery.resources()
    )

    # Only the namespace's items are selected; the CRD comes in as the widgets' definition.
    out, events = h.run_restore(target, repo, included_namespaces=("shop",))

    assert out.phase == "Completed", out.errors
    assert [e.item for e in events[:1]] == [f"{h.CRD} widgets.example.com"]
    crd = target.get(h.CRD, "widgets.example.com")
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions["Established"] == "True"
    assert h.names(target, "widgets.example.com", "shop") == ["a", "b"]
    assert target.get("widgets.example.com", "a", "shop")["spec"] == {"size": 3}
    assert out.resources["example.com/v1/Widget"] == ["shop/a(created)", "shop/b(created)"]
    assert out.resources["apiextensions.k8s.io/v1/CustomResourceDefinition"] == [
        "widgets.example.com(created)"
    ]


def test_crd_excluded_leaves_custom_objects_failing_per_item(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, h.CRD, h.widget_crd())
    source.wait_for_condition(h.CRD, "widgets.example.com")
    source.discovery.refresh()
    h.create(source, "namespaces", h.namespace("shop"))
    h.create(source, "widgets.example.com", h.widget("a", "shop"))
    h.create(source, "configmaps", h.configmap("c", "shop"))
    h.backup_from(source, repo, "b1", ["widgets.example.com", "configmaps", h.CRD], ["shop"])

    out, _ = h.run_restore(target, repo, excluded_resources=(h.CRD,))

    assert out.phase == "PartiallyFailed"
    assert out.errors["namespaces"]["shop"] == [
        "error restoring Widget shop/a: widgets.example.com is not served by the target cluster"
    ]
    assert out.resources["example.com/v1/Widget"] == ["shop/a(failed)"]
    assert target.get("configmaps", "c", "shop")["data"] == {"key": "c"}
