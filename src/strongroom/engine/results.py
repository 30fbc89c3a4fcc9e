"""Warnings and errors of a backup or restore, per scope, as Velero's ``Result`` keeps them.

Each message lands in one scope: ``strongroom`` (the run itself; Velero's ``velero``),
``cluster`` (cluster-scoped items) or one namespace. :class:`Results` holds a
:class:`Result` for warnings and one for errors and serialises to the document stored as a
backup's ``results`` object (docs/format.md §8)::

    {"warnings": R, "errors": R}
    R = {"strongroom": [...], "cluster": [...], "namespaces": {ns: [...]}}

Messages are one line and never carry object bodies or Secret values; the callers build them
from names only. Adding is thread-safe. A run may report one message per item, so each scope
keeps its messages compressed a segment at a time (:mod:`strongroom.engine.messages`), and
the document is stored as it is made (:meth:`Results.document`), never whole in memory.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from strongroom import errors
from strongroom.engine import messages

Scope = Literal["strongroom", "cluster"]
STRONGROOM: Scope = "strongroom"
CLUSTER: Scope = "cluster"
#: Bytes of the stored document produced at a time.
CHUNK = 64 << 10


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


class _View(Mapping[str, Any]):
    def __init__(self, result: Result) -> None:
        self._result = result

    def __getitem__(self, key: str) -> Any:
        if key == "namespaces":
            found = self._result.namespaces
            return {ns: found[ns] for ns in sorted(found)}
        if key in ("strongroom", "cluster"):
            return getattr(self._result, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(("strongroom", "cluster", "namespaces"))

    def __len__(self) -> int:
        return 3


class ResultsFormatError(errors.IntegrityError):
    """A results document that does not have the shape of docs/format.md §8."""


class Result:
    """Messages of one severity, by scope, each scope kept compactly (:mod:`.messages`)."""

    def __init__(
        self,
        strongroom: Iterable[str] = (),
        cluster: Iterable[str] = (),
        namespaces: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._strongroom = messages.Messages(strongroom)
        self._cluster = messages.Messages(cluster)
        self._namespaces = {ns: messages.Messages(m) for ns, m in (namespaces or {}).items()}

    @property
    def strongroom(self) -> list[str]:
        return list(self._strongroom)

    @property
    def cluster(self) -> list[str]:
        return list(self._cluster)

    @property
    def namespaces(self) -> dict[str, list[str]]:
        return {ns: list(found) for ns, found in self._namespaces.items()}

    def add(self, where: Where, message: str) -> None:
        line = " ".join(message.split())
        if isinstance(where, InNamespace):
            self._namespaces.setdefault(where.name, messages.Messages()).append(line)
        elif where == CLUSTER:
            self._cluster.append(line)
        elif where == STRONGROOM:
            self._strongroom.append(line)
        else:
            raise ValueError(f"unknown results scope {where!r}")

    def merge(self, other: Result) -> None:
        self._strongroom.extend(other._strongroom)
        self._cluster.extend(other._cluster)
        for ns, found in other._namespaces.items():
            self._namespaces.setdefault(ns, messages.Messages()).extend(found)

    @property
    def count(self) -> int:
        scopes = (self._strongroom, self._cluster, *self._namespaces.values())
        return sum(len(found) for found in scopes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strongroom": self.strongroom,
            "cluster": self.cluster,
            "namespaces": {ns: list(self._namespaces[ns]) for ns in sorted(self._namespaces)},
        }

    def json(self) -> Iterator[str]:
        """:meth:`to_dict` as compact JSON with sorted keys, in pieces."""
        yield '{"cluster":'
        yield from self._cluster.json()
        yield ',"namespaces":{'
        for index, ns in enumerate(sorted(self._namespaces)):
            yield ("," if index else "") + json.dumps(ns, ensure_ascii=False) + ":"
            yield from self._namespaces[ns].json()
        yield '},"strongroom":'
        yield from self._strongroom.json()
        yield "}"

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

    def view(self, severity: Literal["warnings", "errors"]) -> Mapping[str, Any]:
        """The messages of ``severity`` as :meth:`Result.to_dict` gives them, each scope
        made when asked for."""
        return _View(self.warnings if severity == "warnings" else self.errors)

    def document(self) -> Iterator[bytes]:
        """:meth:`to_dict` as compact JSON with sorted keys (the stored document), in pieces
        of about :data:`CHUNK` bytes; call once nothing more is added."""
        pieces = itertools.chain(
            ['{"errors":'], self.errors.json(), [',"warnings":'], self.warnings.json(), ["}"]
        )
        text: list[str] = []
        size = 0
        for piece in pieces:
            text.append(piece)
            size += len(piece)
            if size >= CHUNK:
                yield "".join(text).encode("utf-8")
                text, size = [], 0
        yield "".join(text).encode("utf-8")

    @classmethod
    def from_dict(cls, raw: object) -> Results:
        if not isinstance(raw, dict):
            raise ResultsFormatError("results: not a JSON object")
        return cls(
            Result.from_dict(raw.get("warnings", {}), "warnings"),
            Result.from_dict(raw.get("errors", {}), "errors"),
        )
