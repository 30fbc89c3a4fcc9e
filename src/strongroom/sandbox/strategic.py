"""Kubernetes strategic merge patch (``application/strategic-merge-patch+json``).

Behaviour, as documented in the Kubernetes "strategic merge patch" design and API docs:

- maps merge recursively and a ``null`` value deletes its key;
- lists with a patch merge key (``containers`` by ``name``, container ``ports`` by
  ``containerPort``, a Service's ``ports`` by ``port``, ``conditions`` by ``type``, ...) merge
  item by item; lists with the ``merge`` strategy of scalars (``finalizers``) form a union; all
  other lists are replaced whole (see :mod:`strongroom.sandbox.mergekeys`);
- directives: ``$patch: replace|delete|merge`` in a map or in a list item,
  ``$retainKeys``, ``$deleteFromPrimitiveList/<field>`` and ``$setElementOrder/<field>``.

Custom resources fall back to a JSON merge patch, though the API server refuses strategic
patches for them (415) after checking :func:`strongroom.sandbox.mergekeys.supports_strategic`.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from strongroom.sandbox import jsonpatch, mergekeys

_PATCH = "$patch"
_RETAIN = "$retainKeys"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_ORDER = "$setElementOrder/"


@dataclasses.dataclass(frozen=True)
class _Context:
    group: str
    kind: str

    def strategy(self, path: tuple[str, ...]) -> mergekeys.ListStrategy:
        return mergekeys.list_strategy(self.group, self.kind, path)


def apply_strategic_merge_patch(
    obj: dict[str, Any], patch: dict[str, Any], group: str, kind: str
) -> dict[str, Any]:
    """Apply a strategic merge patch to ``obj`` (of ``kind`` in ``group``), returning a copy."""
    if not isinstance(patch, dict):
        raise jsonpatch.PatchError("a strategic merge patch must be a JSON object")
    if not mergekeys.supports_strategic(group, kind):
        result = jsonpatch.apply_merge_patch(obj, patch)
        assert isinstance(result, dict)
        return result
    merged = _merge_map(copy.deepcopy(obj), patch, _Context(group, kind), ())
    return merged


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], ctx: _Context, path: tuple[str, ...]
) -> dict[str, Any]:
    directive = patch.get(_PATCH, "merge")
    if directive == "replace":
        return _merge_map({}, {k: v for k, v in patch.items() if k != _PATCH}, ctx, path)
    if directive == "delete":
        return {}
    if directive != "merge":
        raise jsonpatch.PatchError(f"unknown $patch directive {directive!r} at {_show(path)}")
    _retain_keys(original, patch, path)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE):
            _delete_from_primitive_list(original, key[len(_DELETE_PRIMITIVE) :], value, path)
        elif key.startswith(_ORDER):
            if not isinstance(value, list):
                raise jsonpatch.PatchError(f"{key} at {_show(path)} must be a list")
            orders[key[len(_ORDER) :]] = value
        elif key not in (_PATCH, _RETAIN):
            _merge_field(original, key, value, ctx, (*path, key))
    for field, order in orders.items():
        if isinstance(original.get(field), list):
            original[field] = _reorder(original[field], order, ctx.strategy((*path, field)))
    return original


def _merge_field(
    original: dict[str, Any], key: str, value: Any, ctx: _Context, path: tuple[str, ...]
) -> None:
    if value is None:
        original.pop(key, None)
        return
    current = original.get(key)
    if isinstance(value, dict):
        base = current if isinstance(current, dict) else {}
        original[key] = _merge_map(base, value, ctx, path)
    elif isinstance(value, list):
        base_list = current if isinstance(current, list) else []
        original[key] = _merge_list(base_list, value, ctx, path)
    else:
        original[key] = copy.deepcopy(value)


def _retain_keys(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> None:
    retain = patch.get(_RETAIN)
    if retain is None:
        return
    if not isinstance(retain, list) or not all(isinstance(k, str) for k in retain):
        raise jsonpatch.PatchError(f"$retainKeys at {_show(path)} must be a list of strings")
    for key in patch:
        if not key.startswith("$") and key not in retain:
            raise jsonpatch.PatchError(
                f"{key} at {_show(path)} is not present in the $retainKeys list"
            )
    for key in list(original):
        if key not in retain:
            del original[key]


def _delete_from_primitive_list(
    original: dict[str, Any], field: str, values: Any, path: tuple[str, ...]
) -> None:
    if not isinstance(values, list):
        raise jsonpatch.PatchError(f"$deleteFromPrimitiveList/{field} at {_show(path)} not a list")
    current = original.get(field)
    if isinstance(current, list):
        original[field] = [item for item in current if item not in values]


def _merge_list(
    original: list[Any], patch: list[Any], ctx: _Context, path: tuple[str, ...]
) -> list[Any]:
    strategy = ctx.strategy(path)
    replace = [item for item in patch if isinstance(item, dict) and item.get(_PATCH) == "replace"]
    if replace or strategy.type is mergekeys.ListType.ATOMIC:
        rest = [item for item in patch if item not in replace]
        return [_clean(item, ctx, path) for item in rest]
    if strategy.type is mergekeys.ListType.SET:
        merged = copy.deepcopy(original)
        merged.extend(copy.deepcopy(item) for item in patch if item not in merged)
        return merged
    return _merge_keyed_list(copy.deepcopy(original), patch, strategy.merge_key, ctx, path)


def _merge_keyed_list(
    merged: list[Any], patch: list[Any], key: str, ctx: _Context, path: tuple[str, ...]
) -> list[Any]:
    for item in patch:
        if not isinstance(item, dict):
            raise jsonpatch.PatchError(f"{_show(path)} items must be objects keyed by {key}")
        if key not in item:
            raise jsonpatch.PatchError(
                f"{_show(path)} item does not contain declared merge key: {key}"
            )
        match = [
            i for i, old in enumerate(merged) if isinstance(old, dict) and old.get(key) == item[key]
        ]
        directive = item.get(_PATCH, "merge")
        if directive == "delete":
            merged = [old for i, old in enumerate(merged) if i not in match]
        elif match:
            merged[match[0]] = _merge_map(merged[match[0]], item, ctx, path)
        else:
            merged.append(_merge_map({}, item, ctx, path))
    return merged


def _reorder(items: list[Any], order: list[Any], strategy: mergekeys.ListStrategy) -> list[Any]:
    """Put the items named by a ``$setElementOrder`` list in that order; others keep their place."""

    def ident(item: Any) -> Any:
        if strategy.type is mergekeys.ListType.MAP and isinstance(item, dict):
            return item.get(strategy.merge_key)
        return item

    wanted = [ident(entry) for entry in order]
    slots = [i for i, item in enumerate(items) if ident(item) in wanted]
    placed = sorted((items[i] for i in slots), key=lambda item: wanted.index(ident(item)))
    result = list(items)
    for slot, item in zip(slots, placed, strict=True):
        result[slot] = item
    return result


def _clean(value: Any, ctx: _Context, path: tuple[str, ...]) -> Any:
    """A patch value as it lands where nothing was before: directives processed, nulls dropped."""
    if isinstance(value, dict):
        return _merge_map({}, value, ctx, path)
    if isinstance(value, list):
        return [_clean(item, ctx, path) for item in value]
    return copy.deepcopy(value)


def _show(path: tuple[str, ...]) -> str:
    return "." + ".".join(path) if path else "the object"
