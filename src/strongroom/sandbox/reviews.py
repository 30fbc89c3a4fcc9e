"""Access and identity reviews: answers computed on create, never stored.

The sandbox has no RBAC, so every access review is allowed (``kubectl auth can-i`` says yes,
a preflight check passes), a rules review lists one wildcard rule, and the caller is
``sandbox-admin`` in ``system:masters`` (``kubectl auth whoami``). Token reviews accept the
sandbox's own token (or any token when none is configured).
"""

from __future__ import annotations

import hmac
from typing import Any

from strongroom.sandbox import cluster, status, writes

Obj = dict[str, Any]

USER: Obj = {
    "username": "sandbox-admin",
    "groups": ["system:masters", "system:authenticated"],
}
REVIEWS = frozenset(
    {
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("authorization.k8s.io", "localsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authentication.k8s.io", "tokenreviews"),
    }
)


def is_review(call: cluster.Call) -> bool:
    return call.rtype.group_resource in REVIEWS


def answer(call: cluster.Call, token: str | None) -> tuple[int, Obj]:
    """The review with its status filled in (201, as a create)."""
    call.require("create")
    review = writes.body_object(call)
    plural = call.rtype.plural
    if plural == "localsubjectaccessreviews":
        wanted = review["metadata"].get("namespace")
        attrs = (review.get("spec") or {}).get("resourceAttributes") or {}
        if attrs.get("namespace") not in (None, "", wanted):
            raise status.bad_request("spec.resourceAttributes.namespace must match the request")
    if plural.endswith("subjectaccessreviews"):
        review["status"] = {"allowed": True, "reason": "the sandbox has no RBAC: all is allowed"}
    elif plural == "selfsubjectrulesreviews":
        review["status"] = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    elif plural == "selfsubjectreviews":
        review["status"] = {"userInfo": dict(USER)}
    else:
        given = str((review.get("spec") or {}).get("token") or "")
        valid = token is None or hmac.compare_digest(given.encode(), token.encode())
        review["status"] = (
            {"authenticated": True, "user": dict(USER)}
            if valid
            else {"authenticated": False, "error": "invalid bearer token"}
        )
    review["metadata"].setdefault("creationTimestamp", None)
    return 201, review
