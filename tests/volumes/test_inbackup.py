"""Volume snapshots that belong to a backup (format §10.5): taken by a writer that knows only
the backup's id, epoch and public recipient, checked and listed by the backup's writer."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom import clock
from strongroom import errors as base_errors
from strongroom.crypto import agekeys
from strongroom.engine.volumes import backup, inbackup, restore, snapshots, verify
from strongroom.repository import backups, errors, repo, writers
from strongroom.repository.volumes import indexes, parts
from strongroom.storage import base

DESCRIBED = {"namespace": "shop", "pod": "db-0", "volume": "data", "pvc": "data-db-0",
             "node": "sandbox-1", "podUID": "0d2c"}  # fmt: skip


def files(root: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def source(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "volume"
    (root / "pg" / "base").mkdir(parents=True)
    (root / "pg" / "base" / "1").write_bytes(b"row " * 50_000)
    (root / "pg" / "PG_VERSION").write_bytes(b"16\n")
    (root / "empty").mkdir()
    return root


def snapshot_records(writer: backups.Writer) -> list[str]:
    return [r.name for r in writer.records if r.type.startswith("s/")]


def take(
    backend: base.Backend, repository: repo.Repository, writer: backups.Writer, folder: pathlib.Path
) -> parts.Part:
    """A node agent's part: snapshot ``folder`` as a writer, for the backup ``writer`` writes;
    returned through JSON, as it travels through the cluster."""
    agent = writers.WriterRepository.open(backend, repository.add_writer(), clock.SystemClock())
    target = inbackup.InBackup(
        agent, writer.ref.backup, writer.ref.epoch, writer.identity.recipient()
    )
    outcome = backup.backup(target, str(folder))
    assert outcome.snapshot == target.part.snapshot
    return parts.Part.from_json(json.loads(json.dumps(target.part.to_json())), "report")


def test_a_backups_snapshot_is_listed_restored_verified_and_kept_by_collection(
    backend: base.Backend, repository: repo.Repository, source: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    writer = repository.begin_backup("nightly")
    writer.put("archive", [b"resources"])
    part = take(backend, repository, writer, source)
    entry = inbackup.attach(writer, part, repository.volume_keys, dict(DESCRIBED))
    assert (entry["files"], entry["dirs"], entry["bytes"]) == (2, 3, 200_003)
    assert entry["pod"] == "db-0" and entry["phase"] == "Completed" and entry["dataEpoch"] == 1
    writer.commit({}, {"phase": "Completed", "volumeSnapshots": [entry]})

    item = repository.backup("nightly")
    names = {r.name for r in item.manifest.objects}
    assert parts.object_name(item.manifest.backup, part.snapshot, "tree") in names
    assert item.verify()  # every listed object, the snapshot's too
    (held,) = snapshots.in_backup(item)
    assert held.id == part.snapshot and held.entry["pvc"] == "data-db-0"
    assert [h.id for h in snapshots.every(repository)] == [part.snapshot]
    assert verify.verify(repository, held, read_data=True) == []
    target = tmp_path / "restored"
    restore.restore(repository, held, target)
    assert files(target) == files(source)
    assert (target / "empty").is_dir()
    # the collection keeps its chunks while the backup exists, and frees them once deleted
    verify.collect(repository)
    verify.collect(repository)
    assert verify.verify(repository, held, read_data=True) == []
    repository.delete_backup("nightly")
    verify.collect(repository)
    verify.collect(repository)
    assert list(backend.list("v/p/")) == []


def test_parts_of_another_backup_or_bound_elsewhere_are_refused(
    backend: base.Backend, repository: repo.Repository, source: pathlib.Path
) -> None:
    first = repository.begin_backup("first")
    second = repository.begin_backup("second")
    part = take(backend, repository, first, source)
    with pytest.raises(base_errors.IntegrityError, match="another backup"):
        inbackup.attach(second, part, repository.volume_keys, {})
    # an agent told the wrong recipient (an attacker's): the backup cannot open the tree
    agent = writers.WriterRepository.open(backend, repository.add_writer(), clock.SystemClock())
    stray = inbackup.InBackup(
        agent, second.ref.backup, second.ref.epoch, agekeys.Identity.generate().recipient()
    )
    backup.backup(stray, str(source))
    with pytest.raises(base_errors.IntegrityError):
        inbackup.attach(second, stray.part, repository.volume_keys, {})
    assert not snapshot_records(second)
    # the same objects moved under the other backup's name fail their binding
    for record in part.records:
        with backend.get(record.name) as reader:
            backend.put(record.name.replace(first.ref.backup, second.ref.backup), reader.read())
    moved = parts.Part.from_json(
        json.loads(json.dumps(part.to_json()).replace(first.ref.backup, second.ref.backup)), "r"
    )
    with pytest.raises(base_errors.IntegrityError):
        inbackup.attach(second, moved, repository.volume_keys, {})


def test_a_replaced_object_or_a_chunk_in_no_index_is_refused(
    backend: base.Backend, repository: repo.Repository, source: pathlib.Path
) -> None:
    writer = repository.begin_backup("b")
    part = take(backend, repository, writer, source)
    log = part.records[1]
    report = part.to_json()
    report["objects"][1]["sha256"] = "0" * 64
    with pytest.raises(errors.IntegrityViolation, match="digest"):
        inbackup.attach(writer, parts.Part.from_json(report, "r"), repository.volume_keys, {})
    assert not snapshot_records(writer)
    for info in list(backend.list(indexes.PREFIX)):
        backend.delete(info.name)
    with pytest.raises(base_errors.IntegrityError, match="in no index"):
        inbackup.attach(writer, part, repository.volume_keys, {})
    assert not snapshot_records(writer) and log.name


@pytest.mark.parametrize(
    "change",
    [
        {"phase": "Failed"},
        {"phase": None},
        {"dataEpoch": 0},
        {"dataEpoch": True},
        {"bytesNew": "12"},
        {"startTimestamp": 5},
    ],
)
def test_a_malformed_report_is_refused(
    backend: base.Backend, repository: repo.Repository, source: pathlib.Path, change: dict[str, Any]
) -> None:
    writer = repository.begin_backup("b")
    part = take(backend, repository, writer, source)
    status = {**part.status, **change}
    bad = parts.Part(part.backup, part.snapshot, part.records, status)
    with pytest.raises(base_errors.IntegrityError, match="report"):
        inbackup.attach(writer, bad, repository.volume_keys, {})


def test_an_aborted_backup_removes_its_snapshots_listed_or_not(
    backend: base.Backend, repository: repo.Repository, source: pathlib.Path
) -> None:
    writer = repository.begin_backup("doomed")
    listed = take(backend, repository, writer, source)
    inbackup.attach(writer, listed, repository.volume_keys, {})
    take(backend, repository, writer, source)  # reported, never attached
    assert len(list(backend.list(f"b/{writer.ref.backup}/s/"))) == 4
    writer.abort()
    assert list(backend.list(f"b/{writer.ref.backup}/")) == []


REPORT = {
    "backup": "a" * 26,
    "snapshot": "b" * 26,
    "objects": [
        {"type": f"s/{'b' * 26}/tree", "name": f"b/{'a' * 26}/s/{'b' * 26}/tree", "size": 9,
         "sha256": "c" * 64},
        {"type": f"s/{'b' * 26}/log", "name": f"b/{'a' * 26}/s/{'b' * 26}/log", "size": 9,
         "sha256": "d" * 64},
    ],
    "status": {"phase": "Completed"},
}  # fmt: skip


def test_the_report_format_round_trips_and_names_must_match() -> None:
    part = parts.Part.from_json(REPORT, "r")
    assert part.to_json() == REPORT
    for path, value in (
        (("backup",), "A" * 26),
        (("snapshot",), "../" + "b" * 23),
        (("objects", 0, "name"), f"b/{'a' * 26}/s/{'b' * 26}/log"),
        (("objects", 1, "type"), "archive"),
        (("objects", 0, "size"), 0),
        (("objects", 0, "sha256"), "zz"),
        (("status",), {"x": "y" * 5000}),
    ):
        doc = json.loads(json.dumps(REPORT))
        holder = doc
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
        with pytest.raises(errors.IntegrityViolation):
            parts.Part.from_json(doc, "r")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=12,
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.one_of(JSON, st.fixed_dictionaries({k: JSON for k in REPORT})))
def test_any_report_parses_or_is_refused_cleanly(doc: object) -> None:
    try:
        part = parts.Part.from_json(doc, "r")
    except errors.IntegrityViolation:
        return  # refused with a one-line cause, never another exception
    assert parts.Part.from_json(part.to_json(), "again") == part
