"""Jobs, as the job controller runs them: pods until enough of them succeed.

A Job keeps up to ``parallelism`` (default 1) pods of its template active, named
``<job>-<5 characters>`` with the ``batch.kubernetes.io/job-name`` and ``job-name`` labels,
until ``completions`` (default 1) of them have succeeded: then ``Complete`` (after
``SuccessCriteriaMet``), with ``completionTime``. Each failed pod counts in ``failed``;
past ``backoffLimit`` (default 6) failures the Job is ``Failed`` (``FailureTarget``, then
``Failed``, reason ``BackoffLimitExceeded``) and its active pods are deleted. Containers in the
sandbox never end by themselves; a pod template annotated ``sandbox.strongroom.io/exit-code``
ends as soon as it runs (see :mod:`kubelet`).
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import cluster, lifecycle, objects, owned

Obj = dict[str, Any]

JOBS = ("batch", "jobs")
JOB_NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")


def reconcile(c: cluster.Cluster) -> bool:
    changed = False
    for job in owned.live(c.store, JOBS):
        if not _finished(job):
            changed |= _one(c, job)
    return changed


def _finished(job: Obj) -> bool:
    return any(
        x.get("type") in ("Complete", "Failed") and x.get("status") == "True"
        for x in objects.dig(job, "status", "conditions") or []
    )


def _one(c: cluster.Cluster, job: Obj) -> bool:
    meta, spec = job["metadata"], job.get("spec") or {}
    pods = owned.owned(c.store, owned.PODS, meta["namespace"], meta["uid"])
    phases = [objects.dig(p, "status", "phase") for p in pods]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    active = [p for p, phase in zip(pods, phases, strict=True) if phase in ("Pending", "Running")]
    completions = int(spec.get("completions", 1) or 1)
    parallelism = int(spec.get("parallelism", 1) if spec.get("parallelism") is not None else 1)
    changed = False
    done = succeeded >= completions
    gave_up = failed > int(spec.get("backoffLimit", 6))
    if gave_up:
        for pod in active:
            lifecycle.request_deletion(c, owned.PODS, pod)
        active, changed = [], bool(active)
    elif not done and not spec.get("suspend"):
        missing = min(parallelism, completions - succeeded) - len(active)
        ref = owned.controller_ref(job, "batch/v1", "Job")
        for _ in range(max(0, missing)):
            name = objects.generated_name(f"{meta['name']}-")
            pod = owned.pod_from_template(job, spec.get("template") or {}, name, ref)
            for label in JOB_NAME_LABELS:
                pod["metadata"].setdefault("labels", {})[label] = meta["name"]
            made = owned.create(c, ("", "v1", "pods"), pod)
            if isinstance(made, str):
                break
            active.append(made)
            changed = True
    fresh = c.store.get(JOBS, meta["namespace"], meta["name"]) or job
    old = fresh.get("status") or {}
    status: Obj = {"startTime": old.get("startTime") or objects.now(), "active": len(active)}
    status["ready"] = sum(1 for p in active if owned.ready(p))
    status["terminating"] = 0
    if succeeded:
        status["succeeded"] = succeeded
    if failed:
        status["failed"] = failed
    status["uncountedTerminatedPods"] = {}
    if not active:
        stamp = objects.now()
        if done:
            status["completionTime"] = stamp
            status["conditions"] = [
                _condition("SuccessCriteriaMet", "CompletionsReached",
                           "Reached expected number of succeeded pods", stamp),
                _condition("Complete", "CompletionsReached",
                           "Reached expected number of succeeded pods", stamp),
            ]  # fmt: skip
        elif gave_up:
            status["conditions"] = [
                _condition("FailureTarget", "BackoffLimitExceeded",
                           "Job has reached the specified backoff limit", stamp),
                _condition("Failed", "BackoffLimitExceeded",
                           "Job has reached the specified backoff limit", stamp),
            ]  # fmt: skip
    return owned.put_status(c.store, JOBS, fresh, status) or changed


def _condition(kind: str, reason: str, message: str, stamp: str) -> Obj:
    return {"type": kind, "status": "True", "reason": reason, "message": message,
            "lastProbeTime": stamp, "lastTransitionTime": stamp}  # fmt: skip
