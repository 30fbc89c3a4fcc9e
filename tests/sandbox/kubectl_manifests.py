"""A realistic multi-kind application, as the manifests a team would ``kubectl apply``."""

from __future__ import annotations

from typing import Any

GROUP = "stock.example.com"


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def widget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "listKind": "WidgetList",
                "shortNames": ["wdg"],
            },
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
                                    "properties": {
                                        "size": {"type": "integer"},
                                        "colour": {"type": "string"},
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def widget(ns: str, name: str, size: int, colour: str = "red") -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "shop"}},
        "spec": {"size": size, "colour": colour},
    }


def _meta(name: str, ns: str, **labels: str) -> dict[str, Any]:
    return {"name": name, "namespace": ns, "labels": {"app": "shop", **labels}}


def _web_pod(image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "shop", "tier": "web"}},
        "spec": {
            "serviceAccountName": "shop",
            "containers": [
                {
                    "name": "web",
                    "image": image,
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "MODE", "value": "prod"}],
                    "envFrom": [{"configMapRef": {"name": "shop-config"}}],
                    "volumeMounts": [{"name": "config", "mountPath": "/etc/shop"}],
                }
            ],
            "volumes": [{"name": "config", "configMap": {"name": "shop-config"}}],
        },
    }


def _workloads(ns: str, image: str, replicas: int) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("web", ns, tier="web"),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "shop", "tier": "web"}},
                "template": _web_pod(image),
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta("db", ns, tier="db"),
            "spec": {
                "serviceName": "db",
                "replicas": 1,
                "selector": {"matchLabels": {"app": "shop", "tier": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "shop", "tier": "db"}},
                    "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "pgdata"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        },
    ]


def _services(ns: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("web", ns, tier="web"),
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": "shop", "tier": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("web-public", ns, tier="web"),
            "spec": {
                "type": "NodePort",
                "selector": {"app": "shop", "tier": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta("web", ns),
            "spec": {
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("web-from-anywhere", ns),
            "spec": {
                "podSelector": {"matchLabels": {"tier": "web"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"ports": [{"port": 8080, "protocol": "TCP"}]}],
            },
        },
    ]


def _config_and_access(ns: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"team": "shop"}},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("shop-config", ns, tier="web"),
            "data": {"GREETING": "hello", "shop.yaml": "currency: EUR\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("shop-db", ns, tier="db"),
            "type": "Opaque",
            "stringData": {"password": "not-a-real-password"},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("shop", ns)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("config-reader", ns),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta("shop-reads-config", ns),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "config-reader",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "shop", "namespace": ns}],
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("uploads", ns),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "2Gi"}},
            },
        },
    ]


def application(ns: str, *, image: str = "nginx:1.25", replicas: int = 2) -> list[dict[str, Any]]:
    """Namespace, config, RBAC, storage, workloads, services, ingress, policy and widgets."""
    return [
        *_config_and_access(ns),
        *_services(ns),
        *_workloads(ns, image, replicas),
        widget(ns, "small", 1),
        widget(ns, "large", 9, "blue"),
    ]
