"""Pods, Jobs and StatefulSets: the update rules and generated fields a restore meets."""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api

PODS = "/api/v1/namespaces/default/pods"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
STS = "/apis/apps/v1/namespaces/default/statefulsets"


def pod_spec(image: str = "nginx:1") -> dict[str, Any]:
    return {"containers": [{"name": "c", "image": image}], "restartPolicy": "Never"}


def test_pod_spec_is_immutable_except_images(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(PODS, {"metadata": {"name": "p"}, "spec": pod_spec()})
    code, pod = api.patch(
        f"{PODS}/p", {"spec": {"containers": [{"name": "c", "image": "nginx:2"}]}}, kind="strategic"
    )
    assert code == 200 and pod["spec"]["containers"][0]["image"] == "nginx:2"
    code, status = api.patch(f"{PODS}/p", {"spec": {"restartPolicy": "Always"}})
    assert code == 422 and "pod updates may not change fields" in status["message"]


def test_job_selector_is_generated_and_a_foreign_one_refused(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, job = api.post(
        JOBS, {"metadata": {"name": "j"}, "spec": {"template": {"spec": pod_spec()}}}
    )
    assert code == 201
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "j"
    restored = {"metadata": {"name": "k"}, "spec": dict(job["spec"])}
    code, status = api.post(JOBS, restored)
    assert code == 422 and "`selector` not auto-generated" in status["message"]
    restored["spec"]["manualSelector"] = True
    assert api.post(JOBS, restored)[0] == 201
    code, status = api.patch(
        f"{JOBS}/j", {"spec": {"template": {"spec": {"restartPolicy": "OnFailure"}}}}
    )
    assert code == 422 and "spec.template" in status["message"]


def test_statefulset_updates_are_limited(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    sts = {
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": pod_spec()},
        },
    }
    assert api.post(STS, sts)[0] == 201
    assert api.patch(f"{STS}/db", {"spec": {"replicas": 3}})[0] == 200
    code, status = api.patch(f"{STS}/db", {"spec": {"serviceName": "other"}})
    assert code == 422 and "updates to statefulset spec for fields other than" in status["message"]


def test_pods_and_templates_need_named_containers_with_images(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post(PODS, {"metadata": {"name": "empty"}, "spec": {"containers": []}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "spec.containers"
    bad = {
        "metadata": {"name": "bad"},
        "spec": {"containers": [{"name": "Web_1"}, {"name": "Web_1", "image": "i"}]},
    }
    code, status = api.post(PODS, bad)
    fields = sorted((c["field"], c["reason"]) for c in status["details"]["causes"])
    assert code == 422 and ("spec.containers[0].image", "FieldValueRequired") in fields
    assert ("spec.containers[1].name", "FieldValueDuplicate") in fields
    deploy = {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c"}]},
            },
        },
    }
    code, status = api.post("/apis/apps/v1/namespaces/default/deployments", deploy)
    assert (
        code == 422
        and "spec.template.spec.containers[0].image: Required value" in status["message"]
    )
