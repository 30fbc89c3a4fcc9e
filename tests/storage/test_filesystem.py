"""What only the filesystem backend does: folders, temporary files, and unusable paths.

The suite runs as root, where permission bits do not stop writes; the unusable folders below
are therefore paths that fail for root too (a regular file where a folder must be).
"""

from __future__ import annotations

import pathlib

import pytest

from strongroom import errors as root_errors
from strongroom.storage import errors, factory, filesystem


class _FailingStream:
    """Gives some bytes, then fails like a broken source."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int, /) -> bytes:
        self.calls += 1
        if self.calls > 2:
            raise RuntimeError("source broke")
        return b"partial"


def _all_files(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_objects_are_plain_files_and_no_temporary_file_remains(tmp_path: pathlib.Path) -> None:
    backend = filesystem.FilesystemBackend(tmp_path / "store")
    backend.put("a/b/c", b"payload")
    with pytest.raises(errors.ObjectExists):
        backend.put("a/b/c", b"other")
    with pytest.raises(RuntimeError):
        backend.put("a/broken", _FailingStream())
    assert _all_files(tmp_path / "store") == ["a/b/c"]
    assert (tmp_path / "store/a/b/c").read_bytes() == b"payload"


def test_hidden_and_foreign_files_are_not_listed(tmp_path: pathlib.Path) -> None:
    backend = filesystem.FilesystemBackend(tmp_path)
    backend.put("kept", b"")
    (tmp_path / ".tmp-leftover").write_bytes(b"half written")
    (tmp_path / "not ours.txt").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "inside").write_bytes(b"")
    (tmp_path / "link").symlink_to(tmp_path / "kept")
    assert [i.name for i in backend.list()] == ["kept"]


def test_probe_does_not_create_the_folder(tmp_path: pathlib.Path) -> None:
    backend = factory.open_backend("filesystem", str(tmp_path / "later" / "store"))
    factory.probe(backend)
    assert not (tmp_path / "later").exists()
    assert list(backend.list()) == []
    backend.put("x", b"1")
    assert (tmp_path / "later" / "store" / "x").read_bytes() == b"1"


def test_folder_under_a_regular_file_is_permission_denied(tmp_path: pathlib.Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    backend = factory.open_backend("filesystem", str(tmp_path / "file" / "store"))
    with pytest.raises(errors.StoragePermissionDenied, match="cannot be created") as caught:
        factory.probe(backend)
    assert caught.value.exit_code == root_errors.ExitCode.PERMISSION_DENIED
    with pytest.raises(errors.StoragePermissionDenied, match="put x"):
        backend.put("x", b"1")


def test_folder_that_is_a_regular_file_is_permission_denied(tmp_path: pathlib.Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    backend = factory.open_backend("filesystem", str(tmp_path / "file"))
    with pytest.raises(errors.StoragePermissionDenied, match="not a folder"):
        factory.probe(backend)


def test_prefix_is_a_sub_folder(tmp_path: pathlib.Path) -> None:
    backend = factory.open_backend("filesystem", str(tmp_path), "/team_a/")
    backend.put("obj", b"")
    assert (tmp_path / "team_a" / "obj").is_file()
    assert backend.location == str(tmp_path / "team_a")


def test_an_object_name_that_is_a_folder_is_not_found(tmp_path: pathlib.Path) -> None:
    backend = filesystem.FilesystemBackend(tmp_path)
    backend.put("dir/inner", b"")
    for call in (lambda: backend.get("dir"), lambda: backend.stat("dir")):
        with pytest.raises(errors.ObjectNotFound):
            call()
