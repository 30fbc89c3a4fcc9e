"""Discovery documents: /version, /api, /api/v1, /apis, /apis/G, /apis/G/V.

Only the legacy (unaggregated) discovery format is served; clients that ask for aggregated
discovery get plain JSON and fall back to it, as they do with older servers.
"""

from __future__ import annotations

from typing import Any

from strongroom.sandbox import catalog, status

Obj = dict[str, Any]

#: The Kubernetes release whose resource catalogue the sandbox serves (see data/).
VERSION: Obj = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.5+k3s1",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-09-01T00:00:00Z",
    "goVersion": "go1.24.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def _group_entry(name: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_versions(address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def group_list(cat: catalog.Catalog) -> Obj:
    groups = [_group_entry(g, vs) for g, vs in cat.group_versions() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(cat: catalog.Catalog, name: str) -> Obj:
    for g, versions in cat.group_versions():
        if g == name and g:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group_entry(g, versions)}
    raise status.page_not_found()


def resource_list(cat: catalog.Catalog, group_name: str, version: str) -> Obj:
    types = cat.resources(group_name, version)
    if not types:
        raise status.page_not_found()
    entries: list[Obj] = []
    for rtype in types:
        entries.extend(rtype.discovery_entries())
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group_name}/{version}" if group_name else version,
        "resources": entries,
    }


def root_paths(cat: catalog.Catalog) -> Obj:
    paths = [
        "/api",
        "/api/v1",
        "/apis",
        "/healthz",
        "/livez",
        "/openapi/v2",
        "/openapi/v3",
        "/readyz",
        "/version",
    ]
    for g, versions in cat.group_versions():
        if g:
            paths.append(f"/apis/{g}")
            paths.extend(f"/apis/{g}/{v}" for v in versions)
    return {"paths": sorted(paths)}


#: The media type of aggregated discovery (one request for every group, version and resource).
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether a client's Accept header asks for aggregated discovery v2 (kubectl does)."""
    for choice in accept.split(","):
        params = {
            p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in choice.split(";")[1:]
        }
        if (
            params.get("as") == "APIGroupDiscoveryList"
            and params.get("v") == "v2"
            and (params.get("g") == "apidiscovery.k8s.io")
        ):
            return True
        if choice.strip().startswith("application/json") and "as" not in params:
            return False
    return False


def _aggregated_resource(rtype: catalog.ResourceType) -> Obj:
    entry: Obj = {
        "resource": rtype.plural,
        "responseKind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
        "scope": "Namespaced" if rtype.namespaced else "Cluster",
        "singularResource": rtype.singular,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    subresources = []
    for sub in sorted(rtype.subresources):
        kind = (
            {"group": "autoscaling", "version": "v1", "kind": "Scale"}
            if sub == "scale"
            else {"group": rtype.group, "version": rtype.version, "kind": rtype.kind}
        )
        subresources.append(
            {"subresource": sub, "responseKind": kind, "verbs": ["get", "patch", "update"]}
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def aggregated(cat: catalog.Catalog, core: bool) -> Obj:
    """The APIGroupDiscoveryList of ``/api`` (core) or ``/apis`` (every other group)."""
    items = []
    for group_name, versions in cat.group_versions():
        if (group_name == "") != core:
            continue
        items.append(
            {
                "metadata": {"name": group_name, "creationTimestamp": None},
                "versions": [
                    {
                        "version": version,
                        "resources": [
                            _aggregated_resource(t) for t in cat.resources(group_name, version)
                        ],
                        "freshness": "Current",
                    }
                    for version in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }
