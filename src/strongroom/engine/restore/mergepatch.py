"""JSON merge patches (RFC 7386) between two objects, as Velero's ``generatePatch`` makes them.

Maps are compared key by key (a key missing from ``modified`` becomes ``null``); any other
value, lists included, is replaced whole when it differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def create(original: Mapping[str, Any], modified: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that turns ``original`` into ``modified``; ``{}`` when they are equal."""
    patch: dict[str, Any] = {key: None for key in original if key not in modified}
    for key, value in modified.items():
        if key not in original:
            patch[key] = value
            continue
        before = original[key]
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = create(before, value)
            if nested:
                patch[key] = nested
        elif value != before:
            patch[key] = value
    return patch


def apply(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` (RFC 7386 §2); neither argument is modified."""
    if not isinstance(patch, Mapping):
        return patch
    out: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = apply(out.get(key), value)
    return out
