"""Server-side apply: merge an applied configuration and track field ownership.

The model follows the Kubernetes "Server-Side Apply" documentation:

- each manager's fields are listed in ``metadata.managedFields`` (``operation: Apply`` for
  appliers, ``Update`` for other writers), as ``fieldsV1`` sets;
- applying a field that another manager owns with a different value is a conflict, unless
  ``force`` is set, in which case the applier takes the field over; applying the same value
  makes the field shared;
- fields the same manager applied before and now omits are removed, unless another manager
  still owns them;
- lists of maps merge by their ``+listMapKey`` keys, set lists form a union, other lists are
  atomic (see :mod:`strongroom.sandbox.mergekeys`);
- an object that has no ``managedFields`` yet is owned by ``before-first-apply``;
- the manager ``kubectl`` takes over without conflict the fields listed in the object's
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation (the documented upgrade
  from client-side to server-side apply).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
from typing import Any

from strongroom.sandbox import fieldsets, jsonpatch, mergekeys

Path = fieldsets.Path
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MISSING = object()


@dataclasses.dataclass(frozen=True)
class _Entry:
    manager: str
    operation: str
    api_version: str
    time: str
    fields: frozenset[Path]
    subresource: str = ""

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fieldsets.to_fields_v1(self.fields),
        }
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    group: str,
    kind: str,
    *,
    now: str | None = None,
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` to ``live`` (None: create from it).

    Raises :class:`~strongroom.sandbox.jsonpatch.ApplyConflict` when other managers own fields
    that would change and ``force`` is false. Identity and server-set metadata (uid,
    resourceVersion, timestamps) are left for the caller to set.
    """
    if not isinstance(applied, dict):
        raise jsonpatch.PatchError("an applied configuration must be a JSON object")
    if not manager:
        raise jsonpatch.PatchError("fieldManager is required for apply requests")
    applied = _without_nulls(applied)
    applied.get("metadata", {}).pop("managedFields", None)
    mine_now = frozenset(fieldsets.object_fields(applied, group, kind))
    entries = _entries(live, group, kind)
    mine = [e for e in entries if e.manager == manager and e.operation == "Apply"]
    base = copy.deepcopy(live) if live is not None else {}
    rivals = [e for e in entries if e not in mine]
    conflicts = _conflicts(base, applied, mine_now, rivals, group, kind)
    if conflicts and manager == "kubectl" and not force:
        force = {p for _, p in conflicts} <= _last_applied_fields(base, group, kind)
    if conflicts and not force:
        raise jsonpatch.ApplyConflict(
            [e.manager for e, _ in conflicts], [fieldsets.show(p) for _, p in conflicts]
        )
    lost = {(e.manager, e.operation, p) for e, p in conflicts}
    others = [
        dataclasses.replace(
            e, fields=frozenset(p for p in e.fields if (e.manager, e.operation, p) not in lost)
        )
        for e in entries
        if e not in mine
    ]
    result: dict[str, Any] = _merge(base, applied, group, kind, ())
    previous = mine[0].fields if mine else frozenset()
    new_fields = _Entry(manager, "Apply", "", "", mine_now)  # still owned: never removed
    _remove_dropped(result, previous - mine_now, [*others, new_fields], group, kind)
    stamp = now or _now()
    new_entry = _Entry(manager, "Apply", str(applied.get("apiVersion", "")), stamp, mine_now)
    result.setdefault("metadata", {})["managedFields"] = _ordered(entries, others, new_entry)
    return result


def update_managed_fields(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    group: str,
    kind: str,
    *,
    operation: str = "Update",
    now: str | None = None,
) -> dict[str, Any]:
    """``new`` with ``managedFields`` recording that ``manager`` wrote the fields that changed.

    For create, update and patch requests: fields set in ``new`` that differ from ``old`` (all
    of them when ``old`` is None) move to ``manager``'s ``Update`` entry.
    """
    result = copy.deepcopy(new)
    entries = _entries(old, group, kind) if old is not None else []
    changed = frozenset(
        p
        for p in fieldsets.object_fields(result, group, kind)
        if old is None or _lookup(old, p, group, kind) != _lookup(result, p, group, kind)
    )
    key = (manager, operation)
    others = [
        dataclasses.replace(e, fields=e.fields - changed)
        for e in entries
        if (e.manager, e.operation) != key
    ]
    mine = [e for e in entries if (e.manager, e.operation) == key]
    fields = changed | (mine[0].fields if mine else frozenset())
    owned = frozenset(fieldsets.object_fields(result, group, kind))
    # as the API server: a write that changes none of the manager's fields keeps its time,
    # so a no-op update stays a no-op whenever it arrives
    when = mine[0].time if mine and not changed else (now or _now())
    entry = _Entry(manager, operation, str(result.get("apiVersion", "")), when, fields & owned)
    result.setdefault("metadata", {})["managedFields"] = _ordered(entries, others, entry)
    return result


def _last_applied_fields(live: dict[str, Any], group: str, kind: str) -> frozenset[Path]:
    """The fields of kubectl's last-applied-configuration annotation.

    kubectl's first server-side apply of an object it managed with client-side apply takes
    those fields over without conflicts (the API server's documented upgrade path).
    """
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(LAST_APPLIED)
    if not isinstance(text, str):
        return frozenset()
    try:
        last = json.loads(text)
    except ValueError:
        return frozenset()
    if not isinstance(last, dict):
        return frozenset()
    return frozenset(fieldsets.object_fields(_without_nulls(last), group, kind))


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _entries(live: dict[str, Any] | None, group: str, kind: str) -> list[_Entry]:
    if live is None:
        return []
    raw = (live.get("metadata") or {}).get("managedFields") or []
    if not raw:
        fields = frozenset(fieldsets.object_fields(live, group, kind))
        version = str(live.get("apiVersion", ""))
        return [_Entry("before-first-apply", "Update", version, _now(), fields)] if fields else []
    return [
        _Entry(
            manager=str(item.get("manager", "")),
            operation=str(item.get("operation", "Update")),
            api_version=str(item.get("apiVersion", "")),
            time=str(item.get("time", "")),
            fields=frozenset(fieldsets.from_fields_v1(item.get("fieldsV1", {}))),
            subresource=str(item.get("subresource", "")),
        )
        for item in raw
        if isinstance(item, dict)
    ]


def _ordered(entries: list[_Entry], others: list[_Entry], new: _Entry) -> list[dict[str, Any]]:
    """Entries in their previous order, the new one in its old place or last; empty ones go."""
    by_key = {(e.manager, e.operation, e.subresource): e for e in others}
    out: list[dict[str, Any]] = []
    placed = False
    for entry in entries:
        key = (entry.manager, entry.operation, entry.subresource)
        if (entry.manager, entry.operation, entry.subresource) == (new.manager, new.operation, ""):
            out.append(new.to_json())
            placed = True
        elif key in by_key and by_key[key].fields:
            out.append(by_key[key].to_json())
    if not placed:
        out.append(new.to_json())
    return out


def _conflicts(
    live: dict[str, Any],
    applied: dict[str, Any],
    fields: frozenset[Path],
    others: list[_Entry],
    *group_kind: str,
) -> list[tuple[_Entry, Path]]:
    found: list[tuple[_Entry, Path]] = []
    for entry in others:
        for path in sorted(entry.fields & fields):
            if path[-1] == ".":
                continue
            current = _lookup(live, path, *group_kind)
            if current is not _MISSING and current != _lookup(applied, path, *group_kind):
                found.append((entry, path))
    return found


def _lookup(obj: Any, path: Path, group: str, kind: str) -> Any:
    node = obj
    for depth, element in enumerate(path):
        if element == ".":
            return node
        if element.startswith("f:") and isinstance(node, dict):
            node = node.get(element[2:], _MISSING)
        elif isinstance(node, list):
            index = _find(node, element, path[:depth], group, kind)
            node = node[index] if index is not None else _MISSING
        else:
            return _MISSING
        if node is _MISSING:
            return _MISSING
    return node


def _find(items: list[Any], element: str, path: Path, group: str, kind: str) -> int | None:
    strategy = mergekeys.list_strategy(group, kind, fieldsets.names_of(path))
    for index, item in enumerate(items):
        if element.startswith("v:") and "v:" + fieldsets.encode_json(item) == element:
            return index
        if (
            element.startswith("k:")
            and isinstance(item, dict)
            and strategy.merge_key in item
            and fieldsets.item_key(item, strategy) == element
        ):
            return index
    return None


def _merge(live: Any, applied: Any, group: str, kind: str, names: tuple[str, ...]) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        result = copy.deepcopy(live)
        for key, value in applied.items():
            result[key] = _merge(live.get(key), value, group, kind, (*names, key))
        return result
    if not isinstance(live, list) or not isinstance(applied, list):
        return copy.deepcopy(applied)
    strategy = mergekeys.list_strategy(group, kind, names)
    if strategy.type is mergekeys.ListType.SET:
        return copy.deepcopy(live) + [copy.deepcopy(i) for i in applied if i not in live]
    keyed = all(isinstance(i, dict) and strategy.merge_key in i for i in [*live, *applied])
    if strategy.type is not mergekeys.ListType.MAP or not keyed:
        return copy.deepcopy(applied)
    merged = copy.deepcopy(live)
    positions = {fieldsets.item_key(item, strategy): i for i, item in enumerate(merged)}
    for item in applied:
        key = fieldsets.item_key(item, strategy)
        if key in positions:
            merged[positions[key]] = _merge(merged[positions[key]], item, group, kind, names)
        else:
            merged.append(copy.deepcopy(item))
    return merged


def _remove_dropped(
    obj: dict[str, Any], dropped: frozenset[Path], owners: list[_Entry], group: str, kind: str
) -> None:
    """Remove fields no manager owns any more: list items first, then leaves, then the maps
    and lists that removal left empty."""
    kept = [p for e in owners for p in e.fields]

    def owned(target: Path) -> bool:
        return any(p[: len(target)] == target for p in kept)

    for path in sorted(dropped, key=lambda p: (len(p), p)):
        target = path[:-1] if path[-1] == "." else path
        if owned(target):
            continue
        _delete(obj, target, group, kind)
        for depth in range(len(target) - 1, 1, -1):
            ancestor = target[:depth]
            empty = _lookup(obj, ancestor, group, kind) in ({}, [])
            if not empty or ancestor[-1][:2] != "f:" or owned(ancestor):
                break
            _delete(obj, ancestor, group, kind)


def _delete(obj: dict[str, Any], target: Path, group: str, kind: str) -> None:
    parent = _lookup(obj, target[:-1], group, kind) if len(target) > 1 else obj
    last = target[-1]
    if isinstance(parent, dict) and last.startswith("f:"):
        parent.pop(last[2:], None)
    elif isinstance(parent, list):
        index = _find(parent, last, target[:-1], group, kind)
        if index is not None:
            del parent[index]
