"""kubectl against a sandbox that requires a bearer token."""

from __future__ import annotations

import pathlib

import yaml

from strongroom.sandbox import server
from tests.sandbox import kubectl_runner


def test_wrong_token_is_unauthorized(tmp_path: pathlib.Path) -> None:
    guarded = server.Sandbox(token="right-token-for-tests")
    guarded.start()
    try:
        good = tmp_path / "good.yaml"
        guarded.write_kubeconfig(good)
        config = yaml.safe_load(good.read_text())
        for user in config["users"]:
            user["user"]["token"] = "wrong-token"
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(config))
        home = tmp_path / "home"
        ok = kubectl_runner.for_kubeconfig(good, home).ok("get", "namespaces", "-o", "name")
        assert "namespace/default" in ok.out
        denied = kubectl_runner.for_kubeconfig(bad, home).fails("get", "namespaces")
        assert "Unauthorized" in denied.err
        assert "wrong-token" not in denied.err
    finally:
        guarded.stop()
