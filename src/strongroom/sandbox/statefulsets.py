"""StatefulSets, as kube-controller-manager runs them: ordinal pods and their claims.

Pod ``<set>-<ordinal>`` for each ordinal from ``spec.ordinals.start`` (default 0), made from
the template with the labels ``statefulset.kubernetes.io/pod-name``,
``apps.kubernetes.io/pod-index`` and ``controller-revision-hash``, ``hostname`` and
``subdomain`` (``serviceName``) set, and for each volume claim template a volume of claim
``<template>-<set>-<ordinal>``, made first if missing (labels: the selector's
``matchLabels``). With ``OrderedReady`` (the default) a pod is made only once every lower
ordinal is Ready, and with ``Parallel`` all at once. Pods beyond the replicas go, highest
first. A template change (``RollingUpdate``, the default) replaces outdated pods one at a
time from the highest ordinal down to ``partition``, each once the others are Ready;
``OnDelete`` replaces only pods deleted by someone else.

Claims stay when their pods or the set go (``persistentVolumeClaimRetentionPolicy``
``Retain``, the default); ``whenDeleted: Delete`` makes the set their owner, so the garbage
collector takes them with it, and ``whenScaled: Delete`` deletes those of scaled-away ordinals.
Status: ``replicas``, ``readyReplicas``, ``availableReplicas``, ``currentReplicas``,
``updatedReplicas``, ``currentRevision``, ``updateRevision``, ``observedGeneration`` and
``collisionCount``, what ``kubectl rollout status`` reads. No ControllerRevision objects.
Orphan pods its selector matches (pods a restore created) are adopted.
"""

from __future__ import annotations

import copy
from typing import Any

from strongroom.sandbox import cluster, lifecycle, objects, owned, storage

Obj = dict[str, Any]

STATEFUL_SETS = ("apps", "statefulsets")
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def reconcile(c: cluster.Cluster) -> bool:
    changed = False
    for stateful_set in owned.live(c.store, STATEFUL_SETS):
        changed |= _one(c, stateful_set)
    return changed


def claim_name(template: Obj, set_name: str, ordinal: int) -> str:
    return f"{objects.dig(template, 'metadata', 'name')}-{set_name}-{ordinal}"


def _one(c: cluster.Cluster, stateful_set: Obj) -> bool:
    meta, spec = stateful_set["metadata"], stateful_set.get("spec") or {}
    namespace, name = meta["namespace"], meta["name"]
    start = int(objects.dig(spec, "ordinals", "start") or 0)
    replicas = int(spec.get("replicas", 1))
    revision = f"{name}-{owned.template_hash(spec.get('template') or {})}"
    ref = owned.controller_ref(stateful_set, "apps/v1", "StatefulSet")
    mine = owned.owned(c.store, owned.PODS, namespace, meta["uid"], adopt=(stateful_set, ref))
    pods = {_ordinal(p, name): p for p in mine}
    parallel = spec.get("podManagementPolicy") == "Parallel"
    changed = False
    wanted = range(start, start + replicas)
    for ordinal in sorted((o for o in pods if o not in wanted), reverse=True):
        lifecycle.request_deletion(c, owned.PODS, pods.pop(ordinal))
        changed = True
        if _policy(spec, "whenScaled") == "Delete":
            for template in spec.get("volumeClaimTemplates") or []:
                found = c.store.get(storage.PVCS, namespace, claim_name(template, name, ordinal))
                if found is not None:
                    lifecycle.request_deletion(c, storage.PVCS, found)
    for ordinal in wanted:
        if ordinal in pods:
            if not parallel and not owned.ready(pods[ordinal]):
                break
            continue
        made = _make_pod(c, stateful_set, ordinal, revision)
        if made is None:
            break
        pods[ordinal] = made
        changed = True
        if not parallel:
            break
    changed |= _roll(c, spec, pods, revision)
    return _status(c, stateful_set, pods, revision) or changed


def _policy(spec: Obj, which: str) -> str:
    return str(objects.dig(spec, "persistentVolumeClaimRetentionPolicy", which) or "Retain")


def _ordinal(pod: Obj, set_name: str) -> int:
    suffix = pod["metadata"]["name"][len(set_name) + 1 :]
    return int(suffix) if suffix.isdigit() else -1


def _make_pod(c: cluster.Cluster, stateful_set: Obj, ordinal: int, revision: str) -> Obj | None:
    meta, spec = stateful_set["metadata"], stateful_set.get("spec") or {}
    name = f"{meta['name']}-{ordinal}"
    volumes = []
    for template in spec.get("volumeClaimTemplates") or []:
        claim = claim_name(template, meta["name"], ordinal)
        if c.store.get(storage.PVCS, meta["namespace"], claim) is None and not _make_claim(
            c, stateful_set, template, claim
        ):
            return None
        volumes.append({"name": objects.dig(template, "metadata", "name"),
                        "persistentVolumeClaim": {"claimName": claim}})  # fmt: skip
    ref = owned.controller_ref(stateful_set, "apps/v1", "StatefulSet")
    pod = owned.pod_from_template(stateful_set, spec.get("template") or {}, name, ref)
    labels = pod["metadata"].setdefault("labels", {})
    labels.update({POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision})
    pod_spec = pod["spec"]
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    names = {v["name"] for v in volumes}
    pod_spec["volumes"] = [
        *(v for v in pod_spec.get("volumes") or [] if v.get("name") not in names),
        *volumes,
    ]
    made = owned.create(c, ("", "v1", "pods"), pod)
    return None if isinstance(made, str) else made


def _make_claim(c: cluster.Cluster, stateful_set: Obj, template: Obj, name: str) -> bool:
    meta, spec = stateful_set["metadata"], stateful_set.get("spec") or {}
    claim_meta = copy.deepcopy(template.get("metadata") or {})
    claim_meta.update(name=name, namespace=meta["namespace"])
    labels = claim_meta.setdefault("labels", {})
    labels.update(objects.dig(spec, "selector", "matchLabels") or {})
    if _policy(spec, "whenDeleted") == "Delete":
        ref = owned.controller_ref(stateful_set, "apps/v1", "StatefulSet")
        claim_meta["ownerReferences"] = [ref]
    body = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": claim_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}  # fmt: skip
    return not isinstance(owned.create(c, ("", "v1", "persistentvolumeclaims"), body), str)


def _roll(c: cluster.Cluster, spec: Obj, pods: dict[int, Obj], revision: str) -> bool:
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type") == "OnDelete" or not all(owned.ready(p) for p in pods.values()):
        return False
    partition = int(objects.dig(strategy, "rollingUpdate", "partition") or 0)
    for ordinal in sorted(pods, reverse=True):
        pod = pods[ordinal]
        if ordinal >= partition and _label(pod, REVISION_LABEL) != revision:
            lifecycle.request_deletion(c, owned.PODS, pod)
            del pods[ordinal]
            return True
    return False


def _label(obj: Obj, key: str) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(key)


def _status(c: cluster.Cluster, stateful_set: Obj, pods: dict[int, Obj], revision: str) -> bool:
    meta = stateful_set["metadata"]
    fresh = c.store.get(STATEFUL_SETS, meta["namespace"], meta["name"]) or stateful_set
    old = fresh.get("status") or {}
    updated = sum(1 for p in pods.values() if _label(p, REVISION_LABEL) == revision)
    ready = sum(1 for p in pods.values() if owned.ready(p))
    current_revision = old.get("currentRevision") or revision
    if updated == len(pods) == int((fresh.get("spec") or {}).get("replicas", 1)):
        current_revision = revision
    current = sum(1 for p in pods.values() if _label(p, REVISION_LABEL) == current_revision)
    status: Obj = {
        "observedGeneration": meta.get("generation", 1),
        "replicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_revision,
        "updateRevision": revision,
        "collisionCount": int(old.get("collisionCount") or 0),
    }
    return owned.put_status(c.store, STATEFUL_SETS, fresh, status)
