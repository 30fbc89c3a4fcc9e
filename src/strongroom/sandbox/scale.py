"""The ``scale`` subresource: a workload's replica count as an ``autoscaling/v1`` Scale.

``GET .../deployments/NAME/scale`` answers a Scale (``spec.replicas``, ``status.replicas`` and
``status.selector`` as label selector text), and a PATCH of that Scale changes the workload's
``spec.replicas``, which is how ``kubectl scale`` and autoscalers work. Custom resources use the
conventional ``.spec.replicas`` and ``.status.replicas`` paths.
"""

from __future__ import annotations

import copy
from typing import Any

from strongroom.sandbox import status

Obj = dict[str, Any]

_IDENTITY = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def selector_text(selector: Any) -> str:
    """A LabelSelector (matchLabels and matchExpressions) as label selector text."""
    if not isinstance(selector, dict):
        return ""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key", "")
        operator = str(expression.get("operator", ""))
        values = ",".join(sorted(expression.get("values") or []))
        if operator == "In":
            terms.append(f"{key} in ({values})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({values})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def to_scale(obj: Obj) -> Obj:
    """The Scale view of a stored workload."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    state = obj.get("status") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {key: meta[key] for key in _IDENTITY if key in meta},
        "spec": {"replicas": int(spec.get("replicas") or 0)},
        "status": {
            "replicas": int(state.get("replicas") or 0),
            "selector": selector_text(spec.get("selector")),
        },
    }


def with_replicas(obj: Obj, scale: Obj) -> Obj:
    """A copy of the workload ``obj`` with the replica count of ``scale`` (422 if invalid)."""
    name = str((obj.get("metadata") or {}).get("name", ""))
    replicas = (scale.get("spec") or {}).get("replicas")
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        problem = f"Invalid value: {replicas}: must be greater than or equal to 0"
        raise status.ApiError(
            422,
            "Invalid",
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: {problem}',
            name=name,
            group="autoscaling",
            kind="Scale",
            causes=(status.field("spec.replicas", problem),),
        )
    result = copy.deepcopy(obj)
    result.setdefault("spec", {})["replicas"] = replicas
    return result
