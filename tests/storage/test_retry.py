"""The retry wrapper, around a real filesystem backend with injected faults and a fake clock."""

from __future__ import annotations

import io
import pathlib
import random
import typing
from collections import abc

import pytest

from strongroom.storage import base, errors, filesystem, retry, streams


class FaultyBackend:
    """A real backend whose verbs first raise the errors queued for them in ``faults``.

    ``after_put`` errors are raised after the put succeeded (an answer lost on the way back);
    ``list`` faults are raised after ``list_yields`` items.
    """

    def __init__(self, inner: base.Backend) -> None:
        self.inner = inner
        self.faults: dict[str, list[errors.StorageError]] = {}
        self.calls: dict[str, int] = {}
        self.list_yields = 0

    def _enter(self, verb: str) -> None:
        self.calls[verb] = self.calls.get(verb, 0) + 1
        queue = self.faults.get(verb)
        if queue:
            raise queue.pop(0)

    @property
    def location(self) -> str:
        return self.inner.location

    def put(self, name: str, data: base.Data) -> None:
        if isinstance(data, io.BytesIO):
            data.read(3)  # a fault midway leaves the stream moved on
        self._enter("put")
        if isinstance(data, io.BytesIO):
            data.seek(data.tell() - 3)
        self.inner.put(name, data)
        queue = self.faults.get("after_put")
        if queue:
            raise queue.pop(0)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> streams.ObjectReader:
        self._enter("get")
        return self.inner.get(name, offset, length)

    def stat(self, name: str) -> base.ObjectInfo:
        self._enter("stat")
        return self.inner.stat(name)

    def list(self, prefix: str = "", *, after: str = "") -> abc.Iterator[base.ObjectInfo]:
        self.calls["list"] = self.calls.get("list", 0) + 1
        for count, info in enumerate(self.inner.list(prefix, after=after)):
            if count == self.list_yields and self.faults.get("list"):
                raise self.faults["list"].pop(0)
            yield info

    def delete(self, name: str) -> None:
        self._enter("delete")
        self.inner.delete(name)

    def clear_unfinished(self, prefix: str, before: float) -> int:
        self._enter("clear_unfinished")
        return self.inner.clear_unfinished(prefix, before)

    def probe(self) -> None:
        self._enter("probe")
        self.inner.probe()


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


Setup = tuple[FaultyBackend, retry.RetryingBackend, FakeTime]


@pytest.fixture
def setup(tmp_path: pathlib.Path) -> Setup:
    faulty = FaultyBackend(filesystem.FilesystemBackend(tmp_path))
    fake = FakeTime()
    wrapped = retry.RetryingBackend(
        faulty,
        retry.RetryPolicy(attempts=4, base_delay=0.5, max_delay=3.0, budget=20.0),
        sleep=fake.sleep,
        clock=fake.clock,
        rng=random.Random(1),
    )
    return faulty, wrapped, fake


def transient(count: int) -> list[errors.StorageError]:
    return [errors.TransientStorageError(f"blip {i}") for i in range(count)]


def test_transient_errors_are_retried_with_growing_jittered_delays(setup: Setup) -> None:
    faulty, wrapped, fake = setup
    faulty.faults["put"] = transient(3)
    wrapped.put("obj", b"data")
    assert faulty.calls["put"] == 4
    assert wrapped.stat("obj").size == 4
    for retry_number, delay in enumerate(fake.sleeps):
        ceiling = min(3.0, 0.5 * 2**retry_number)
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize("verb", ["get", "stat", "delete", "clear_unfinished"])
def test_every_verb_is_retried(setup: Setup, verb: str) -> None:
    faulty, wrapped, _ = setup
    wrapped.put("obj", b"data")
    faulty.faults[verb] = [errors.StorageUnreachable("down"), errors.TransientStorageError("5xx")]
    calls: dict[str, typing.Callable[[], object]] = {
        "get": lambda: wrapped.get("obj").read(),
        "stat": lambda: wrapped.stat("obj"),
        "delete": lambda: wrapped.delete("obj"),
        "clear_unfinished": lambda: wrapped.clear_unfinished("b/", 0.0),
    }
    calls[verb]()
    assert faulty.calls[verb] == 3


@pytest.mark.parametrize(
    "error",
    [errors.ObjectNotFound("x"), errors.StoragePermissionDenied("x"), errors.StorageError("x")],
)
def test_permanent_errors_are_not_retried(setup: Setup, error: errors.StorageError) -> None:
    faulty, wrapped, fake = setup
    faulty.faults["stat"] = [error]
    with pytest.raises(type(error)):
        wrapped.stat("obj")
    assert faulty.calls["stat"] == 1
    assert fake.sleeps == []


def test_gives_up_after_the_attempt_bound(setup: Setup) -> None:
    faulty, wrapped, fake = setup
    faulty.faults["put"] = transient(10)
    with pytest.raises(errors.TransientStorageError, match="blip 3"):
        wrapped.put("obj", b"data")
    assert faulty.calls["put"] == 4
    assert len(fake.sleeps) == 3
    with pytest.raises(errors.ObjectNotFound):
        wrapped.stat("obj")


def test_gives_up_when_the_time_budget_is_spent(tmp_path: pathlib.Path) -> None:
    faulty = FaultyBackend(filesystem.FilesystemBackend(tmp_path))
    fake = FakeTime()
    policy = retry.RetryPolicy(attempts=100, base_delay=1.0, max_delay=8.0, budget=10.0)
    wrapped = retry.RetryingBackend(faulty, policy, sleep=fake.sleep, clock=fake.clock)
    faulty.faults["stat"] = transient(100)
    with pytest.raises(errors.TransientStorageError):
        wrapped.stat("obj")
    assert sum(fake.sleeps) <= 10.0
    assert 2 < faulty.calls["stat"] < 10


def test_seekable_stream_is_rewound_between_attempts(setup: Setup) -> None:
    faulty, wrapped, _ = setup
    faulty.faults["put"] = transient(2)
    wrapped.put("obj", io.BytesIO(b"0123456789"))
    with wrapped.get("obj") as reader:
        assert reader.read() == b"0123456789"


def test_one_shot_stream_is_not_retried(setup: Setup) -> None:
    faulty, wrapped, _ = setup
    faulty.faults["put"] = transient(1)

    class OneShot:
        def read(self, size: int, /) -> bytes:
            return b""

    with pytest.raises(errors.TransientStorageError):
        wrapped.put("obj", OneShot())
    assert faulty.calls["put"] == 1


def test_lost_answer_makes_the_repeat_report_exists(setup: Setup) -> None:
    faulty, wrapped, _ = setup
    faulty.faults["after_put"] = transient(1)
    with pytest.raises(errors.ObjectExists):
        wrapped.put("obj", b"data")
    assert wrapped.stat("obj").size == 4


def test_listing_resumes_after_the_last_name_without_duplicates(setup: Setup) -> None:
    faulty, wrapped, _ = setup
    stored = [f"n{i:02d}" for i in range(10)]
    for name in stored:
        faulty.inner.put(name, b"")
    faulty.list_yields = 4
    faulty.faults["list"] = transient(2)
    assert [i.name for i in wrapped.list()] == stored
    assert faulty.calls["list"] == 3


def test_probe_is_not_retried(setup: Setup) -> None:
    faulty, wrapped, fake = setup
    faulty.faults["probe"] = [errors.StorageUnreachable("down")]
    with pytest.raises(errors.StorageUnreachable):
        wrapped.probe()
    assert faulty.calls["probe"] == 1
    assert fake.sleeps == []
