"""Failures: an item the API server refuses is recorded and the run goes on (PartiallyFailed);
a backup that fails authentication stops the restore before the cluster is touched."""

from __future__ import annotations

import pathlib

import pytest

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.archive import compress
from strongroom.engine.restore import restorer, spec
from strongroom.kube import client
from strongroom.kube import errors as kube_errors
from strongroom.repository import errors as repo_errors
from strongroom.repository import repo as repo_mod
from strongroom.sandbox import server
from tests.engine.restore import helpers as h


def test_refused_items_fail_and_the_run_goes_on(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop"))
    h.create(source, "services", h.service("web", "shop", type="NodePort"))
    port = source.get("services", "web", "shop")["spec"]["ports"][0]["nodePort"]
    h.create(source, "configmaps", h.configmap("a", "shop"))
    h.create(source, "configmaps", h.configmap("z", "shop"))
    bad = h.configmap("Bad_Name", "shop")  # what no API server accepts: a 422
    h.backup_from(
        source,
        repo,
        "b1",
        ["services", "configmaps"],
        ["shop"],
        extra=[("configmaps", "shop", bad)],
    )
    h.create(target, "services", h.service("holder", "default", node_port=port, type="NodePort"))

    out, events = h.run_restore(target, repo, preserve_node_ports=True)

    assert out.phase == "PartiallyFailed"
    errors = out.errors["namespaces"]["shop"]
    assert len(errors) == 2
    assert errors[0].startswith("error restoring ConfigMap shop/Bad_Name: ")
    assert "422 Invalid" in errors[0]
    assert errors[1].startswith("error restoring Service shop/web: ")
    assert "provided port is already allocated" in errors[1]
    assert "shop/Bad_Name(failed)" in out.resources["v1/ConfigMap"]
    assert out.resources["v1/Service"] == ["shop/web(failed)"]
    assert out.counts["failed"] == 2
    # Items after the failures were still restored.
    assert {"a", "z"} <= set(h.names(target, "configmaps", "shop"))
    assert events[-1].done == events[-1].total
    stored = repo.restore("r1").manifest.status
    assert stored["phase"] == "PartiallyFailed" and stored["errors"] == 2


def test_tampered_archive_is_refused_before_the_cluster_changes(
    source: client.Client,
    target: client.Client,
    repo: repo_mod.Repository,
    tmp_path: pathlib.Path,
) -> None:
    h.create(source, "namespaces", h.namespace("shop"))
    h.create(source, "configmaps", h.configmap("a", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    [archive] = list((tmp_path / "repo").glob("b/*/archive"))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.chmod(0o644)
    archive.write_bytes(bytes(data))
    before = h.inventory(target)

    with pytest.raises(repo_errors.IntegrityViolation) as caught:
        h.run_restore(target, repo)

    assert caught.value.exit_code == base_errors.ExitCode.INTEGRITY
    assert "archive" in str(caught.value)
    assert h.inventory(target) == before
    assert repo.restores() == []


@pytest.mark.parametrize(("workers", "stop_after"), [(1, 5), (8, 1)])
def test_losing_the_cluster_mid_run_records_a_failed_restore(
    source: client.Client,
    target: client.Client,
    target_sandbox: server.Sandbox,
    repo: repo_mod.Repository,
    workers: int,
    stop_after: int,
) -> None:
    h.create(source, "namespaces", h.namespace("shop"))
    for i in range(30):
        h.create(source, "configmaps", h.configmap(f"c{i:02}", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    restore = spec.RestoreSpec(name="r1", backup_name="b1")
    seen: list[restorer.ProgressEvent] = []

    def progress(event: restorer.ProgressEvent) -> None:
        seen.append(event)
        if event.done == stop_after:
            target_sandbox.stop()

    with pytest.raises(kube_errors.ApiUnreachable) as caught:
        restorer.run(
            target, repo, restore, clock=clock.SystemClock(), progress=progress, workers=workers
        )

    assert caught.value.exit_code == base_errors.ExitCode.UNREACHABLE
    status = repo.restore("r1").manifest.status
    assert status["phase"] == "Failed"
    assert "failureReason" in status
    assert status["progress"]["itemsRestored"] == len(seen) == stop_after
    assert status["progress"]["totalItems"] == 31
    assert (
        "restore failed"
        in compress.decompress_document(b"".join(repo.restore("r1").open("log"))).decode()
    )


def test_a_restore_name_is_taken_once(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop"))
    h.create(source, "configmaps", h.configmap("a", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    h.run_restore(target, repo)
    target.delete("configmaps", "a", "shop")
    before = h.inventory(target)

    with pytest.raises(repo_errors.NameTaken) as caught:
        h.run_restore(target, repo)

    assert caught.value.exit_code == base_errors.ExitCode.ALREADY_EXISTS
    assert h.inventory(target) == before
    assert [r.name for r in repo.restores()] == ["r1"]


def test_a_partially_failed_backup_is_restored_with_a_warning(
    target: client.Client, repo: repo_mod.Repository
) -> None:
    cm = h.configmap("a", "shop")
    h.write_backup(repo, "b1", [h.item("configmaps", "shop", cm)], phase="PartiallyFailed")

    out, _ = h.run_restore(target, repo)

    assert out.phase == "Completed"
    assert out.warnings["strongroom"] == ["backup b1 is PartiallyFailed: restoring what it holds"]
    assert out.resources["v1/ConfigMap"] == ["shop/a(created)"]
