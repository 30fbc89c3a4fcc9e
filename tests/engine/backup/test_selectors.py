"""Label selectors parsed on the client with the API server's grammar (property tested)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom import errors
from strongroom.engine.backup import selectors
from strongroom.sandbox import selectors as server_selectors

NAME = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True)
PREFIX = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}", fullmatch=True)
KEY = st.one_of(NAME, st.builds(lambda p, n: f"{p}/{n}", PREFIX, NAME))
VALUE = st.one_of(st.just(""), NAME)
NUMBER = st.integers(0, 10**6).map(str)


@st.composite
def requirements(draw: st.DrawFn) -> selectors.Requirement:
    key = draw(KEY)
    op = draw(st.sampled_from(list(selectors.Op)))
    if op in (selectors.Op.EXISTS, selectors.Op.NOT_EXISTS):
        return selectors.Requirement(key, op)
    if op in (selectors.Op.IN, selectors.Op.NOT_IN):
        values = draw(st.lists(VALUE, min_size=1, max_size=4))
        return selectors.Requirement(key, op, tuple(sorted(set(values))))
    if op in (selectors.Op.GREATER, selectors.Op.LESS):
        return selectors.Requirement(key, op, (draw(NUMBER),))
    return selectors.Requirement(key, op, (draw(VALUE),))


SELECTORS = st.lists(requirements(), max_size=5).map(lambda reqs: selectors.Selector(tuple(reqs)))
LABELS = st.dictionaries(st.one_of(KEY, st.sampled_from(["app", "tier"])), st.one_of(VALUE, NUMBER))


@given(SELECTORS)
def test_canonical_text_parses_back_to_the_same_selector(selector: selectors.Selector) -> None:
    assert selectors.parse(str(selector)) == selector


@given(SELECTORS, st.data())
def test_white_space_between_tokens_is_ignored(
    selector: selectors.Selector, data: st.DataObject
) -> None:
    text = str(selector)
    spaced = "".join(
        ch + data.draw(st.sampled_from(["", " ", "\t"])) if ch in ",()" else ch for ch in text
    )
    assert selectors.parse(f"  {spaced}  ") == selector


@given(SELECTORS, LABELS)
def test_matching_agrees_with_the_api_server(
    selector: selectors.Selector, labels: dict[str, str]
) -> None:
    """The sandbox API server's own selector code answers the same for the same labels."""
    theirs = server_selectors.parse_label_selector(str(selector))
    assert selector.matches(labels) == theirs.matches(labels)


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(list("ab=!(),<> \tinot1-._/x")), max_size=25))
def test_accepts_exactly_what_the_api_server_accepts(text: str) -> None:
    try:
        server_selectors.parse_label_selector(text)
        server_ok = True
    except server_selectors.SelectorError:
        server_ok = False
    try:
        ours = selectors.parse(text)
    except selectors.SelectorError as exc:
        assert not server_ok, f"{text!r} refused: {exc}"
        assert "\n" not in str(exc)
        return
    assert server_ok, f"{text!r} accepted as {ours}"


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_a_usage_error(text: str) -> None:
    try:
        selectors.parse(text)
    except selectors.SelectorError as exc:
        assert isinstance(exc, errors.UsageError)
        assert str(exc).startswith("label selector ")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("app=web", "app=web"),
        ("app==web", "app==web"),
        ("app = web , tier!=db", "app=web,tier!=db"),
        ("tier in (db, web),app", "app,tier in (db,web)"),
        ("tier notin (web,db,web)", "tier notin (db,web)"),
        ("!legacy", "!legacy"),
        ("app=", "app="),
        ("app in ()", "app in ()"),
        ("app in (,a)", "app in (,a)"),
        ("example.com/owner=me", "example.com/owner=me"),
        ("replicas>3,replicas<10", "replicas<10,replicas>3"),
        ("in=notin", "in=notin"),
    ],
)
def test_examples(text: str, canonical: str) -> None:
    assert str(selectors.parse(text)) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "app=web,",
        ",app",
        "app=(web)",
        "app in web",
        "app in (a b)",
        "app in (a",
        "!app=web",
        "app!",
        "a/b/c=1",
        "/x=1",
        "UPPER.example.com/x=1",
        "x" * 64 + "=1",
        "app=" + "v" * 64,
        "app=-web",
        "replicas>three",
        "replicas>-1",
        "app web",
        "app<=3",
    ],
)
def test_refused(text: str) -> None:
    with pytest.raises(selectors.SelectorError):
        selectors.parse(text)


def test_match_semantics() -> None:
    sel = selectors.parse("app=web,tier notin (db),!legacy,replicas>2")
    assert sel.matches({"app": "web", "replicas": "3"})
    assert not sel.matches({"app": "web", "replicas": "3", "legacy": ""})
    assert not sel.matches({"app": "web", "replicas": "3", "tier": "db"})
    assert not sel.matches({"app": "web", "replicas": "x"})
    assert not sel.matches({"app": "web"})
    assert selectors.parse("").matches(None)
