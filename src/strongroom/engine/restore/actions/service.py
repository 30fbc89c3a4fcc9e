"""Services (Velero's ``service`` action).

- ``clusterIP`` and ``clusterIPs`` are cleared unless ``None`` (a headless service), so the
  target cluster allocates fresh ones;
- unless node ports are preserved (``--preserve-nodeports``), every ``nodePort`` is cleared
  except those set explicitly: present in the ``kubectl.kubernetes.io/last-applied-configuration``
  annotation or owned by a field manager (managed fields), since the cluster allocated the
  others; ``healthCheckNodePort`` follows the same rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from strongroom.engine.restore.actions import base

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ServiceAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/service"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("services",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        spec = base.spec(item)
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("type") == "ExternalName" or action_input.context.preserve_node_ports:
            return base.ActionOutput(item=item)
        explicit = _Explicit.of(action_input.backup_item)
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and "nodePort" in port and not explicit.has(port):
                del port["nodePort"]
        if "healthCheckNodePort" in spec and not explicit.health_check:
            del spec["healthCheckNodePort"]
        return base.ActionOutput(item=item)


class _Explicit:
    """The node ports a user set (rather than the cluster allocated) in a backed-up service."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.values: set[int] = set()
        self.keys: set[tuple[int, str]] = set()
        self.health_check = False

    @classmethod
    def of(cls, service: Mapping[str, Any]) -> _Explicit:
        found = cls()
        meta = base.metadata(service)
        found._from_last_applied((meta.get("annotations") or {}).get(LAST_APPLIED))
        for entry in meta.get("managedFields") or []:
            fields = entry.get("fieldsV1") if isinstance(entry, dict) else None
            if isinstance(fields, dict):
                found._from_managed(fields.get("f:spec"))
        return found

    def _from_last_applied(self, text: object) -> None:
        try:
            applied = json.loads(text) if isinstance(text, str) else {}
        except ValueError:
            return
        spec = base.spec(applied) if isinstance(applied, dict) else {}
        self.health_check |= "healthCheckNodePort" in spec
        for port in spec.get("ports") or []:
            if not isinstance(port, dict) or not port.get("nodePort"):
                continue
            if port.get("name"):
                self.names.add(str(port["name"]))
            elif isinstance(port["nodePort"], int):
                self.values.add(port["nodePort"])

    def _from_managed(self, spec: object) -> None:
        if not isinstance(spec, dict):
            return
        self.health_check |= "f:healthCheckNodePort" in spec
        for key, owned in (spec.get("f:ports") or {}).items():
            if not key.startswith("k:") or not isinstance(owned, dict):
                continue
            if "f:nodePort" not in owned:
                continue
            try:
                ident = json.loads(key[2:])
                self.keys.add((int(ident["port"]), str(ident.get("protocol", "TCP"))))
            except (ValueError, KeyError, TypeError):
                continue

    def has(self, port: Mapping[str, Any]) -> bool:
        if port.get("name") and str(port["name"]) in self.names:
            return True
        if port.get("nodePort") in self.values:
            return True
        try:
            key = (int(port.get("port", -1)), str(port.get("protocol", "TCP")))
        except (TypeError, ValueError):
            return False
        return key in self.keys
