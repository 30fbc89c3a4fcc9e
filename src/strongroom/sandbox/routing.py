"""URL paths of the Kubernetes API, parsed into what a request is about.

Resource paths::

    /api/v1/RESOURCE[/NAME[/SUB]]
    /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]]
    /apis/GROUP/VERSION/...            (the same shapes)
    /api/v1/watch/...                  (legacy watch paths)

``/api/v1/namespaces/NAME/status`` is the namespace's own subresource, not a resource named
``status``: a segment after ``namespaces/NS`` is a collection only when the group/version
serves a namespaced resource of that name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from strongroom.sandbox import catalog, status


@dataclasses.dataclass(frozen=True)
class Discovery:
    """A discovery or meta path: ``kind`` is version, api, apis, group, groupversion, ..."""

    kind: str
    group: str = ""
    version: str = ""
    rest: str = ""


@dataclasses.dataclass(frozen=True)
class ResourceRoute:
    """A request on a resource collection or object."""

    rtype: catalog.ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None
    legacy_watch: bool = False


Route = Discovery | ResourceRoute
_FINALIZE = ("namespaces", "finalize")
Lookup = Callable[[str, str, str], "catalog.ResourceType | None"]


def parse(path: str, lookup: Lookup) -> Route:
    """Classify ``path`` (without query); raise a 404 ApiError when nothing is served there."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return Discovery("root")
    head = parts[0]
    if head in ("version", "healthz", "livez", "readyz") and len(parts) == 1:
        return Discovery(head)
    if head == "openapi":
        return Discovery("openapi", rest="/".join(parts[1:]))
    if head == "api":
        if len(parts) == 1:
            return Discovery("api")
        return _group_version("", parts[1], parts[2:], lookup)
    if head == "apis":
        if len(parts) == 1:
            return Discovery("apis")
        if len(parts) == 2:
            return Discovery("group", group=parts[1])
        return _group_version(parts[1], parts[2], parts[3:], lookup)
    raise status.page_not_found()


def _group_version(group: str, version: str, rest: list[str], lookup: Lookup) -> Route:
    if not rest:
        return Discovery("groupversion", group=group, version=version)
    legacy = rest[0] == "watch"
    if legacy:
        rest = rest[1:]
        if not rest:
            raise status.page_not_found()
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        candidate = lookup(group, version, rest[2])
        if group == "" and candidate is None and len(rest) == 3:
            # /api/v1/namespaces/NAME/SUB: the namespace's own subresource.
            pass
        elif candidate is not None and candidate.namespaced:
            namespace = rest[1]
            rest = rest[2:]
        else:
            raise status.page_not_found()
    rtype = lookup(group, version, rest[0])
    if rtype is None or len(rest) > 3:
        raise status.page_not_found()
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if sub is not None and sub not in rtype.subresources and (rtype.plural, sub) != _FINALIZE:
        raise status.page_not_found()
    return ResourceRoute(rtype, namespace, name, sub, legacy)
