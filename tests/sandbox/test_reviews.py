"""Access and identity reviews: kubectl auth can-i and whoami, tokens reviewed."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from strongroom.sandbox import server
from tests.sandbox.api import Api

KUBECTL = pathlib.Path(sys.executable).parent / "kubectl"


def kubectl(kubeconfig: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HOME=str(kubeconfig.parent))
    return subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_kubectl_auth_can_i_and_whoami(sandbox_kubeconfig: pathlib.Path) -> None:
    out = kubectl(sandbox_kubeconfig, "auth", "can-i", "delete", "secrets", "-n", "default")
    assert out.returncode == 0 and out.stdout.strip() == "yes", out.stderr
    out = kubectl(
        sandbox_kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"
    )
    assert out.returncode == 0 and out.stdout == "sandbox-admin", out.stderr


def test_reviews_are_answered_not_stored(sandbox: server.Sandbox) -> None:
    api = Api(sandbox.url)
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "list", "resource": "pods"}},
    }
    code, answer = api.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert code == 201 and answer["status"]["allowed"] is True
    assert api.get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")[0] == 405


def test_token_review() -> None:
    with server.Sandbox(token="right") as sandbox:
        api = Api(sandbox.url, token="right", ca=sandbox.ca_certificate)
        path = "/apis/authentication.k8s.io/v1/tokenreviews"
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": "wrong"},
        }
        code, answer = api.post(path, body)
        assert code == 201 and answer["status"]["authenticated"] is False
        body["spec"]["token"] = "right"
        assert api.post(path, body)[1]["status"]["authenticated"] is True
