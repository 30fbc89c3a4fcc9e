"""What a pod meets on create: its service account and priority class must exist."""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "i"}], **spec},
    }


def test_service_account_defaults_and_must_exist(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, created = api.post(PODS, pod("a"))
    assert code == 201 and created["spec"]["serviceAccountName"] == "default"
    code, status = api.post(PODS, pod("b", serviceAccountName="robot"))
    assert code == 403 and status["reason"] == "Forbidden"
    assert 'serviceaccount "robot" not found' in status["message"]
    api.post("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "robot"}})
    assert api.post(PODS, pod("b", serviceAccountName="robot"))[0] == 201


def test_priority_class_must_exist_and_sets_priority(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post(PODS, pod("a", priorityClassName="high"))
    assert code == 403 and "no PriorityClass with name high was found" in status["message"]
    code, created = api.post(PODS, pod("b", priorityClassName="system-cluster-critical"))
    assert code == 201 and created["spec"]["priority"] == 2000000000
    api.post(
        "/apis/scheduling.k8s.io/v1/priorityclasses",
        {"metadata": {"name": "high"}, "value": 1000, "globalDefault": True},
    )
    code, created = api.post(PODS, pod("c"))
    assert code == 201 and created["spec"]["priorityClassName"] == "high"
    assert created["spec"]["priority"] == 1000
