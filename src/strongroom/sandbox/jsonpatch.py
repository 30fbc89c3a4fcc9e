"""RFC 7386 JSON merge patch and RFC 6902 JSON patch over plain JSON values.

Contract: the functions here never mutate their inputs; they return new objects that share no
mutable containers with the inputs. Malformed patches raise :class:`PatchError` (the API server
answers 422 or 400), and :class:`ApplyConflict` (409) is raised by server-side apply.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

JSON = Any


class PatchError(ValueError):
    """A patch that cannot be applied: malformed, a bad path, or a failed ``test`` operation."""


class ApplyConflict(PatchError):  # noqa: N818 - the name the API server's callers expect
    """Server-side apply would change fields owned by other managers without ``force``.

    ``managers`` names the owning managers and ``fields`` the conflicting field paths, both
    sorted, so the message matches what the API server puts in its 409 ``Status``.
    """

    def __init__(self, managers: Sequence[str], fields: Sequence[str]) -> None:
        self.managers = tuple(sorted(set(managers)))
        self.fields = tuple(sorted(set(fields)))
        count = len(self.fields)
        noun = "conflict" if count == 1 else "conflicts"
        who = ", ".join(f'"{name}"' for name in self.managers)
        super().__init__(
            f"Apply failed with {count} {noun}: conflict with {who}: {', '.join(self.fields)}"
        )


def apply_merge_patch(obj: JSON, patch: JSON) -> JSON:
    """Apply an RFC 7386 merge patch: maps merge recursively, ``null`` deletes, others replace."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, JSON] = copy.deepcopy(obj) if isinstance(obj, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def create_merge_patch(source: JSON, target: JSON) -> JSON:
    """The merge patch that turns ``source`` into ``target`` (the inverse of apply_merge_patch).

    ``target`` must not contain ``null`` values inside maps: a merge patch cannot express them.
    """
    if not isinstance(source, dict) or not isinstance(target, dict):
        return copy.deepcopy(target)
    patch: dict[str, JSON] = {}
    for key in source.keys() - target.keys():
        patch[key] = None
    for key, value in target.items():
        if key not in source:
            patch[key] = copy.deepcopy(value)
        elif source[key] != value or type(source[key]) is not type(value):
            patch[key] = create_merge_patch(source[key], value)
    return patch


def apply_json_patch(obj: JSON, ops: JSON) -> JSON:
    """Apply an RFC 6902 JSON patch (add, remove, replace, move, copy, test) atomically."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(obj)
    for index, op in enumerate(ops):
        if not isinstance(op, dict):
            raise PatchError(f"JSON patch operation {index} is not an object")
        doc = _apply_op(doc, op)
    return doc


def parse_pointer(pointer: JSON) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped reference tokens (``~1`` is /, ``~0`` is ~)."""
    if not isinstance(pointer, str):
        raise PatchError(f"JSON pointer must be a string, not {type(pointer).__name__}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer {pointer!r} does not start with /")
    tokens = pointer[1:].split("/")
    for token in tokens:
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise PatchError(f"JSON pointer {pointer!r} has an invalid ~ escape")
    return [token.replace("~1", "/").replace("~0", "~") for token in tokens]


def _member(op: dict[str, JSON], name: str) -> JSON:
    if name not in op:
        raise PatchError(f"JSON patch operation {op.get('op')!r} is missing {name!r}")
    return op[name]


def _apply_op(doc: JSON, op: dict[str, JSON]) -> JSON:
    kind = op.get("op")
    path = parse_pointer(_member(op, "path"))
    if kind == "add":
        return _add(doc, path, copy.deepcopy(_member(op, "value")))
    if kind == "remove":
        return _remove(doc, path)[0]
    if kind == "replace":
        value = copy.deepcopy(_member(op, "value"))
        return value if not path else _add(_remove(doc, path)[0], path, value)
    if kind == "move":
        source = parse_pointer(_member(op, "from"))
        if len(path) > len(source) and path[: len(source)] == source:
            raise PatchError("JSON patch cannot move a value into one of its own children")
        doc, value = _remove(doc, source)
        return _add(doc, path, value)
    if kind == "copy":
        source = parse_pointer(_member(op, "from"))
        return _add(doc, path, copy.deepcopy(_get(doc, source)))
    if kind == "test":
        expected = _member(op, "value")
        actual = _get(doc, path)
        if actual != expected or type(actual) is not type(expected):
            raise PatchError(f"JSON patch test failed at {op['path']!r}")
        return doc
    raise PatchError(f"unknown JSON patch operation {kind!r}")


def _index(container: list[JSON], ref: str, *, for_add: bool) -> int:
    if for_add and ref == "-":
        return len(container)
    if not ref.isdigit() or (len(ref) > 1 and ref.startswith("0")):
        raise PatchError(f"invalid array index {ref!r} in JSON pointer")
    index = int(ref)
    limit = len(container) if for_add else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} is out of range")
    return index


def _parent(doc: JSON, path: list[str]) -> JSON:
    if not path:
        raise PatchError("the JSON patch target is the whole document")
    return _get(doc, path[:-1])


def _get(doc: JSON, path: list[str]) -> JSON:
    node = doc
    for token in path:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f"JSON pointer member {token!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, for_add=False)]
        else:
            raise PatchError(f"JSON pointer goes through a scalar at {token!r}")
    return node


def _add(doc: JSON, path: list[str], value: JSON) -> JSON:
    if not path:
        return value
    parent = _parent(doc, path)
    token = path[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, for_add=True), value)
    else:
        raise PatchError(f"cannot add {token!r} to a scalar")
    return doc


def _remove(doc: JSON, path: list[str]) -> tuple[JSON, JSON]:
    parent = _parent(doc, path)
    token = path[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchError(f"cannot remove missing member {token!r}")
        return doc, parent.pop(token)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, token, for_add=False))
    raise PatchError(f"cannot remove {token!r} from a scalar")
