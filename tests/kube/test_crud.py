"""Create, get, replace, patch and delete against the sandbox, and each error class."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom import errors as root_errors
from strongroom.kube import client, errors
from strongroom.sandbox import server
from tests.kube.conftest import FAST_RETRY, configmap, namespace


def test_create_get_replace_delete(kube: client.Client) -> None:
    created = kube.create("configmaps", configmap("a"))
    meta = created["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    got = kube.get("configmaps", "a", "default")
    assert got["data"] == {"key": "a"} and got["metadata"]["uid"] == meta["uid"]
    got["data"] = {"key": "changed"}
    replaced = kube.replace("configmaps", got)
    assert replaced["data"] == {"key": "changed"}
    assert int(replaced["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    kube.delete("configmaps", "a", "default")
    with pytest.raises(errors.NotFound):
        kube.get("configmaps", "a", "default")


def test_namespace_from_body_and_generate_name(kube: client.Client) -> None:
    kube.create("namespaces", namespace("shop"))
    body = configmap("", "shop")
    body["metadata"] = {"generateName": "gen-", "namespace": "shop"}
    created = kube.create("cm", body)
    assert created["metadata"]["name"].startswith("gen-")
    assert created["metadata"]["namespace"] == "shop"


def test_patch_types(kube: client.Client) -> None:
    kube.create("configmaps", configmap("p"))
    merged = kube.patch("configmaps", "p", {"data": {"m": "1"}}, "default")
    assert merged["data"] == {"key": "p", "m": "1"}
    jsoned = kube.patch(
        "configmaps", "p", [{"op": "remove", "path": "/data/key"}], "default", patch_type="json"
    )
    assert jsoned["data"] == {"m": "1"}
    strategic = kube.patch(
        "configmaps", "p", {"metadata": {"labels": {"s": "1"}}}, "default", patch_type="strategic"
    )
    assert strategic["metadata"]["labels"] == {"s": "1"}
    applied = kube.patch(
        "configmaps",
        "p",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"a": "2"}},
        "default",
        patch_type="apply",
        field_manager="tester",
        force=True,
    )
    assert applied["data"]["a"] == "2"
    managers = {m.get("manager") for m in applied["metadata"].get("managedFields", [])}
    assert "tester" in managers
    with pytest.raises(ValueError, match="list of operations"):
        kube.patch("configmaps", "p", {"op": "add"}, "default", patch_type="json")


def test_delete_with_propagation_and_dry_run(kube: client.Client) -> None:
    kube.create("configmaps", configmap("d"))
    kube.delete("configmaps", "d", "default", dry_run=True)
    assert kube.get("configmaps", "d", "default")
    kube.delete("configmaps", "d", "default", propagation="Foreground", grace_period_seconds=0)
    with pytest.raises(errors.NotFound):
        kube.get("configmaps", "d", "default")


def test_not_found(kube: client.Client) -> None:
    with pytest.raises(errors.NotFound) as info:
        kube.get("configmaps", "missing", "default")
    exc = info.value
    assert (exc.status, exc.reason) == (404, "NotFound")
    assert isinstance(exc, root_errors.NotFoundError) and exc.exit_code == 5
    assert "missing" in str(exc) and "\n" not in str(exc)


def test_already_exists(kube: client.Client) -> None:
    kube.create("configmaps", configmap("dup"))
    with pytest.raises(errors.AlreadyExists) as info:
        kube.create("configmaps", configmap("dup"))
    assert info.value.status == 409 and info.value.exit_code == 6


def test_conflict_on_stale_resource_version(kube: client.Client) -> None:
    first = kube.create("configmaps", configmap("c"))
    kube.patch("configmaps", "c", {"data": {"x": "1"}}, "default")
    with pytest.raises(errors.Conflict) as info:
        kube.replace("configmaps", first)
    assert info.value.status == 409 and info.value.reason == "Conflict"
    assert not isinstance(info.value, errors.AlreadyExists)


def test_invalid(kube: client.Client) -> None:
    with pytest.raises(errors.Invalid) as info:
        kube.create("configmaps", configmap("Not_Valid"))
    assert info.value.status == 422 and "Not_Valid" in str(info.value)
    assert len(str(info.value)) < 400


def test_missing_namespace_is_not_found(kube: client.Client) -> None:
    with pytest.raises(errors.NotFound, match="nowhere"):
        kube.create("configmaps", configmap("x", "nowhere"))


def test_wrong_token_is_unauthorized(tmp_path: Path) -> None:
    with server.Sandbox(token="right-token") as sandbox:
        good = sandbox.write_kubeconfig(tmp_path / "good")
        with client.Client.from_kubeconfig(good, retry_policy=FAST_RETRY) as kube:
            assert kube.get("namespaces", "default")["metadata"]["name"] == "default"
        bad = tmp_path / "bad"
        bad.write_text(good.read_text().replace("right-token", "wrong-token"))
        with (
            client.Client.from_kubeconfig(bad, retry_policy=FAST_RETRY) as kube,
            pytest.raises(errors.Unauthorized) as info,
        ):
            kube.get("namespaces", "default")
    assert info.value.status == 401 and info.value.exit_code == 7
    assert "wrong-token" not in str(info.value) and "right-token" not in str(info.value)
