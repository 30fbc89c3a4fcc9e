"""Create, get, update, delete: codes, Status bodies and server-set metadata."""

from __future__ import annotations

import uuid

import pytest

from strongroom.sandbox import server
from tests.sandbox.api import Api, configmap

CMS = "/api/v1/namespaces/default/configmaps"


def test_create_sets_server_metadata(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, obj = api.post(CMS, configmap("a"))
    assert code == 201
    meta = obj["metadata"]
    uuid.UUID(meta["uid"])
    assert int(meta["resourceVersion"]) > 0
    assert meta["creationTimestamp"].endswith("Z")
    assert obj["kind"] == "ConfigMap" and obj["apiVersion"] == "v1"
    code, again = api.get(f"{CMS}/a")
    assert code == 200 and again["metadata"]["uid"] == meta["uid"]


def test_resource_versions_come_from_one_counter(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, a = api.post(CMS, configmap("a"))
    _, ns = api.post("/api/v1/namespaces", {"metadata": {"name": "other"}})
    _, b = api.post("/api/v1/namespaces/other/configmaps", configmap("b", "other"))
    rvs = [int(o["metadata"]["resourceVersion"]) for o in (a, ns, b)]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_already_exists_is_409_with_details(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CMS, configmap("a"))
    code, status = api.post(CMS, configmap("a"))
    assert code == 409
    assert status["kind"] == "Status" and status["status"] == "Failure"
    assert status["reason"] == "AlreadyExists" and status["code"] == 409
    assert status["details"] == {"name": "a", "kind": "configmaps"}
    assert status["message"] == 'configmaps "a" already exists'


def test_not_found_names_group_and_resource(sandbox: server.Sandbox) -> None:
    code, status = Api(sandbox.url).get("/apis/apps/v1/namespaces/default/deployments/x")
    assert code == 404 and status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "x" not found'
    assert status["details"] == {"name": "x", "group": "apps", "kind": "deployments"}


def test_invalid_names_are_422(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post(CMS, configmap("Bad_Name"))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert "RFC 1123 subdomain" in status["message"]
    long_ns = {"metadata": {"name": "a" * 64}}
    code, status = api.post("/api/v1/namespaces", long_ns)
    assert code == 422 and "no more than 63 characters" in status["message"]
    svc = {"metadata": {"name": "1svc"}, "spec": {"ports": [{"port": 80}]}}
    code, status = api.post("/api/v1/namespaces/default/services", svc)
    assert code == 422 and "DNS-1035" in status["message"]


def test_missing_name_and_bad_labels_are_422(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post(CMS, {"metadata": {}})
    assert code == 422
    assert status["details"]["causes"][0]["reason"] == "FieldValueRequired"
    assert "name or generateName is required" in status["message"]
    bad = configmap("a")
    bad["metadata"]["labels"] = {"ok": "not valid!"}
    code, status = api.post(CMS, bad)
    assert code == 422 and status["details"]["causes"][0]["field"] == "metadata.labels"


def test_generate_name(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    names = set()
    for _ in range(3):
        code, obj = api.post(CMS, {"metadata": {"generateName": "job-"}, "data": {}})
        assert code == 201
        name = obj["metadata"]["name"]
        assert name.startswith("job-") and len(name) == 9
        names.add(name)
    assert len(names) == 3


def test_kind_and_api_version_must_match_the_url(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    wrong_kind = configmap("a")
    wrong_kind["kind"] = "Secret"
    assert api.post(CMS, wrong_kind)[0] == 400
    wrong_version = configmap("a")
    wrong_version["apiVersion"] = "apps/v1"
    code, status = api.post(CMS, wrong_version)
    assert code == 400 and "does not match the expected API version" in status["message"]
    other_ns = configmap("a", namespace="kube-system")
    assert api.post(CMS, other_ns)[0] == 400


def test_update_with_stale_resource_version_conflicts(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("a"))
    obj["data"] = {"k": "2"}
    code, updated = api.put(f"{CMS}/a", obj)
    assert code == 200 and updated["data"] == {"k": "2"}
    assert int(updated["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    obj["data"] = {"k": "3"}
    code, status = api.put(f"{CMS}/a", obj)
    assert code == 409 and status["reason"] == "Conflict"
    assert "the object has been modified" in status["message"]
    assert status["details"]["name"] == "a"


def test_update_keeps_server_fields_and_noop_keeps_version(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("a"))
    forged = dict(obj, metadata=dict(obj["metadata"], creationTimestamp="2000-01-01T00:00:00Z"))
    code, same = api.put(f"{CMS}/a", forged)
    assert code == 200
    assert same["metadata"]["creationTimestamp"] == obj["metadata"]["creationTimestamp"]
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]


def test_update_with_another_uid_is_a_failed_precondition(sandbox: server.Sandbox) -> None:
    """A restore replacing an object with its backed-up uid fails as on a real server."""
    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("a"))
    stale = dict(obj, metadata=dict(obj["metadata"], uid="11111111-1111-1111-1111-111111111111"))
    code, status = api.put(f"{CMS}/a", stale)
    assert code == 409 and status["reason"] == "Conflict"
    assert "Precondition failed: UID in precondition" in status["message"]


def test_update_name_mismatch_and_missing_object(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("a"))
    assert api.put(f"{CMS}/b", obj)[0] == 400
    obj["metadata"] = {"name": "ghost", "namespace": "default"}
    assert api.put(f"{CMS}/ghost", obj)[0] == 404


def test_generation_bumps_on_spec_changes_only(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    path = "/apis/apps/v1/namespaces/default/deployments"
    dep = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    code, obj = api.post(path, dep)
    assert code == 201 and obj["metadata"]["generation"] == 1 and obj["spec"]["replicas"] == 1
    _, obj = api.patch(f"{path}/web", {"metadata": {"labels": {"x": "y"}}})
    assert obj["metadata"]["generation"] == 1
    _, obj = api.patch(f"{path}/web", {"spec": {"replicas": 3}})
    assert obj["metadata"]["generation"] == 2


def test_unsupported_verbs_are_405(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post("/api/v1/configmaps", configmap("a"))
    assert code == 405 and status["reason"] == "MethodNotAllowed"
    code, _ = api.delete("/api/v1/componentstatuses/x")
    assert code == 405
    assert api.put(CMS, configmap("a"))[0] == 405


def test_bad_bodies_are_400(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.request("POST", CMS, raw=b"{not json")
    assert code == 400 and status["reason"] == "BadRequest"
    assert api.request("POST", CMS, raw=b"[1, 2]")[0] == 400


def test_delete_answers_status_or_object_then_404(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    _, created = api.post(CMS, configmap("a"))
    code, status = api.delete(f"{CMS}/a")
    assert code == 200 and status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"] == {
        "name": "a",
        "kind": "configmaps",
        "uid": created["metadata"]["uid"],
    }
    assert api.get(f"{CMS}/a")[0] == 404
    assert api.delete(f"{CMS}/a")[0] == 404
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    api.post("/api/v1/namespaces/default/pods", pod)
    code, deleted = api.delete("/api/v1/namespaces/default/pods/p")
    assert code == 200 and deleted["kind"] == "Pod", "pods answer the deleted object"


def test_delete_preconditions(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CMS, configmap("a"))
    code, status = api.delete(
        f"{CMS}/a", {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "nope"}}
    )
    assert code == 409 and "Precondition failed" in status["message"]
    assert api.get(f"{CMS}/a")[0] == 200


def test_finalizers_hold_deletion_until_removed(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    cm = configmap("a")
    cm["metadata"]["finalizers"] = ["example.com/hold"]
    api.post(CMS, cm)
    code, obj = api.delete(f"{CMS}/a")
    assert code == 200 and obj["metadata"]["deletionTimestamp"]
    code, still = api.get(f"{CMS}/a")
    assert code == 200 and still["metadata"]["deletionTimestamp"]
    code, status = api.patch(
        f"{CMS}/a", {"metadata": {"finalizers": ["example.com/hold", "x.io/new"]}}
    )
    assert code == 422 and "no new finalizers" in status["message"]
    code, _ = api.patch(f"{CMS}/a", {"metadata": {"finalizers": None}})
    assert code == 200
    assert api.get(f"{CMS}/a")[0] == 404


def test_dry_run_stores_nothing(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, obj = api.post(CMS, configmap("a"), dryRun="All")
    assert code == 201 and obj["metadata"]["name"] == "a"
    assert api.get(f"{CMS}/a")[0] == 404


def test_cluster_scoped_objects_drop_a_namespace(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    body = {"metadata": {"name": "fast", "namespace": "default"}, "provisioner": "x.io/p"}
    code, obj = api.post("/apis/storage.k8s.io/v1/storageclasses", body)
    assert code == 201 and "namespace" not in obj["metadata"]
    code, status = api.put(
        "/apis/storage.k8s.io/v1/storageclasses/fast", dict(obj, provisioner="y.io/p")
    )
    assert code == 422 and "provisioner" in status["message"]


def test_create_with_a_resource_version_is_refused(sandbox: server.Sandbox) -> None:
    """A restore must strip resourceVersion: a real server's storage refuses it on create."""
    api = Api(sandbox.url)
    body = configmap("a")
    body["metadata"]["resourceVersion"] = "12345"
    code, status = api.post(CMS, body)
    assert code == 500 and "reason" not in status
    assert status["message"] == "resourceVersion should not be set on objects to be created"


def test_a_noop_update_a_second_later_keeps_the_version(
    sandbox: server.Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strongroom.sandbox import apply

    api = Api(sandbox.url)
    _, obj = api.post(CMS, configmap("late"))
    monkeypatch.setattr(apply, "_now", lambda: "2099-01-01T00:00:00Z")
    code, same = api.put(f"{CMS}/late", obj)
    assert code == 200
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    assert same["metadata"]["managedFields"] == obj["metadata"]["managedFields"]
