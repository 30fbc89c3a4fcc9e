"""kubectl against the sandbox: discovery, CRD registration and establishment, authentication."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from tests.sandbox import kubectl_manifests, kubectl_runner


@pytest.fixture
def kubectl(
    sandbox_kubeconfig: pathlib.Path, tmp_path_factory: pytest.TempPathFactory
) -> kubectl_runner.Kubectl:
    return kubectl_runner.for_kubeconfig(sandbox_kubeconfig, tmp_path_factory.mktemp("kube"))


def resources(kubectl: kubectl_runner.Kubectl, *args: str) -> dict[str, list[str]]:
    """``kubectl api-resources -o wide`` rows by NAME (group-qualified when not core)."""
    out = kubectl.ok("api-resources", "--no-headers", *args).out
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        cells = line.split()
        rows[f"{cells[0]}.{cells[-3].split('/')[0]}" if "/" in cells[-3] else cells[0]] = cells
    return rows


def test_version_reports_server_version(kubectl: kubectl_runner.Kubectl) -> None:
    info = kubectl.ok("version", "-o", "json").json()
    server_version = info["serverVersion"]
    assert server_version["major"] == "1"
    assert server_version["gitVersion"].startswith("v1.")


# (name with group, short names, APIVERSION, NAMESPACED, KIND) as a real cluster lists them
EXPECTED = [
    ("namespaces", "ns", "v1", "false", "Namespace"),
    ("configmaps", "cm", "v1", "true", "ConfigMap"),
    ("services", "svc", "v1", "true", "Service"),
    ("persistentvolumeclaims", "pvc", "v1", "true", "PersistentVolumeClaim"),
    ("persistentvolumes", "pv", "v1", "false", "PersistentVolume"),
    ("serviceaccounts", "sa", "v1", "true", "ServiceAccount"),
    ("deployments.apps", "deploy", "apps/v1", "true", "Deployment"),
    ("statefulsets.apps", "sts", "apps/v1", "true", "StatefulSet"),
    ("daemonsets.apps", "ds", "apps/v1", "true", "DaemonSet"),
    ("cronjobs.batch", "cj", "batch/v1", "true", "CronJob"),
    ("ingresses.networking.k8s.io", "ing", "networking.k8s.io/v1", "true", "Ingress"),
    ("storageclasses.storage.k8s.io", "sc", "storage.k8s.io/v1", "false", "StorageClass"),
    ("poddisruptionbudgets.policy", "pdb", "policy/v1", "true", "PodDisruptionBudget"),
    ("horizontalpodautoscalers.autoscaling", "hpa", "autoscaling/v2", "true",
     "HorizontalPodAutoscaler"),
    ("customresourcedefinitions.apiextensions.k8s.io", "crd,crds", "apiextensions.k8s.io/v1",
     "false", "CustomResourceDefinition"),
    ("priorityclasses.scheduling.k8s.io", "pc", "scheduling.k8s.io/v1", "false", "PriorityClass"),
]  # fmt: skip


def test_api_resources_lists_core_and_group_resources(kubectl: kubectl_runner.Kubectl) -> None:
    rows = resources(kubectl)
    for name, short, version, namespaced, kind in EXPECTED:
        assert name in rows, f"{name} missing from kubectl api-resources"
        assert rows[name][-3:] == [version, namespaced, kind], name
        assert rows[name][1] == short, name
    for name in ("secrets", "pods", "endpoints", "events", "limitranges", "resourcequotas"):
        assert name in rows
    for name in ("roles", "rolebindings", "clusterroles", "clusterrolebindings"):
        assert f"{name}.rbac.authorization.k8s.io" in rows
    assert "leases.coordination.k8s.io" in rows


def test_api_resources_filters_by_scope_and_group(kubectl: kubectl_runner.Kubectl) -> None:
    cluster_scoped = kubectl.ok("api-resources", "--namespaced=false", "-o", "name").out.split()
    assert "namespaces" in cluster_scoped and "configmaps" not in cluster_scoped
    apps = kubectl.ok("api-resources", "--api-group=apps", "-o", "name").out.split()
    assert set(apps) >= {"deployments.apps", "statefulsets.apps", "replicasets.apps"}
    assert all(name.endswith(".apps") for name in apps)


def test_crd_registers_in_discovery_and_becomes_established(
    kubectl: kubectl_runner.Kubectl,
) -> None:
    crd = kubectl_manifests.widget_crd()
    crd["metadata"]["name"] = "gadgets." + kubectl_manifests.GROUP
    crd["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget",
                            "shortNames": ["gdg"]}  # fmt: skip
    kubectl.apply([crd])
    waited = kubectl.ok(
        "wait", "--for=condition=Established", f"crd/{crd['metadata']['name']}", "--timeout=20s"
    )
    assert "condition met" in waited.out
    rows = resources(kubectl, f"--api-group={kubectl_manifests.GROUP}")
    assert rows[f"gadgets.{kubectl_manifests.GROUP}"][1:] == [
        "gdg", f"{kubectl_manifests.GROUP}/v1", "true", "Gadget"
    ]  # fmt: skip
    kubectl.apply([kubectl_manifests.namespace("gadget-shop")])
    gadget = {
        "apiVersion": f"{kubectl_manifests.GROUP}/v1",
        "kind": "Gadget",
        "metadata": {"name": "g1", "namespace": "gadget-shop"},
        "spec": {"size": 3},
    }
    kubectl.ok("create", "-f", "-", stdin=yaml.safe_dump(gadget))
    got = kubectl.get("gdg", "g1", "-n", "gadget-shop")
    assert got["spec"] == {"size": 3}
    assert got["metadata"]["uid"]
