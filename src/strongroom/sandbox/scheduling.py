"""Which nodes a pod may run on, and which of them the scheduler picks.

The rules a restore or a migration runs into: ``spec.nodeName`` set by the pod itself,
``nodeSelector``, required node affinity (``nodeSelectorTerms``: any term, every expression
of it; ``matchExpressions`` on labels with In, NotIn, Exists, DoesNotExist, Gt and Lt,
``matchFields`` on ``metadata.name``), the node affinity of the persistent volumes the pod's
claims are bound to, and ``NoSchedule`` taints against the pod's tolerations. Among the nodes
left the one with the fewest pods wins (ties by name), which spreads replicas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from strongroom.sandbox import objects, selectors

Obj = dict[str, Any]


def matches_term(term: Obj, node: Obj) -> bool:
    """Whether ``node`` satisfies one node selector term (all of its requirements)."""
    labels = objects.dig(node, "metadata", "labels") or {}
    name = node["metadata"]["name"]
    for requirement in term.get("matchExpressions") or []:
        if not _satisfies(requirement, labels):
            return False
    for requirement in term.get("matchFields") or []:
        if requirement.get("key") != "metadata.name":
            return False
        if not _satisfies(requirement, {"metadata.name": name}):
            return False
    return bool(term.get("matchExpressions") or term.get("matchFields"))


def _satisfies(expression: Obj, labels: dict[str, str]) -> bool:
    found = selectors.requirement(expression)
    return found is not None and found.matches(labels)


def matches_selector(selector: Obj | None, node: Obj) -> bool:
    """A ``nodeSelector``-shaped requirement (``required`` of node affinity): any term."""
    if not selector:
        return True
    terms = selector.get("nodeSelectorTerms") or []
    return any(matches_term(term, node) for term in terms if isinstance(term, dict))


def _tolerated(taint: Obj, tolerations: Iterable[Obj]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint.get("effect")):
            continue
        if toleration.get("operator") == "Exists":
            if toleration.get("key") in (None, "", taint.get("key")):
                return True
        elif toleration.get("key") == taint.get("key") and (
            str(toleration.get("value") or "") == str(taint.get("value") or "")
        ):
            return True
    return False


def reasons(pod: Obj, node: Obj, volume_affinities: Sequence[Obj]) -> list[str]:
    """Why ``pod`` cannot run on ``node`` (empty if it can), in the scheduler's words."""
    spec = pod.get("spec") or {}
    labels = objects.dig(node, "metadata", "labels") or {}
    found = []
    selector = spec.get("nodeSelector") or {}
    affinity = objects.dig(spec, "affinity", "nodeAffinity", "requiredDuringScheduling"
                           "IgnoredDuringExecution")  # fmt: skip
    if any(labels.get(k) != v for k, v in selector.items()) or not matches_selector(affinity, node):
        found.append("node(s) didn't match Pod's node affinity/selector")
    if not all(matches_selector(required, node) for required in volume_affinities):
        found.append("node(s) had volume node affinity conflict")
    tolerations = [t for t in spec.get("tolerations") or [] if isinstance(t, dict)]
    for taint in objects.dig(node, "spec", "taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerated(
            taint, tolerations
        ):
            found.append(f"node(s) had untolerated taint {{{taint.get('key')}: "
                         f"{taint.get('value', '')}}}")  # fmt: skip
            break
    return found


def choose(
    pod: Obj, nodes: Sequence[Obj], pods_per_node: dict[str, int], volume_affinities: Sequence[Obj]
) -> tuple[str | None, str]:
    """The node for ``pod`` and "", or None and the scheduler's message for the pod."""
    counts: dict[str, int] = {}
    for node in nodes:
        for reason in reasons(pod, node, volume_affinities):
            counts[reason] = counts.get(reason, 0) + 1
    fits = [n for n in nodes if not reasons(pod, n, volume_affinities)]
    if fits:
        best = min(fits, key=lambda n: (pods_per_node.get(n["metadata"]["name"], 0),
                                        n["metadata"]["name"]))  # fmt: skip
        return str(best["metadata"]["name"]), ""
    detail = ", ".join(f"{count} {reason}" for reason, count in sorted(counts.items()))
    return None, f"0/{len(nodes)} nodes are available: {detail}."
