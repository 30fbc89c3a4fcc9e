"""``strongroom install``: the printed objects are accepted by kubectl (and the server's own
dry run), applying them runs an agent per node, and the credential is never printed."""

from __future__ import annotations

import base64
import json
import pathlib
import time
from typing import Any

import pytest
import yaml

from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli
from tests.cli.sandboxed import SandboxLocation
from tests.sandbox import kubectl_runner


class Setup(SandboxLocation):
    def __init__(self, cli: Cli, sandbox: server.Sandbox, tmp: pathlib.Path) -> None:
        super().__init__(cli, sandbox, tmp)
        self.kubectl = kubectl_runner.for_kubeconfig(self.kubeconfig, tmp / "kube")


@pytest.fixture
def setup(cli: Cli, tmp_path: pathlib.Path) -> Any:
    with server.Sandbox() as sandbox:
        yield Setup(cli, sandbox, tmp_path)


def test_the_printed_objects_apply_and_hold_no_secret(setup: Setup) -> None:
    printed = setup.run("install", "--dry-run", "-o", "yaml")
    assert printed.code == ExitCode.OK, printed.err
    docs = list(yaml.safe_load_all(printed.out))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Namespace", "CustomResourceDefinition", "CustomResourceDefinition",
                     "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
                     "DaemonSet"]  # fmt: skip
    credential = json.loads(setup.credential.read_text())
    assert credential["signingKey"] not in printed.out and "Secret" not in kinds
    assert "kubectl create secret generic strongroom-node-agent" in printed.err
    cluster_role = next(d for d in docs if d["kind"] == "ClusterRole")
    assert not any("secrets" in rule["resources"] for rule in cluster_role["rules"])
    role = next(d for d in docs if d["kind"] == "Role")
    secrets = [r for r in role["rules"] if "secrets" in r["resources"]]
    assert secrets == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    applied = setup.kubectl.ok("apply", "-f", "-", stdin=printed.out)
    assert "daemonset.apps/strongroom-node-agent created" in applied.out
    # the server's own dry run (once the namespace exists, as on any cluster)
    server_side = setup.kubectl.ok("apply", "--dry-run=server", "-f", "-", stdin=printed.out)
    assert "(server dry run)" in server_side.out
    as_json = setup.run("install", "--dry-run", "-o", "json").json()
    assert [i["kind"] for i in as_json["items"]] == kinds


def test_install_applies_everything_and_runs_an_agent_per_node(setup: Setup) -> None:
    done = setup.run("install", "--writer-credential", str(setup.credential), "--image",
                     "registry.example/strongroom:test")  # fmt: skip
    assert done.code == ExitCode.OK, done.err
    assert "Installed the node agents in namespace strongroom: 10 objects applied." in done.out
    with kube_client.Client.from_kubeconfig(setup.kubeconfig) as kube:
        deadline = time.monotonic() + 10
        pods: list[Any] = []
        while time.monotonic() < deadline:
            pods = list(kube.list("pods", "strongroom"))
            if len(pods) == 2 and all(p["status"].get("phase") == "Running" for p in pods):
                break
            time.sleep(0.05)
        assert sorted(p["spec"]["nodeName"] for p in pods) == ["sandbox-1", "sandbox-2"]
        (container,) = pods[0]["spec"]["containers"]
        assert container["image"] == "registry.example/strongroom:test"
        assert pods[0]["spec"]["serviceAccountName"] == "strongroom-node-agent"
        secret = kube.get("secrets", "strongroom-node-agent", "strongroom")
        files = {k: base64.b64decode(v) for k, v in secret["data"].items()}
        assert files["writer.json"] == setup.credential.read_bytes()
        agents_config = yaml.safe_load(files["config.yaml"])
        assert [loc["name"] for loc in agents_config["locations"]] == ["local"]
    again = setup.run("install", "--writer-credential", str(setup.credential))
    assert again.code == ExitCode.OK, again.err  # applying again is harmless


def test_install_refuses_what_it_cannot_use(setup: Setup, tmp_path: pathlib.Path) -> None:
    missing = setup.run("install")
    assert missing.code == ExitCode.USAGE and "--writer-credential" in missing.err
    old = json.loads(setup.credential.read_text())
    del old["volume"]
    old["format"] = "strongroom.io/writer-credential/v1"
    (tmp_path / "old.json").write_text(json.dumps(old))
    refused = setup.run("install", "--writer-credential", str(tmp_path / "old.json"))
    assert refused.code == ExitCode.USAGE and "before volume data" in refused.err
    absent = setup.run("install", "--writer-credential", str(tmp_path / "absent.json"))
    assert absent.code == ExitCode.NOT_FOUND and "absent.json" in absent.err
    for result in (missing, refused, absent):
        assert len(result.err.strip().splitlines()) == 1
