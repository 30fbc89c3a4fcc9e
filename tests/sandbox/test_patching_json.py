"""RFC 7386 JSON merge patch and RFC 6902 JSON patch, with the RFCs' own examples."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.sandbox import patching

# --- RFC 7386 merge patch -------------------------------------------------------------------

# RFC 7386 appendix A: every (original, patch, result) example.
RFC7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC7386_EXAMPLES)
def test_merge_patch_rfc7386_appendix_a(original: Any, patch: Any, expected: Any) -> None:
    before = copy.deepcopy(original)
    assert patching.apply_merge_patch(original, patch) == expected
    assert original == before  # inputs are never mutated


def test_merge_patch_result_shares_no_containers_with_inputs() -> None:
    original = {"a": {"b": [1]}}
    patch = {"c": {"d": [2]}}
    result = patching.apply_merge_patch(original, patch)
    result["a"]["b"].append(9)
    result["c"]["d"].append(9)
    assert original == {"a": {"b": [1]}}
    assert patch == {"c": {"d": [2]}}


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def _no_null_members(value: Any) -> Any:
    """Merge patches cannot set a member to null, so targets hold none (RFC 7386 section 1)."""
    if isinstance(value, dict):
        return {k: _no_null_members(v) for k, v in value.items() if v is not None}
    return value


json_objects = st.dictionaries(st.text(max_size=4), json_values, max_size=5)


@settings(max_examples=300)
@given(source=json_objects, target=json_objects.map(_no_null_members))
def test_merge_patch_of_a_diff_reproduces_the_target(source: Any, target: Any) -> None:
    patch = patching.create_merge_patch(source, target)
    assert patching.apply_merge_patch(source, patch) == target


@given(doc=json_objects.map(_no_null_members))
def test_merge_patch_is_idempotent(doc: Any) -> None:
    once = patching.apply_merge_patch({"x": 1}, doc)
    assert patching.apply_merge_patch(once, doc) == once


# --- RFC 6902 JSON patch --------------------------------------------------------------------

RFC6902_EXAMPLES = [
    # A.1 adding an object member
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    # A.2 adding an array element
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    # A.3 removing an object member
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    # A.4 removing an array element
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    # A.5 replacing a value
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    # A.6 moving a value
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    # A.7 moving an array element
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    # A.8 testing a value: success
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    # A.10 adding a nested member object
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    # A.11 ignoring unrecognized elements
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    # A.14 ~ escape ordering
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    # A.16 adding an array value
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    # copy, and a Kubernetes-style label key with a slash escaped as ~1
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}),
    (
        {"metadata": {"labels": {}}},
        [{"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"}],
        {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}},
    ),
]


@pytest.mark.parametrize(("original", "ops", "expected"), RFC6902_EXAMPLES)
def test_json_patch_rfc6902_appendix_a(original: Any, ops: Any, expected: Any) -> None:
    before = copy.deepcopy(original)
    assert patching.apply_json_patch(original, ops) == expected
    assert original == before


FAILING = [
    # A.9 testing a value: error
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
    # A.12 adding to a nonexistent target
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
    # A.15 comparing strings and numbers
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),
    # test distinguishes 1 from true
    ({"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
    ({"a": 1}, [{"op": "remove", "path": "/b"}]),
    ({"a": 1}, [{"op": "replace", "path": "/b", "value": 2}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/5", "value": 2}]),
    ({"a": [1]}, [{"op": "add", "path": "/a/01", "value": 2}]),
    ({"a": [1]}, [{"op": "remove", "path": "/a/-"}]),
    ({"a": 1}, [{"op": "add", "path": "a", "value": 2}]),
    ({"a": 1}, [{"op": "add", "path": "/~2", "value": 2}]),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}]),
    ({"a": 1}, [{"op": "frobnicate", "path": "/a"}]),
    ({"a": 1}, [{"op": "add", "path": "/b"}]),
    ({"a": 1}, {"op": "add", "path": "/b", "value": 1}),
    ({"a": "x"}, [{"op": "add", "path": "/a/b", "value": 1}]),
]


@pytest.mark.parametrize(("original", "ops"), FAILING)
def test_json_patch_errors_raise_patch_error(original: Any, ops: Any) -> None:
    with pytest.raises(patching.PatchError):
        patching.apply_json_patch(original, ops)


def test_json_patch_is_atomic_a_failed_test_leaves_no_partial_change() -> None:
    doc = {"a": 1}
    ops = [{"op": "add", "path": "/b", "value": 2}, {"op": "test", "path": "/a", "value": 5}]
    with pytest.raises(patching.PatchError, match="test failed"):
        patching.apply_json_patch(doc, ops)
    assert doc == {"a": 1}


keys = st.text(min_size=1, max_size=6)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@given(doc=json_objects, key=keys, value=json_values)
def test_json_patch_add_then_remove_is_identity(doc: Any, key: str, value: Any) -> None:
    doc.pop(key, None)
    pointer = "/" + _escape(key)
    ops = [{"op": "add", "path": pointer, "value": value}, {"op": "remove", "path": pointer}]
    assert patching.apply_json_patch(doc, ops) == doc
    added = patching.apply_json_patch(doc, ops[:1])
    assert added[key] == value


@given(items=st.lists(json_scalars, max_size=6), value=json_scalars, data=st.data())
def test_json_patch_array_insert_then_remove_is_identity(
    items: list[Any], value: Any, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(items)))
    ops = [
        {"op": "add", "path": f"/l/{index}", "value": value},
        {"op": "test", "path": f"/l/{index}", "value": value},
        {"op": "remove", "path": f"/l/{index}"},
    ]
    assert patching.apply_json_patch({"l": items}, ops) == {"l": items}
