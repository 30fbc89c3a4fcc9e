"""Field sets of server-side apply: which fields of an object a manager owns.

A field path is a tuple of path elements spelled as in ``managedFields[].fieldsV1``:
``f:<name>`` a map field, ``k:<json>`` a list item by its keys, ``v:<json>`` an item of a set
list, and a final ``.`` for a list item itself. A set holds only leaf paths, so
``{"f:spec": {"f:replicas": {}}}`` is the set ``{("f:spec", "f:replicas")}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from strongroom.sandbox import jsonpatch, mergekeys

Path = tuple[str, ...]

#: Fields of an object that identify it or that the server owns: never part of a field set.
_UNTRACKED_TOP = frozenset({"apiVersion", "kind"})
_UNTRACKED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)


def encode_json(value: Any) -> str:
    """Compact JSON with sorted keys, as used in ``k:`` and ``v:`` path elements."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def item_key(item: dict[str, Any], strategy: mergekeys.ListStrategy) -> str:
    """The ``k:`` path element of a list item, with defaults filled for missing keys."""
    defaults = dict(strategy.defaults)
    keys: dict[str, Any] = {}
    for name in strategy.apply_keys:
        if name in item:
            keys[name] = item[name]
        elif name in defaults:
            keys[name] = defaults[name]
    if strategy.merge_key not in keys:
        raise jsonpatch.PatchError(f"list item is missing its key field {strategy.merge_key}")
    return "k:" + encode_json(keys)


def names_of(path: Path) -> tuple[str, ...]:
    """The field names along ``path`` (list elements skipped), for list strategy lookups."""
    return tuple(element[2:] for element in path if element.startswith("f:"))


def object_fields(obj: dict[str, Any], group: str, kind: str) -> set[Path]:
    """The leaf field paths set in ``obj``, leaving out identity and server-owned fields."""
    fields: set[Path] = set()
    for key, value in obj.items():
        if key in _UNTRACKED_TOP or value is None:
            continue
        if key == "metadata" and isinstance(value, dict):
            meta = {k: v for k, v in value.items() if k not in _UNTRACKED_METADATA}
            if meta:
                _collect(meta, ("f:metadata",), group, kind, fields)
            continue
        _collect_value(value, ("f:" + key,), group, kind, fields)
    return fields


def _collect(obj: dict[str, Any], prefix: Path, group: str, kind: str, out: set[Path]) -> None:
    for key, value in obj.items():
        if value is not None:
            _collect_value(value, (*prefix, "f:" + key), group, kind, out)


def _collect_value(value: Any, path: Path, group: str, kind: str, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        _collect(value, path, group, kind, out)
        return
    if not isinstance(value, list) or not value:
        out.add(path)
        return
    strategy = mergekeys.list_strategy(group, kind, names_of(path))
    if strategy.type is mergekeys.ListType.SET:
        out.update((*path, "v:" + encode_json(item)) for item in value)
    elif strategy.type is mergekeys.ListType.MAP and all(isinstance(i, dict) for i in value):
        for item in value:
            item_path = (*path, item_key(item, strategy))
            out.add((*item_path, "."))
            _collect(item, item_path, group, kind, out)
    else:
        out.add(path)


def to_fields_v1(fields: Iterable[Path]) -> dict[str, Any]:
    """Encode a field set as the nested ``fieldsV1`` document."""
    root: dict[str, Any] = {}
    for path in sorted(fields):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return root


def from_fields_v1(doc: Any) -> set[Path]:
    """Decode a ``fieldsV1`` document into a field set (malformed input gives what it can)."""
    fields: set[Path] = set()

    def walk(node: Any, prefix: Path) -> None:
        if not isinstance(node, dict) or not node:
            if prefix:
                fields.add(prefix)
            return
        for element, child in node.items():
            walk(child, (*prefix, str(element)))

    walk(doc, ())
    return fields


def show(path: Path) -> str:
    """A field path as the API server prints it in conflict messages: ``.spec.replicas``."""
    text = ""
    for element in path:
        if element.startswith("f:"):
            text += "." + element[2:]
        elif element.startswith("k:"):
            keys = json.loads(element[2:])
            text += "[" + ",".join(f"{k}={encode_json(v)}" for k, v in keys.items()) + "]"
        elif element.startswith("v:"):
            text += "[=" + element[2:] + "]"
    return text
