"""Discovery documents: versions, groups, resource lists, preferred versions, OpenAPI v3."""

from __future__ import annotations

import json
import urllib.request

from strongroom.sandbox import server
from tests.sandbox.api import Api


def test_version_and_core_api(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, version = api.get("/version")
    assert code == 200 and version["major"] == "1" and version["gitVersion"].startswith("v1.")
    code, core = api.get("/api")
    assert code == 200 and core["kind"] == "APIVersions" and core["versions"] == ["v1"]


def test_core_resource_list_describes_builtins(sandbox: server.Sandbox) -> None:
    code, doc = Api(sandbox.url).get("/api/v1/")
    assert code == 200 and doc["kind"] == "APIResourceList" and doc["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in doc["resources"]}
    assert by_name["configmaps"]["shortNames"] == ["cm"]
    assert by_name["configmaps"]["namespaced"] is True
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["services"]["kind"] == "Service"
    assert "watch" in by_name["pods"]["verbs"]
    assert "pods/status" in by_name and "namespaces/status" in by_name


def test_groups_and_preferred_versions(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, groups = api.get("/apis")
    assert code == 200 and groups["kind"] == "APIGroupList"
    by_name = {g["name"]: g for g in groups["groups"]}
    for name in (
        "apps",
        "batch",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "policy",
        "autoscaling",
        "scheduling.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "coordination.k8s.io",
    ):
        assert name in by_name, name
    assert by_name["autoscaling"]["preferredVersion"]["version"] == "v2"
    assert "gateway.networking.k8s.io" not in by_name
    code, apps = api.get("/apis/apps/")
    assert (
        code == 200
        and apps["kind"] == "APIGroup"
        and apps["preferredVersion"]["groupVersion"] == "apps/v1"
    )
    code, resources = api.get("/apis/apps/v1")
    names = {r["name"] for r in resources["resources"]}
    assert {
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "deployments/scale",
    } <= names


def test_unknown_paths_are_404_status(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    for path in ("/apis/nope.example.com", "/apis/apps/v9", "/api/v1/frobs", "/bogus"):
        code, body = api.get(path)
        assert code == 404, path
        assert body["kind"] == "Status" and body["reason"] == "NotFound"


def test_openapi_v3_declares_field_validation(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, root = api.get("/openapi/v3")
    assert code == 200
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    code, doc = api.get(url.split("?")[0])
    assert code == 200 and doc["openapi"].startswith("3.")
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert api.get("/openapi/v2")[0] == 404


AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def aggregated(sandbox: server.Sandbox, path: str) -> tuple[str, dict]:
    request = urllib.request.Request(
        sandbox.url + path, headers={"Accept": f"{AGGREGATED},application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.headers["Content-Type"], json.loads(resp.read())


def test_aggregated_discovery_matches_the_legacy_documents(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    kind, core = aggregated(sandbox, "/api")
    assert kind == AGGREGATED and core["kind"] == "APIGroupDiscoveryList"
    assert [g["metadata"]["name"] for g in core["items"]] == [""]
    _, groups = aggregated(sandbox, "/apis")
    legacy_groups = api.get("/apis")[1]["groups"]
    assert [g["metadata"]["name"] for g in groups["items"]] == [g["name"] for g in legacy_groups]
    for item in core["items"] + groups["items"]:
        name = item["metadata"]["name"]
        assert item["versions"][0]["version"] in {v["version"] for v in item["versions"]}
        for version in item["versions"]:
            path = f"/apis/{name}/{version['version']}" if name else f"/api/{version['version']}"
            legacy = {r["name"]: r for r in api.get(path)[1]["resources"] if "/" not in r["name"]}
            assert {r["resource"] for r in version["resources"]} == set(legacy)
            for resource in version["resources"]:
                entry = legacy[resource["resource"]]
                assert resource["responseKind"]["kind"] == entry["kind"]
                assert resource["verbs"] == entry["verbs"]
                assert (resource["scope"] == "Namespaced") == entry["namespaced"]
    deployments = next(
        r
        for g in groups["items"]
        if g["metadata"]["name"] == "apps"
        for r in g["versions"][0]["resources"]
        if r["resource"] == "deployments"
    )
    assert {s["subresource"] for s in deployments["subresources"]} == {"status", "scale"}
    assert api.get("/api")[1]["kind"] == "APIVersions", "plain JSON clients get the legacy form"
