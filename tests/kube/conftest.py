"""Fixtures for the Kubernetes access layer: a client on a fresh sandbox per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom.kube import client, retry

#: Quick retries, so tests that provoke them stay fast.
FAST_RETRY = retry.RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def kube(sandbox_kubeconfig: Path) -> Iterator[client.Client]:
    """A client for the test's sandbox, through its kubeconfig."""
    with client.Client.from_kubeconfig(sandbox_kubeconfig, retry_policy=FAST_RETRY) as c:
        yield c


def configmap(name: str, namespace: str = "default", **labels: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "data": {"key": name},
    }


def namespace(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def crd(
    group: str = "example.com", plural: str = "widgets", kind: str = "Widget"
) -> dict[str, object]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "shortNames": [kind.lower()[:2]],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
