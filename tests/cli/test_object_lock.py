"""A location on an object-locked S3 bucket: backups work (nothing is ever rewritten), and
deleting one shreds it although its retained data cannot be deleted."""

from __future__ import annotations

import pathlib
import uuid

import pytest

from strongroom.crypto import agekeys
from strongroom.errors import ExitCode
from strongroom.kube import client as kube_client
from strongroom.sandbox import server
from tests.cli.helpers import Cli
from tests.fixtures.seaweedfs import SeaweedFS


@pytest.mark.usefixtures("aws_profiles")
def test_backups_on_a_locked_bucket_and_shredding_one(
    cli: Cli, seaweedfs: SeaweedFS, sandbox: server.Sandbox, tmp_path: pathlib.Path
) -> None:
    bucket = f"locked-{uuid.uuid4().hex[:12]}"
    seaweedfs.client().create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    identity = agekeys.Identity.generate()
    (tmp_path / "id.txt").write_text(identity.encode() + "\n")
    config = ",".join(
        f"{k}={v}"
        for k, v in {
            **seaweedfs.config("rw"),
            "objectLockMode": "COMPLIANCE",
            "objectLockDays": "1",
        }.items()
    )
    made = cli(
        "location", "create", "locked", "--provider", "s3", "--bucket", bucket, "--config", config,
        "--recipient", identity.recipient().encode(),
    )  # fmt: skip
    assert made.code == ExitCode.OK, made.err
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    with kube_client.Client.from_kubeconfig(kubeconfig) as kube:
        kube.create(
            "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}}
        )
    run = ["--kubeconfig", str(kubeconfig), "--identity", str(tmp_path / "id.txt")]
    for name in ("keep", "gone"):
        made = cli(*run, "backup", "create", name, "--include-namespaces", "app")
        assert made.code == ExitCode.OK, made.err

    deleted = cli(*run, "backup", "delete", "gone", "--confirm")
    assert deleted.code == ExitCode.PARTIALLY_FAILED, deleted.err
    assert "shredded" in deleted.err and "could not be deleted" in deleted.err
    names = [
        i["metadata"]["name"] for i in cli(*run, "backup", "get", "-o", "json").json()["items"]
    ]
    assert names == ["keep"]
    assert cli(*run, "backup", "verify", "keep").code == ExitCode.OK
    assert cli(*run, "location", "verify").code == ExitCode.OK
    listed = seaweedfs.client().list_object_versions(Bucket=bucket)
    keys = {v["Key"] for v in listed.get("Versions", [])}
    assert any(k.startswith("b/") for k in keys), "retained data is still there"
    assert len([k for k in keys if k.startswith("k/")]) == 1, "only the kept backup has a key"
