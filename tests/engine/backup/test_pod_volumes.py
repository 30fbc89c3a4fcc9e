"""Backups with pod volumes: a StatefulSet across the sandbox's two nodes, node agents that
take their PodVolumeBackups from the cluster and store as writers, the backup that checks and
lists their snapshots. Agents run as threads here; tests/cli/test_node_agent.py runs them as
processes."""

from __future__ import annotations

import contextlib
import pathlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from strongroom import clock
from strongroom.archive import compress
from strongroom.crypto import agekeys
from strongroom.crypto.providers import age_x25519
from strongroom.engine.backup import runner, spec
from strongroom.engine.podvolumes import agent, objects
from strongroom.engine.restore import restorer
from strongroom.engine.restore import spec as restore_spec
from strongroom.engine.volumes import restore, snapshots
from strongroom.kube import client
from strongroom.repository import repo, writers
from strongroom.sandbox import server
from strongroom.storage import base, factory
from tests.storage.conftest import (  # noqa: F401  (fixtures)
    S3Opener,
    aws_env,
    aws_isolated,
    open_s3,
    s3_bucket,
    s3_prefix,
)

MARKER = b"pod-volume-marker-7f3a "
Obj = dict[str, Any]


@pytest.fixture
def repository(tmp_path: pathlib.Path) -> repo.Repository:
    return new_repository(factory.open_backend("filesystem", str(tmp_path / "bucket"), ""))


def new_repository(backend: base.Backend) -> repo.Repository:
    recipient = agekeys.Identity.generate().recipient()
    return repo.Repository.create(
        backend, [age_x25519.AgeX25519Provider(recipient)], clock.SystemClock()
    )


@pytest.fixture
def installed(kube: client.Client) -> client.Client:
    """The CRD and the agents' namespace, as ``strongroom install`` will apply them."""
    for definition in objects.definitions():
        kube.create("customresourcedefinitions", definition)  # type: ignore[arg-type]
        kube.wait_for_condition("customresourcedefinitions", definition["metadata"]["name"])
    kube.create("namespaces", {"metadata": {"name": objects.DEFAULT_NAMESPACE}})
    kube.create("namespaces", {"metadata": {"name": "shop"}})
    return kube


@contextlib.contextmanager
def agents(
    kube: client.Client, sandbox: server.Sandbox, repository: repo.Repository, nodes: list[str]
) -> Iterator[list[agent.Agent]]:
    credential = repository.add_writer()
    target = writers.WriterRepository.open(repository.backend, credential, clock.SystemClock())
    running = [
        agent.Agent(kube, node, sandbox.kubelet_root(node), lambda _: target, interval=0.05)
        for node in nodes
    ]
    threads = [threading.Thread(target=a.run, daemon=True) for a in running]
    for thread in threads:
        thread.start()
    try:
        yield running
    finally:
        for each in running:
            each.stop()
        for thread in threads:
            thread.join(timeout=30)


def stateful_set(replicas: int, annotations: dict[str, str]) -> Obj:
    claims = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}}]  # fmt: skip
    template = {"metadata": {"labels": {"app": "db"}, "annotations": annotations},
                "spec": {"containers": [{"name": "db", "image": "postgres:16"}],
                         "volumes": [{"name": "scratch", "emptyDir": {}}]}}  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"replicas": replicas, "serviceName": "db", "template": template,
                     "selector": {"matchLabels": {"app": "db"}},
                     "volumeClaimTemplates": claims}}  # fmt: skip


def running_pods(kube: client.Client, count: int) -> list[Obj]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pods = [dict(p) for p in kube.list("pods", "shop")]
        if len(pods) == count and all(p["status"].get("phase") == "Running" for p in pods):
            return sorted(pods, key=lambda p: p["metadata"]["name"])
        time.sleep(0.05)
    states = [(p["metadata"]["name"], p["status"].get("phase"), p["status"].get("message"),
               p["spec"].get("nodeName")) for p in kube.list("pods", "shop")]  # fmt: skip
    work = [(o["metadata"]["name"], o.get("status"))
            for o in kube.list(objects.RESTORE_RESOURCE, objects.DEFAULT_NAMESPACE)]  # fmt: skip
    raise AssertionError(f"the pods did not start: {states} {work}")


def write_volumes(kube: client.Client, sandbox: server.Sandbox, pods: list[Obj]) -> dict[str, Obj]:
    """Distinct rows in each pod's claim and scratch space; what each holds, by pod."""
    written = {}
    for pod in pods:
        name, uid, node = pod["metadata"]["name"], pod["metadata"]["uid"], pod["spec"]["nodeName"]
        claim = kube.get("persistentvolumeclaims", f"data-{name}", "shop")
        volumes = sandbox.kubelet_root(node) / "pods" / uid / "volumes"
        data = volumes / "kubernetes.io~csi" / claim["spec"]["volumeName"] / "mount"
        (data / "pgdata").mkdir()
        rows = MARKER + name.encode() + b"\n" + bytes(range(256)) * 400
        (data / "pgdata" / "table").write_bytes(rows)
        (volumes / "kubernetes.io~empty-dir" / "scratch" / "tmp").write_bytes(b"scratch " + rows)
        written[name] = {"data": rows, "scratch": b"scratch " + rows}
    return written


def run_backup(kube: client.Client, repository: repo.Repository, name: str, **fields: Any) -> Any:
    volumes = runner.Volumes(timeout=fields.pop("timeout", 30.0), progress=fields.pop("seen", None))
    opt_out = fields.pop("opt_out", False)
    request = spec.BackupSpec(
        name, included_namespaces=("shop",), default_volumes_to_fs_backup=opt_out, **fields
    )
    return runner.run(kube, repository, request, clock=clock.SystemClock(), volumes=volumes)


def test_a_stateful_sets_volumes_are_backed_up_by_the_agents_of_their_nodes(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository,
    tmp_path: pathlib.Path,
) -> None:  # fmt: skip
    kube = installed
    kube.create("statefulsets", stateful_set(3, {"backup.velero.io/backup-volumes": "data"}))
    pods = running_pods(kube, 3)
    assert {p["spec"]["nodeName"] for p in pods} == {"sandbox-1", "sandbox-2"}
    written = write_volumes(kube, sandbox, pods)
    seen: list[tuple[int, int, int]] = []
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        outcome = run_backup(kube, repository, "nightly", seen=lambda *a: seen.append(a))
    assert outcome.phase == "Completed", outcome
    assert seen and seen[-1][:2] == (3, 3)  # --wait's progress: volumes done of all
    assert seen[-1][2] == sum(len(w["data"]) for w in written.values())  # bytes read
    taken = outcome.manifest.status["volumeSnapshots"]
    assert sorted((t["pod"], t["volume"], t["pvc"]) for t in taken) == [
        (f"db-{n}", "data", f"data-db-{n}") for n in range(3)]  # fmt: skip
    by_pod = {p["metadata"]["name"]: p for p in pods}
    for entry in taken:
        assert entry["node"] == by_pod[entry["pod"]]["spec"]["nodeName"]
        assert entry["files"] == 1 and entry["dirs"] == 1
        assert entry["bytes"] == len(written[entry["pod"]]["data"])
    item = repository.backup("nightly")
    for held in snapshots.in_backup(item):
        target = tmp_path / "restored" / held.entry["pod"]
        restore.restore(repository, held, target)
        assert (target / "pgdata" / "table").read_bytes() == written[held.entry["pod"]]["data"]
    # the PodVolumeBackups say what happened
    # the PodVolumeBackups served their purpose: the manifest holds the outcome
    assert list(kube.list(objects.RESOURCE, objects.DEFAULT_NAMESPACE)) == []
    # no plaintext of any volume in any stored byte
    assert_no_plaintext(repository.backend)


def assert_no_plaintext(backend: base.Backend) -> None:
    for info in backend.list(""):
        with backend.get(info.name) as reader:
            assert MARKER not in reader.read(), info.name


def test_opting_out_takes_every_claim_and_empty_dir_but_the_excluded(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    annotations = {"backup.velero.io/backup-volumes-excludes": "scratch"}
    kube.create("statefulsets", stateful_set(2, annotations))
    pods = running_pods(kube, 2)
    write_volumes(kube, sandbox, pods)
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        excluded = run_backup(kube, repository, "without-scratch", opt_out=True)
        unset = {"backup.velero.io/backup-volumes-excludes": None}
        template = {"template": {"metadata": {"annotations": unset}}}
        kube.patch("statefulsets", "db", {"spec": template}, "shop")
        old = {p["metadata"]["uid"] for p in pods}
        deadline = time.monotonic() + 10  # the rolling update replaces both pods
        while time.monotonic() < deadline:
            fresh = running_pods(kube, 2)
            if not old & {p["metadata"]["uid"] for p in fresh}:
                break
            time.sleep(0.05)
        everything = run_backup(kube, repository, "with-scratch", opt_out=True)
    assert excluded.phase == everything.phase == "Completed"
    volumes = {t["volume"] for t in excluded.manifest.status["volumeSnapshots"]}
    assert volumes == {"data"}
    taken = everything.manifest.status["volumeSnapshots"]
    assert sorted(t["volume"] for t in taken) == ["data", "data", "scratch", "scratch"]
    assert {t["pvc"] for t in taken if t["volume"] == "scratch"} == {""}
    assert repository.backup("with-scratch").manifest.spec["defaultVolumesToFsBackup"] is True


def test_a_pod_not_running_and_a_node_without_agent_are_errors_not_hangs(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    kube.create("statefulsets", stateful_set(2, {"backup.velero.io/backup-volumes": "data"}))
    pods = running_pods(kube, 2)
    stuck = {"metadata": {"name": "stuck", "namespace": "shop",
                          "annotations": {"backup.velero.io/backup-volumes": "cache,secret"}},
             "spec": {"nodeName": "gone", "containers": [{"name": "c", "image": "busybox"}],
                      "volumes": [{"name": "cache", "emptyDir": {}},
                                  {"name": "secret", "secret": {"secretName": "x"}}]}}  # fmt: skip
    kube.create("pods", stuck)
    only = pods[0]["spec"]["nodeName"]
    started = time.monotonic()
    with agents(kube, sandbox, repository, [only]):
        outcome = run_backup(kube, repository, "partial", timeout=2.0)
    assert time.monotonic() - started < 20
    assert outcome.phase == "PartiallyFailed"
    taken = outcome.manifest.status["volumeSnapshots"]
    assert [t["node"] for t in taken] == [only]
    stored = repository.backup("partial").open("log")
    log = b"".join(compress.decompress_stream(stored)).decode()
    assert "volume cache of pod shop/stuck: the pod is not running" in log
    assert "no node agent took it within 2s" in log
    assert "volume 'secret' is a secret volume, not backed up" in log


def test_an_agent_restarted_mid_volume_fails_it_cleanly(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    body = objects.request(
        namespace=objects.DEFAULT_NAMESPACE,
        backup={"name": "b", "id": "a" * 26, "epoch": 1, "recipient": "age1x"},
        location="default", pod={"namespace": "shop", "name": "p", "uid": "u"},
        volume="v", node="sandbox-1", pvc=None,
    )  # fmt: skip
    made = kube.create(objects.RESOURCE, body)  # type: ignore[arg-type]
    name = made["metadata"]["name"]
    kube.patch(objects.RESOURCE, name, {"status": {"phase": objects.IN_PROGRESS}},
               objects.DEFAULT_NAMESPACE, subresource="status")  # fmt: skip
    fresh = agent.Agent(kube, "sandbox-1", sandbox.kubelet_root("sandbox-1"), lambda _: None)  # type: ignore[arg-type,return-value]
    assert fresh.recover() == 1
    after = kube.get(objects.RESOURCE, name, objects.DEFAULT_NAMESPACE)
    assert objects.phase(after) == objects.FAILED
    assert after["status"]["message"] == agent.RESTARTED


@pytest.mark.parametrize(
    ("pod_uid", "volume", "message"),
    [
        ("../../etc", "data", "malformed"),
        ("0d2c0d3e-aaaa-bbbb-cccc-000000000001", "../x", "malformed"),
        ("0d2c0d3e-aaaa-bbbb-cccc-000000000001", "missing", "no volume"),
    ],
)
def test_names_from_the_cluster_never_leave_the_kubelet_folder(
    installed: client.Client, tmp_path: pathlib.Path, pod_uid: str, volume: str, message: str
) -> None:
    from strongroom.engine.podvolumes import take

    pod = {"metadata": {"uid": pod_uid, "namespace": "shop"},
           "spec": {"volumes": [{"name": "data", "emptyDir": {}}]}}  # fmt: skip
    with pytest.raises(take.Refused, match=message):
        take.folder(installed, tmp_path, pod, volume)


def wait_gone(kube: client.Client, namespace: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if namespace not in {n["metadata"]["name"] for n in kube.list("namespaces")}:
            return
        time.sleep(0.05)
    raise AssertionError(f"namespace {namespace} is still there")


def volume_contents(
    kube: client.Client, sandbox: server.Sandbox, namespace: str
) -> dict[str, bytes]:
    """Each running pod's claim data (pgdata/table), by pod name."""
    found = {}
    for pod in kube.list("pods", namespace):
        name, uid, node = pod["metadata"]["name"], pod["metadata"]["uid"], pod["spec"]["nodeName"]
        claim = kube.get("persistentvolumeclaims", f"data-{name}", namespace)
        mount = (sandbox.kubelet_root(node) / "pods" / uid / "volumes" / "kubernetes.io~csi"
                 / claim["spec"]["volumeName"] / "mount")  # fmt: skip
        found[name] = (mount / "pgdata" / "table").read_bytes()
    return found


def test_a_restore_brings_the_volumes_back_before_the_pods_start(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    kube.create("statefulsets", stateful_set(3, {"backup.velero.io/backup-volumes": "data"}))
    written = write_volumes(kube, sandbox, running_pods(kube, 3))
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        assert run_backup(kube, repository, "nightly").phase == "Completed"
        kube.delete("namespaces", "shop")
        wait_gone(kube, "shop")
        request = restore_spec.RestoreSpec("back", "nightly")
        seen: list[tuple[int, int, int]] = []
        volumes = restorer.Volumes(timeout=30, progress=lambda *a: seen.append(a))
        done = restorer.run(kube, repository, request, clock=clock.SystemClock(), volumes=volumes)
        assert done.phase == "Completed", done.errors
        assert seen and seen[-1][:2] == (3, 3)  # --wait's progress: volumes done of all
        assert seen[-1][2] == sum(len(w["data"]) for w in written.values())
        pods = running_pods(kube, 3)
    for pod in pods:
        (helper, *_) = pod["spec"]["initContainers"]
        assert helper["name"] == "strongroom-restore-wait"
        assert helper["args"][:1] == ["--marker"]
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet"  # adopted
    assert volume_contents(kube, sandbox, "shop") == {n: w["data"] for n, w in written.items()}
    assert list(kube.list(objects.RESTORE_RESOURCE, objects.DEFAULT_NAMESPACE)) == []
    assert not done.errors["strongroom"]
    secrets = [s["metadata"]["name"] for s in kube.list("secrets", objects.DEFAULT_NAMESPACE)]
    assert not [s for s in secrets if s.startswith("strongroom-grant-")]  # grants deleted


def test_a_migration_to_another_cluster_with_other_nodes_and_namespace(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository,
    tmp_path: pathlib.Path,
) -> None:  # fmt: skip
    from strongroom.sandbox import nodes

    kube = installed
    kube.create("statefulsets", stateful_set(2, {"backup.velero.io/backup-volumes": "data"}))
    written = write_volumes(kube, sandbox, running_pods(kube, 2))
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        assert run_backup(kube, repository, "move").phase == "Completed"
    with server.Sandbox(layout=nodes.Layout(3, "edge")) as other:
        config = other.write_kubeconfig(tmp_path / "other.kubeconfig")
        with client.Client.from_kubeconfig(config) as target:
            target.create("customresourcedefinitions", objects.definition(restore=True))  # type: ignore[arg-type]
            target.wait_for_condition("customresourcedefinitions",
                                      "podvolumerestores.strongroom.io")  # fmt: skip
            target.create("namespaces", {"metadata": {"name": objects.DEFAULT_NAMESPACE}})
            fast = {"metadata": {"name": "fast"}, "provisioner": "local.csi.strongroom.io",
                    "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain"}  # fmt: skip
            target.create("storageclasses", fast)  # type: ignore[arg-type]
            with agents(target, other, repository, other.node_names):
                request = restore_spec.RestoreSpec(
                    "moved", "move", namespace_mappings={"shop": "shop2"},
                    storage_class_mappings={"local-path": "fast"},
                )  # fmt: skip
                done = restorer.run(target, repository, request, clock=clock.SystemClock(),
                                    volumes=restorer.Volumes(timeout=30))  # fmt: skip
            assert done.phase == "Completed", done.errors
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pods = list(target.list("pods", "shop2"))
                if len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods):
                    break
                time.sleep(0.05)
            assert {p["spec"]["nodeName"] for p in pods} <= {"edge-1", "edge-2", "edge-3"}
            claims = list(target.list("persistentvolumeclaims", "shop2"))
            assert {c["spec"]["storageClassName"] for c in claims} == {"fast"}
            contents = volume_contents(target, other, "shop2")
    assert contents == {n: w["data"] for n, w in written.items()}


def backed_up_then_gone(
    kube: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    """A one-replica database with data, backed up as "b" (agents running), then its
    namespace deleted."""
    kube.create("statefulsets", stateful_set(1, {"backup.velero.io/backup-volumes": "data"}))
    write_volumes(kube, sandbox, running_pods(kube, 1))
    assert run_backup(kube, repository, "b").phase == "Completed"
    kube.delete("namespaces", "shop")
    wait_gone(kube, "shop")


def test_a_tampered_pack_fails_the_volume_and_the_pod_never_starts_on_it(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        backed_up_then_gone(kube, sandbox, repository)
        for info in repository.backend.list("v/p/"):  # flip a byte in the middle of each pack
            with repository.backend.get(info.name) as reader:
                data = bytearray(reader.read())
            data[len(data) // 2] ^= 0x01
            repository.backend.delete(info.name)
            repository.backend.put(info.name, bytes(data))
        request = restore_spec.RestoreSpec("bad", "b")
        done = restorer.run(kube, repository, request, clock=clock.SystemClock(),
                            volumes=restorer.Volumes(timeout=30))  # fmt: skip
    assert done.phase == "PartiallyFailed"
    (error,) = done.errors["strongroom"]
    assert error.startswith("volume data of pod shop/db-0: ") and "fails its tag" in error
    (pod,) = list(kube.list("pods", "shop"))
    assert pod["status"]["phase"] == "Pending"  # held by the restore helper: no marker
    claim = kube.get("persistentvolumeclaims", "data-db-0", "shop")
    folder = sandbox.files / "storage" / claim["spec"]["volumeName"]
    assert not any(MARKER in p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_a_restore_with_no_agent_says_so_after_its_timeout(
    installed: client.Client, sandbox: server.Sandbox, repository: repo.Repository
) -> None:
    kube = installed
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        backed_up_then_gone(kube, sandbox, repository)
    started = time.monotonic()
    request = restore_spec.RestoreSpec("lonely", "b")
    volumes = restorer.Volumes(timeout=1.5)
    done = restorer.run(kube, repository, request, clock=clock.SystemClock(), volumes=volumes)
    assert time.monotonic() - started < 15
    assert done.phase == "PartiallyFailed"
    errors = done.errors
    messages = [*errors["strongroom"], *errors["cluster"]]
    messages += [m for found in errors["namespaces"].values() for m in found]
    assert any("no node agent took it within 1.5s" in m for m in messages), done.errors
    secrets = [s["metadata"]["name"] for s in kube.list("secrets", objects.DEFAULT_NAMESPACE)]
    assert not [s for s in secrets if s.startswith("strongroom-grant-")]


def test_backup_and_restore_through_agents_on_seaweedfs(
    installed: client.Client, sandbox: server.Sandbox, request: pytest.FixtureRequest
) -> None:
    """The same path with the repository in S3 (SeaweedFS): multipart packs streamed by the
    agents, grants for packs read back by ranged gets."""
    kube = installed
    opener: S3Opener = request.getfixturevalue("open_s3")
    repository = new_repository(opener("rw"))
    kube.create("statefulsets", stateful_set(2, {"backup.velero.io/backup-volumes": "data"}))
    written = write_volumes(kube, sandbox, running_pods(kube, 2))
    with agents(kube, sandbox, repository, ["sandbox-1", "sandbox-2"]):
        assert run_backup(kube, repository, "s3").phase == "Completed"
        kube.delete("namespaces", "shop")
        wait_gone(kube, "shop")
        asked = restore_spec.RestoreSpec("from-s3", "s3")
        volumes = restorer.Volumes(timeout=30)
        done = restorer.run(kube, repository, asked, clock=clock.SystemClock(), volumes=volumes)
    assert done.phase == "Completed", done.errors
    running_pods(kube, 2)
    assert volume_contents(kube, sandbox, "shop") == {n: w["data"] for n, w in written.items()}
    assert_no_plaintext(repository.backend)
