"""The read-only wrapper: reads pass through, changes are refused before reaching the backend."""

from __future__ import annotations

import pathlib

import pytest

from strongroom import errors as root_errors
from strongroom.storage import errors, filesystem, readonly
from tests.storage import test_retry


@pytest.fixture
def pair(tmp_path: pathlib.Path) -> tuple[test_retry.FaultyBackend, readonly.ReadOnlyBackend]:
    inner = test_retry.FaultyBackend(filesystem.FilesystemBackend(tmp_path))
    inner.inner.put("existing", b"kept")
    return inner, readonly.ReadOnlyBackend(inner)


def test_put_and_delete_are_refused_without_touching_the_backend(
    pair: tuple[test_retry.FaultyBackend, readonly.ReadOnlyBackend],
) -> None:
    inner, wrapped = pair
    with pytest.raises(errors.StoragePermissionDenied, match="read-only: put of fresh") as caught:
        wrapped.put("fresh", b"x")
    assert caught.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    with pytest.raises(errors.StoragePermissionDenied, match="delete of existing"):
        wrapped.delete("existing")
    with pytest.raises(errors.StoragePermissionDenied, match="clearing unfinished puts of b/"):
        wrapped.clear_unfinished("b/", 0.0)
    assert "put" not in inner.calls and "delete" not in inner.calls
    assert "clear_unfinished" not in inner.calls
    assert [i.name for i in inner.inner.list()] == ["existing"]


def test_reads_listing_and_probe_pass_through(
    pair: tuple[test_retry.FaultyBackend, readonly.ReadOnlyBackend],
) -> None:
    inner, wrapped = pair
    with wrapped.get("existing", 1, 2) as reader:
        assert reader.read() == b"ep"
    assert wrapped.stat("existing").size == 4
    assert [i.name for i in wrapped.list("ex", after="a")] == ["existing"]
    wrapped.probe()
    assert wrapped.location == inner.location
    assert inner.calls == {"get": 1, "stat": 1, "list": 1, "probe": 1}
