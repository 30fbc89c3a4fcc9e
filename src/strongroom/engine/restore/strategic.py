"""Strategic merge patches for resource modifiers, for the built-in kinds' common lists.

Kubernetes merges lists in a strategic patch by each field's merge key (``containers`` by
``name``, container ``ports`` by ``containerPort``...), which lives in the API types; this
module knows the keys of the lists migrations touch and replaces any other list whole, as a
JSON merge patch would. Maps merge key by key, ``null`` deletes, and the directives
``$patch: replace`` / ``$patch: delete`` (on a map or a list element) work as in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: List field -> the key its elements merge by (the API types' patchMergeKey).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "ports": ("containerPort", "port"),  # container ports, then Service ports
    "topologySpreadConstraints": ("topologyKey",),
    "conditions": ("type",),
    "ownerReferences": ("uid",),
}
DIRECTIVE = "$patch"


def apply(target: Any, patch: Any) -> Any:
    """``patch`` applied strategically to ``target``; neither argument is modified."""
    if not isinstance(patch, Mapping):
        return patch
    directive = patch.get(DIRECTIVE)
    if directive == "replace":
        return {k: v for k, v in patch.items() if k != DIRECTIVE}
    out: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if key == DIRECTIVE:
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(key, out[key], value)
        else:
            out[key] = apply(out.get(key), value)
    return out


def _merge_key(field: str, items: list[Any]) -> str | None:
    for key in MERGE_KEYS.get(field, ()):
        if items and all(isinstance(i, Mapping) and key in i for i in items):
            return key
    return None


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if any(isinstance(i, Mapping) and i.get(DIRECTIVE) == "replace" for i in patch):
        return [i for i in patch if not (isinstance(i, Mapping) and DIRECTIVE in i)]
    key = _merge_key(field, [i for i in patch if isinstance(i, Mapping)]) or _merge_key(
        field, current
    )
    if key is None:
        return list(patch)
    out = list(current)
    for item in patch:
        if not isinstance(item, Mapping) or key not in item:
            out.append(item)
            continue
        index = next(
            (n for n, e in enumerate(out) if isinstance(e, Mapping) and e.get(key) == item[key]),
            None,
        )
        if item.get(DIRECTIVE) == "delete":
            if index is not None:
                del out[index]
        elif index is None:
            out.append({k: v for k, v in item.items() if k != DIRECTIVE})
        else:
            out[index] = apply(out[index], item)
    return out
