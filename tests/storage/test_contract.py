"""The backend contract, run against every provider (see conftest's ``backend``)."""

from __future__ import annotations

import concurrent.futures
import io
import os
import pathlib
import time

import pytest

from strongroom import errors as root_errors
from strongroom.storage import base, errors
from tests.storage.conftest import begin_s3_upload, s3_uploads


def read_all(backend: base.Backend, name: str, offset: int = 0, length: int | None = None) -> bytes:
    with backend.get(name, offset, length) as reader:
        return reader.read()


def test_put_then_get_returns_the_bytes(backend: base.Backend) -> None:
    backend.put("data/ab/cdef", b"ciphertext \x00\xff bytes")
    assert read_all(backend, "data/ab/cdef") == b"ciphertext \x00\xff bytes"


def test_put_from_a_stream_reads_it_to_the_end(backend: base.Backend) -> None:
    backend.put("streamed", io.BytesIO(b"x" * 3_000_001))
    assert backend.stat("streamed").size == 3_000_001


def test_empty_object_roundtrips(backend: base.Backend) -> None:
    backend.put("empty", b"")
    assert backend.stat("empty").size == 0
    assert read_all(backend, "empty") == b""


def test_put_is_create_only_and_keeps_the_original(backend: base.Backend) -> None:
    backend.put("config", b"original")
    with pytest.raises(errors.ObjectExists, match="config") as caught:
        backend.put("config", b"replacement")
    assert caught.value.exit_code == root_errors.ExitCode.ALREADY_EXISTS
    with pytest.raises(errors.ObjectExists):
        backend.put("config", io.BytesIO(b"replacement from a stream"))
    assert read_all(backend, "config") == b"original"


def test_concurrent_puts_of_one_name_have_exactly_one_winner(backend: base.Backend) -> None:
    def attempt(index: int) -> bool:
        try:
            backend.put("race", f"writer {index}".encode())
        except errors.ObjectExists:
            return False
        return True

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count(True) == 1
    assert read_all(backend, "race") == f"writer {outcomes.index(True)}".encode()


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [(0, None, b"0123456789"), (3, 4, b"3456"), (7, None, b"789"), (9, 1, b"9"), (10, None, b"")],
)
def test_range_reads(
    backend: base.Backend, offset: int, length: int | None, expected: bytes
) -> None:
    backend.put("digits", b"0123456789")
    assert read_all(backend, "digits", offset, length) == expected


def test_zero_length_read_is_empty(backend: base.Backend) -> None:
    backend.put("digits", b"0123456789")
    assert read_all(backend, "digits", 4, 0) == b""


@pytest.mark.parametrize(("offset", "length"), [(8, 5), (10, 1), (11, None), (20, 0)])
def test_range_past_the_end_is_a_short_read(
    backend: base.Backend, offset: int, length: int | None
) -> None:
    backend.put("digits", b"0123456789")
    with pytest.raises(errors.ShortReadError, match="digits") as caught:
        read_all(backend, "digits", offset, length)
    assert caught.value.exit_code == root_errors.ExitCode.INTEGRITY


def test_negative_range_is_refused(backend: base.Backend) -> None:
    backend.put("digits", b"0123456789")
    with pytest.raises(errors.StorageUsageError):
        backend.get("digits", -1, 2)


def test_reader_streams_in_pieces(backend: base.Backend) -> None:
    payload = bytes(range(256)) * 4096
    backend.put("pieces", payload)
    with backend.get("pieces", 100, 500_000) as reader:
        first = reader.read(1000)
        rest = reader.read()
    assert len(first) <= 1000
    assert first + rest == payload[100:500_100]


def test_stat_gives_the_size(backend: base.Backend) -> None:
    backend.put("sized", b"x" * 1234)
    assert backend.stat("sized") == base.ObjectInfo("sized", 1234)


def test_missing_object_is_not_found(backend: base.Backend) -> None:
    for call in (lambda: backend.get("nope"), lambda: backend.stat("nope")):
        with pytest.raises(errors.ObjectNotFound, match="nope") as caught:
            call()
        assert caught.value.exit_code == root_errors.ExitCode.NOT_FOUND


def test_list_is_sorted_recursive_and_filtered_by_prefix(backend: base.Backend) -> None:
    stored = ["a_b", "a/x", "a/y/z", "a0", "b/c", "a/y_1", "ab"]
    for name in stored:
        backend.put(name, name.encode())
    assert [i.name for i in backend.list()] == sorted(stored)
    assert [i.name for i in backend.list("a/")] == ["a/x", "a/y/z", "a/y_1"]
    assert [i.name for i in backend.list("a/y")] == ["a/y/z", "a/y_1"]
    assert [i.name for i in backend.list("a")] == ["a/x", "a/y/z", "a/y_1", "a0", "a_b", "ab"]
    assert [i.size for i in backend.list("b/")] == [3]
    assert list(backend.list("missing/")) == []


def test_list_resumes_after_a_name(backend: base.Backend) -> None:
    for name in ["k/1", "k/2", "k/3/x", "k/4"]:
        backend.put(name, b"")
    assert [i.name for i in backend.list("k/", after="k/2")] == ["k/3/x", "k/4"]
    assert [i.name for i in backend.list("k/", after="k/3")] == ["k/3/x", "k/4"]


def test_delete_removes_and_is_idempotent(backend: base.Backend) -> None:
    backend.put("gone", b"soon")
    backend.delete("gone")
    backend.delete("gone")
    backend.delete("never_there")
    with pytest.raises(errors.ObjectNotFound):
        backend.stat("gone")
    assert list(backend.list()) == []
    backend.put("gone", b"again")
    assert read_all(backend, "gone") == b"again"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/abs",
        "a//b",
        "trail/",
        "../up",
        "a/../b",
        "./a",
        "back\\slash",
        "sp ace",
        "tab\t",
        "dash-name",
        "dot.ext",
    ],
)
def test_invalid_names_are_refused_before_any_io(backend: base.Backend, name: str) -> None:
    for call in (
        lambda: backend.put(name, b"x"),
        lambda: backend.get(name),
        lambda: backend.stat(name),
        lambda: backend.delete(name),
    ):
        with pytest.raises(errors.InvalidName) as caught:
            call()
        assert caught.value.exit_code == root_errors.ExitCode.USAGE
    assert list(backend.list()) == []


def test_invalid_prefix_or_resume_point_is_refused(backend: base.Backend) -> None:
    with pytest.raises(errors.InvalidName):
        list(backend.list("../"))
    with pytest.raises(errors.InvalidName):
        list(backend.list("", after="bad\nname"))


def test_probe_accepts_a_usable_location(backend: base.Backend) -> None:
    backend.probe()
    backend.put("x", b"")
    backend.probe()


def test_list_and_stat_say_when_an_object_was_written(backend: base.Backend) -> None:
    import time

    before = time.time()
    backend.put("dated", b"x")
    (listed,) = list(backend.list("dated"))
    for modified in (listed.modified, backend.stat("dated").modified):
        assert modified is not None and before - 5 <= modified <= time.time() + 5


def test_purge_removes_a_folder_and_nothing_else(backend: base.Backend) -> None:
    for name in ("b/one/archive", "b/one/r/x/log", "b/two/archive", "keep"):
        backend.put(name, b"data")
    backend.purge("b/one/")
    assert [i.name for i in backend.list("")] == ["b/two/archive", "keep"]
    backend.purge("b/one/")  # idempotent
    backend.purge("b/absent/")
    assert [i.name for i in backend.list("")] == ["b/two/archive", "keep"]


def test_purge_removes_what_list_does_not_show(
    backend: base.Backend, request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> None:
    backend.put("b/one/archive", b"data")
    if request.node.callspec.params["backend"] == "filesystem":
        hidden = tmp_path / "store" / "b" / "one" / ".tmp-interrupted"
        hidden.write_bytes(b"half a put")
        backend.purge("b/one/")
        assert not (tmp_path / "store" / "b" / "one").exists()
        return
    begin_s3_upload(request, "b/one/big")
    backend.purge("b/one/")
    assert s3_uploads(request, "b/one/big") == 0 and list(backend.list("b/")) == []


def test_clear_unfinished_removes_only_old_unfinished_puts(
    backend: base.Backend, request: pytest.FixtureRequest, tmp_path: pathlib.Path
) -> None:
    backend.put("v/p/done", b"data")
    old, now = time.time() - 7200, time.time()
    if request.node.callspec.params["backend"] == "filesystem":
        folder = tmp_path / "store" / "v" / "p"
        (folder / ".tmp-abandoned").write_bytes(b"half a pack")
        os.utime(folder / ".tmp-abandoned", (old, old))
        (folder / ".tmp-running").write_bytes(b"a pack being written")
        assert backend.clear_unfinished("v/p/", now - 3600) == 1
        assert sorted(p.name for p in folder.iterdir()) == [".tmp-running", "done"]
        assert backend.clear_unfinished("v/p/", now + 60) == 1
        assert [p.name for p in folder.iterdir()] == ["done"]
    else:
        begin_s3_upload(request, "v/p/abandoned")
        assert backend.clear_unfinished("v/p/", now - 3600) == 0  # begun after the cutoff
        assert backend.clear_unfinished("v/p/", time.time() + 60) == 1
        assert s3_uploads(request, "v/p/abandoned") == 0
    assert backend.clear_unfinished("v/p/", time.time() + 60) == 0
    assert backend.clear_unfinished("v/absent/", time.time() + 60) == 0
    assert [i.name for i in backend.list("")] == ["v/p/done"]
