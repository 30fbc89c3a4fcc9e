"""The backup's own labels and annotations (Velero's ``--labels`` and ``--annotations``).

They are checked as the API server checks any object's metadata (``ValidateLabels``,
``ValidateAnnotations``): label keys are qualified names and label values empty or at most 63
characters (the rules of :mod:`.selectors`); annotation keys are qualified names once
lowercased, their values anything, and all annotations together at most 256 KiB. The labels
Strongroom puts on every backup it shows (:data:`RESERVED_LABELS`) are refused: a value given
for them would never be seen.
"""

from __future__ import annotations

import types
from collections.abc import Mapping

from strongroom.engine.backup import selectors

#: ``TotalAnnotationSizeLimitB``: the bytes of every annotation key and value together.
TOTAL_ANNOTATION_SIZE = 256 * 1024
RESERVED_LABELS = frozenset({"strongroom.io/storage-location", "strongroom.io/writer"})
#: The label of a schedule's backups (Velero's ``velero.io/schedule-name``), given today with
#: ``backup create --labels``; ``restore create --from-schedule`` restores the newest of them.
SCHEDULE_LABEL = "strongroom.io/schedule-name"


def frozen(value: object) -> Mapping[str, str] | None:
    """``value`` as a read-only mapping of strings, or None when it is not one."""
    if not isinstance(value, Mapping):
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return None
    return types.MappingProxyType(dict(value))


def label_problem(labels: Mapping[str, str]) -> str | None:
    """Why the API server would refuse ``labels`` (one line), or None."""
    for key, value in sorted(labels.items()):
        problem = selectors.key_problem(key)
        if problem is not None:
            return f"label key {key!r}: {problem}"
        if key in RESERVED_LABELS:
            return f"label {key!r} is set by Strongroom itself"
        problem = selectors.value_problem(value)
        if problem is not None:
            return f"label {key}={value!r}: {problem}"
    return None


def annotation_problem(annotations: Mapping[str, str]) -> str | None:
    """Why the API server would refuse ``annotations`` (one line), or None."""
    total = 0
    for key, value in sorted(annotations.items()):
        problem = selectors.key_problem(key.lower())
        if problem is not None:
            return f"annotation key {key!r}: {problem}"
        try:
            total += len(key.encode("utf-8")) + len(value.encode("utf-8"))
        except UnicodeEncodeError:
            return f"annotation {key!r}: the value is not valid UTF-8"
    if total > TOTAL_ANNOTATION_SIZE:
        return f"annotations: {total} bytes in all, more than {TOTAL_ANNOTATION_SIZE}"
    return None
