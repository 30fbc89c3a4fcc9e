"""fieldValidation on built-ins and the structural schemas of custom resources."""

from __future__ import annotations

import copy
from typing import Any

from strongroom.sandbox import server
from tests.sandbox.api import Api

DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


def deployment(**extra_container: Any) -> dict[str, Any]:
    container = {"name": "c", "image": "nginx", **extra_container}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [container],
                    "volumes": [{"name": "v", "configMap": {"name": "cfg"}}],
                },
            },
        },
    }


def test_strict_refuses_unknown_fields(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, status = api.post(DEPLOYS, deployment(imagePullPolice="Always"), fieldValidation="Strict")
    assert code == 400 and status["reason"] == "BadRequest"
    assert (
        'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolice"'
        in status["message"]
    )
    ok = deployment(envFrom=[{"configMapRef": {"name": "cfg"}}])
    assert api.post(DEPLOYS, ok, fieldValidation="Strict")[0] == 201, "embedded fields are known"


def test_warn_and_ignore_drop_unknown_fields(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    code, obj = api.post(DEPLOYS, deployment(bogus=1))
    assert code == 201 and "bogus" not in obj["spec"]["template"]["spec"]["containers"][0]
    assert api.post(DEPLOYS, deployment(), fieldValidation="Sometimes")[0] == 400
    code, cm = api.post(
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "c", "extra": 1}, "data": {}, "spec": {}},
        fieldValidation="Ignore",
    )
    assert code == 201 and "spec" not in cm and "extra" not in cm["metadata"]


CRD: dict[str, Any] = {
    "metadata": {"name": "gadgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "kind": "Gadget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "color": {"type": "string", "enum": ["red", "blue"]},
                                    "port": {"x-kubernetes-int-or-string": True},
                                    "tags": {
                                        "type": "array",
                                        "maxItems": 2,
                                        "items": {"type": "string"},
                                    },
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "free": {
                                        "type": "object",
                                        "x-kubernetes-preserve-unknown-fields": True,
                                    },
                                },
                            },
                        },
                    }
                },
            }
        ],
    },
}
GADGETS = "/apis/example.com/v1/namespaces/default/gadgets"


def gadget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_custom_objects_are_pruned_and_validated(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    assert (
        api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", copy.deepcopy(CRD))[0]
        == 201
    )
    body = gadget(
        "g", size=3, port="http", labels={"a": "b"}, free={"any": {"thing": 1}}, junk=True
    )
    body["top"] = 1
    code, obj = api.post(GADGETS, body)
    assert code == 201
    assert "junk" not in obj["spec"] and "top" not in obj
    assert obj["spec"]["free"] == {"any": {"thing": 1}}
    code, status = api.post(GADGETS, gadget("s", size=3, junk=True), fieldValidation="Strict")
    assert code == 400 and 'unknown field "spec.junk"' in status["message"]
    code, status = api.post(GADGETS, gadget("bad", size="big"))
    assert code == 422 and status["reason"] == "Invalid"
    assert "spec.size in body must be of type integer" in status["message"]
    code, status = api.post(GADGETS, gadget("bad", color="green"))
    causes = {c["field"]: c["reason"] for c in status["details"]["causes"]}
    assert code == 422 and causes == {
        "spec.size": "FieldValueRequired",
        "spec.color": "FieldValueNotSupported",
    }
    code, status = api.post(GADGETS, gadget("bad", size=11, tags=["a", "b", "c"]))
    fields = {c["field"] for c in status["details"]["causes"]}
    assert code == 422 and fields == {"spec.size", "spec.tags"}
    code, status = api.patch(f"{GADGETS}/g", {"spec": {"size": 0}})
    assert code == 422 and "greater than or equal to 1" in status["message"]


def test_wrong_json_types_are_400_like_a_decoder_refusal(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    body = {"metadata": {"name": "s"}, "spec": {"ports": {"port": 80}}}
    code, status = api.post("/api/v1/namespaces/default/services", body)
    assert code == 400 and status["reason"] == "BadRequest"
    assert (
        'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal object'
        in status["message"]
    )
    assert "spec.ports" in status["message"]
    code, status = api.post(DEPLOYS, dict(deployment(), spec={"replicas": "3"}))
    assert (
        code == 400
        and "cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas"
        in status["message"]
    )
    code, status = api.post("/api/v1/namespaces/default/configmaps", {"metadata": 7})
    assert code == 400
    ok = {"metadata": {"name": "q"}, "spec": {"hard": {"cpu": 2, "memory": "1Gi"}}}
    assert api.post("/api/v1/namespaces/default/resourcequotas", ok)[0] == 201, (
        "quantities take numbers"
    )
