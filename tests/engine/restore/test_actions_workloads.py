"""Restore item actions for pods, jobs and services (table tests)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strongroom.engine.restore.actions import base
from tests.engine.restore import actionkit

Obj = dict[str, Any]


def pod(**spec: Any) -> Obj:
    body: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop", "uid": "u1"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec},
        "status": {"phase": "Running"},
    }
    return body


def test_pod_node_name_and_priority_are_cleared() -> None:
    out = actionkit.run("pods", pod(nodeName="node-1", priority=1000, priorityClassName="high"))
    assert not out.skip
    assert "nodeName" not in out.item["spec"] and "priority" not in out.item["spec"]
    assert out.item["spec"]["priorityClassName"] == "high"
    assert base.ItemKey("priorityclasses.scheduling.k8s.io", None, "high") in out.additional_items


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_completed_pods_are_skipped(phase: str) -> None:
    obj = pod()
    obj["status"]["phase"] = phase
    out = actionkit.run("pods", obj)
    assert out.skip and phase in out.reason


@pytest.mark.parametrize("phase", ["Pending", "Running", "Unknown"])
def test_live_pods_are_restored(phase: str) -> None:
    obj = pod()
    obj["status"]["phase"] = phase
    assert not actionkit.run("pods", obj).skip


def test_mirror_pods_are_skipped() -> None:
    obj = pod()
    obj["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc"}
    out = actionkit.run("pods", obj)
    assert out.skip and out.reason == "mirror pod"


def test_service_account_token_volumes_and_mounts_are_dropped() -> None:
    mounts = [
        {"name": "builder-token-x7k2p", "mountPath": "/var/run/secrets"},
        {"name": "data", "mountPath": "/data"},
    ]
    obj = pod(
        serviceAccountName="builder",
        volumes=[
            {"name": "builder-token-x7k2p", "secret": {"secretName": "builder-token-x7k2p"}},
            {"name": "data", "persistentVolumeClaim": {"claimName": "data-claim"}},
            {"name": "default-token-aaaaa", "secret": {"secretName": "default-token-aaaaa"}},
        ],
        initContainers=[{"name": "init", "image": "busybox", "volumeMounts": list(mounts)}],
    )
    obj["spec"]["containers"][0]["volumeMounts"] = list(mounts)
    out = actionkit.run("pods", obj)
    spec = out.item["spec"]
    assert [v["name"] for v in spec["volumes"]] == ["data", "default-token-aaaaa"]
    for container in (*spec["containers"], *spec["initContainers"]):
        assert [m["name"] for m in container["volumeMounts"]] == ["data"]
    assert out.additional_items == (base.ItemKey("persistentvolumeclaims", "shop", "data-claim"),)


def test_pod_without_service_account_uses_default_prefix() -> None:
    obj = pod(
        volumes=[{"name": "default-token-abcde", "secret": {}}, {"name": "keep", "emptyDir": {}}]
    )
    out = actionkit.run("pods", obj)
    assert [v["name"] for v in out.item["spec"]["volumes"]] == ["keep"]


def job(**status: Any) -> Obj:
    uid = "8a7c-uid"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {
            "selector": {
                "matchLabels": {
                    "controller-uid": uid,
                    "batch.kubernetes.io/controller-uid": uid,
                    "team": "a",
                }
            },
            "template": {
                "metadata": {
                    "labels": {
                        "controller-uid": uid,
                        "batch.kubernetes.io/controller-uid": uid,
                        "job-name": "migrate",
                    }
                },
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
        "status": status,
    }


def test_job_controller_uid_labels_are_removed() -> None:
    out = actionkit.run("jobs.batch", job(active=1))
    assert not out.skip
    assert out.item["spec"]["selector"]["matchLabels"] == {"team": "a"}
    assert out.item["spec"]["template"]["metadata"]["labels"] == {"job-name": "migrate"}


def test_completed_jobs_are_skipped() -> None:
    out = actionkit.run("jobs.batch", job(completionTime="2026-11-01T00:00:00Z", succeeded=1))
    assert out.skip and "completed" in out.reason


def service(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "clusterIP": "10.43.0.20",
            "clusterIPs": ["10.43.0.20"],
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "https", "port": 443, "protocol": "TCP", "nodePort": 30443},
            ],
            **spec,
        },
    }


def node_ports(out: base.ActionOutput) -> list[int | None]:
    return [p.get("nodePort") for p in out.item["spec"]["ports"]]


def test_service_cluster_ips_are_cleared() -> None:
    out = actionkit.run("services", service(type="ClusterIP"))
    assert "clusterIP" not in out.item["spec"] and "clusterIPs" not in out.item["spec"]


def test_headless_service_keeps_cluster_ip_none() -> None:
    out = actionkit.run("services", service(clusterIP="None", clusterIPs=["None"]))
    assert out.item["spec"]["clusterIP"] == "None"
    assert out.item["spec"]["clusterIPs"] == ["None"]


def test_allocated_node_ports_are_cleared() -> None:
    out = actionkit.run("services", service(type="NodePort", healthCheckNodePort=31000))
    assert node_ports(out) == [None, None]
    assert "healthCheckNodePort" not in out.item["spec"]


def test_preserve_node_ports_keeps_them() -> None:
    out = actionkit.run(
        "services", service(type="NodePort", healthCheckNodePort=31000), preserve_node_ports=True
    )
    assert node_ports(out) == [30080, 30443]
    assert out.item["spec"]["healthCheckNodePort"] == 31000


def test_node_ports_set_in_last_applied_configuration_are_kept() -> None:
    obj = service(type="NodePort", healthCheckNodePort=31000)
    applied = {
        "spec": {"type": "NodePort", "ports": [{"name": "https", "port": 443, "nodePort": 30443}]}
    }
    obj["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)
    }
    out = actionkit.run("services", obj)
    assert node_ports(out) == [None, 30443]
    assert "healthCheckNodePort" not in out.item["spec"]


def test_unnamed_node_port_in_last_applied_is_matched_by_value() -> None:
    obj = service(type="NodePort")
    obj["spec"]["ports"] = [{"port": 80, "protocol": "TCP", "nodePort": 30080}]
    applied = {"spec": {"ports": [{"port": 80, "nodePort": 30080}], "healthCheckNodePort": 1}}
    obj["metadata"]["annotations"] = {
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)
    }
    assert node_ports(actionkit.run("services", obj)) == [30080]


def test_node_ports_owned_in_managed_fields_are_kept() -> None:
    obj = service(type="NodePort", healthCheckNodePort=31000)
    obj["metadata"]["managedFields"] = [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:healthCheckNodePort": {},
                    "f:ports": {
                        ".": {},
                        'k:{"port":80,"protocol":"TCP"}': {"f:nodePort": {}, "f:port": {}},
                        'k:{"port":443,"protocol":"TCP"}': {"f:port": {}},
                    },
                }
            },
        }
    ]
    out = actionkit.run("services", obj)
    assert node_ports(out) == [30080, None]
    assert out.item["spec"]["healthCheckNodePort"] == 31000
    assert "managedFields" not in out.item["metadata"]


def test_malformed_last_applied_configuration_is_ignored() -> None:
    obj = service(type="NodePort")
    obj["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{"}
    assert node_ports(actionkit.run("services", obj)) == [None, None]


def test_external_name_services_keep_their_spec() -> None:
    obj = service(type="ExternalName", externalName="db.example.com")
    obj["spec"].pop("clusterIP")
    obj["spec"].pop("clusterIPs")
    out = actionkit.run("services", obj)
    assert out.item["spec"]["externalName"] == "db.example.com"
    assert node_ports(out) == [30080, 30443]
