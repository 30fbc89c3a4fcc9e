"""Resource modifiers: rules that patch objects as they are restored (Velero's
``--resource-modifier-configmap``), the usual way to change registries, storage classes or
replicas on a migration.

The document is Velero's::

    version: v1
    resourceModifierRules:
    - conditions:
        groupResource: deployments.apps      # glob: "*" for every resource
        resourceNameRegex: "^web-.*$"         # optional
        namespaces: [shop]                    # optional: the namespace restored into
        labelSelector: {matchLabels: {tier: front}}   # optional
        matches:                              # optional: values that must be present
        - {path: /spec/replicas, value: "3"}
      patches:                                # JSON patch (RFC 6902), values as Velero takes them
      - {operation: replace, path: /spec/replicas, value: "1"}
    - conditions: {groupResource: "*"}
      mergePatches:                           # JSON merge patches (RFC 7386)
      - patchData: '{"metadata": {"annotations": {"legacy": null}}}'
    - conditions: {groupResource: deployments.apps}
      strategicPatches:                       # strategic merge patches (module strategic)
      - patchData: |
          {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "r2/web"}]}}}}

Each rule has exactly one of ``patches``, ``mergePatches`` and ``strategicPatches``.

A rule applies when every condition holds; its patches apply in order. A JSON patch whose
``test`` operation fails leaves the object as it was (Velero's conditional patch). Rules apply
in order, each to the result of the one before. A patch that cannot be applied is an error of
that item (it is not restored), never a silent change.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import yaml

from strongroom import errors
from strongroom.engine.backup import metav1, selectors
from strongroom.engine.restore import mergepatch, strategic

VERSION = "v1"
_RULE_KEYS = {"conditions", "patches", "mergePatches", "strategicPatches"}
_CONDITION_KEYS = {"groupResource", "resourceNameRegex", "namespaces", "labelSelector", "matches"}
_OPERATIONS = {"add", "remove", "replace", "move", "copy", "test"}


class ModifierError(errors.UsageError):
    """Resource modifiers that do not parse: one line naming the rule and the field."""


class PatchFailed(errors.StrongroomError):
    """A rule matched an object but its patch cannot be applied to it."""


@dataclasses.dataclass(frozen=True)
class Rule:
    group_resource: str
    name_regex: re.Pattern[str] | None
    namespaces: tuple[str, ...]
    selector: selectors.Selector | None
    matches: tuple[tuple[str, Any], ...]
    json_patch: tuple[dict[str, Any], ...] = ()
    merge_patches: tuple[Any, ...] = ()
    strategic_patches: tuple[Any, ...] = ()

    def applies(self, obj: Mapping[str, Any], group_resource: str) -> bool:
        meta = obj.get("metadata") or {}
        if not fnmatch.fnmatchcase(group_resource, self.group_resource):
            return False
        if self.namespaces and str(meta.get("namespace", "")) not in self.namespaces:
            return False
        if self.name_regex is not None and not self.name_regex.search(str(meta.get("name", ""))):
            return False
        if self.selector is not None and not self.selector.matches(meta.get("labels") or {}):
            return False
        return all(_resolve(obj, path) == (True, value) for path, value in self.matches)

    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = obj
        if self.json_patch:
            try:
                out = jsonpatch.apply_patch(out, list(self.json_patch))
            except jsonpatch.JsonPatchTestFailed:
                return obj
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise PatchFailed(f"JSON patch: {exc}") from exc
        for patch in self.merge_patches:
            out = mergepatch.apply(out, patch)
        for patch in self.strategic_patches:
            out = strategic.apply(out, patch)
        return out


@dataclasses.dataclass(frozen=True)
class Modifiers:
    rules: tuple[Rule, ...]

    def apply(self, obj: dict[str, Any], group_resource: str) -> tuple[dict[str, Any], int]:
        """``obj`` with every matching rule applied in order, and how many applied."""
        applied = 0
        for rule in self.rules:
            if rule.applies(obj, group_resource):
                obj = rule.apply(obj)
                applied += 1
        return obj, applied


def parse(text: str, where: str) -> Modifiers:
    """Resource modifiers from YAML ``text`` (``where`` names it in errors)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModifierError(f"resource modifiers {where}: not valid YAML") from exc
    if not isinstance(doc, dict) or set(doc) - {"version", "resourceModifierRules"}:
        raise ModifierError(
            f"resource modifiers {where}: expected version and resourceModifierRules"
        )
    if doc.get("version") != VERSION:
        raise ModifierError(f"resource modifiers {where}: version must be {VERSION!r}")
    rules = doc.get("resourceModifierRules")
    if not isinstance(rules, list) or not rules:
        raise ModifierError(f"resource modifiers {where}: resourceModifierRules must be a list")
    return Modifiers(tuple(_rule(raw, f"{where} rule {i + 1}") for i, raw in enumerate(rules)))


def _rule(raw: object, where: str) -> Rule:
    if not isinstance(raw, dict) or set(raw) - _RULE_KEYS:
        raise ModifierError(f"resource modifiers {where}: unknown or missing fields")
    conditions = raw.get("conditions")
    if not isinstance(conditions, dict) or set(conditions) - _CONDITION_KEYS:
        raise ModifierError(f"resource modifiers {where}: conditions missing or unknown fields")
    group_resource = conditions.get("groupResource")
    if not isinstance(group_resource, str) or not group_resource:
        raise ModifierError(f"resource modifiers {where}: conditions.groupResource is required")
    kinds = [k for k in ("patches", "mergePatches", "strategicPatches") if raw.get(k)]
    if len(kinds) != 1:
        raise ModifierError(
            f"resource modifiers {where}: give exactly one of patches, mergePatches, "
            "strategicPatches"
        )
    patch_kind = kinds[0]
    items = raw[patch_kind]
    if not isinstance(items, list):
        raise ModifierError(f"resource modifiers {where}: {patch_kind} must be a list")
    fields: dict[str, Any] = {}
    if patch_kind == "patches":
        fields["json_patch"] = tuple(_operation(op, where) for op in items)
    else:
        key = "merge_patches" if patch_kind == "mergePatches" else "strategic_patches"
        fields[key] = tuple(_patch_data(item, where) for item in items)
    return Rule(
        group_resource=group_resource,
        name_regex=_regex(conditions.get("resourceNameRegex"), where),
        namespaces=_strings(conditions.get("namespaces"), "namespaces", where),
        selector=_selector(conditions.get("labelSelector"), where),
        matches=tuple(_match(m, where) for m in conditions.get("matches") or []),
        **fields,
    )


def _operation(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("operation") not in _OPERATIONS:
        raise ModifierError(f"resource modifiers {where}: a patch needs an operation of add, "
                            "remove, replace, move, copy or test")  # fmt: skip
    op: dict[str, Any] = {"op": raw["operation"], "path": _pointer(raw.get("path"), where)}
    if op["op"] in ("move", "copy"):
        op["from"] = _pointer(raw.get("from"), where)
    if op["op"] in ("add", "replace", "test"):
        op["value"] = value_of(raw.get("value", ""))
    return op


def value_of(value: object) -> Any:
    """A patch value as Velero reads it: a string holding JSON (an object, a list, a number,
    true, false, null) is that JSON; any other string is itself."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value) if value else ""
    except ValueError:
        return value


def _patch_data(raw: object, where: str) -> Any:
    data = raw.get("patchData") if isinstance(raw, dict) else None
    if not isinstance(data, str):
        raise ModifierError(f"resource modifiers {where}: each patch needs a patchData string")
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ModifierError(f"resource modifiers {where}: patchData is not JSON or YAML") from exc


def _pointer(value: object, where: str) -> str:
    if not isinstance(value, str) or (value and not value.startswith("/")):
        raise ModifierError(f"resource modifiers {where}: a path must be a JSON pointer (/a/b)")
    return value


def _regex(value: object, where: str) -> re.Pattern[str] | None:
    if value in (None, ""):
        return None
    try:
        return re.compile(str(value))
    except re.error as exc:
        raise ModifierError(f"resource modifiers {where}: resourceNameRegex: {exc}") from exc


def _strings(value: object, field: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModifierError(f"resource modifiers {where}: {field} must be a list of strings")
    return tuple(value)


def _selector(value: object, where: str) -> selectors.Selector | None:
    if value is None:
        return None
    try:
        return selectors.parse(metav1.from_document(value))
    except errors.StrongroomError as exc:
        raise ModifierError(f"resource modifiers {where}: labelSelector: {exc}") from exc


def _match(raw: object, where: str) -> tuple[str, Any]:
    if not isinstance(raw, dict) or "path" not in raw:
        raise ModifierError(f"resource modifiers {where}: each match needs a path and a value")
    return _pointer(raw["path"], where), value_of(raw.get("value", ""))


def _resolve(obj: Any, pointer: str) -> tuple[bool, Any]:
    """(found, value) at JSON pointer ``pointer`` in ``obj``."""
    current = obj
    for token in pointer.split("/")[1:] if pointer else []:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and key in current:
            current = current[key]
        elif isinstance(current, Sequence) and not isinstance(current, str) and key.isdigit():
            index = int(key)
            if index >= len(current):
                return False, None
            current = current[index]
        else:
            return False, None
    return True, current
