"""Deployments and ReplicaSets, as kube-controller-manager runs them (rollouts at once).

A ReplicaSet keeps ``spec.replicas`` pods of its template that it controls (named
``<replicaset>-<5 characters>``), deleting the newest when there are too many, and reports
``replicas``, ``fullyLabeledReplicas``, ``readyReplicas``, ``availableReplicas`` and
``observedGeneration``; a pod it cannot create (the API refused it) gives it the
``ReplicaFailure`` condition with the API's message. Orphans its selector matches (pods a
restore created) are adopted, as are a Deployment's orphan ReplicaSets.

A Deployment keeps one ReplicaSet per template, ``<deployment>-<pod-template-hash>``, with
the ``pod-template-hash`` label on it, its selector and its pods, and the
``deployment.kubernetes.io/revision`` annotation; the current one gets ``spec.replicas`` and
every older one 0 (a rollout completes in one step whatever the strategy). Its status carries
the counts ``kubectl rollout status`` waits for and the conditions Available
(``MinimumReplicasAvailable``) and Progressing (``NewReplicaSetAvailable``).
"""

from __future__ import annotations

import copy
from typing import Any

from strongroom.sandbox import cluster, lifecycle, objects, owned

Obj = dict[str, Any]

DEPLOYMENTS = ("apps", "deployments")
REPLICA_SETS = ("apps", "replicasets")
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def reconcile(c: cluster.Cluster) -> bool:
    changed = False
    for deployment in owned.live(c.store, DEPLOYMENTS):
        changed |= _deployment(c, deployment)
    for replica_set in owned.live(c.store, REPLICA_SETS):
        changed |= _replica_set(c, replica_set)
    return changed


def update_spec(c: cluster.Cluster, gr: tuple[str, str], obj: Obj, spec: Obj) -> Obj:
    """Store ``obj`` with ``spec``, its generation moved on as the API server would."""
    meta = dict(obj["metadata"])
    meta["generation"] = int(meta.get("generation") or 1) + 1
    return c.store.put(gr, dict(obj, metadata=meta, spec=spec))


def _replica_set(c: cluster.Cluster, replica_set: Obj) -> bool:
    meta, spec = replica_set["metadata"], replica_set.get("spec") or {}
    namespace, uid = meta["namespace"], meta["uid"]
    ref = owned.controller_ref(replica_set, "apps/v1", "ReplicaSet")
    pods = owned.owned(c.store, owned.PODS, namespace, uid, adopt=(replica_set, ref))
    want = int(spec.get("replicas", 1))
    failure = ""
    changed = False
    for _ in range(max(0, want - len(pods))):
        name = objects.generated_name(f"{meta['name']}-")
        made = owned.create(c, ("", "v1", "pods"), owned.pod_from_template(
            replica_set, spec.get("template") or {}, name, ref))  # fmt: skip
        if isinstance(made, str):
            failure = made
            break
        pods.append(made)
        changed = True
    if len(pods) > want:
        doomed = sorted(pods, key=lambda p: (owned.ready(p), p["metadata"]["creationTimestamp"]))
        for pod in doomed[: len(pods) - want]:
            lifecycle.request_deletion(c, owned.PODS, pod)
            pods.remove(pod)
        changed = True
    fresh = c.store.get(REPLICA_SETS, namespace, meta["name"]) or replica_set
    ready = sum(1 for p in pods if owned.ready(p))
    status: Obj = {"replicas": len(pods), "observedGeneration": meta.get("generation", 1)}
    if pods:
        status["fullyLabeledReplicas"] = len(pods)
    if ready:
        status["readyReplicas"] = status["availableReplicas"] = ready
    if failure:
        status["conditions"] = [{"type": "ReplicaFailure", "status": "True",
                                 "reason": "FailedCreate", "message": failure,
                                 "lastTransitionTime": objects.now()}]  # fmt: skip
        if (fresh.get("status") or {}).get("conditions", [{}])[0].get("message") == failure:
            status["conditions"] = fresh["status"]["conditions"]
    return owned.put_status(c.store, REPLICA_SETS, fresh, status) or changed


def _deployment(c: cluster.Cluster, deployment: Obj) -> bool:
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    namespace = meta["namespace"]
    template = spec.get("template") or {}
    collisions = int((deployment.get("status") or {}).get("collisionCount") or 0)
    digest = owned.template_hash(template, collisions)
    ref = owned.controller_ref(deployment, "apps/v1", "Deployment")
    sets = owned.owned(c.store, REPLICA_SETS, namespace, meta["uid"], adopt=(deployment, ref))
    current = next((s for s in sets if _label(s, HASH_LABEL) == digest), None)
    want = int(spec.get("replicas", 1))
    changed = False
    if current is None:
        current = _new_set(c, deployment, digest, sets)
        if current is None:
            return False
        changed = True
    elif int((current.get("spec") or {}).get("replicas", 1)) != want:
        current = update_spec(c, REPLICA_SETS, current, dict(current["spec"], replicas=want))
        changed = True
    for old in sets:
        if old is not current and int((old.get("spec") or {}).get("replicas", 1)) != 0:
            update_spec(c, REPLICA_SETS, old, dict(old["spec"], replicas=0))
            changed = True
    return _deployment_status(c, deployment, current, sets) or changed


def _label(obj: Obj, key: str) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(key)


def _new_set(c: cluster.Cluster, deployment: Obj, digest: str, sets: list[Obj]) -> Obj | None:
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
    revision = 1 + max((int((s["metadata"].get("annotations") or {}).get(REVISION, "0") or 0)
                        for s in sets), default=0)  # fmt: skip
    want = int(spec.get("replicas", 1))
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{meta['name']}-{digest}",
            "namespace": meta["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(want),
                "deployment.kubernetes.io/max-replicas": str(want + 1),
            },
            "ownerReferences": [owned.controller_ref(deployment, "apps/v1", "Deployment")],
        },
        "spec": {"replicas": want, "selector": selector, "template": template},
    }
    made = owned.create(c, ("apps", "v1", "replicasets"), body)
    return None if isinstance(made, str) else made


def _deployment_status(c: cluster.Cluster, deployment: Obj, current: Obj, sets: list[Obj]) -> bool:
    meta, spec = deployment["metadata"], deployment.get("spec") or {}
    want = int(spec.get("replicas", 1))
    namespace = meta["namespace"]
    every = {s["metadata"]["uid"] for s in sets} | {current["metadata"]["uid"]}
    pods = [p for uid in every for p in owned.owned(c.store, owned.PODS, namespace, uid)]
    mine = owned.owned(c.store, owned.PODS, namespace, current["metadata"]["uid"])
    ready = sum(1 for p in pods if owned.ready(p))
    old = deployment.get("status") or {}
    status: Obj = {"observedGeneration": meta.get("generation", 1)}
    if pods:
        status["replicas"] = len(pods)
    if mine:
        status["updatedReplicas"] = len(mine)
    if ready:
        status["readyReplicas"] = status["availableReplicas"] = ready
    if len(pods) - ready > 0:
        status["unavailableReplicas"] = len(pods) - ready
    done = len(mine) == want == len(pods) and ready >= want
    available = ready >= want
    status["conditions"] = [
        _condition(old, "Available", available,
                   "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                   "Deployment has minimum availability." if available
                   else "Deployment does not have minimum availability."),
        _condition(old, "Progressing", True,
                   "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                   f'ReplicaSet "{current["metadata"]["name"]}" '
                   + ("has successfully progressed." if done else "is progressing.")),
    ]  # fmt: skip
    if "collisionCount" in old:
        status["collisionCount"] = old["collisionCount"]
    fresh = c.store.get(DEPLOYMENTS, namespace, meta["name"]) or deployment
    return owned.put_status(c.store, DEPLOYMENTS, fresh, status)


def _condition(old_status: Obj, kind: str, state: bool, reason: str, message: str) -> Obj:
    """A condition; its times kept from the old one of the same state and reason."""
    text = "True" if state else "False"
    before: Obj = next((x for x in old_status.get("conditions") or [] if x.get("type") == kind), {})
    if (before.get("status"), before.get("reason"), before.get("message")) == (
        text,
        reason,
        message,
    ):
        return dict(before)
    stamp = objects.now()
    return {"type": kind, "status": text, "lastUpdateTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}  # fmt: skip
