"""Restore options people script with: resource modifiers, restored status, and restores
from a location that takes no writes."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from tests.cli.helpers import Cli
from tests.cli.victim import Victim, victim_of

RULES = """
version: v1
resourceModifierRules:
- conditions:
    groupResource: configmaps
    resourceNameRegex: "^settings$"
    namespaces: [app]
  patches:
  - {operation: replace, path: /data/registry, value: "new.registry.example"}
- conditions: {groupResource: "*", namespaces: [app]}
  mergePatches:
  - patchData: '{"metadata": {"annotations": {"migrated": "yes"}}}'
"""


@pytest.fixture
def victim(request: pytest.FixtureRequest, cli: Cli, tmp_path: pathlib.Path) -> Iterator[Victim]:
    with victim_of("filesystem", request, cli, tmp_path) as made:
        with kube_client.Client.from_kubeconfig(made.kubeconfig) as kube:
            kube.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "settings", "namespace": "app"},
                                       "data": {"registry": "old.registry.example"}})  # fmt: skip
        assert made.backup("with-settings").code == ExitCode.OK
        with kube_client.Client.from_kubeconfig(made.kubeconfig) as kube:
            kube.delete("namespaces", "app")
        yield made


def _object(victim: Victim, resource: str, name: str, namespace: str) -> dict[str, object]:
    with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
        return dict(kube.get(resource, name, namespace))


def test_resource_modifiers_from_a_file_patch_what_is_restored(victim: Victim) -> None:
    rules = victim.tmp / "rules.yaml"
    rules.write_text(RULES)
    done = victim.run(
        "restore", "create", "moved", "--from-backup", "with-settings",
        "--namespace-mappings", "app:app", "--resource-modifier-file", str(rules),
    )  # fmt: skip
    assert done.code == ExitCode.OK, done.err
    settings = _object(victim, "configmaps", "settings", "app")
    assert settings["data"] == {"registry": "new.registry.example"}
    assert settings["metadata"]["annotations"]["migrated"] == "yes"  # type: ignore[index]
    secret = _object(victim, "secrets", "db", "app")
    assert secret["metadata"]["annotations"]["migrated"] == "yes"  # type: ignore[index]
    described = victim.run("restore", "describe", "moved", "-o", "json").json()
    assert described["spec"]["resourceModifier"]["source"] == str(rules)


def test_resource_modifiers_from_a_configmap_and_bad_rules(victim: Victim) -> None:
    with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
        kube.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "rules", "namespace": "default"},
                                   "data": {"rules.yaml": RULES}})  # fmt: skip
    done = victim.run(
        "restore", "create", "--from-backup", "with-settings",
        "--resource-modifier-configmap", "default/rules",
    )  # fmt: skip
    assert done.code == ExitCode.OK, done.err
    assert _object(victim, "configmaps", "settings", "app")["data"] == {
        "registry": "new.registry.example"
    }
    bad = victim.tmp / "bad.yaml"
    bad.write_text("version: v1\nresourceModifierRules:\n- conditions: {}\n  patches: []\n")
    refused = victim.run(
        "restore", "create", "--from-backup", "with-settings", "--resource-modifier-file", str(bad)
    )  # fmt: skip
    assert refused.code == ExitCode.USAGE and "bad.yaml" in refused.err
    assert refused.err.count("\n") == 1


def test_status_is_restored_for_the_resources_named(victim: Victim) -> None:
    with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
        kube.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": "svc"}})  # fmt: skip
        made = kube.create("services", {"apiVersion": "v1", "kind": "Service",
                                        "metadata": {"name": "lb", "namespace": "svc"},
                                        "spec": {"type": "LoadBalancer",
                                                 "ports": [{"port": 80}]}})  # fmt: skip
        status = {"loadBalancer": {"ingress": [{"ip": "127.0.0.9"}]}}
        kube.replace("services", {**made, "status": status}, "svc", subresource="status")
    assert victim.run("backup", "create", "svc", "--include-namespaces", "svc").code == 0
    for target, flags in (("kept", ["--status-include-resources", "services"]), ("plain", [])):
        done = victim.run(
            "restore", "create", target, "--from-backup", "svc", "--namespace-mappings",
            f"svc:{target}",
            *flags,
        )  # fmt: skip
        assert done.code == ExitCode.OK, done.err
    assert _object(victim, "services", "lb", "kept").get("status") == status
    assert (_object(victim, "services", "lb", "plain").get("status") or {}) != status


def test_a_restore_through_a_read_only_bucket_identity(
    cli: Cli, tmp_path: pathlib.Path, request: pytest.FixtureRequest
) -> None:
    with victim_of("s3", request, cli, tmp_path) as victim:
        with kube_client.Client.from_kubeconfig(victim.kubeconfig) as kube:
            kube.delete("namespaces", "app")
        config = victim.cli.config_path.read_text()
        victim.cli.config_path.write_text(config.replace("profile: rw", "profile: ro"))
        done = victim.run("restore", "create", "from-ro", "--from-backup", "before")
        assert done.code == ExitCode.OK, done.err
        assert "not stored" in done.err
        assert _object(victim, "secrets", "db", "app")["metadata"]["name"] == "db"
        victim.cli.config_path.write_text(config)
        assert victim.run("restore", "get", "from-ro").code == ExitCode.NOT_FOUND
        assert victim.verify().code == ExitCode.OK
