"""kubectl get and describe against the sandbox: selectors, pagination, raw requests."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest

from tests.sandbox import kubectl_manifests, kubectl_runner


@pytest.fixture
def kubectl(
    sandbox_kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> kubectl_runner.Kubectl:
    return kubectl_runner.for_kubeconfig(sandbox_kubeconfig, tmp_path_factory.mktemp("kube"))


def configmap(ns: str, name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": name},
    }


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def listed(kubectl: kubectl_runner.Kubectl, *args: str) -> list[tuple[str, str]]:
    items = kubectl.get(*args)["items"]
    return sorted((i["metadata"].get("namespace", ""), i["metadata"]["name"]) for i in items)


def test_label_selectors_equality_and_set_based_across_namespaces(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    kubectl.apply(
        [
            namespace("sel-a"),
            namespace("sel-b"),
            configmap("sel-a", "web", tier="web", colour="red"),
            configmap("sel-a", "db", tier="db"),
            configmap("sel-b", "web", tier="web", colour="blue"),
            configmap("sel-b", "cache", tier="cache"),
        ]
    )
    web = listed(kubectl, "configmaps", "-A", "-l", "tier=web")
    assert web == [("sel-a", "web"), ("sel-b", "web")]
    web_db = listed(kubectl, "configmaps", "-A", "-l", "tier in (web,db)")
    assert web_db == [("sel-a", "db"), ("sel-a", "web"), ("sel-b", "web")]
    not_web = listed(kubectl, "configmaps", "-n", "sel-b", "-l", "tier notin (web),tier")
    assert not_web == [("sel-b", "cache")]
    assert listed(kubectl, "cm", "-A", "-l", "colour!=red,tier=web") == [("sel-b", "web")]
    assert listed(kubectl, "cm", "-A", "-l", "!colour,tier") == [
        ("sel-a", "db"),
        ("sel-b", "cache"),
    ]
    bad = kubectl.fails("get", "cm", "-A", "-l", "tier in web")
    assert "BadRequest" in bad.err or "unable to parse requirement" in bad.err


def test_field_selectors(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([namespace("fld"), configmap("fld", "one"), configmap("fld", "two")])
    one = listed(kubectl, "cm", "-n", "fld", "--field-selector", "metadata.name=one")
    assert one == [("fld", "one")]
    others = listed(
        kubectl, "cm", "-A", "--field-selector", "metadata.namespace=fld,metadata.name!=one"
    )
    assert ("fld", "two") in others and ("fld", "one") not in others
    assert all(ns == "fld" for ns, _ in others)
    bad = kubectl.fails("get", "cm", "-n", "fld", "--field-selector", "data.k=one")
    assert "field label not supported: data.k" in bad.err


def test_chunked_get_requests_several_pages(kubectl: kubectl_runner.Kubectl) -> None:
    docs = [namespace("pages")] + [configmap("pages", f"cm-{i:02}") for i in range(7)]
    kubectl.apply(docs)
    result = kubectl.ok("get", "cm", "-n", "pages", "--chunk-size=2", "-o", "name", "-v=6")
    names = [line for line in result.out.split() if line.startswith("configmap/cm-")]
    assert names == [f"configmap/cm-{i:02}" for i in range(7)]
    pages = re.findall(
        r'verb="GET" url="[^"]+/api/v1/namespaces/pages/configmaps\?([^"]*)" status="200 OK"',
        result.err,
    )
    assert all("limit=2" in page for page in pages)
    assert len(pages) == 4, result.err
    assert sum("continue=" in page for page in pages) == 3


def test_raw_limit_and_continue(kubectl: kubectl_runner.Kubectl) -> None:
    docs = [namespace("raw")] + [configmap("raw", f"r{i}", set="raw") for i in range(5)]
    kubectl.apply(docs)
    seen: list[str] = []
    token = ""
    for _ in range(5):
        path = "/api/v1/namespaces/raw/configmaps?limit=2&labelSelector=set%3Draw"
        if token:
            path += f"&continue={token}"
        page = json.loads(kubectl.ok("get", "--raw", path).out)
        assert page["kind"] == "ConfigMapList"
        assert page["metadata"]["resourceVersion"]
        assert len(page["items"]) <= 2
        seen += [item["metadata"]["name"] for item in page["items"]]
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert seen == ["r0", "r1", "r2", "r3", "r4"]
    assert (
        "remainingItemCount" not in page["metadata"] or page["metadata"]["remainingItemCount"] == 0
    )
    gone = kubectl.fails("get", "--raw", "/api/v1/namespaces/raw/configmaps?limit=1&continue=bogus")
    assert "400" in gone.err or "BadRequest" in gone.err or "continue" in gone.err


def pod(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "api-0", "namespace": ns, "labels": {"app": "api"}},
        "spec": {
            "containers": [
                {
                    "name": "api",
                    "image": "ghcr.io/example/api:2.1",
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "LOG_LEVEL", "value": "debug"}],
                }
            ]
        },
    }


def deployment(ns: str) -> dict[str, Any]:
    template = {key: pod(ns)[key] for key in ("metadata", "spec")}
    del template["metadata"]["name"], template["metadata"]["namespace"]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": ns, "labels": {"app": "api"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "api"}},
            "template": template,
        },
    }


def test_describe_pod_and_deployment(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([namespace("desc"), pod("desc"), deployment("desc")])
    pod_text = kubectl.ok("describe", "pod", "api-0", "-n", "desc").out
    assert re.search(r"^Name:\s+api-0$", pod_text, re.M)
    assert re.search(r"^Namespace:\s+desc$", pod_text, re.M)
    assert re.search(r"Image:\s+ghcr.io/example/api:2.1", pod_text)
    assert re.search(r"LOG_LEVEL:\s+debug", pod_text)
    assert "Events:" in pod_text
    deploy_text = kubectl.ok("describe", "deployment", "api", "-n", "desc").out
    assert re.search(r"^Name:\s+api$", deploy_text, re.M)
    assert re.search(r"^Selector:\s+app=api$", deploy_text, re.M)
    assert re.search(r"^Replicas:\s+3 desired", deploy_text, re.M)
    assert re.search(r"Image:\s+ghcr.io/example/api:2.1", deploy_text)


def header(text: str) -> list[str]:
    return re.split(r"\s{2,}", text.splitlines()[0].strip())


def test_get_prints_the_server_side_columns(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([namespace("cols"), pod("cols"), deployment("cols"), configmap("cols", "cfg")])
    assert header(kubectl.ok("get", "deployments", "-n", "cols").out) == [
        "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"
    ]  # fmt: skip
    kubectl.ok("rollout", "status", "deployment/api", "-n", "cols", "--timeout=20s")
    wide = kubectl.ok("get", "deployments", "-n", "cols", "-o", "wide").out
    assert header(wide)[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert re.search(r"^api\s+3/3\s+3\s+3\s+\d+s\s+api\s+ghcr.io/example/api:2.1\s+app=api$",
                     wide.splitlines()[1])  # fmt: skip
    kubectl.ok("wait", "--for=condition=Ready", "pod/api-0", "-n", "cols", "--timeout=20s")
    pods = kubectl.ok("get", "pods", "-A").out
    assert header(pods) == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert re.search(r"^cols\s+api-0\s+1/1\s+Running\s+0\s+\d+s$", pods, re.M)
    configmaps = kubectl.ok("get", "cm", "cfg", "-n", "cols", "--show-labels").out
    assert header(configmaps) == ["NAME", "DATA", "AGE", "LABELS"]
    services = kubectl.ok("get", "svc", "-n", "default").out
    assert header(services) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert re.search(r"^kubernetes\s+ClusterIP\s+[\d.]+\s+<none>\s+443/TCP\s+\d+s$", services, re.M)


def test_custom_resource_columns_come_from_the_crd(kubectl: kubectl_runner.Kubectl) -> None:
    crd = kubectl_manifests.widget_crd()
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
        {"name": "Colour", "type": "string", "jsonPath": ".spec.colour", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    kubectl.apply([crd, namespace("cr-cols")])
    kubectl.ok("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}")
    kubectl.apply([kubectl_manifests.widget("cr-cols", "w", 7, "teal")])
    plain = kubectl.ok("get", "widgets", "-n", "cr-cols").out
    assert header(plain) == ["NAME", "SIZE", "AGE"]
    assert re.search(r"^w\s+7\s+\d+s$", plain, re.M)
    assert header(kubectl.ok("get", "widgets", "-n", "cr-cols", "-o", "wide").out) == [
        "NAME", "SIZE", "COLOUR", "AGE"
    ]  # fmt: skip
