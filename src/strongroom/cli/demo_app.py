"""The sample application ``strongroom demo`` seeds: a small shop, as a team would deploy it."""

from __future__ import annotations

from typing import Any

GROUP = "shop.example.com"


def crd() -> dict[str, Any]:
    """``Coupon``, a namespaced custom resource with a status subresource."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "percent": {"type": "integer"}},
            },
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"coupons.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "coupons", "singular": "coupon", "kind": "Coupon"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def objects(namespace: str, db_password: str) -> list[dict[str, Any]]:
    """The application's namespaced objects; ``db_password`` goes into a Secret."""
    labels = {"app": "shop"}

    def meta(name: str, **extra: str) -> dict[str, Any]:
        return {"name": name, "namespace": namespace, "labels": {**labels, **extra}}

    pod_template = {
        "metadata": {"labels": {**labels, "tier": "web"}},
        "spec": {
            "serviceAccountName": "shop",
            "containers": [
                {
                    "name": "web",
                    "image": "nginx:1.27",
                    "ports": [{"containerPort": 80}],
                    "envFrom": [{"configMapRef": {"name": "shop-config"}}],
                    "env": [
                        {
                            "name": "DB_PASSWORD",
                            "valueFrom": {"secretKeyRef": {"name": "shop-db", "key": "password"}},
                        }
                    ],
                }
            ],
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("shop-config"),
         "data": {"CURRENCY": "EUR", "PAGE_SIZE": "24"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("shop-db"), "type": "Opaque",
         "stringData": {"username": "shop", "password": db_password}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta("shop")},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta("shop"),
         "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": meta("shop"),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "shop"},
         "subjects": [{"kind": "ServiceAccount", "name": "shop", "namespace": namespace}]},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("web"),
         "spec": {"selector": {**labels, "tier": "web"}, "ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta("web-public"),
         "spec": {"type": "NodePort", "selector": {**labels, "tier": "web"},
                  "ports": [{"port": 80}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web", tier="web"),
         "spec": {"replicas": 2, "selector": {"matchLabels": {**labels, "tier": "web"}},
                  "template": pod_template}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("uploads"),
         "spec": {"accessModes": ["ReadWriteOnce"],
                  "resources": {"requests": {"storage": "1Gi"}}}},
        {"apiVersion": f"{GROUP}/v1", "kind": "Coupon", "metadata": meta("welcome"),
         "spec": {"code": "WELCOME10", "percent": 10}},
        {"apiVersion": f"{GROUP}/v1", "kind": "Coupon", "metadata": meta("summer"),
         "spec": {"code": "SUMMER25", "percent": 25}},
    ]  # fmt: skip
