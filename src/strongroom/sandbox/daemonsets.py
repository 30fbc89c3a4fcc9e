"""DaemonSets, as the daemon set controller runs them: one pod on every node that fits.

For each node the template's node selector, required node affinity and tolerations allow, a
pod ``<set>-<5 characters>`` with required node affinity to that node (``matchFields`` on
``metadata.name``, as the controller writes it; the scheduler then binds it), the
``controller-revision-hash`` label, and the tolerations the controller adds. Pods on nodes
that no longer fit go; a template change replaces pods node by node once the others are
Ready (``RollingUpdate``; ``OnDelete`` waits for deletions). Status: the counts ``kubectl
rollout status`` reads.
"""

from __future__ import annotations

import copy
from typing import Any

from strongroom.sandbox import cluster, lifecycle, nodes, objects, owned, scheduling

Obj = dict[str, Any]

DAEMON_SETS = ("apps", "daemonsets")
REVISION_LABEL = "controller-revision-hash"
_REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
_TOLERATIONS = [
    {"key": f"node.kubernetes.io/{name}", "operator": "Exists", "effect": effect}
    for name, effect in (
        ("not-ready", "NoExecute"),
        ("unreachable", "NoExecute"),
        ("disk-pressure", "NoSchedule"),
        ("memory-pressure", "NoSchedule"),
        ("pid-pressure", "NoSchedule"),
        ("unschedulable", "NoSchedule"),
    )
]


def reconcile(c: cluster.Cluster) -> bool:
    changed = False
    _, all_nodes = c.store.items(nodes.NODES, None)
    for daemon_set in owned.live(c.store, DAEMON_SETS):
        changed |= _one(c, daemon_set, all_nodes)
    return changed


def _node_of(pod: Obj) -> str | None:
    required = objects.dig(pod, "spec", "affinity", "nodeAffinity", _REQUIRED)
    terms = (required or {}).get("nodeSelectorTerms")
    for term in terms or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and len(field.get("values") or []) == 1:
                return str(field["values"][0])
    found = objects.dig(pod, "spec", "nodeName")
    return str(found) if found else None


def _one(c: cluster.Cluster, daemon_set: Obj, all_nodes: list[Obj]) -> bool:
    meta, spec = daemon_set["metadata"], daemon_set.get("spec") or {}
    template = spec.get("template") or {}
    revision = owned.template_hash(template)
    probe = {"spec": template.get("spec") or {}}
    fitting = [n["metadata"]["name"] for n in all_nodes if not scheduling.reasons(probe, n, ())]
    pods = owned.owned(c.store, owned.PODS, meta["namespace"], meta["uid"])
    by_node: dict[str, Obj] = {}
    changed = False
    for pod in pods:
        node_name = _node_of(pod)
        if node_name not in fitting or node_name in by_node:
            lifecycle.request_deletion(c, owned.PODS, pod)
            changed = True
        else:
            by_node[str(node_name)] = pod
    for node_name in fitting:
        if node_name not in by_node:
            made = _make_pod(c, daemon_set, node_name, revision)
            if made is not None:
                by_node[node_name] = made
                changed = True
    strategy = (spec.get("updateStrategy") or {}).get("type")
    if strategy != "OnDelete" and all(owned.ready(p) for p in by_node.values()):
        outdated = [n for n, p in sorted(by_node.items()) if _revision(p) != revision]
        if outdated:
            lifecycle.request_deletion(c, owned.PODS, by_node.pop(outdated[0]))
            changed = True
    return _status(c, daemon_set, fitting, by_node, revision) or changed


def _revision(pod: Obj) -> str | None:
    return (pod["metadata"].get("labels") or {}).get(REVISION_LABEL)


def _make_pod(c: cluster.Cluster, daemon_set: Obj, node_name: str, revision: str) -> Obj | None:
    meta, spec = daemon_set["metadata"], daemon_set.get("spec") or {}
    ref = owned.controller_ref(daemon_set, "apps/v1", "DaemonSet")
    name = objects.generated_name(f"{meta['name']}-")
    pod = owned.pod_from_template(daemon_set, copy.deepcopy(spec.get("template") or {}), name, ref)
    pod["metadata"].setdefault("labels", {})[REVISION_LABEL] = revision
    pod_spec = pod["spec"]
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    affinity = pod_spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity[_REQUIRED] = {"nodeSelectorTerms": [term]}
    present = pod_spec.setdefault("tolerations", [])
    present.extend(t for t in _TOLERATIONS if t not in present)
    made = owned.create(c, ("", "v1", "pods"), pod)
    return None if isinstance(made, str) else made


def _status(
    c: cluster.Cluster, daemon_set: Obj, fitting: list[str], by_node: dict[str, Obj], revision: str
) -> bool:
    meta = daemon_set["metadata"]
    ready = sum(1 for p in by_node.values() if owned.ready(p))
    updated = sum(1 for p in by_node.values() if _revision(p) == revision)
    status: Obj = {
        "currentNumberScheduled": len(by_node),
        "desiredNumberScheduled": len(fitting),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": meta.get("generation", 1),
        "updatedNumberScheduled": updated,
    }
    if ready:
        status["numberAvailable"] = ready
    if len(fitting) - ready > 0:
        status["numberUnavailable"] = len(fitting) - ready
    fresh = c.store.get(DAEMON_SETS, meta["namespace"], meta["name"]) or daemon_set
    return owned.put_status(c.store, DAEMON_SETS, fresh, status)
