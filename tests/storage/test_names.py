"""Property tests for object names and prefixes: "no crap in, no crap out"."""

from __future__ import annotations

import string
import tempfile

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom.storage import errors, filesystem, names

ALPHABET = string.ascii_letters + string.digits + "_="
components = st.text(alphabet=ALPHABET, min_size=1, max_size=12)
valid_names = st.lists(components, min_size=1, max_size=5).map("/".join)


def oracle(name: str) -> bool:
    """The naming rules restated independently of the implementation."""
    parts = name.split("/")
    return (
        0 < len(name) <= names.MAX_NAME
        and all(0 < len(p) <= names.MAX_COMPONENT for p in parts)
        and all(c in ALPHABET for p in parts for c in p)
    )


@hypothesis.given(valid_names)
def test_valid_names_pass_unchanged(name: str) -> None:
    assert names.check(name) == name
    assert names.is_valid(name)


@hypothesis.given(st.text(max_size=40))
def test_any_text_is_accepted_exactly_when_the_rules_allow(name: str) -> None:
    assert names.is_valid(name) == oracle(name)
    if not oracle(name):
        with pytest.raises(errors.InvalidName):
            names.check(name)


@hypothesis.given(valid_names, st.sampled_from(["/", "\\", " ", "\t", "\n", "\x00", ".", "-", "é"]))
def test_a_bad_character_anywhere_is_refused(name: str, bad: str) -> None:
    for position in (0, len(name) // 2, len(name)):
        spoiled = name[:position] + bad + name[position:]
        hypothesis.assume(not (bad == "/" and oracle(spoiled)))
        with pytest.raises(errors.InvalidName):
            names.check(spoiled)


@hypothesis.given(valid_names)
def test_dot_segments_and_absolute_paths_are_refused(name: str) -> None:
    for spoiled in (f"/{name}", f"{name}/", f"../{name}", f"{name}/..", f"./{name}", f"a//{name}"):
        with pytest.raises(errors.InvalidName):
            names.check(spoiled)


def test_length_limits() -> None:
    assert names.is_valid("a" * names.MAX_COMPONENT)
    assert not names.is_valid("a" * (names.MAX_COMPONENT + 1))
    longest = "/".join(["b" * 99] * 6)[: names.MAX_NAME]
    assert names.is_valid(longest.rstrip("/"))
    assert not names.is_valid(longest + "/cc")


def test_message_names_the_offender_and_is_one_line() -> None:
    with pytest.raises(errors.InvalidName) as caught:
        names.check("bad\nname")
    assert "'bad\\nname'" in str(caught.value)
    assert "\n" not in str(caught.value)


@hypothesis.given(st.text(max_size=30))
def test_prefix_is_empty_a_name_or_a_name_and_slash(prefix: str) -> None:
    expected = prefix == "" or oracle(prefix) or (prefix.endswith("/") and oracle(prefix[:-1]))
    if expected:
        assert names.check_prefix(prefix) == prefix
    else:
        with pytest.raises(errors.InvalidName):
            names.check_prefix(prefix)


@hypothesis.given(st.lists(valid_names, max_size=20))
def test_string_order_is_component_order(many: list[str]) -> None:
    """Why '-' and '.' are not allowed: byte order and folder-walk order must agree."""
    assert sorted(many) == sorted(many, key=lambda n: n.split("/"))


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(st.sets(valid_names, max_size=12))
def test_filesystem_lists_exactly_what_was_put_in_order(stored: set[str]) -> None:
    hypothesis.assume(not any(a != b and b.startswith(a + "/") for a in stored for b in stored))
    with tempfile.TemporaryDirectory() as folder:
        backend = filesystem.FilesystemBackend(folder)
        for name in stored:
            backend.put(name, name.encode())
        assert [info.name for info in backend.list()] == sorted(stored)
