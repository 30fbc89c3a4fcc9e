"""Results per scope (docs/format.md §8) and the bounded run log."""

from __future__ import annotations

import datetime
import json
import re
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.engine import logs, messages, results


class FixedClock:
    def __init__(self) -> None:
        self.moment = datetime.datetime(2026, 11, 29, 16, 31, 8, tzinfo=datetime.UTC)

    def now(self) -> datetime.datetime:
        return self.moment


def test_results_scopes_and_document() -> None:
    res = results.Results()
    res.add_warning(results.STRONGROOM, "discovery of group metrics.k8s.io failed")
    res.add_warning(results.for_item(None), "clusterroles x: gone")
    res.add_error(results.for_item("shop"), "pods shop/a:\nnot found")
    res.add_error(results.namespace("cluster"), "a namespace named like a scope")
    assert (res.warning_count, res.error_count) == (2, 2)
    doc = res.to_dict()
    assert doc == {
        "warnings": {
            "strongroom": ["discovery of group metrics.k8s.io failed"],
            "cluster": ["clusterroles x: gone"],
            "namespaces": {},
        },
        "errors": {
            "strongroom": [],
            "cluster": [],
            "namespaces": {
                "cluster": ["a namespace named like a scope"],
                "shop": ["pods shop/a: not found"],
            },
        },
    }
    again = results.Results.from_dict(json.loads(json.dumps(doc)))
    assert again.to_dict() == doc


def test_results_from_velero_style_omitted_scopes_and_bad_shapes() -> None:
    parsed = results.Results.from_dict({"errors": {"namespaces": {"a": ["x"]}}})
    assert parsed.error_count == 1 and parsed.warning_count == 0
    for bad in ([], {"warnings": []}, {"errors": {"cluster": [1]}}, {"errors": {"namespaces": []}}):
        with pytest.raises(results.ResultsFormatError):
            results.Results.from_dict(bad)


def test_results_merge() -> None:
    a, b = results.Results(), results.Results()
    a.add_error(results.namespace("x"), "one")
    b.add_error(results.namespace("x"), "two")
    b.add_warning(results.CLUSTER, "three")
    a.merge(b)
    assert a.errors.namespaces == {"x": ["one", "two"]} and a.warnings.cluster == ["three"]


def test_log_lines_levels_and_results() -> None:
    res = results.Results()
    log = logs.RunLog(FixedClock(), results=res)
    log.info("listed 3 configmaps", resource="configmaps", namespace="shop")
    log.warning("pods shop/a: gone", results.namespace("shop"), resource="pods")
    log.error("list secrets failed", results.CLUSTER)
    text = log.render().decode()
    assert text.splitlines() == [
        'time="2026-11-29T16:31:08Z" level=info msg="listed 3 configmaps" '
        "resource=configmaps namespace=shop",
        'time="2026-11-29T16:31:08Z" level=warning msg="pods shop/a: gone" '
        "namespace=shop resource=pods",
        'time="2026-11-29T16:31:08Z" level=error msg="list secrets failed"',
    ]
    assert (log.warnings, log.errors) == (1, 1)
    assert res.warnings.namespaces == {"shop": ["pods shop/a: gone"]}
    assert res.errors.cluster == ["list secrets failed"]


def test_log_is_bounded_and_still_counts() -> None:
    log = logs.RunLog(FixedClock(), max_lines=10)
    for i in range(25):
        log.warning(f"w{i}")
    assert log.kept == 10 and log.dropped == 15 and log.warnings == 25
    lines = log.render().decode().splitlines()
    assert len(lines) == 11 and lines[9].endswith('msg="w9"')
    assert "15 more lines were dropped" in lines[-1]
    with pytest.raises(ValueError):
        logs.RunLog(FixedClock(), max_lines=0)


@given(st.text(max_size=300), st.text(max_size=40))
def test_log_line_is_one_line(message: str, value: str) -> None:
    log = logs.RunLog(FixedClock())
    log.info(message, field=value)
    rendered = log.render().decode()
    assert rendered.count("\n") == 1
    found = re.search(r' msg=("(?:[^"\\]|\\.)*")', rendered)
    assert found is not None
    logged = json.loads(found.group(1))
    assert "\n" not in logged and len(logged) <= logs.MAX_MESSAGE


def test_log_lines_are_kept_compressed_in_segments_and_read_back_whole() -> None:
    log = logs.RunLog(FixedClock(), max_lines=3 * logs.SEGMENT_LINES)
    for i in range(3 * logs.SEGMENT_LINES + 5):
        log.info(f"created ConfigMap shop/c{i}", namespace="shop")
    chunks = list(log.chunks())
    assert len(chunks) == 4  # three segments, then the note of the dropped lines
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 3 * logs.SEGMENT_LINES + 1 and log.dropped == 5
    assert lines[0].endswith('msg="created ConfigMap shop/c0" namespace=shop')
    assert lines[-2].endswith(
        f'msg="created ConfigMap shop/c{3 * logs.SEGMENT_LINES - 1}" namespace=shop'
    )
    assert log.render() == b"".join(chunks)


SCOPES = st.one_of(
    st.just(results.STRONGROOM),
    st.just(results.CLUSTER),
    st.builds(results.namespace, st.sampled_from(["shop", "a-b", "ünï"])),
)


@given(st.lists(st.tuples(st.booleans(), SCOPES, st.text(max_size=12)), max_size=60))
def test_results_are_kept_compactly_and_stored_as_the_document(
    added: list[tuple[bool, results.Where, str]],
) -> None:
    res = results.Results()
    with mock.patch.object(messages, "SEGMENT", 3):  # segments of a few messages
        for warning, where, message in added:
            (res.add_warning if warning else res.add_error)(where, message)
    doc = res.to_dict()
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert b"".join(res.document()) == text.encode("utf-8")
    assert dict(res.view("warnings")) == doc["warnings"]
    assert dict(res.view("errors")) == doc["errors"]
    assert res.warning_count + res.error_count == len(added)
    assert results.Results.from_dict(json.loads(text)).to_dict() == doc


def test_many_messages_are_held_in_compressed_segments() -> None:
    found = messages.Messages()
    for i in range(3 * messages.SEGMENT + 7):
        found.append(f'could not restore, ConfigMap "obj-{i}" already exists')
    last = 3 * messages.SEGMENT + 6
    assert len(found._segments) == 3 and len(found._recent) == 7 and len(found) == last + 1
    assert list(found)[-1] == f'could not restore, ConfigMap "obj-{last}" already exists'
    assert json.loads("".join(found.json())) == list(found)
