"""A dry run computes the plan and what each item would get, and changes nothing: not the
cluster, not the repository."""

from __future__ import annotations

import pathlib

from strongroom.engine.restore import sanitize
from strongroom.kube import client
from strongroom.repository import repo as repo_mod
from tests.engine.restore import helpers as h


def files(root: pathlib.Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_dry_run_changes_nothing(
    source: client.Client,
    target: client.Client,
    repo: repo_mod.Repository,
    tmp_path: pathlib.Path,
) -> None:
    h.create(source, h.CRD, h.widget_crd())
    source.wait_for_condition(h.CRD, "widgets.example.com")
    source.discovery.refresh()
    for kube in (source, target):
        h.create(kube, "namespaces", h.namespace("shop"))
    h.create(source, "widgets.example.com", h.widget("w", "shop"))
    for name in ("same", "changed", "new"):
        h.create(source, "configmaps", h.configmap(name, "shop", {"k": "v"}))
    h.backup_from(
        source, repo, "b1", ["namespaces", "configmaps", "widgets.example.com", h.CRD], ["shop"]
    )
    labels = sanitize.restore_labels("b1", "r1")
    h.create(target, "configmaps", h.configmap("same", "shop", {"k": "v"}, **labels))
    h.create(target, "configmaps", h.configmap("changed", "shop", {"k": "other"}))
    before = h.inventory(target)
    stored = files(tmp_path / "repo")

    out, events = h.run_restore(target, repo, dry_run=True)

    assert out.dry_run and out.phase == "Completed"
    steps = {f"{s.kind} {s.namespace}/{s.name}": s.action for s in out.plan}
    assert steps == {
        "CustomResourceDefinition None/widgets.example.com": "create",
        "Namespace None/shop": "exists-identical",
        "ConfigMap shop/changed": "exists-different",
        "ConfigMap shop/new": "create",
        "ConfigMap shop/same": "exists-identical",
        "Widget shop/w": "create",
    }
    assert [s.kind for s in out.plan][0] == "CustomResourceDefinition"
    assert out.counts == {"create": 3, "exists-different": 1, "exists-identical": 2}
    assert out.resources == {}
    assert len(events) == len(out.plan)
    assert h.inventory(target) == before
    assert files(tmp_path / "repo") == stored
    assert repo.restores() == []


def test_dry_run_with_a_mapping_names_target_namespaces(
    source: client.Client, target: client.Client, repo: repo_mod.Repository
) -> None:
    h.create(source, "namespaces", h.namespace("shop"))
    h.create(source, "configmaps", h.configmap("c", "shop"))
    h.backup_from(source, repo, "b1", ["namespaces", "configmaps"], ["shop"])
    before = h.inventory(target)

    out, _ = h.run_restore(
        target,
        repo,
        dry_run=True,
        namespace_mappings={"shop": "copy"},
    )

    assert [str(s) for s in out.plan] == [
        "v1/Namespace copy: create",
        "v1/ConfigMap copy/c: create",
    ]
    assert h.inventory(target) == before
