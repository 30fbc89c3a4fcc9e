"""Objects that already exist in the target: identical ones are skipped silently, different
ones skipped with Velero's warning (policy none) or patched towards the backup (update),
service accounts merged whatever the policy."""

from __future__ import annotations

from strongroom.engine.restore import sanitize
from strongroom.kube import client
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h

DIFFERENT = (
    'could not restore, ConfigMap "changed" already exists. Warning: the in-cluster version '
    "is different than the backed-up version"
)


def prepare(source: client.Client, target: client.Client, repo: repo_mod.Repository) -> None:
    for kube in (source, target):
        h.create(kube, "namespaces", h.namespace("shop"))
    h.create(source, "configmaps", h.configmap("same", "shop", {"k": "v"}))
    h.create(source, "configmaps", h.configmap("changed", "shop", {"k": "backup"}, tier="web"))
    h.create(source, "configmaps", h.configmap("new", "shop"))
    h.create(source, "serviceaccounts", {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop", "labels": {"from": "backup"}},
        "imagePullSecrets": [{"name": "registry"}],
    })  # fmt: skip
    h.backup_from(source, repo, "b1", ["configmaps", "serviceaccounts"], ["shop"])
    labels = sanitize.restore_labels("b1", "r1")
    # "same" as a previous restore left it (its restore labels included), "changed" edited.
    h.create(target, "configmaps", h.configmap("same", "shop", {"k": "v"}, **labels))
    h.create(target, "configmaps", h.configmap("changed", "shop", {"k": "live", "extra": "x"}))
    h.create(target, "serviceaccounts", {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "shop", "labels": {"from": "live"}},
        "imagePullSecrets": [{"name": "live-registry"}],
    })  # fmt: skip


def test_policy_none(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    prepare(source, target, repo)
    same_before = target.get("configmaps", "same", "shop")["metadata"]["resourceVersion"]

    out, _ = h.run_restore(target, repo)

    assert out.phase == "Completed"
    shop = out.resources["v1/ConfigMap"]
    assert "shop/same(skipped)" in shop and "shop/changed(skipped)" in shop
    assert "shop/new(created)" in shop
    warnings = out.warnings["namespaces"]["shop"]
    assert DIFFERENT in warnings
    assert not any('"same"' in w for w in warnings)
    assert target.get("configmaps", "changed", "shop")["data"] == {"k": "live", "extra": "x"}
    assert target.get("configmaps", "same", "shop")["metadata"]["resourceVersion"] == same_before

    account = target.get("serviceaccounts", "builder", "shop")
    assert out.resources["v1/ServiceAccount"] == [
        "shop/builder(updated)",
        "shop/default(skipped)",
    ] or ("shop/builder(updated)" in out.resources["v1/ServiceAccount"])
    assert account["imagePullSecrets"] == [{"name": "live-registry"}, {"name": "registry"}]
    assert account["metadata"]["labels"]["from"] == "live"


def test_policy_update(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    prepare(source, target, repo)

    out, _ = h.run_restore(target, repo, existing_resource_policy="update")

    assert out.phase == "Completed", out.errors
    assert "shop/changed(updated)" in out.resources["v1/ConfigMap"]
    assert "shop/same(skipped)" in out.resources["v1/ConfigMap"]
    changed = target.get("configmaps", "changed", "shop")
    assert changed["data"] == {"k": "backup"}
    assert changed["metadata"]["labels"] == {"tier": "web", **sanitize.restore_labels("b1", "r1")}
    assert not any(DIFFERENT in w for w in out.warnings["namespaces"].get("shop", []))


def test_update_falls_back_to_labels_when_the_patch_is_refused(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    for kube in (source, target):
        h.create(kube, "namespaces", h.namespace("shop"))
    h.create(source, "configmaps", h.configmap("frozen", "shop", {"k": "backup"}))
    h.backup_from(source, repo, "b1", ["configmaps"], ["shop"])
    live = h.configmap("frozen", "shop", {"k": "live"})
    h.create(target, "configmaps", {**live, "immutable": True})

    out, _ = h.run_restore(target, repo, existing_resource_policy="update")

    # The live ConfigMap is immutable: the server refuses the patch, and only the labels
    # are updated, with a warning.
    assert out.phase == "Completed"
    assert "shop/frozen(skipped)" in out.resources["v1/ConfigMap"]
    [warning] = [w for w in out.warnings["namespaces"]["shop"] if "frozen" in w]
    assert warning.startswith("could not update ConfigMap shop/frozen: Invalid")
    assert warning.endswith("updating only its backup and restore labels")
    frozen = target.get("configmaps", "frozen", "shop")
    assert frozen["data"] == {"k": "live"}
    assert frozen["metadata"]["labels"] == sanitize.restore_labels("b1", "r1")


def test_update_keeps_allocated_service_fields(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    for kube in (source, target):
        h.create(kube, "namespaces", h.namespace("shop"))
    h.create(source, "services", h.service("web", "shop", type="NodePort"))
    h.backup_from(source, repo, "b1", ["services"], ["shop"])
    h.create(target, "services", h.service("web", "shop", type="NodePort"))
    before = target.get("services", "web", "shop")["spec"]

    out, _ = h.run_restore(target, repo, existing_resource_policy="update")

    # The patch leaves out the cluster IP and node port; the server keeps what it allocated.
    assert out.resources["v1/Service"] == ["shop/web(updated)"]
    after = target.get("services", "web", "shop")
    assert after["spec"]["clusterIP"] == before["clusterIP"]
    assert after["spec"]["ports"][0]["nodePort"] == before["ports"][0]["nodePort"]
    assert after["metadata"]["labels"] == sanitize.restore_labels("b1", "r1")
