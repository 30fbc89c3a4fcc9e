"""Paths inside the resource archive: Velero's layout (docs/format.md §8).

::

    metadata/version                                  "1.1.0\\n"
    resources/<group-resource>/namespaces/<ns>/<name>.json
    resources/<group-resource>/cluster/<name>.json

``<group-resource>`` is ``<plural>`` for the core group and ``<plural>.<group>`` otherwise.
A path component is any non-empty UTF-8 string other than ``.`` and ``..`` without ``/`` or
NUL, so every valid Kubernetes object name (``system:controller:foo``, ``a@b``, path-segment
names of any character but ``/`` and ``%``) maps to exactly one path and back.
:func:`parse_item_path` accepts exactly the paths :func:`item_path` produces, which makes it
safe against path traversal: no absolute path, no ``..``, no empty or extra component.
"""

from __future__ import annotations

import dataclasses

from strongroom.archive import errors

VERSION_PATH = "metadata/version"
FORMAT_VERSION = "1.1.0"
#: The versions :mod:`strongroom.archive.reader` reads.
SUPPORTED_VERSIONS = frozenset({FORMAT_VERSION})

_RESOURCES = "resources"
_NAMESPACES = "namespaces"
_CLUSTER = "cluster"
_SUFFIX = ".json"


@dataclasses.dataclass(frozen=True)
class ItemPath:
    """Where one object lives in the archive; ``namespace`` is None for cluster-scoped ones."""

    group_resource: str
    namespace: str | None
    name: str


def version_body(version: str = FORMAT_VERSION) -> bytes:
    """The content of ``metadata/version`` for ``version``."""
    return (version + "\n").encode("ascii")


def is_component(value: str) -> bool:
    """Whether ``value`` can be one path component: see the module docstring."""
    if not value or value in (".", "..") or "/" in value or "\0" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def item_path(group_resource: str, namespace: str | None, name: str) -> str:
    """The archive path of an object; ``namespace=None`` for cluster-scoped objects.

    Raises :class:`~strongroom.archive.errors.ItemNameError` naming the offending part when
    one of them cannot be a path component.
    """
    for label, value in (("group-resource", group_resource), ("name", name)):
        if not is_component(value):
            raise errors.ItemNameError(f"{label} {value!r} cannot be an archive path component")
    if namespace is None:
        return f"{_RESOURCES}/{group_resource}/{_CLUSTER}/{name}{_SUFFIX}"
    if not is_component(namespace):
        raise errors.ItemNameError(f"namespace {namespace!r} cannot be an archive path component")
    return f"{_RESOURCES}/{group_resource}/{_NAMESPACES}/{namespace}/{name}{_SUFFIX}"


def parse_item_path(path: str) -> ItemPath | None:
    """The object a path names, or None when ``path`` is not exactly an item path.

    ``item_path(*astuple(parse_item_path(p))) == p`` for every accepted ``p``.
    """
    parts = path.split("/")
    if len(parts) == 4 and parts[2] == _CLUSTER:
        namespace = None
    elif len(parts) == 5 and parts[2] == _NAMESPACES:
        namespace = parts[3]
        if not is_component(namespace):
            return None
    else:
        return None
    filename = parts[-1]
    if parts[0] != _RESOURCES or not filename.endswith(_SUFFIX):
        return None
    name = filename[: -len(_SUFFIX)]
    if not is_component(parts[1]) or not is_component(name):
        return None
    return ItemPath(group_resource=parts[1], namespace=namespace, name=name)
