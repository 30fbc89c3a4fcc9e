"""The cluster's nodes: Node objects as a K3s server and its agents register them.

A sandbox has ``count`` nodes named ``<prefix>-1`` .. ``<prefix>-N``; the first is the server
(control-plane and etcd roles, as K3s labels it), the others agents. Node ``i`` owns the pod
network ``10.42.<i-1>.0/24``, as K3s's flannel hands them out. Every node is Ready: nothing
here ever fails.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from strongroom.sandbox import objects

Obj = dict[str, Any]

NODES = ("", "nodes")
KUBELET_VERSION = "v1.33.5+k3s1"
HOSTNAME_LABEL = "kubernetes.io/hostname"


@dataclasses.dataclass(frozen=True)
class Layout:
    """How many nodes, and what they are called."""

    count: int = 2
    prefix: str = "sandbox"

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 64:
            raise ValueError("a sandbox has 1 to 64 nodes")
        if not self.prefix or len(self.prefix) > 50 or not _is_dns_label(self.prefix):
            raise ValueError("the node prefix must be a DNS label of at most 50 characters")

    def names(self) -> list[str]:
        return [f"{self.prefix}-{number}" for number in range(1, self.count + 1)]


def _is_dns_label(text: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    return set(text) <= allowed and text[0] != "-" and text[-1] != "-"


def pod_cidr(index: int) -> str:
    """The pod network of the node at ``index`` (0-based)."""
    return f"10.42.{index}.0/24"


def node(name: str, index: int) -> Obj:
    """The Node object of node ``index`` (0-based) called ``name``: Ready, K3s's labels."""
    stamp = objects.now()
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        HOSTNAME_LABEL: name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "k3s",
    }
    if index == 0:
        labels["node-role.kubernetes.io/control-plane"] = "true"
        labels["node-role.kubernetes.io/master"] = "true"
    cidr = pod_cidr(index)
    address = f"127.0.{index // 250}.{index % 250 + 2}"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": f"k3s://{name}"},
        "status": {
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"},
            "allocatable": {
                "cpu": "2",
                "memory": "8Gi",
                "pods": "110",
                "ephemeral-storage": "50Gi",
            },
            "conditions": [_condition(kind, stamp) for kind in _CONDITIONS],
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://2.1.4-k3s1",
                "kernelVersion": "",
                "osImage": "strongroom sandbox",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


#: Condition type -> (status, reason, message), as a healthy kubelet posts them.
_CONDITIONS = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}


def _condition(kind: str, stamp: str) -> Obj:
    state, reason, message = _CONDITIONS[kind]
    return {
        "type": kind,
        "status": state,
        "reason": reason,
        "message": message,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": stamp,
    }


def index_of(node_obj: Obj) -> int | None:
    """The node's index from its pod network (None for a node the sandbox did not make)."""
    cidr = str(objects.dig(node_obj, "spec", "podCIDR") or "")
    parts = cidr.split(".")
    if len(parts) != 4 or parts[0] != "10" or parts[1] != "42" or not parts[2].isdigit():
        return None
    return int(parts[2])
