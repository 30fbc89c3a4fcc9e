"""Label and field selectors, per the Kubernetes "Labels and Selectors" and "Field Selectors"
documentation and the API server's parsing rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.sandbox import selectors

LABELS = {"app": "web", "tier": "front", "env": "prod", "app.kubernetes.io/name": "shop", "n": "7"}

# (selector, matches LABELS?) straight from the documented semantics
LABEL_CASES = [
    ("", True),  # the empty selector selects everything
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("missing!=x", True),  # != also matches objects without the label
    ("app!=web", False),
    ("tier in (front,back)", True),
    ("tier in (back)", False),
    ("missing in (a)", False),
    ("tier notin (back,middle)", True),
    ("missing notin (a)", True),  # notin also matches objects without the label
    ("tier notin (front)", False),
    ("app", True),  # exists
    ("missing", False),
    ("!missing", True),  # does not exist
    ("!app", False),
    ("app=web,tier=front", True),  # comma is AND
    ("app=web,tier=back", False),
    ("  app = web ,  tier in ( front , back )  ", True),  # whitespace is tolerated
    ("app.kubernetes.io/name=shop", True),
    ("n>5", True),
    ("n<5", False),
    ("app>5", False),  # not an integer: never matches
    ("env=prod,!canary,tier notin (db)", True),
    ("app=", False),  # an empty value matches only an empty label value
]


@pytest.mark.parametrize(("text", "expected"), LABEL_CASES)
def test_label_selector_semantics(text: str, expected: bool) -> None:
    assert selectors.parse_label_selector(text).matches(LABELS) is expected


def test_empty_value_matches_empty_label_value() -> None:
    assert selectors.parse_label_selector("a=").matches({"a": ""})
    # the API server reads "()" as the set holding the empty value
    assert selectors.parse_label_selector("a in ()").matches({"a": ""})
    assert not selectors.parse_label_selector("a in ()").matches({"a": "x"})


MALFORMED = [
    ("a b", "found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a in (b", "expected: ',', ')' or identifier"),
    ("a in b", "expected: '('"),
    ("!a=b", "expected: ',' or 'end of string'"),
    ("a=b=c", "expected: ',' or 'end of string'"),
    (",a", "expected: !, identifier"),
    ("a,", "expected: !, identifier"),
    ("a>b", "must be an integer"),
    ("-a=b", "name part must consist of alphanumeric"),
    ("a=-b", "invalid label value"),
    ("a=" + "x" * 64, "no more than 63"),
    ("x" * 64, "no more than 63"),
    ("Example.com/a=b", "prefix part must be a lowercase RFC 1123 subdomain"),
    ("a/b/c=d", "at most one '/'"),
    ("/a", "prefix part must be non-empty"),
    ("a/=b", "name part must be non-empty"),
    ("a=(b)", "expected: identifier"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_malformed_label_selectors_raise_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(selectors.SelectorError) as info:
        selectors.parse_label_selector(text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@settings(max_examples=400)
@given(st.text(alphabet=st.sampled_from(list("ab=!(),<> in\t/.-_x0")), max_size=30) | st.text())
def test_label_selector_parse_never_crashes(text: str) -> None:
    try:
        selector = selectors.parse_label_selector(text)
    except selectors.SelectorError:
        return
    assert isinstance(selector.matches({"a": "b"}), bool)
    # what parses, prints back to an equivalent selector
    again = selectors.parse_label_selector(str(selector))
    assert again.requirements == selector.requirements


names = st.from_regex(r"[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?", fullmatch=True)
prefixes = st.from_regex(r"[a-z0-9]{1,5}(\.[a-z0-9]{1,5}){0,2}", fullmatch=True)
keys = st.one_of(names, st.builds(lambda p, n: f"{p}/{n}", prefixes, names))
values = st.one_of(st.just(""), names)
label_sets = st.dictionaries(keys, values, max_size=5)


@given(labels=label_sets, key=keys, wanted=st.lists(values, min_size=1, max_size=3))
def test_random_valid_selectors_match_exactly_the_expected_sets(
    labels: dict[str, str], key: str, wanted: list[str]
) -> None:
    present = key in labels
    value = labels.get(key)
    quoted = ",".join(wanted)
    expectations = {
        f"{key}={wanted[0]}": present and value == wanted[0],
        f"{key}!={wanted[0]}": not present or value != wanted[0],
        f"{key} in ({quoted})": present and value in wanted,
        f"{key} notin ({quoted})": not present or value not in wanted,
        key: present,
        f"!{key}": not present,
    }
    for text, expected in expectations.items():
        assert selectors.parse_label_selector(text).matches(labels) is expected, text
    conjunction = ",".join(f"{k}={v}" for k, v in labels.items())
    assert selectors.parse_label_selector(conjunction).matches(labels)
    if labels:
        k, v = next(iter(labels.items()))
        assert not selectors.parse_label_selector(f"{conjunction},{k}!={v}").matches(labels)


# --- field selectors ------------------------------------------------------------------------

ALLOWED = {"metadata.name", "metadata.namespace", "status.phase", "spec.nodeName"}
POD = {
    "metadata": {"name": "a,b=c", "namespace": "shop"},
    "spec": {"nodeName": ""},
    "status": {"phase": "Running"},
}

FIELD_CASES = [
    ("", True),
    ("metadata.namespace=shop", True),
    ("metadata.namespace==shop", True),
    ("metadata.namespace!=shop", False),
    ("metadata.namespace=other", False),
    (r"metadata.name=a\,b\=c", True),  # \, and \= escape the separators
    ("status.phase=Running,metadata.namespace=shop", True),
    ("status.phase!=Pending,metadata.namespace=shop", True),
    ("spec.nodeName=", True),  # absent or empty compares as ""
    ("spec.nodeName!=", False),
]


@pytest.mark.parametrize(("text", "expected"), FIELD_CASES)
def test_field_selector_semantics(text: str, expected: bool) -> None:
    assert selectors.parse_field_selector(text, ALLOWED).matches(POD) is expected


FIELD_ERRORS = [
    ("spec.foo=x", "field label not supported: spec.foo"),
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    (r"metadata.name=a\b", "invalid escape sequence"),
    ("metadata.name=a\\", "invalid escape sequence"),
    ("metadata.name=a=b", "unescaped '='"),
]


@pytest.mark.parametrize(("text", "message"), FIELD_ERRORS)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(selectors.SelectorError, match=None) as info:
        selectors.parse_field_selector(text, ALLOWED)
    assert message in str(info.value)


def test_field_selector_reports_the_fields_it_uses() -> None:
    selector = selectors.parse_field_selector("metadata.name=x,status.phase!=y", ALLOWED)
    assert selector.fields == {"metadata.name", "status.phase"}


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("metadata.nm=!,\\x ")), max_size=30) | st.text())
def test_field_selector_parse_never_crashes(text: str) -> None:
    try:
        selector = selectors.parse_field_selector(text, ALLOWED)
    except selectors.SelectorError as error:
        assert "\n" not in str(error) or "\n" in text
        return
    assert isinstance(selector.matches(POD), bool)


@given(value=st.text(max_size=12))
def test_escaped_field_values_round_trip(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
    selector = selectors.parse_field_selector(f"metadata.name={escaped}", ALLOWED)
    assert selector.matches({"metadata": {"name": value}}) is True
    assert selector.matches({"metadata": {"name": value + "x"}}) is False
