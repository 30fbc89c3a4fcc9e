"""Decoding list bodies and watch lines: any input gives a value or a KubeError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.kube import discovery, errors, wire

CMS = discovery.APIResource("configmaps", "", "v1", "ConfigMap", True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


def test_watch_events_and_errors() -> None:
    line = json.dumps({"type": "ADDED", "object": {"metadata": {"resourceVersion": "7"}}})
    event = wire.watch_event("/p", line.encode())
    assert (event.type, event.resource_version) == ("ADDED", "7")
    gone = {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "code": 410,
            "reason": "Expired",
            "message": "too old resource version: 1 (99)",
        },
    }
    with pytest.raises(errors.Gone, match="too old"):
        wire.watch_event("/p", json.dumps(gone).encode())


def test_list_page_fills_kind_and_api_version() -> None:
    body = {
        "metadata": {"resourceVersion": "9", "continue": "c", "remainingItemCount": 4},
        "items": [{"metadata": {"name": "a"}}, {"kind": "Other", "metadata": {"name": "b"}}],
    }
    page = wire.list_page(CMS, "ns", body)
    assert [i["kind"] for i in page.items] == ["ConfigMap", "Other"]
    assert {i["apiVersion"] for i in page.items} == {"v1"}
    assert (page.resource_version, page.continue_token, page.remaining) == ("9", "c", 4)


@settings(max_examples=300, deadline=None)
@given(doc=json_values | st.fixed_dictionaries({"type": json_values, "object": json_values}))
def test_any_watch_line_is_an_event_or_a_kube_error(doc: Any) -> None:
    try:
        event = wire.watch_event("/p", json.dumps(doc).encode())
    except errors.KubeError as exc:
        assert "\n" not in str(exc)
    else:
        assert event.type == doc["type"]


@settings(max_examples=300, deadline=None)
@given(body=json_values | st.fixed_dictionaries({"metadata": json_values, "items": json_values}))
def test_any_list_body_is_a_page_or_a_kube_error(body: Any) -> None:
    try:
        page = wire.list_page(CMS, None, body)
    except errors.KubeError:
        return
    assert all(item["kind"] for item in page.items)


def test_garbage_line() -> None:
    with pytest.raises(errors.ServerError, match="malformed"):
        wire.watch_event("/p", b"{not json")
