"""What the engine relies on from an API server, checked against the sandbox with this client.

Each test names one behaviour of a real API server (kube-apiserver semantics) that backup or
restore depends on; together they hold the sandbox to the Python client as kubectl's tests
hold it to kubectl.
"""

from __future__ import annotations

import threading
import time

import pytest

from strongroom.kube import client, errors
from tests.kube.conftest import configmap, crd, namespace


def test_server_sets_identity_and_versions(kube: client.Client) -> None:
    a = kube.create("configmaps", configmap("a"))["metadata"]
    b = kube.create("configmaps", configmap("b"))["metadata"]
    assert a["uid"] != b["uid"]
    assert int(b["resourceVersion"]) > int(a["resourceVersion"])
    assert a["creationTimestamp"].endswith("Z")
    page = next(kube.list_pages("configmaps", "default"))
    assert int(page.resource_version) >= int(b["resourceVersion"])


def test_dry_run_create_persists_nothing(kube: client.Client) -> None:
    out = kube.create("configmaps", configmap("dry"), dry_run=True)
    assert out["metadata"]["name"] == "dry"
    with pytest.raises(errors.NotFound):
        kube.get("configmaps", "dry", "default")


def test_secret_data_round_trips(kube: client.Client) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default"},
        "type": "Opaque",
        "data": {"password": "aHVudGVyMg=="},
    }
    kube.create("secrets", body)
    assert kube.get("secrets", "s", "default")["data"] == {"password": "aHVudGVyMg=="}


def test_crd_established_then_custom_resources_served(kube: client.Client) -> None:
    kube.create("crd", crd("stores.example.com", "gadgets", "Gadget"))
    established = kube.wait_for_condition("crd", "gadgets.stores.example.com", timeout=10)
    conditions = {c["type"]: c["status"] for c in established["status"]["conditions"]}
    assert conditions["Established"] == "True"
    kube.discovery.refresh()
    gadgets = kube.discovery.find("gadgets.stores.example.com")
    kube.create(
        gadgets,
        {
            "apiVersion": "stores.example.com/v1",
            "kind": "Gadget",
            "metadata": {"name": "g", "namespace": "default", "labels": {"a": "b"}},
        },
    )
    listed = list(kube.list(gadgets, label_selector="a=b"))
    assert [(g["kind"], g["metadata"]["name"]) for g in listed] == [("Gadget", "g")]


def test_deleting_a_crd_removes_its_objects(kube: client.Client) -> None:
    kube.create("crd", crd())
    kube.wait_for_condition("crd", "widgets.example.com", timeout=10)
    widgets = kube.discovery.refresh() and kube.discovery.find("widgets.example.com")
    kube.create(
        widgets,
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"},
        },
    )
    kube.delete("crd", "widgets.example.com")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            kube.get(widgets, "w", "default")
        except errors.NotFound:
            return
        time.sleep(0.1)
    pytest.fail("custom resources outlived their CRD")


def test_namespace_deletion_terminates_then_removes_contents(kube: client.Client) -> None:
    kube.create("namespaces", namespace("gone"))
    kube.create("configmaps", configmap("inside", "gone"))
    kube.delete("namespaces", "gone")
    deadline = time.monotonic() + 15
    phases = set()
    while time.monotonic() < deadline:
        try:
            phases.add(kube.get("namespaces", "gone").get("status", {}).get("phase"))
        except errors.NotFound:
            break
        time.sleep(0.05)
    else:
        pytest.fail("namespace never went away")
    assert phases <= {"Terminating", None}
    with pytest.raises(errors.NotFound):
        kube.get("configmaps", "inside", "gone")


def test_finalizers_hold_deletion(kube: client.Client) -> None:
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]  # type: ignore[index]
    kube.create("configmaps", body)
    kube.delete("configmaps", "held", "default")
    held = kube.get("configmaps", "held", "default")
    assert held["metadata"].get("deletionTimestamp")
    kube.patch("configmaps", "held", {"metadata": {"finalizers": None}}, "default")
    with pytest.raises(errors.NotFound):
        kube.get("configmaps", "held", "default")


def test_status_subresource(kube: client.Client) -> None:
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    kube.create("deployments.apps", deploy)
    patched = kube.patch(
        "deployments.apps", "web", {"status": {"replicas": 7}}, "default", subresource="status"
    )
    assert patched["status"]["replicas"] == 7
    assert kube.get("deployments.apps", "web", "default")["spec"]["replicas"] == 1


def test_services_get_a_cluster_ip_that_cannot_change(kube: client.Client) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}},
    }
    created = kube.create("services", svc)
    ip = created["spec"].get("clusterIP")
    assert ip and ip != "None"
    created["spec"]["clusterIP"] = "10.43.99.99" if ip != "10.43.99.99" else "10.43.99.98"
    created["spec"]["clusterIPs"] = [created["spec"]["clusterIP"]]
    with pytest.raises(errors.Invalid):
        kube.replace("services", created)


def test_server_side_apply_conflicts_between_managers(kube: client.Client) -> None:
    def intent(value: str) -> dict[str, object]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "ssa", "namespace": "default"},
            "data": {"k": value},
        }

    kube.patch("configmaps", "ssa", intent("1"), "default", patch_type="apply", field_manager="one")
    with pytest.raises(errors.Conflict):
        kube.patch(
            "configmaps", "ssa", intent("2"), "default", patch_type="apply", field_manager="two"
        )
    forced = kube.patch(
        "configmaps",
        "ssa",
        intent("2"),
        "default",
        patch_type="apply",
        field_manager="two",
        force=True,
    )
    assert forced["data"] == {"k": "2"}


def test_unsupported_verb_is_method_not_allowed(kube: client.Client) -> None:
    res = kube.discovery.find("tokenreviews.authentication.k8s.io")
    assert "list" not in res.verbs
    with pytest.raises(errors.MethodNotAllowed) as info:
        next(kube.list_pages(res))
    assert info.value.status == 405


def test_idle_watch_ends_at_timeout_seconds(kube: client.Client) -> None:
    rv = next(kube.list_pages("configmaps", "default")).resource_version
    began = time.monotonic()
    events = list(kube.watch("configmaps", "default", resource_version=rv, timeout_seconds=1))
    assert [e for e in events if e.type != "BOOKMARK"] == []
    assert 0.8 < time.monotonic() - began < 5


def test_concurrent_clients_threads_share_one_client(kube: client.Client) -> None:
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                kube.create("configmaps", configmap(f"t{n}-{i}", app=f"t{n}"))
            assert len(list(kube.list("configmaps", "default", label_selector=f"app=t{n}"))) == 10
        except BaseException as exc:  # collected and re-raised below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert (
        len(
            [i for i in kube.list("configmaps", "default") if i["metadata"]["name"].startswith("t")]
        )
        == 60
    )
