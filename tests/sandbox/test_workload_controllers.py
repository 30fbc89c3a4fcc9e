"""Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs run their pods, as on K3s:
checked through the real kubectl (rollout status, wait, scale, set image) and over HTTP."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import pytest

from strongroom.sandbox import kubelet, server
from tests.sandbox import kubectl_runner
from tests.sandbox.api import Api
from tests.sandbox.test_kubelet import wait_for

Obj = dict[str, Any]


@pytest.fixture
def kubectl(
    sandbox_kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> kubectl_runner.Kubectl:
    return kubectl_runner.for_kubeconfig(sandbox_kubeconfig, tmp_path_factory.mktemp("kube"))


def template(app: str, image: str = "busybox:1.36", **spec: Any) -> Obj:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": app, "image": image}], **spec},
    }


def deployment(name: str, replicas: int = 3) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template(name, "nginx:1.27")}}  # fmt: skip


def stateful_set(name: str, replicas: int = 3, **spec: Any) -> Obj:
    claims = [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}}]  # fmt: skip
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "serviceName": name,
                     "selector": {"matchLabels": {"app": name}},
                     "template": template(name, "postgres:16"),
                     "volumeClaimTemplates": claims, **spec}}  # fmt: skip


def pods_of(kubectl: kubectl_runner.Kubectl, app: str) -> list[Obj]:
    found: list[Obj] = kubectl.get("pods", "-l", f"app={app}")["items"]
    return found


def test_a_deployment_rolls_out_and_rolls_on(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([deployment("web")])
    out = kubectl.ok("rollout", "status", "deployment/web", "--timeout=20s").out
    assert 'deployment "web" successfully rolled out' in out
    (first,) = kubectl.get("replicasets")["items"]
    digest = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"web-{digest}"
    assert first["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert first["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pods = pods_of(kubectl, "web")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Running" for p in pods)
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods} == {digest}
    assert {p["spec"]["nodeName"] for p in pods} == {"sandbox-1", "sandbox-2"}
    status = kubectl.get("deployment", "web")["status"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"]) == (3, 3, 3)
    conditions = {c["type"]: c["reason"] for c in status["conditions"]}
    assert conditions == {"Available": "MinimumReplicasAvailable",
                          "Progressing": "NewReplicaSetAvailable"}  # fmt: skip

    kubectl.ok("set", "image", "deployment/web", "web=nginx:1.28")
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=20s")
    sets = {s["metadata"]["name"]: s for s in kubectl.get("replicasets")["items"]}
    assert sets[first["metadata"]["name"]]["spec"]["replicas"] == 0
    (current,) = [s for s in sets.values() if s["spec"]["replicas"] == 3]
    assert current["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    pods = wait_for(lambda: pods_of(kubectl, "web"), lambda p: len(p) == 3)
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"nginx:1.28"}

    kubectl.ok("scale", "deployment/web", "--replicas=1")
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=20s")
    assert len(wait_for(lambda: pods_of(kubectl, "web"), lambda p: len(p) == 1)) == 1


def test_a_replica_set_replaces_a_deleted_pod(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([deployment("api", replicas=2)])
    kubectl.ok("rollout", "status", "deployment/api", "--timeout=20s")
    victim = pods_of(kubectl, "api")[0]["metadata"]["name"]
    kubectl.ok("delete", "pod", victim)

    def replaced(pods: list[Obj]) -> bool:
        return len(pods) == 2 and all(x["status"]["phase"] == "Running" for x in pods)

    pods = wait_for(lambda: pods_of(kubectl, "api"), replaced)
    assert len(pods) == 2 and victim not in {p["metadata"]["name"] for p in pods}


def test_a_refused_pod_is_the_replica_sets_failure(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    body = deployment("robot", replicas=1)
    body["spec"]["template"]["spec"]["serviceAccountName"] = "robot"
    assert api.post("/apis/apps/v1/namespaces/default/deployments", body)[0] == 201
    found = wait_for(lambda: api.get("/apis/apps/v1/namespaces/default/replicasets")[1]["items"],
                     lambda s: s and s[0].get("status", {}).get("conditions"))  # fmt: skip
    (condition,) = found[0]["status"]["conditions"]
    assert condition["type"] == "ReplicaFailure" and condition["reason"] == "FailedCreate"
    assert 'serviceaccount "robot" not found' in condition["message"]
    api.post("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "robot"}})
    pods = wait_for(lambda: api.get("/api/v1/namespaces/default/pods")[1]["items"],
                    lambda p: len(p) == 1)  # fmt: skip
    assert len(pods) == 1


def test_a_stateful_set_makes_ordinal_pods_and_keeps_their_claims(
    sandbox: server.Sandbox, kubectl: kubectl_runner.Kubectl
) -> None:
    kubectl.apply([stateful_set("db")])
    out = kubectl.ok("rollout", "status", "statefulset/db", "--timeout=20s").out
    assert "3 new pods have been updated" in out
    pods = {p["metadata"]["name"]: p for p in pods_of(kubectl, "db")}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    assert {p["spec"]["nodeName"] for p in pods.values()} == {"sandbox-1", "sandbox-2"}
    for ordinal in range(3):
        pod = pods[f"db-{ordinal}"]
        labels = pod["metadata"]["labels"]
        assert labels["apps.kubernetes.io/pod-index"] == str(ordinal)
        assert labels["statefulset.kubernetes.io/pod-name"] == f"db-{ordinal}"
        assert pod["spec"]["hostname"] == f"db-{ordinal}" and pod["spec"]["subdomain"] == "db"
        (volume,) = pod["spec"]["volumes"]
        assert volume == {
            "name": "data",
            "persistentVolumeClaim": {"claimName": f"data-db-{ordinal}"},
        }
    claims = {c["metadata"]["name"]: c for c in kubectl.get("pvc")["items"]}
    assert sorted(claims) == ["data-db-0", "data-db-1", "data-db-2"]
    assert all(c["status"]["phase"] == "Bound" for c in claims.values())
    assert all(c["metadata"]["labels"] == {"app": "db"} for c in claims.values())
    # each replica's data lands in its own volume, seen through its node's kubelet folder
    pod = pods["db-1"]
    volume_name = claims["data-db-1"]["spec"]["volumeName"]
    mount = (sandbox.kubelet_root(pod["spec"]["nodeName"]) / "pods" / pod["metadata"]["uid"]
             / "volumes" / kubelet.CSI / volume_name / "mount")  # fmt: skip
    (mount / "rows").write_bytes(b"replica 1")

    kubectl.ok("scale", "statefulset/db", "--replicas=1")
    remaining = wait_for(lambda: pods_of(kubectl, "db"), lambda p: len(p) == 1)
    assert [p["metadata"]["name"] for p in remaining] == ["db-0"]
    assert len(kubectl.get("pvc")["items"]) == 3  # Retain: claims stay
    kubectl.ok("scale", "statefulset/db", "--replicas=2")
    kubectl.ok("rollout", "status", "statefulset/db", "--timeout=20s")
    again = kubectl.get("pod", "db-1")
    mount = (sandbox.kubelet_root(again["spec"]["nodeName"]) / "pods" / again["metadata"]["uid"]
             / "volumes" / kubelet.CSI / volume_name / "mount")  # fmt: skip
    assert (mount / "rows").read_bytes() == b"replica 1"


def test_ordered_ready_waits_and_parallel_does_not(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    for name, policy in (("ordered", "OrderedReady"), ("parallel", "Parallel")):
        body = stateful_set(name, podManagementPolicy=policy)
        # every pod waits for a ConfigMap that does not exist yet: none becomes Ready
        waiting = {"name": "conf", "configMap": {"name": "later"}}
        body["spec"]["template"]["spec"]["volumes"] = [waiting]
        assert api.post("/apis/apps/v1/namespaces/default/statefulsets", body)[0] == 201
    time.sleep(0.3)
    names = sorted(
        p["metadata"]["name"] for p in api.get("/api/v1/namespaces/default/pods")[1]["items"]
    )
    assert names == ["ordered-0", "parallel-0", "parallel-1", "parallel-2"]
    api.post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "later"}})
    pods = wait_for(lambda: api.get("/api/v1/namespaces/default/pods")[1]["items"],
                    lambda p: len(p) == 6)  # fmt: skip
    assert len(pods) == 6


def test_claims_owned_when_deleted_go_with_the_set(kubectl: kubectl_runner.Kubectl) -> None:
    policy = {"whenDeleted": "Delete", "whenScaled": "Delete"}
    kubectl.apply([stateful_set("cache", replicas=2, persistentVolumeClaimRetentionPolicy=policy)])
    kubectl.ok("rollout", "status", "statefulset/cache", "--timeout=20s")
    claims = kubectl.get("pvc")["items"]
    assert all(c["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet" for c in claims)
    kubectl.ok("scale", "statefulset/cache", "--replicas=1")
    left = wait_for(lambda: kubectl.get("pvc")["items"], lambda c: len(c) == 1)
    assert [c["metadata"]["name"] for c in left] == ["data-cache-0"]
    kubectl.ok("delete", "statefulset", "cache")
    assert wait_for(lambda: kubectl.get("pvc")["items"], lambda c: not c) == []


def test_a_stateful_set_template_change_replaces_pods_from_the_top(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    kubectl.apply([stateful_set("db", replicas=2)])
    kubectl.ok("rollout", "status", "statefulset/db", "--timeout=20s")
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in pods_of(kubectl, "db")}
    kubectl.ok("set", "image", "statefulset/db", "db=postgres:17")
    kubectl.ok("rollout", "status", "statefulset/db", "--timeout=20s")
    status = kubectl.get("statefulset", "db")["status"]
    assert status["currentRevision"] == status["updateRevision"]
    after = {p["metadata"]["name"]: p for p in pods_of(kubectl, "db")}
    assert sorted(after) == ["db-0", "db-1"]
    assert all(after[n]["metadata"]["uid"] != before[n] for n in after)
    assert {p["spec"]["containers"][0]["image"] for p in after.values()} == {"postgres:17"}


def test_a_daemon_set_runs_one_pod_per_fitting_node(kubectl: kubectl_runner.Kubectl) -> None:
    def daemon_set(name: str, **pod_spec: Any) -> Obj:
        return {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": template(name, **pod_spec),
            },
        }

    agents_only = {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}
    required = {"nodeSelectorTerms": [{"matchExpressions": [agents_only]}]}
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    kubectl.apply([daemon_set("agent"), daemon_set("workers", affinity=affinity)])
    for name in ("agent", "workers"):
        out = kubectl.ok("rollout", "status", f"daemonset/{name}", "--timeout=20s").out
        assert f'daemon set "{name}" successfully rolled out' in out
    assert sorted(p["spec"]["nodeName"] for p in pods_of(kubectl, "agent")) == [
        "sandbox-1", "sandbox-2"]  # fmt: skip
    assert [p["spec"]["nodeName"] for p in pods_of(kubectl, "workers")] == ["sandbox-2"]
    status = kubectl.get("daemonset", "agent")["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"]) == (2, 2)


def test_a_job_runs_until_its_pods_succeed_or_fail(kubectl: kubectl_runner.Kubectl) -> None:
    def job(name: str, code: int, **spec: Any) -> Obj:
        pod = template(name, restartPolicy="Never")
        pod["metadata"]["annotations"] = {kubelet.EXIT_CODE: str(code)}
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": "default"},
                "spec": {"template": pod, **spec}}  # fmt: skip

    kubectl.apply([job("ok", 0, completions=3, parallelism=2), job("bad", 1, backoffLimit=1)])
    kubectl.ok("wait", "--for=condition=complete", "job/ok", "--timeout=20s")
    kubectl.ok("wait", "--for=condition=failed", "job/bad", "--timeout=20s")
    done = kubectl.get("job", "ok")["status"]
    assert done["succeeded"] == 3 and done["active"] == 0 and "completionTime" in done
    assert len(pods_of(kubectl, "ok")) == 3
    failed = kubectl.get("job", "bad")["status"]
    assert failed["failed"] == 2
    reasons = {c["type"]: c["reason"] for c in failed["conditions"]}
    assert reasons["Failed"] == "BackoffLimitExceeded"
    job_pods = kubectl.get("pods", "-l", "batch.kubernetes.io/job-name=ok")["items"]
    assert len(job_pods) == 3 and all(p["status"]["phase"] == "Succeeded" for p in job_pods)


def test_deleting_a_deployment_takes_its_replica_sets_and_pods(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    kubectl.apply([deployment("gone", replicas=2)])
    kubectl.ok("rollout", "status", "deployment/gone", "--timeout=20s")
    kubectl.ok("delete", "deployment", "gone")
    assert wait_for(lambda: pods_of(kubectl, "gone"), lambda p: not p) == []
    assert kubectl.get("replicasets")["items"] == []
