"""The stock ``zstd -d | tar`` reads an archive: recovery needs nothing of Strongroom."""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from strongroom.archive import layout, writer
from tests.archive import helpers

ENV = {**os.environ, "LC_ALL": "C.UTF-8"}

ITEMS = [
    *helpers.shop_items(40, every_secret=5),
    writer.Item("namespaces", None, "shop", b'{"kind":"Namespace"}'),
    writer.Item(
        "clusterroles.rbac.authorization.k8s.io",
        None,
        "system:controller:foo",
        b'{"kind":"ClusterRole"}',
    ),
    writer.Item("users.example.com", "shop", "me@example.com", b'{"kind":"User"}'),
    writer.Item("configmaps", "shop", "caf\u00e9-\u65e5\u672c-\U0001f512", b'{"unicode":1}'),
    writer.Item("configmaps", "shop", "long-" + "x" * 240, b'{"long":1}'),
    # Paths of exactly 100 bytes (a full ustar name field, no NUL) and 101 (pax).
    writer.Item("configmaps", "shop", "e" * 58, b'{"edge":100}'),
    writer.Item("configmaps", "shop", "f" * 59, b'{"edge":101}'),
    writer.Item("secrets", "shop", "tls.with.dots", b'{"kind":"Secret"}', secret=True),
]
assert [len(layout.item_path("configmaps", "shop", n)) for n in ("e" * 58, "f" * 59)] == [100, 101]
PATHS = [layout.VERSION_PATH] + [
    layout.item_path(i.group_resource, i.namespace, i.name) for i in ITEMS
]


@pytest.fixture
def archive_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "archive.tar.zst"
    path.write_bytes(helpers.write(ITEMS, mtime=1_780_000_000))
    return path


def pipeline(archive: pathlib.Path, tar_args: str, cwd: pathlib.Path) -> str:
    result = subprocess.run(
        f"zstd -q -d -c '{archive}' | tar --quoting-style=literal {tar_args}",
        shell=True,
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_tar_lists_the_velero_layout(archive_file: pathlib.Path) -> None:
    listing = pipeline(archive_file, "-t", archive_file.parent)
    assert listing.splitlines() == PATHS


def test_tar_verbose_listing_shows_deterministic_headers(archive_file: pathlib.Path) -> None:
    lines = pipeline(archive_file, "-tv --numeric-owner", archive_file.parent).splitlines()
    assert len(lines) == len(PATHS)
    for line in lines:
        assert line.startswith("-rw-r--r-- 0/0 "), line


def test_tar_extracts_every_entry(archive_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    pipeline(archive_file, "-x", target)
    assert (target / layout.VERSION_PATH).read_bytes() == b"1.1.0\n"
    for item in ITEMS:
        path = layout.item_path(item.group_resource, item.namespace, item.name)
        assert (target / path).read_bytes() == item.body
    extracted = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert extracted == sorted(PATHS)
