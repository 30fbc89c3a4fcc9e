"""``backup create`` with the Velero flags people put in scripts: ``--labels``,
``--annotations`` and the scoped resource filters, against the sandbox; and every way each
refuses bad input (exit 2, one line)."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli, Outcome


@dataclasses.dataclass
class Env:
    cli: Cli
    kubeconfig: pathlib.Path
    identity_file: pathlib.Path

    def __call__(self, *args: str) -> Outcome:
        return self.cli(
            "--kubeconfig", str(self.kubeconfig), "--identity", str(self.identity_file), *args
        )

    def resource_list(self, name: str) -> dict[str, list[str]]:
        """``backup describe NAME --details``'s resource list: kind -> items."""
        described = self("backup", "describe", name, "--details")
        assert described.code == ExitCode.OK, described.err
        found: dict[str, list[str]] = {}
        listing = described.out.split("\nResource list:\n", 1)[1]
        kind = ""
        for line in listing.splitlines():
            if line.startswith("    - "):
                found[kind].append(line[len("    - ") :])
            elif line.strip():
                kind = line.strip().rstrip(":")
                found[kind] = []
        return found


@pytest.fixture
def env(cli: Cli, sandbox: server.Sandbox, tmp_path: pathlib.Path) -> Env:
    """Namespace shop (a ConfigMap, a Secret) and StorageClass fast; a filesystem location."""
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
        kube.create("namespaces", {"metadata": {"name": "shop"}})
        kube.create("configmaps", {"metadata": {"name": "web", "namespace": "shop"}})
        kube.create("secrets", {"metadata": {"name": "db", "namespace": "shop"}})
        kube.create(
            "storageclasses.storage.k8s.io",
            {"metadata": {"name": "fast"}, "provisioner": "example.com/disk"},
        )
    identity = agekeys.Identity.generate()
    identity_file = tmp_path / "recovery.txt"
    identity_file.write_text(f"{identity.encode()}\n")
    created = cli(
        "location", "create", "local", "--provider", "filesystem",
        "--bucket", str(tmp_path / "backups"), "--recipient", identity.recipient().encode(),
    )  # fmt: skip
    assert created.code == ExitCode.OK, created.err
    return Env(cli, kubeconfig, identity_file)


LABELS = {"team": "payments", "tier": "gold", "example.com/env": ""}
ANNOTATIONS = {"example.com/ticket": "OPS-42: before the upgrade", "Note": "x=y"}


def _create_with_metadata(env: Env) -> dict[str, object]:
    made = env(
        "backup", "create", "tagged", "--include-namespaces", "shop",
        "--labels", "team=payments,tier=silver", "--labels", "tier=gold,example.com/env=",
        "--annotations", "example.com/ticket=OPS-42: before the upgrade",
        "--annotations", "Note=x=y",
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    got = env("backup", "get", "tagged", "-o", "json")
    assert got.code == ExitCode.OK, got.err
    doc: dict[str, object] = got.json()
    return doc


def test_labels_and_annotations_are_stored_with_the_backup(env: Env) -> None:
    doc = _create_with_metadata(env)
    spec = doc["spec"]
    assert isinstance(spec, dict)
    # A key given twice keeps its last value, as Velero's map flags do.
    assert spec["metadata"] == {"labels": LABELS, "annotations": ANNOTATIONS}
    assert spec["includedNamespaces"] == ["shop"]


def test_labels_and_annotations_show_as_the_backups_metadata(env: Env) -> None:
    meta = _create_with_metadata(env)["metadata"]
    assert isinstance(meta, dict)
    assert meta["labels"] == {
        **LABELS,
        "strongroom.io/storage-location": "local",
        "strongroom.io/writer": "",
    }
    assert meta["annotations"] == ANNOTATIONS


def test_cluster_scoped_resources_named_with_a_namespace_filter(env: Env) -> None:
    made = env(
        "backup", "create", "sc", "--include-namespaces", "shop",
        "--include-cluster-scoped-resources", "storageclasses",
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    listed = env.resource_list("sc")
    assert listed["storage.k8s.io/v1/StorageClass"] == ["fast", "local-path"]
    assert listed["v1/Namespace"] == ["shop"] and "shop/db" in listed["v1/Secret"]
    spec = env("backup", "get", "sc", "-o", "json").json()["spec"]
    assert spec["includedClusterScopedResources"] == ["storageclasses"]
    # The same namespace filter without a cluster-scoped list takes none of them.
    assert env("backup", "create", "plain", "--include-namespaces", "shop").code == ExitCode.OK
    assert "storage.k8s.io/v1/StorageClass" not in env.resource_list("plain")


def test_namespace_scoped_excludes_and_a_full_cluster_backup(env: Env) -> None:
    made = env("backup", "create", "nosecrets", "--exclude-namespace-scoped-resources", "secrets")
    assert made.code == ExitCode.OK, made.err
    listed = env.resource_list("nosecrets")
    assert "v1/Secret" not in listed and "shop/web" in listed["v1/ConfigMap"]
    # Not every namespace-scoped resource: cluster-scoped ones are no longer listed (Velero).
    assert "storage.k8s.io/v1/StorageClass" not in listed and "shop" in listed["v1/Namespace"]
    everything = env("backup", "create", "all", "--include-namespace-scoped-resources", "*")
    assert everything.code == ExitCode.OK, everything.err
    assert env.resource_list("all")["storage.k8s.io/v1/StorageClass"] == ["fast", "local-path"]
    nothing = env("backup", "create", "none", "--exclude-cluster-scoped-resources", "*")
    assert nothing.code == ExitCode.OK, nothing.err
    listed = env.resource_list("none")
    assert "v1/Namespace" not in listed and "storage.k8s.io/v1/StorageClass" not in listed
    assert "shop/web" in listed["v1/ConfigMap"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--labels", "team"], "invalid --labels entry 'team': expected key=value"),
        (["--labels", "=payments"], "invalid --labels entry '=payments'"),
        (["--labels", "team=a,"], "invalid --labels entry ''"),
        (["--labels", ""], "invalid --labels entry ''"),
        (["--labels", "Bad Key=x"], "label key 'Bad Key'"),
        (["--labels", "team=" + "x" * 64], "label team='xxx"),
        (["--labels", "team=a b"], "a label value is empty or at most 63 characters"),
        (["--labels", "strongroom.io/writer=me"], "set by Strongroom itself"),
        (["--annotations", "note"], "invalid --annotations entry 'note': expected key=value"),
        (["--annotations", "a=1,,b=2"], "invalid --annotations entry ''"),
        (["--annotations", "a/b/c=x"], "annotation key 'a/b/c'"),
        (["--include-cluster-scoped-resources", "sc,,pv"], "an empty resource name in 'sc,,pv'"),
        (["--exclude-cluster-scoped-resources", ""], "--exclude-cluster-scoped-resources: an"),
        (["--include-namespace-scoped-resources", " , "], "an empty resource name"),
        (["--exclude-namespace-scoped-resources", "pods,"], "an empty resource name"),
        (["--include-namespace-scoped-resources", "*,pods"], "'*' alone"),
        (["--exclude-cluster-scoped-resources", "*,sc"], "'*' alone"),
        (
            ["--include-cluster-scoped-resources", "sc", "--exclude-cluster-scoped-resources", "*"],
            "excludedClusterScopedResources is '*'",
        ),
        (
            [
                "--include-cluster-scoped-resources",
                "sc",
                "--exclude-cluster-scoped-resources",
                "sc",
            ],
            "'sc' is both included and excluded",
        ),
        (
            ["--include-resources", "pods", "--include-namespace-scoped-resources", "pods"],
            "includedResources and includedNamespaceScopedResources cannot be used together",
        ),
        (
            ["--exclude-resources", "secrets", "--exclude-namespace-scoped-resources", "pods"],
            "excludedResources and excludedNamespaceScopedResources cannot be used together",
        ),
        (
            ["--include-cluster-resources", "false", "--include-cluster-scoped-resources", "sc"],
            "includeClusterResources and includedClusterScopedResources cannot be used together",
        ),
    ],
)
def test_bad_flags_are_usage_errors(env: Env, args: list[str], needle: str) -> None:
    result = env("backup", "create", "refused", *args)
    assert result.code == ExitCode.USAGE, result.err
    assert needle in result.err and result.err.count("\n") == 1
    assert "Traceback" not in result.err
    assert env("backup", "get", "refused").code == ExitCode.NOT_FOUND
