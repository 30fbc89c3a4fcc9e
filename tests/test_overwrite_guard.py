"""The suite-wide overwrite guard itself notices an overwrite attempt (else it proves nothing)."""

from __future__ import annotations

import pathlib

import pytest

from strongroom.storage import errors, factory, filesystem
from tests.fixtures import overwrites


def test_the_guard_records_an_attempted_overwrite(tmp_path: pathlib.Path) -> None:
    attempts: list[str] = []
    guard = overwrites.OverwriteGuard(filesystem.FilesystemBackend(tmp_path), attempts)
    guard.put("b/x", b"one")
    guard.put("n/claim", b"one")
    assert attempts == []
    with pytest.raises(errors.ObjectExists):
        guard.put("b/x", b"two")
    with pytest.raises(errors.ObjectExists):
        guard.put("n/claim", b"two")  # exempt: create-only is how names are claimed
    assert attempts == [f"{tmp_path}: b/x"]


def test_the_factory_is_guarded_in_this_test() -> None:
    assert factory.open_backend.__name__ == "guarded"
