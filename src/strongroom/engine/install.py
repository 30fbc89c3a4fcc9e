"""What a cluster needs to run Strongroom's node agents: the objects ``strongroom install``
prints or applies (docs/node-agent.md, "Installing").

The agents' namespace; the PodVolumeBackup and PodVolumeRestore definitions; a service
account with the least the agent does (cluster-wide: read pods, claims and volumes; in its
namespace: its own objects and their status, and the grant Secrets); the DaemonSet, one agent
per node, mounting the node's kubelet folder (``HostToContainer`` propagation, so volumes
mounted after the agent started are seen) and the Secret holding its configuration and
writer credential. The Secret is built only from what the caller hands over, and never
printed by a dry run.
"""

from __future__ import annotations

import base64
from typing import Any

from strongroom.engine.podvolumes import objects

Obj = dict[str, Any]

AGENT = "strongroom-node-agent"
SECRET = AGENT
MOUNT = "/etc/strongroom"
KUBELET = "/var/lib/kubelet"
LABELS = {"app.kubernetes.io/name": "strongroom", "app.kubernetes.io/component": "node-agent"}


def _meta(name: str, namespace: str | None = None) -> Obj:
    meta: Obj = {"name": name, "labels": dict(LABELS)}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def node_agent(namespace: str, image: str, *, with_credentials_file: bool = False) -> list[Obj]:
    """Everything but the Secret (see :func:`secret`), in the order to apply them."""
    agent_resources = [objects.PLURAL, objects.RESTORE_PLURAL]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        *objects.definitions(),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(AGENT, namespace)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(AGENT),
            "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                {
                    "apiGroups": [""],
                    "resources": ["persistentvolumeclaims", "persistentvolumes"],
                    "verbs": ["get"],
                },  # fmt: skip
            ],
        },
        _binding("ClusterRoleBinding", "ClusterRole", namespace),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(AGENT, namespace),
            "rules": [
                {
                    "apiGroups": [objects.GROUP],
                    "resources": agent_resources,
                    "verbs": ["get", "list", "watch"],
                },  # fmt: skip
                {
                    "apiGroups": [objects.GROUP],
                    "resources": [f"{r}/status" for r in agent_resources],
                    "verbs": ["get", "patch", "update"],
                },  # fmt: skip
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
            ],
        },
        _binding("RoleBinding", "Role", namespace),
        _daemon_set(namespace, image, with_credentials_file),
    ]


def _binding(kind: str, role: str, namespace: str) -> Obj:
    meta = _meta(AGENT, namespace if kind == "RoleBinding" else None)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role, "name": AGENT},
        "subjects": [{"kind": "ServiceAccount", "name": AGENT, "namespace": namespace}],
    }


def _daemon_set(namespace: str, image: str, with_credentials_file: bool) -> Obj:
    env: list[Obj] = [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "STRONGROOM_CONFIG", "value": f"{MOUNT}/config.yaml"},
        {"name": "STRONGROOM_WRITER_CREDENTIAL", "value": f"{MOUNT}/writer.json"},
    ]
    if with_credentials_file:
        env.append({"name": "AWS_SHARED_CREDENTIALS_FILE", "value": f"{MOUNT}/credentials"})
    container = {
        "name": "node-agent",
        "image": image,
        "command": ["strongroom"],
        "args": ["node-agent", "--namespace", namespace, "--kubelet-root", KUBELET],
        "env": env,
        "volumeMounts": [
            {"name": "kubelet", "mountPath": KUBELET, "mountPropagation": "HostToContainer"},
            {"name": "config", "mountPath": MOUNT, "readOnly": True},
        ],
        "securityContext": {
            "runAsUser": 0,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
        },  # fmt: skip
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "1Gi"},
        },  # fmt: skip
    }
    pod_labels = {**LABELS, "name": AGENT}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(AGENT, namespace),
        "spec": {
            "selector": {"matchLabels": {"name": AGENT}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": AGENT,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [container],
                    "volumes": [
                        {"name": "kubelet", "hostPath": {"path": KUBELET}},
                        {
                            "name": "config",
                            "secret": {"secretName": SECRET, "defaultMode": 0o400},
                        },  # fmt: skip
                    ],
                },
            },
        },
    }


def secret(namespace: str, files: dict[str, bytes]) -> Obj:
    """The agent's Secret: ``config.yaml``, ``writer.json`` and, for S3, ``credentials``."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(SECRET, namespace),
        "type": "Opaque",
        "data": {name: base64.b64encode(data).decode() for name, data in sorted(files.items())},
    }
