"""Arbitrary request bodies never crash the server: every answer is a proper Status or object."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strongroom.sandbox import server
from tests.sandbox.api import Api

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    [
        "metadata",
        "spec",
        "status",
        "data",
        "kind",
        "apiVersion",
        "type",
        "stringData",
        "ports",
        "selector",
        "name",
        "labels",
        "template",
    ]
)
metadata = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=10), st.integers()),
        "generateName": st.text(max_size=6),
        "labels": st.dictionaries(st.text(max_size=6), values, max_size=2),
        "finalizers": st.lists(values, max_size=2),
        "ownerReferences": values,
    },
)
bodies = st.one_of(
    values,
    st.dictionaries(keys, values, max_size=5).flatmap(
        lambda extra: metadata.map(lambda meta: dict(extra, metadata=meta))
    ),
)
SEEDS = [
    ("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "x"}, "data": {"a": "b"}}),
    ("/api/v1/namespaces/default/secrets", {"metadata": {"name": "x"}, "stringData": {"a": "b"}}),
    (
        "/api/v1/namespaces/default/services",
        {"metadata": {"name": "x"}, "spec": {"ports": [{"port": 1}]}},
    ),
    ("/api/v1/namespaces", {"metadata": {"name": "x"}}),
    (
        "/api/v1/namespaces/default/pods",
        {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": "i"}]}},
    ),
]
PATHS = [
    "/api/v1/namespaces/default/configmaps",
    "/api/v1/namespaces/default/secrets",
    "/api/v1/namespaces/default/services",
    "/api/v1/namespaces/default/pods",
    "/apis/apps/v1/namespaces/default/deployments",
    "/apis/batch/v1/namespaces/default/jobs",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "/api/v1/namespaces",
]


def test_requests_never_fail_with_500() -> None:
    """One sandbox takes every example: state piles up, as it would in a long-lived server."""
    with server.Sandbox() as sandbox:
        api = Api(sandbox.url)
        for seed_path, seed in SEEDS:
            api.post(seed_path, seed)

        @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.sampled_from(PATHS), bodies, st.sampled_from(["POST", "PUT", "PATCH"]))
        def check(path: str, body: Any, method: str) -> None:
            target = path if method == "POST" else f"{path}/x"
            kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
            raw = json.dumps(body).encode()
            code, answer = api.request(method, target, raw=raw, content_type=kind)
            if code == 500:
                assert answer["message"].startswith("resourceVersion should not"), answer
            assert code in (200, 201, 400, 403, 404, 405, 409, 415, 422, 500)
            if code >= 400:
                assert answer["kind"] == "Status" and answer["code"] == code

        check()


query_values = st.one_of(
    st.text(max_size=20), st.sampled_from(["0", "1", "-1", "abc", "true", "x=y"])
)
query_keys = st.sampled_from(
    [
        "labelSelector",
        "fieldSelector",
        "limit",
        "continue",
        "resourceVersion",
        "fieldValidation",
        "dryRun",
        "propagationPolicy",
        "includeObject",
        "fieldManager",
        "force",
    ]
)


def test_queries_never_fail_with_500() -> None:
    with server.Sandbox() as sandbox:
        api = Api(sandbox.url)
        for seed_path, seed in SEEDS:
            api.post(seed_path, seed)

        @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(
            st.sampled_from(PATHS),
            st.dictionaries(query_keys, query_values, max_size=4),
            st.sampled_from(["GET", "DELETE"]),
            st.booleans(),
        )
        def check(path: str, query: dict[str, str], method: str, item: bool) -> None:
            target = f"{path}/x" if item or method == "DELETE" else path
            code, answer = api.request(method, target, query=query)
            assert code in (200, 201, 400, 403, 404, 405, 409, 410, 415, 422), answer
            if code >= 400:
                assert answer["kind"] == "Status" and answer["code"] == code

        check()
