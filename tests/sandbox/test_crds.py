"""CustomResourceDefinitions: registration in discovery, Established, objects, removal."""

from __future__ import annotations

import copy
import time
from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS = "/apis/example.com/v1/namespaces/default/widgets"

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wg"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            },
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            },
        ],
    },
}


def widget(name: str, version: str = "v1") -> dict[str, Any]:
    return {
        "apiVersion": f"example.com/{version}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 3},
        "status": {"ready": True},
    }


def test_crd_is_established_and_discoverable(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    assert api.get("/apis/example.com/v1")[0] == 404
    code, crd = api.post(CRDS, CRD)
    assert code == 201
    conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd["status"]["acceptedNames"]["listKind"] == "WidgetList"
    assert crd["status"]["storedVersions"] == ["v1"]
    assert "customresourcecleanup.apiextensions.k8s.io" in crd["metadata"]["finalizers"]
    _, groups = api.get("/apis")
    group = next(g for g in groups["groups"] if g["name"] == "example.com")
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1"
    _, resources = api.get("/apis/example.com/v1")
    by_name = {r["name"]: r for r in resources["resources"]}
    assert by_name["widgets"]["shortNames"] == ["wg"] and "widgets/status" in by_name


def test_custom_objects_crud_and_status_subresource(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CRDS, CRD)
    code, obj = api.post(WIDGETS, widget("w1"))
    assert code == 201 and "status" not in obj, "status is set through the subresource only"
    assert obj["metadata"]["generation"] == 1
    obj["status"] = {"ready": True}
    code, with_status = api.put(f"{WIDGETS}/w1/status", obj)
    assert code == 200 and with_status["status"] == {"ready": True}
    assert with_status["metadata"]["generation"] == 1
    code, listed = api.get(WIDGETS)
    assert listed["kind"] == "WidgetList" and listed["items"][0]["kind"] == "Widget"
    code, through_beta = api.get("/apis/example.com/v1beta1/namespaces/default/widgets/w1")
    assert code == 200 and through_beta["apiVersion"] == "example.com/v1beta1"
    wrong = widget("w2")
    wrong["kind"] = "Gadget"
    assert api.post(WIDGETS, wrong)[0] == 400
    assert api.patch(f"{WIDGETS}/w1", {"spec": {"size": 4}}, kind="strategic")[0] == 415


def test_invalid_crds_are_422(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    bad = copy.deepcopy(CRD)
    bad["metadata"]["name"] = "gizmos.example.com"
    code, status = api.post(CRDS, bad)
    assert code == 422 and 'must be spec.names.plural+"."+spec.group' in status["message"]
    bad = copy.deepcopy(CRD)
    for version in bad["spec"]["versions"]:
        version["storage"] = True
    code, status = api.post(CRDS, bad)
    assert code == 422 and "exactly one version marked as storage version" in status["message"]


def test_deleting_a_crd_removes_its_objects_and_resource(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CRDS, CRD)
    api.post(WIDGETS, widget("w1"))
    code, crd = api.delete(f"{CRDS}/widgets.example.com")
    assert code == 200
    deadline = time.monotonic() + 5
    while api.get(f"{CRDS}/widgets.example.com")[0] != 404:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert api.get(WIDGETS)[0] == 404
    assert api.get("/apis/example.com/v1")[0] == 404
    code, again = api.post(CRDS, CRD)
    assert code == 201
    assert api.get(WIDGETS)[1]["items"] == [], "objects do not come back with the definition"


def test_cluster_scoped_crd(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    crd = copy.deepcopy(CRD)
    crd["spec"]["scope"] = "Cluster"
    api.post(CRDS, crd)
    code, obj = api.post("/apis/example.com/v1/widgets", widget("top"))
    assert code == 201 and "namespace" not in obj["metadata"]
    assert api.get("/apis/example.com/v1/namespaces/default/widgets")[0] == 404


def test_custom_objects_need_a_resource_version_to_update(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    api.post(CRDS, CRD)
    _, obj = api.post(WIDGETS, widget("w1"))
    blind = widget("w1")
    code, status = api.put(f"{WIDGETS}/w1", blind)
    assert code == 422 and "must be specified for an update" in status["message"]
    blind["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
    assert api.put(f"{WIDGETS}/w1", blind)[0] == 200
