"""Property tests of the sandbox's parsers: routes, continue tokens, names, protobuf varints."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from strongroom.sandbox import catalog, reads, routing, status, validation

CATALOG = catalog.Catalog()
segment = st.sampled_from(
    [
        "api",
        "apis",
        "v1",
        "apps",
        "namespaces",
        "default",
        "configmaps",
        "pods",
        "status",
        "scale",
        "watch",
        "x",
        "",
        "deployments",
        "finalize",
    ]
)


@given(st.lists(segment, max_size=7))
def test_any_path_routes_or_is_a_404(parts: list[str]) -> None:
    path = "/" + "/".join(parts)
    try:
        route = routing.parse(path, CATALOG.lookup)
    except status.ApiError as exc:
        assert exc.code == 404
    else:
        if isinstance(route, routing.ResourceRoute):
            assert route.rtype.plural in parts
            if route.namespace is not None:
                assert route.rtype.namespaced


@given(st.integers(min_value=0, max_value=2**40), st.text(max_size=30), st.text(max_size=60))
def test_continue_tokens_round_trip(rv: int, namespace: str, name: str) -> None:
    token = reads._encode_continue(rv, (namespace, name))
    assert re.fullmatch(r"[A-Za-z0-9_-]*", token)
    assert reads._decode_continue(token) == (rv, (namespace, name))


@given(st.text(max_size=80))
def test_garbage_continue_tokens_are_400(token: str) -> None:
    try:
        reads._decode_continue(token)
    except status.ApiError as exc:
        assert exc.code == 400


LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@given(st.from_regex(r"[a-z0-9.\-]{1,70}", fullmatch=True))
def test_subdomain_rule_matches_its_definition(name: str) -> None:
    labels = name.split(".")
    valid = len(name) <= 253 and all(LABEL.fullmatch(part) for part in labels)
    assert (validation.dns_subdomain(name) == []) == valid


@given(st.text(alphabet="abcXYZ09-_./", min_size=1, max_size=80))
def test_qualified_names(key: str) -> None:
    prefix, slash, name = key.rpartition("/")
    ok_name = 0 < len(name) <= 63 and re.fullmatch(
        r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", name
    )
    ok_prefix = not slash or (prefix and validation.dns_subdomain(prefix) == [])
    assert (validation.qualified_name(key) == []) == bool(ok_name and ok_prefix)
