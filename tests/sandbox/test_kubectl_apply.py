"""kubectl apply against the sandbox: client-side (three-way strategic merge) and server-side."""

from __future__ import annotations

import base64
import ipaddress
import pathlib

import pytest

from tests.sandbox import kubectl_manifests, kubectl_runner


@pytest.fixture
def kubectl(
    sandbox_kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> kubectl_runner.Kubectl:
    return kubectl_runner.for_kubeconfig(sandbox_kubeconfig, tmp_path_factory.mktemp("kube"))


@pytest.fixture
def widgets(kubectl: kubectl_runner.Kubectl) -> str:
    """The Widget CRD, applied and established (applying it again is harmless)."""
    crd = kubectl_manifests.widget_crd()
    kubectl.apply([crd])
    name = crd["metadata"]["name"]
    kubectl.ok("wait", "--for=condition=Established", f"crd/{name}", "--timeout=20s")
    return name


def names(listing: dict[str, object]) -> list[str]:
    items = listing["items"]
    assert isinstance(items, list)
    return sorted(item["metadata"]["name"] for item in items)


def test_client_side_apply_of_an_application_then_a_change(
    kubectl: kubectl_runner.Kubectl, widgets: str
) -> None:
    ns = "shop-csa"
    docs = kubectl_manifests.application(ns)
    first = kubectl.apply(docs)
    assert f"namespace/{ns} created" in first.out
    assert "deployment.apps/web created" in first.out
    assert f"widget.{kubectl_manifests.GROUP}/large created" in first.out
    assert first.out.count(" created") == len(docs) == 15

    deploy = kubectl.get("deployment", "web", "-n", ns)
    assert deploy["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in deploy["metadata"]["annotations"]
    secret = kubectl.get("secret", "shop-db", "-n", ns)
    assert base64.b64decode(secret["data"]["password"]) == b"not-a-real-password"
    service = kubectl.get("service", "web", "-n", ns)
    ipaddress.ip_address(service["spec"]["clusterIP"])
    public = kubectl.get("service", "web-public", "-n", ns)
    assert 30000 <= public["spec"]["ports"][0]["nodePort"] <= 32767
    assert names(kubectl.get("wdg", "-n", ns)) == ["large", "small"]

    # Re-apply with a new image and replica count: a strategic merge patch for built-ins,
    # a merge patch for the custom resources; unchanged objects are reported unchanged.
    docs = kubectl_manifests.application(ns, image="nginx:1.27", replicas=3)
    docs[-1]["spec"]["colour"] = "green"
    second = kubectl.apply(docs)
    assert "deployment.apps/web configured" in second.out
    assert "configmap/shop-config unchanged" in second.out
    assert f"widget.{kubectl_manifests.GROUP}/large configured" in second.out
    deploy = kubectl.get("deployment", "web", "-n", ns)
    assert deploy["spec"]["replicas"] == 3
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27"
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    assert deploy["metadata"]["generation"] == 2
    assert kubectl.get("wdg", "large", "-n", ns)["spec"] == {"size": 9, "colour": "green"}
    assert (
        kubectl.get("service", "web", "-n", ns)["spec"]["clusterIP"]
        == (service["spec"]["clusterIP"])
    )

    # Dropping a field from the manifest removes it (three-way merge with last-applied).
    config = next(d for d in docs if d["kind"] == "ConfigMap")
    config["data"].pop("GREETING")
    kubectl.apply(docs)
    assert kubectl.get("configmap", "shop-config", "-n", ns)["data"] == {
        "shop.yaml": "currency: EUR\n"
    }


def test_server_side_apply_and_conflicts_between_field_managers(
    kubectl: kubectl_runner.Kubectl, widgets: str
) -> None:
    ns = "shop-ssa"
    docs = kubectl_manifests.application(ns)
    created = kubectl.apply(docs, "--server-side")
    assert "deployment.apps/web serverside-applied" in created.out
    deploy = kubectl.get("deployment", "web", "-n", ns, "--show-managed-fields")
    managers = {e["manager"]: e for e in deploy["metadata"]["managedFields"]}
    assert managers["kubectl"]["operation"] == "Apply"
    assert "f:replicas" in managers["kubectl"]["fieldsV1"]["f:spec"]

    scaled = [d for d in docs if d["kind"] == "Deployment"]
    scaled[0]["spec"]["replicas"] = 5
    conflict = kubectl.fails("apply", "--server-side", "--field-manager=autoscaler", "-f", "-",
                             stdin=kubectl_runner.to_yaml(scaled))  # fmt: skip
    assert "conflict" in conflict.err.lower()
    assert '"kubectl"' in conflict.err and ".spec.replicas" in conflict.err
    assert kubectl.get("deployment", "web", "-n", ns)["spec"]["replicas"] == 2

    kubectl.apply(scaled, "--server-side", "--field-manager=autoscaler", "--force-conflicts")
    deploy = kubectl.get("deployment", "web", "-n", ns, "--show-managed-fields")
    assert deploy["spec"]["replicas"] == 5
    managers = {e["manager"]: e for e in deploy["metadata"]["managedFields"]}
    assert "f:replicas" in managers["autoscaler"]["fieldsV1"]["f:spec"]
    assert "f:replicas" not in managers["kubectl"]["fieldsV1"]["f:spec"]

    widget = kubectl_manifests.widget(ns, "large", 10)
    applied = kubectl.apply([widget], "--server-side")
    assert "serverside-applied" in applied.out
    assert kubectl.get("wdg", "large", "-n", ns)["spec"]["size"] == 10


def test_server_side_apply_takes_over_from_client_side_apply(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    # "Upgrading from client-side apply to server-side apply": by default, field management
    # transfers from client-side apply to kubectl server-side apply without conflicts.
    ns = "upgrade"
    docs = [kubectl_manifests.namespace(ns), *kubectl_manifests.application(ns)[1:-2]]
    kubectl.apply(docs)
    changed = kubectl_manifests.application(ns, image="nginx:1.27", replicas=4)[1:-2]
    result = kubectl.apply(changed, "--server-side")
    assert "deployment.apps/web serverside-applied" in result.out
    deploy = kubectl.get("deployment", "web", "-n", ns, "--show-managed-fields")
    assert deploy["spec"]["replicas"] == 4
    owners = {e["manager"]: e for e in deploy["metadata"]["managedFields"]}
    assert "f:replicas" in owners["kubectl"]["fieldsV1"]["f:spec"]
    # another manager gets no such pass
    original = kubectl_runner.to_yaml(kubectl_manifests.application(ns)[1:-2])
    other = kubectl.run(
        "apply", "--server-side", "--field-manager=someone", "-f", "-", stdin=original
    )
    assert other.code == 1 and "conflict" in other.err.lower()


def two_container_deployment(ns: str, containers: list[dict[str, object]]) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "multi", "namespace": ns, "labels": {"app": "multi", "old": "yes"}},
        "spec": {
            "selector": {"matchLabels": {"app": "multi"}},
            "template": {
                "metadata": {"labels": {"app": "multi"}},
                "spec": {"containers": containers},
            },
        },
    }


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
def test_reapply_removes_list_items_and_fields_the_manifest_dropped(
    kubectl: kubectl_runner.Kubectl, server_side: bool
) -> None:
    flags = ["--server-side"] if server_side else []
    ns = "lists-ssa" if server_side else "lists-csa"
    app = {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"},
                                                     {"name": "B", "value": "2"}]}  # fmt: skip
    proxy = {"name": "proxy", "image": "envoy:1", "ports": [{"containerPort": 9901}]}
    kubectl.apply([kubectl_manifests.namespace(ns)])
    kubectl.apply([two_container_deployment(ns, [app, proxy])], *flags)
    # the manifest now drops the proxy container, env B and the "old" label, and adds a sidecar
    app["env"] = [{"name": "A", "value": "1"}]
    logger = {"name": "log", "image": "busybox:1"}
    changed = two_container_deployment(ns, [logger, app])
    changed["metadata"]["labels"] = {"app": "multi"}  # type: ignore[index]
    kubectl.apply([changed], *flags)
    live = kubectl.get("deployment", "multi", "-n", ns)
    containers = live["spec"]["template"]["spec"]["containers"]
    assert sorted(c["name"] for c in containers) == ["app", "log"]
    if not server_side:  # $setElementOrder puts the containers in the manifest's order
        assert [c["name"] for c in containers] == ["log", "app"]
    assert next(c for c in containers if c["name"] == "app")["env"] == [{"name": "A", "value": "1"}]
    assert live["metadata"]["labels"] == {"app": "multi"}
