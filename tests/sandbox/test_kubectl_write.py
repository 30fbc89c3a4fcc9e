"""kubectl writes against the sandbox: create, replace, patch, delete, and the errors of each."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import pytest
import yaml

from tests.sandbox import kubectl_manifests, kubectl_runner


@pytest.fixture
def kubectl(
    sandbox_kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> kubectl_runner.Kubectl:
    return kubectl_runner.for_kubeconfig(sandbox_kubeconfig, tmp_path_factory.mktemp("kube"))


def configmap(ns: str, name: str = "", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": ns, **extra}
    if name:
        meta["name"] = name
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"a": "1"}}


def create(kubectl: kubectl_runner.Kubectl, doc: dict[str, Any]) -> kubectl_runner.Result:
    return kubectl.run("create", "-f", "-", stdin=yaml.safe_dump(doc))


def test_create_errors_already_exists_not_found_and_invalid(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    kubectl.apply([kubectl_manifests.namespace("errs")])
    assert create(kubectl, configmap("errs", "twice")).code == 0
    again = create(kubectl, configmap("errs", "twice"))
    assert again.code == 1
    assert "Error from server (AlreadyExists): error when creating" in again.err
    assert 'configmaps "twice" already exists' in again.err
    missing = create(kubectl, configmap("no-such-namespace", "x"))
    assert missing.code == 1
    assert "(NotFound)" in missing.err and 'namespaces "no-such-namespace" not found' in missing.err
    invalid = create(kubectl, configmap("errs", "Bad_Name"))
    assert invalid.code == 1
    assert (
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in invalid.err
    )


def test_create_with_generate_name(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([kubectl_manifests.namespace("gen")])
    made = {create(kubectl, configmap("gen", generateName="job-")).out.strip() for _ in range(2)}
    assert len(made) == 2
    for line in made:
        assert line.startswith("configmap/job-") and line.endswith(" created")
        assert len(line.split()[0]) == len("configmap/job-") + 5


def test_service_asking_for_a_taken_cluster_ip_is_refused(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([kubectl_manifests.namespace("ips")])
    first = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "first", "namespace": "ips"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}]},
    }
    assert create(kubectl, first).code == 0
    taken = kubectl.get("service", "first", "-n", "ips")["spec"]["clusterIP"]
    second = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "second", "namespace": "ips"},
        "spec": {"clusterIP": taken, "ports": [{"port": 80}]},
    }
    refused = create(kubectl, second)
    assert refused.code == 1
    assert 'Service "second" is invalid' in refused.err and taken in refused.err
    changed = kubectl.run("patch", "service", "first", "-n", "ips", "--type=merge",
                          "-p", '{"spec":{"clusterIP":"10.0.0.99"}}')  # fmt: skip
    # the API server's wording for an immutable clusterIP
    assert changed.code == 1
    assert 'Service "first" is invalid: spec.clusterIPs[0]' in changed.err
    assert "may not change once set" in changed.err


def deployment(ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": ns, "labels": {"app": "api"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "api", "image": "api:1"}]},
            },
        },
    }


def test_replace_and_patch_merge_json_strategic(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([kubectl_manifests.namespace("patches")])
    kubectl.ok("create", "-f", "-", stdin=yaml.safe_dump(deployment("patches")))
    target = ("deployment", "api", "-n", "patches")

    replaced = deployment("patches")
    replaced["spec"]["template"]["spec"]["containers"][0]["image"] = "api:2"
    assert "replaced" in kubectl.ok("replace", "-f", "-", stdin=yaml.safe_dump(replaced)).out
    live = kubectl.get(*target)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "api:2"
    assert live["metadata"]["generation"] == 2

    kubectl.ok("patch", *target, "--type=merge", "-p", '{"spec":{"replicas":3}}')
    assert kubectl.get(*target)["spec"]["replicas"] == 3
    json_patch = '[{"op":"replace","path":"/spec/replicas","value":4},' \
        '{"op":"add","path":"/metadata/labels/tier","value":"api"}]'  # fmt: skip
    kubectl.ok("patch", *target, "--type=json", "-p", json_patch)
    live = kubectl.get(*target)
    assert live["spec"]["replicas"] == 4 and live["metadata"]["labels"]["tier"] == "api"
    failed_test = '[{"op":"test","path":"/spec/replicas","value":99}]'
    assert kubectl.run("patch", *target, "--type=json", "-p", failed_test).code == 1

    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"log","image":"busybox"}]}}}}'
    kubectl.ok("patch", *target, "--type=strategic", "-p", sidecar)
    containers = kubectl.get(*target)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["api", "log"]
    kubectl.ok("patch", *target, "-p", '{"spec":{"template":{"spec":{"containers":'
               '[{"name":"log","$patch":"delete"}]}}}}')  # fmt: skip
    containers = kubectl.get(*target)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["api"]

    stale = kubectl.get(*target)
    stale["metadata"]["resourceVersion"] = "1"
    conflict = kubectl.run("replace", "-f", "-", stdin=yaml.safe_dump(stale))
    assert conflict.code == 1 and "Conflict" in conflict.err


def crd_and_widget(kubectl: kubectl_runner.Kubectl, ns: str) -> str:
    crd = kubectl_manifests.widget_crd()
    kubectl.apply([crd])
    name = crd["metadata"]["name"]
    kubectl.ok("wait", "--for=condition=Established", f"crd/{name}", "--timeout=20s")
    kubectl.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}])
    kubectl.apply([kubectl_manifests.widget(ns, "w1", 1), kubectl_manifests.widget(ns, "w2", 2)])
    return name


def test_strategic_patch_of_a_custom_resource_is_unsupported(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    crd_and_widget(kubectl, "cr-patch")
    refused = kubectl.run("patch", "widget", "w1", "-n", "cr-patch", "--type=strategic",
                          "-p", '{"spec":{"size":5}}')  # fmt: skip
    assert refused.code == 1
    assert "UnsupportedMediaType" in refused.err or "not supported" in refused.err
    kubectl.ok(
        "patch", "widget", "w1", "-n", "cr-patch", "--type=merge", "-p", '{"spec":{"size":5}}'
    )
    assert kubectl.get("widget", "w1", "-n", "cr-patch")["spec"]["size"] == 5


def test_deleting_a_namespace_removes_its_contents(kubectl: kubectl_runner.Kubectl) -> None:
    ns = "doomed"
    kubectl.apply([d for d in kubectl_manifests.application(ns) if d["kind"] != "Widget"])
    deleted = kubectl.ok("delete", "namespace", ns, "--timeout=30s")
    assert f'namespace "{ns}" deleted' in deleted.out
    gone = kubectl.run("get", "namespace", ns)
    assert gone.code == 1 and "NotFound" in gone.err
    for kind in ("configmaps", "secrets", "deployments", "services", "persistentvolumeclaims"):
        leftover = kubectl.get(kind, "-A", "--field-selector", f"metadata.namespace={ns}")
        assert leftover["items"] == [], kind


def test_deleting_a_crd_removes_its_objects(kubectl: kubectl_runner.Kubectl) -> None:
    crd = kubectl_manifests.widget_crd()
    crd["metadata"]["name"] = "sprockets." + kubectl_manifests.GROUP
    crd["spec"]["names"] = {"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket"}
    kubectl.apply([crd])
    kubectl.ok("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}",
               "--timeout=20s")  # fmt: skip
    kubectl.apply([kubectl_manifests.namespace("sprockets")])
    sprocket = {
        "apiVersion": f"{kubectl_manifests.GROUP}/v1",
        "kind": "Sprocket",
        "metadata": {"name": "s1", "namespace": "sprockets"},
        "spec": {"size": 1},
    }
    kubectl.apply([sprocket])
    assert len(kubectl.get("sprockets", "-A")["items"]) == 1
    kubectl.ok("delete", "crd", crd["metadata"]["name"], "--timeout=30s")
    deadline = time.monotonic() + 10
    while True:
        after = kubectl.run("get", "sprockets", "-A")
        if after.code != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # kubectl's cached discovery may still map the resource: then the list itself is NotFound
    assert after.code == 1
    assert "doesn't have a resource type" in after.err or "(NotFound)" in after.err
    listed = kubectl.run("get", "--raw", f"/apis/{kubectl_manifests.GROUP}/v1/sprockets")
    assert listed.code == 1 and "NotFound" in listed.err
    # Recreating the CRD does not bring the old objects back.
    kubectl.apply([crd])
    kubectl.ok("wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}",
               "--timeout=20s")  # fmt: skip
    assert kubectl.get("sprockets", "-A")["items"] == []


def test_typed_create_commands_send_protobuf_bodies(kubectl: kubectl_runner.Kubectl) -> None:
    # kubectl's generator commands encode built-in objects as application/vnd.kubernetes.protobuf
    kubectl.ok("create", "namespace", "typed")
    ns = ("-n", "typed")
    kubectl.ok("create", "configmap", "settings", "--from-literal=mode=fast", *ns)
    kubectl.ok("create", "secret", "generic", "creds", "--from-literal=user=admin", *ns)
    kubectl.ok("create", "serviceaccount", "robot", *ns)
    kubectl.ok("create", "deployment", "api", "--image=api:3", "--replicas=2", "--port=8080", *ns)
    kubectl.ok("create", "service", "nodeport", "api", "--tcp=80:8080", *ns)
    kubectl.ok("create", "role", "reader", "--verb=get,list", "--resource=configmaps", *ns)
    assert kubectl.get("namespace", "typed")["status"]["phase"] == "Active"
    assert kubectl.get("configmap", "settings", *ns)["data"] == {"mode": "fast"}
    secret = kubectl.get("secret", "creds", *ns)
    assert secret["data"] == {"user": "YWRtaW4="} and secret["type"] == "Opaque"
    deploy = kubectl.get("deployment", "api", *ns)
    assert deploy["spec"]["replicas"] == 2
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "api:3"
    assert container["ports"][0]["containerPort"] == 8080
    service = kubectl.get("service", "api", *ns)
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0]["port"] == 80
    assert 30000 <= service["spec"]["ports"][0]["nodePort"] <= 32767
    rules = kubectl.get("role", "reader", *ns)["rules"]
    assert rules[0]["verbs"] == ["get", "list"] and rules[0]["resources"] == ["configmaps"]
    duplicate = kubectl.run("create", "namespace", "typed")
    assert duplicate.code == 1 and 'namespaces "typed" already exists' in duplicate.err


def test_scale_through_the_scale_subresource(kubectl: kubectl_runner.Kubectl) -> None:
    kubectl.apply([kubectl_manifests.namespace("scaling")])
    kubectl.ok("create", "-f", "-", stdin=yaml.safe_dump(deployment("scaling")))
    scaled = kubectl.ok("scale", "deployment", "api", "-n", "scaling", "--replicas=5")
    assert "deployment.apps/api scaled" in scaled.out
    assert kubectl.get("deployment", "api", "-n", "scaling")["spec"]["replicas"] == 5
    view = kubectl.ok("get", "--raw", "/apis/apps/v1/namespaces/scaling/deployments/api/scale")
    body = view.json()
    assert body["kind"] == "Scale" and body["apiVersion"] == "autoscaling/v1"
    assert body["spec"] == {"replicas": 5}
    assert body["status"]["selector"] == "app=api"
    body["spec"]["replicas"] = 2
    put = kubectl.ok("replace", "--raw", "/apis/apps/v1/namespaces/scaling/deployments/api/scale",
                     "-f", "-", stdin=json.dumps(body))  # fmt: skip
    assert put.json()["spec"]["replicas"] == 2
    assert kubectl.get("deployment", "api", "-n", "scaling")["spec"]["replicas"] == 2
    stale = json.dumps(body)
    # the controllers move the Deployment's status (and resourceVersion) meanwhile, as on a
    # real cluster: read the Scale afresh once the rollout is done
    kubectl.ok("rollout", "status", "deployment/api", "-n", "scaling", "--timeout=20s")
    body = kubectl.ok("get", "--raw", "/apis/apps/v1/namespaces/scaling/deployments/api/scale")
    body = body.json()
    body["spec"]["replicas"] = -1
    negative = kubectl.run("replace", "--raw",
                           "/apis/apps/v1/namespaces/scaling/deployments/api/scale", "-f", "-",
                           stdin=json.dumps(body))  # fmt: skip
    assert negative.code == 1 and "must be greater than or equal to 0" in negative.err
    conflict = kubectl.run("replace", "--raw",
                           "/apis/apps/v1/namespaces/scaling/deployments/api/scale", "-f", "-",
                           stdin=stale)  # fmt: skip
    assert conflict.code == 1 and "(Conflict)" in conflict.err
    guarded = kubectl.run("scale", "deployment", "api", "-n", "scaling", "--current-replicas=7",
                          "--replicas=1")  # fmt: skip
    assert guarded.code == 1 and "Expected replicas to be 7, was 2" in guarded.err
