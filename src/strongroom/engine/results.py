"""Warnings and errors of a backup or restore, per scope, as Velero's ``Result`` keeps them.

Each message lands in one scope: ``strongroom`` (the run itself; Velero's ``velero``),
``cluster`` (cluster-scoped items) or one namespace. :class:`Results` holds a
:class:`Result` for warnings and one for errors and serialises to the document stored as a
backup's ``results`` object (docs/format.md §8)::

    {"warnings": R, "errors": R}
    R = {"strongroom": [...], "cluster": [...], "namespaces": {ns: [...]}}

Messages are one line and never carry object bodies or Secret values; the callers build them
from names only. Adding is thread-safe.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Literal

from strongroom import errors

Scope = Literal["strongroom", "cluster"]
STRONGROOM: Scope = "strongroom"
CLUSTER: Scope = "cluster"


@dataclasses.dataclass(frozen=True)
class InNamespace:
    """The scope of one namespace (a plain string would be ambiguous with the scopes)."""

    name: str


Where = Scope | InNamespace


def namespace(name: str) -> InNamespace:
    """The scope of namespace ``name``."""
    return InNamespace(name)


def for_item(item_namespace: str | None) -> Where:
    """The scope of an item: its namespace, or ``cluster`` for a cluster-scoped one."""
    return CLUSTER if not item_namespace else InNamespace(item_namespace)


class ResultsFormatError(errors.IntegrityError):
    """A results document that does not have the shape of docs/format.md §8."""


@dataclasses.dataclass
class Result:
    """Messages of one severity, by scope."""

    strongroom: list[str] = dataclasses.field(default_factory=list)
    cluster: list[str] = dataclasses.field(default_factory=list)
    namespaces: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def add(self, where: Where, message: str) -> None:
        line = " ".join(message.split())
        if isinstance(where, InNamespace):
            self.namespaces.setdefault(where.name, []).append(line)
        elif where == CLUSTER:
            self.cluster.append(line)
        elif where == STRONGROOM:
            self.strongroom.append(line)
        else:
            raise ValueError(f"unknown results scope {where!r}")

    def merge(self, other: Result) -> None:
        self.strongroom.extend(other.strongroom)
        self.cluster.extend(other.cluster)
        for ns, messages in other.namespaces.items():
            self.namespaces.setdefault(ns, []).extend(messages)

    @property
    def count(self) -> int:
        return (
            len(self.strongroom)
            + len(self.cluster)
            + sum(len(messages) for messages in self.namespaces.values())
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "strongroom": list(self.strongroom),
            "cluster": list(self.cluster),
            "namespaces": {ns: list(self.namespaces[ns]) for ns in sorted(self.namespaces)},
        }

    @classmethod
    def from_dict(cls, raw: object, where: str) -> Result:
        """Parse one ``R``; a missing scope is empty (Velero omits empty ones)."""
        if not isinstance(raw, dict):
            raise ResultsFormatError(f"results: {where} is not an object")
        namespaces = raw.get("namespaces")
        if namespaces is None:
            namespaces = {}
        if not isinstance(namespaces, dict):
            raise ResultsFormatError(f"results: {where}.namespaces is not an object")
        return cls(
            strongroom=_messages(raw.get("strongroom"), f"{where}.strongroom"),
            cluster=_messages(raw.get("cluster"), f"{where}.cluster"),
            namespaces={
                str(ns): _messages(msgs, f"{where}.namespaces[{ns!r}]")
                for ns, msgs in namespaces.items()
            },
        )


def _messages(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise ResultsFormatError(f"results: {where} is not a list of strings")
    return list(raw)


class Results:
    """The warnings and errors of one run."""

    def __init__(self, warnings: Result | None = None, errors_: Result | None = None) -> None:
        self.warnings = warnings or Result()
        self.errors = errors_ or Result()
        self._lock = threading.Lock()

    def add_warning(self, where: Where, message: str) -> None:
        with self._lock:
            self.warnings.add(where, message)

    def add_error(self, where: Where, message: str) -> None:
        with self._lock:
            self.errors.add(where, message)

    def merge(self, other: Results) -> None:
        with self._lock:
            self.warnings.merge(other.warnings)
            self.errors.merge(other.errors)

    @property
    def warning_count(self) -> int:
        return self.warnings.count

    @property
    def error_count(self) -> int:
        return self.errors.count

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"warnings": self.warnings.to_dict(), "errors": self.errors.to_dict()}

    @classmethod
    def from_dict(cls, raw: object) -> Results:
        if not isinstance(raw, dict):
            raise ResultsFormatError("results: not a JSON object")
        return cls(
            Result.from_dict(raw.get("warnings", {}), "warnings"),
            Result.from_dict(raw.get("errors", {}), "errors"),
        )
