"""Nodes, the scheduler, the kubelet stand-in and the pods' volume folders, over HTTP."""

from __future__ import annotations

import json
import pathlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from strongroom.sandbox import nodes, server, storage
from tests.sandbox.api import Api

Obj = dict[str, Any]
PODS = "/api/v1/namespaces/default/pods"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
PVS = "/api/v1/persistentvolumes"
CLASSES = "/apis/storage.k8s.io/v1/storageclasses"


def wait_for(read: Callable[[], Any], check: Callable[[Any], bool], seconds: float = 5) -> Any:
    """Poll ``read`` until ``check`` holds; the last value either way (asserted by callers)."""
    deadline = time.monotonic() + seconds
    value = read()
    while not check(value) and time.monotonic() < deadline:
        time.sleep(0.02)
        value = read()
    return value


def pod(name: str, *volumes: Obj, **spec: Any) -> Obj:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], "volumes": list(volumes),
                 **spec},
    }  # fmt: skip


def claim_volume(claim: str, name: str = "data") -> Obj:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def claim(name: str, size: str = "1Gi", **spec: Any) -> Obj:
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                 **spec},
    }  # fmt: skip


class Cluster:
    def __init__(self, sandbox: server.Sandbox) -> None:
        self.sandbox = sandbox
        self.api = Api(sandbox.url)

    def create(self, path: str, body: Obj) -> Obj:
        code, created = self.api.post(path, body)
        assert code == 201, created
        return dict(created)

    def get(self, path: str) -> Obj:
        code, found = self.api.get(path)
        return dict(found) if code == 200 else {}

    def running(self, name: str) -> Obj:
        found = wait_for(lambda: self.get(f"{PODS}/{name}"),
                         lambda p: p.get("status", {}).get("phase") == "Running")  # fmt: skip
        assert found["status"]["phase"] == "Running", found.get("status")
        return dict(found)

    def volume_folder(self, found_pod: Obj, plugin: str, name: str) -> pathlib.Path:
        root = self.sandbox.kubelet_root(found_pod["spec"]["nodeName"])
        return root / "pods" / found_pod["metadata"]["uid"] / "volumes" / plugin / name


@pytest.fixture
def c(sandbox: server.Sandbox) -> Cluster:
    return Cluster(sandbox)


# -- nodes and the scheduler ---------------------------------------------------------------


def test_two_ready_nodes_with_k3s_labels_and_their_own_pod_networks(c: Cluster) -> None:
    items = c.get("/api/v1/nodes")["items"]
    assert [n["metadata"]["name"] for n in items] == ["sandbox-1", "sandbox-2"]
    assert items[0]["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == "true"
    assert "node-role.kubernetes.io/control-plane" not in items[1]["metadata"]["labels"]
    assert [n["spec"]["podCIDR"] for n in items] == ["10.42.0.0/24", "10.42.1.0/24"]
    for item in items:
        assert item["metadata"]["labels"]["kubernetes.io/hostname"] == item["metadata"]["name"]
        ready = {x["type"]: x["status"] for x in item["status"]["conditions"]}
        assert ready["Ready"] == "True" and ready["DiskPressure"] == "False"


def test_layouts_name_their_nodes_and_refuse_nonsense() -> None:
    assert nodes.Layout(3, "edge").names() == ["edge-1", "edge-2", "edge-3"]
    for count, prefix in ((0, "a"), (65, "a"), (1, ""), (1, "Bad_Name"), (1, "-a")):
        with pytest.raises(ValueError, match="node"):
            nodes.Layout(count, prefix)


def test_pods_spread_over_the_nodes_and_get_running_status(c: Cluster) -> None:
    for number in range(4):
        c.create(PODS, pod(f"p{number}"))
    found = [c.running(f"p{number}") for number in range(4)]
    placed = sorted(p["spec"]["nodeName"] for p in found)
    assert placed == ["sandbox-1", "sandbox-1", "sandbox-2", "sandbox-2"]
    ips = {p["status"]["podIP"] for p in found}
    assert len(ips) == 4
    for item in found:
        prefix = "10.42.0." if item["spec"]["nodeName"] == "sandbox-1" else "10.42.1."
        assert item["status"]["podIP"].startswith(prefix)
        conditions = {x["type"]: x["status"] for x in item["status"]["conditions"]}
        assert conditions == dict.fromkeys(
            ("PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready",
             "ContainersReady"), "True")  # fmt: skip
        (container,) = item["status"]["containerStatuses"]
        assert container["ready"] and "running" in container["state"]
        assert container["containerID"].startswith("containerd://")
    listed = c.get(PODS + "?fieldSelector=spec.nodeName%3Dsandbox-2")["items"]
    assert len(listed) == 2


def test_node_selector_affinity_and_taints_are_honoured(c: Cluster) -> None:
    c.create(PODS, pod("chosen", nodeSelector={"kubernetes.io/hostname": "sandbox-2"}))
    term = {"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane",
                                  "operator": "Exists"}]}  # fmt: skip
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                                 {"nodeSelectorTerms": [term]}}}  # fmt: skip
    c.create(PODS, pod("server", affinity=affinity))
    c.create(PODS, pod("nowhere", nodeSelector={"disktype": "ssd"}))
    assert c.running("chosen")["spec"]["nodeName"] == "sandbox-2"
    assert c.running("server")["spec"]["nodeName"] == "sandbox-1"
    nowhere = wait_for(lambda: c.get(f"{PODS}/nowhere"),
                       lambda p: p["status"].get("conditions"))  # fmt: skip
    (scheduled,) = nowhere["status"]["conditions"]
    assert scheduled["status"] == "False" and scheduled["reason"] == "Unschedulable"
    assert scheduled["message"].startswith("0/2 nodes are available: 2 node(s) didn't match")
    assert "nodeName" not in nowhere["spec"] and nowhere["status"]["phase"] == "Pending"


def test_a_pod_naming_its_node_skips_the_scheduler(c: Cluster) -> None:
    c.create(PODS, pod("pinned", nodeName="sandbox-2"))
    c.create(PODS, pod("lost", nodeName="gone"))
    assert c.running("pinned")["spec"]["nodeName"] == "sandbox-2"
    time.sleep(0.2)
    assert c.get(f"{PODS}/lost")["status"]["phase"] == "Pending"


# -- storage --------------------------------------------------------------------------------


def test_the_default_class_waits_for_the_first_pod_and_pins_its_node(c: Cluster) -> None:
    (default,) = c.get(CLASSES)["items"]
    assert default["metadata"]["name"] == "local-path"
    assert default["volumeBindingMode"] == "WaitForFirstConsumer"
    c.create(PVCS, claim("data"))
    time.sleep(0.2)
    waiting = c.get(f"{PVCS}/data")
    assert waiting["status"]["phase"] == "Pending" and waiting["spec"]["storageClassName"] == (
        "local-path"
    )
    c.create(PODS, pod("db", claim_volume("data"), nodeSelector={"kubernetes.io/hostname":
                                                                 "sandbox-2"}))  # fmt: skip
    c.running("db")
    bound = c.get(f"{PVCS}/data")
    assert bound["status"]["phase"] == "Bound" and bound["status"]["capacity"] == {"storage": "1Gi"}
    assert bound["metadata"]["annotations"][storage.SELECTED_NODE] == "sandbox-2"
    volume = c.get(f"{PVS}/{bound['spec']['volumeName']}")
    assert volume["metadata"]["name"] == f"pvc-{bound['metadata']['uid']}"
    assert volume["status"]["phase"] == "Bound"
    assert volume["spec"]["claimRef"]["uid"] == bound["metadata"]["uid"]
    assert volume["spec"]["csi"]["driver"] == storage.DRIVER
    expression = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]
    assert expression["matchExpressions"][0]["values"] == ["sandbox-2"]


def test_a_pod_follows_its_volume_to_the_volumes_node(c: Cluster) -> None:
    c.create(PVCS, claim("data"))
    c.create(PODS, pod("first", claim_volume("data"), nodeSelector={"kubernetes.io/hostname":
                                                                    "sandbox-2"}))  # fmt: skip
    c.running("first")
    for number in range(3):  # would spread onto sandbox-1 but for the volume
        c.create(PODS, pod(f"again{number}", claim_volume("data")))
    assert {c.running(f"again{n}")["spec"]["nodeName"] for n in range(3)} == {"sandbox-2"}


def test_immediate_classes_bind_at_once_without_node_affinity(c: Cluster) -> None:
    c.create(CLASSES, {"metadata": {"name": "fast"}, "provisioner": storage.DRIVER,
                       "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain"})  # fmt: skip
    c.create(PVCS, claim("quick", "500Mi", storageClassName="fast"))
    bound = wait_for(lambda: c.get(f"{PVCS}/quick"), lambda p: p["status"]["phase"] == "Bound")
    assert bound["status"]["phase"] == "Bound"
    volume = c.get(f"{PVS}/{bound['spec']['volumeName']}")
    assert "nodeAffinity" not in volume["spec"]
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["capacity"] == {"storage": "500Mi"}


def test_a_missing_or_unbound_immediate_claim_keeps_a_pod_unscheduled(c: Cluster) -> None:
    c.create(PODS, pod("orphan", claim_volume("nothing")))
    c.create(PVCS, claim("static", storageClassName=""))
    c.create(PODS, pod("stuck", claim_volume("static")))

    def message(name: str) -> str:
        found = wait_for(lambda: c.get(f"{PODS}/{name}"),
                         lambda p: p["status"].get("conditions"))  # fmt: skip
        return str(found["status"]["conditions"][0]["message"])

    assert message("orphan") == 'persistentvolumeclaim "nothing" not found'
    assert message("stuck") == "pod has unbound immediate PersistentVolumeClaims"
    c.create(PVCS, claim("nothing"))
    assert c.running("orphan")["spec"]["nodeName"].startswith("sandbox-")


def static_volume(name: str, size: str, **spec: Any) -> Obj:
    return {
        "metadata": {"name": name, "labels": {"tier": name}},
        "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                 "csi": {"driver": storage.DRIVER, "volumeHandle": name}, **spec},
    }  # fmt: skip


def test_static_volumes_bind_by_class_size_modes_selector_and_claim_ref(c: Cluster) -> None:
    for name, size in (("small", "1Gi"), ("medium", "5Gi"), ("large", "20Gi")):
        c.create(PVS, static_volume(name, size, storageClassName=""))
    c.create(PVS, static_volume("reserved", "1Gi", storageClassName="",
                                claimRef={"namespace": "default", "name": "mine"}))  # fmt: skip
    free = wait_for(lambda: c.get(f"{PVS}/small"), lambda v: v["status"]["phase"] == "Available")
    assert free["status"]["phase"] == "Available"
    c.create(PVCS, claim("two-gig", "2Gi", storageClassName=""))  # smallest that fits: medium
    c.create(PVCS, claim("picky", "1Gi", storageClassName="",
                         selector={"matchLabels": {"tier": "large"}}))  # fmt: skip
    c.create(PVCS, claim("mine", "1Gi", storageClassName=""))
    c.create(PVCS, claim("named", "1Gi", storageClassName="", volumeName="small"))
    c.create(PVCS, claim("too-big", "50Gi", storageClassName=""))

    def bound_to(name: str) -> str | None:
        found = wait_for(lambda: c.get(f"{PVCS}/{name}"),
                         lambda p: p["status"]["phase"] == "Bound", seconds=1)  # fmt: skip
        return found["spec"].get("volumeName") if found["status"]["phase"] == "Bound" else None

    assert bound_to("two-gig") == "medium"
    assert bound_to("picky") == "large"
    assert bound_to("mine") == "reserved"
    assert bound_to("named") == "small"
    assert bound_to("too-big") is None


def test_reclaim_policies_when_the_claim_goes(c: Cluster) -> None:
    c.create(CLASSES, {"metadata": {"name": "keep"}, "provisioner": storage.DRIVER,
                       "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain"})  # fmt: skip
    c.create(PVCS, claim("gone"))  # the default class: Delete
    c.create(PVCS, claim("kept", storageClassName="keep"))
    c.create(PODS, pod("user", claim_volume("gone")))
    c.running("user")
    names = {}
    for name in ("gone", "kept"):
        found = wait_for(lambda n=name: c.get(f"{PVCS}/{n}"),  # type: ignore[misc]
                         lambda p: p["status"]["phase"] == "Bound")  # fmt: skip
        names[name] = found["spec"]["volumeName"]
    folders = {k: c.sandbox.files / "storage" / v for k, v in names.items()}
    assert all(folder.is_dir() for folder in folders.values())
    (folders["kept"] / "row").write_bytes(b"kept")
    c.api.request("DELETE", f"{PODS}/user")
    for name in ("gone", "kept"):
        assert c.api.request("DELETE", f"{PVCS}/{name}")[0] == 200
    wait_for(lambda: c.get(f"{PVS}/{names['gone']}"), lambda v: not v)
    assert not c.get(f"{PVS}/{names['gone']}") and not folders["gone"].exists()
    released = wait_for(lambda: c.get(f"{PVS}/{names['kept']}"),
                        lambda v: v["status"]["phase"] == "Released")  # fmt: skip
    assert released["status"]["phase"] == "Released"
    assert (folders["kept"] / "row").read_bytes() == b"kept"


# -- the kubelet's folders -----------------------------------------------------------------


def test_volume_folders_where_a_kubelet_puts_them_and_data_outlives_pods(c: Cluster) -> None:
    c.create(PVCS, claim("data"))
    c.create(PODS, pod("db", claim_volume("data"), {"name": "scratch", "emptyDir": {}}))
    first = c.running("db")
    volume_name = c.get(f"{PVCS}/data")["spec"]["volumeName"]
    mount = c.volume_folder(first, "kubernetes.io~csi", volume_name) / "mount"
    scratch = c.volume_folder(first, "kubernetes.io~empty-dir", "scratch")
    assert mount.is_dir() and scratch.is_dir()
    described = json.loads((mount.parent / "vol_data.json").read_text())
    assert described["driverName"] == storage.DRIVER and described["specVolID"] == volume_name
    (mount / "table.db").write_bytes(b"rows")
    (scratch / "cache").write_bytes(b"temporary")
    pod_folder = scratch.parents[2]
    assert c.api.request("DELETE", f"{PODS}/db")[0] == 200
    wait_for(lambda: pod_folder.exists(), lambda there: not there)
    assert not pod_folder.exists()
    c.create(PODS, pod("db", claim_volume("data"), {"name": "scratch", "emptyDir": {}}))
    second = c.running("db")
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    mount = c.volume_folder(second, "kubernetes.io~csi", volume_name) / "mount"
    assert (mount / "table.db").read_bytes() == b"rows"
    assert list(c.volume_folder(second, "kubernetes.io~empty-dir", "scratch").iterdir()) == []


def test_a_pod_waits_for_its_config_map_and_secret(c: Cluster) -> None:
    volumes = ({"name": "conf", "configMap": {"name": "settings"}},
               {"name": "keys", "secret": {"secretName": "tls"}},
               {"name": "extra", "configMap": {"name": "absent", "optional": True}})  # fmt: skip
    c.create(PODS, pod("web", *volumes))
    waiting = wait_for(lambda: c.get(f"{PODS}/web"), lambda p: p["status"].get("message"))
    assert waiting["status"]["phase"] == "Pending"
    assert waiting["status"]["message"].endswith('configmap "settings" not found')
    (container,) = waiting["status"]["containerStatuses"]
    assert container["state"] == {"waiting": {"reason": "ContainerCreating"}}
    c.create("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "settings"}})
    waiting = wait_for(lambda: c.get(f"{PODS}/web"),
                       lambda p: "secret" in p["status"].get("message", ""))  # fmt: skip
    assert waiting["status"]["message"].endswith('secret "tls" not found')
    c.create("/api/v1/namespaces/default/secrets", {"metadata": {"name": "tls"}})
    assert "message" not in c.running("web")["status"]


def test_state_folder_keeps_volume_data_and_nodes_across_restarts(tmp_path: pathlib.Path) -> None:
    layout = nodes.Layout(3, "edge")
    with server.Sandbox(state_dir=tmp_path, layout=layout) as first:
        c = Cluster(first)
        c.create(PVCS, claim("data"))
        c.create(PODS, pod("db", claim_volume("data")))
        found = c.running("db")
        name = c.get(f"{PVCS}/data")["spec"]["volumeName"]
        (c.volume_folder(found, "kubernetes.io~csi", name) / "mount" / "row").write_bytes(b"1")
    assert (tmp_path / "storage" / name / "row").read_bytes() == b"1"
    with server.Sandbox(state_dir=tmp_path, layout=layout) as second:
        c = Cluster(second)
        assert [n["metadata"]["name"] for n in c.get("/api/v1/nodes")["items"]] == [
            "edge-1", "edge-2", "edge-3"]  # fmt: skip
        again = c.running("db")
        mount = c.volume_folder(again, "kubernetes.io~csi", name) / "mount"
        assert (mount / "row").read_bytes() == b"1"


def test_without_a_state_folder_the_files_go_with_the_sandbox() -> None:
    with server.Sandbox() as sandbox:
        files = sandbox.files
        Cluster(sandbox).create(PODS, pod("p", {"name": "e", "emptyDir": {}}))
        Cluster(sandbox).running("p")
        assert (files / "nodes").is_dir()
    assert not files.exists()


def test_a_pod_waits_while_its_restore_helper_waits_for_markers(c: Cluster) -> None:
    c.create(PVCS, claim("data"))
    helper = {
        "name": "strongroom-restore-wait",
        "image": "strongroom",
        "args": ["--marker", "m1", "/restores/data", "/restores/cache"],
        "volumeMounts": [{"name": "data", "mountPath": "/restores/data"},
                         {"name": "cache", "mountPath": "/restores/cache"}],
    }  # fmt: skip
    c.create(PODS, pod("db", claim_volume("data"), {"name": "cache", "emptyDir": {}},
                       initContainers=[helper]))  # fmt: skip
    waiting = wait_for(lambda: c.get(f"{PODS}/db"), lambda p: p["status"].get("message"))
    assert waiting["status"]["phase"] == "Pending"
    assert waiting["status"]["reason"] == "PodInitializing"
    assert "volume data" in waiting["status"]["message"]
    (init,) = waiting["status"]["initContainerStatuses"]
    assert "running" in init["state"]
    volume = c.get(f"{PVCS}/data")["spec"]["volumeName"]
    data = c.volume_folder(waiting, "kubernetes.io~csi", volume) / "mount"
    cache = c.volume_folder(waiting, "kubernetes.io~empty-dir", "cache")
    (data / ".strongroom").mkdir()
    (data / ".strongroom" / "m1").touch()
    waiting = wait_for(lambda: c.get(f"{PODS}/db"),
                       lambda p: "volume cache" in p["status"].get("message", ""))  # fmt: skip
    assert waiting["status"]["phase"] == "Pending"
    (cache / ".strongroom").mkdir()
    (cache / ".strongroom" / "other").touch()  # another restore's marker: still waiting
    time.sleep(1.2)
    assert c.get(f"{PODS}/db")["status"]["phase"] == "Pending"
    (cache / ".strongroom" / "m1").touch()
    started = c.running("db")
    assert "message" not in started["status"]
    assert started["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == (
        "Completed"
    )
