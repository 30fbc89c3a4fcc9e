"""Service cluster IPs and node ports, allocated and refused as a real API server does.

ClusterIPs come from the K3s service range 10.43.0.0/16 (10.43.0.1 is the ``kubernetes``
service); node ports from 30000-32767. A requested IP or port that is outside the range or
already taken is a 422 Invalid with the real server's wording. Callers hold the store lock.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from typing import Any

from strongroom.sandbox import status

Obj = dict[str, Any]

SERVICE_CIDR = ipaddress.IPv4Network("10.43.0.0/16")
NODE_PORTS = range(30000, 32768)
_NODE_PORT_TYPES = ("NodePort", "LoadBalancer")


class Allocator:
    """Which cluster IPs and node ports live Services hold."""

    def __init__(self) -> None:
        self._ips: set[str] = set()
        self._ports: set[int] = set()

    def rebuild(self, services: list[Obj]) -> None:
        self._ips.clear()
        self._ports.clear()
        for svc in services:
            self._take(svc)

    def _take(self, svc: Obj) -> None:
        self._ips.update(_cluster_ips(svc))
        self._ports.update(_node_ports(svc))

    def release(self, svc: Obj) -> None:
        self._ips.difference_update(_cluster_ips(svc))
        self._ports.difference_update(_node_ports(svc))

    def allocate(self, svc: Obj, old: Obj | None) -> list[status.Cause]:
        """Fill in and reserve ``svc``'s cluster IP and node ports (``old``: the live object).

        Returns the field errors instead of reserving anything when a request cannot be met.
        """
        spec = svc.setdefault("spec", {})
        old_spec: Obj = (old or {}).get("spec") or {}
        held_ips = set(_cluster_ips(old)) if old else set()
        held_ports = set(_node_ports(old)) if old else set()
        causes = self._ip_causes(spec, held_ips)
        causes += self._port_causes(spec, old_spec, held_ports)
        if causes:
            return causes
        if old is not None:
            self.release(old)
        if spec.get("type") == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
            self._take(svc)
            return []
        if not spec.get("clusterIP"):
            spec["clusterIP"] = self._free_ip()
        if spec["clusterIP"] != "None":
            spec["clusterIPs"] = [spec["clusterIP"]]
        else:
            spec["clusterIPs"] = ["None"]
        if spec.get("type") in _NODE_PORT_TYPES:
            for port in spec.get("ports") or []:
                if isinstance(port, dict) and not port.get("nodePort"):
                    port["nodePort"] = self._free_port()
                    self._ports.add(port["nodePort"])
        self._take(svc)
        return []

    def _ip_causes(self, spec: Obj, held: set[str]) -> list[status.Cause]:
        wanted = spec.get("clusterIP")
        if not wanted or wanted == "None" or wanted in held:
            return []
        shown = f"[]string{{{json.dumps(wanted)}}}"
        try:
            address = ipaddress.IPv4Address(wanted)
        except ValueError:
            return [
                status.field(
                    "spec.clusterIPs[0]",
                    f"Invalid value: {json.dumps(wanted)}: "
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            ]
        if address not in SERVICE_CIDR or address in (SERVICE_CIDR[0], SERVICE_CIDR[-1]):
            return [
                status.field(
                    "spec.clusterIPs",
                    f"Invalid value: {shown}: failed to allocate IP "
                    f"{wanted}: the provided IP ({wanted}) is not in the valid range. "
                    f"The range of valid IPs is {SERVICE_CIDR}",
                )
            ]
        if wanted in self._ips:
            return [
                status.field(
                    "spec.clusterIPs",
                    f"Invalid value: {shown}: failed to allocate IP "
                    f"{wanted}: provided IP is already allocated",
                )
            ]
        return []

    def _port_causes(self, spec: Obj, old_spec: Obj, held: set[int]) -> list[status.Cause]:
        causes: list[status.Cause] = []
        ports = spec.get("ports") or []
        wants_node_ports = spec.get("type") in _NODE_PORT_TYPES
        seen: set[int] = set()
        for i, port in enumerate(ports):
            if not isinstance(port, dict) or not port.get("nodePort"):
                continue
            number = port["nodePort"]
            where = f"spec.ports[{i}].nodePort"
            if not wants_node_ports:
                causes.append(
                    status.field(
                        where,
                        f"Forbidden: may not be used when `type` is "
                        f"'{spec.get('type', 'ClusterIP')}'",
                        "FieldValueForbidden",
                    )
                )
            elif not isinstance(number, int) or number not in NODE_PORTS:
                causes.append(
                    status.field(
                        where,
                        f"Invalid value: {json.dumps(number)}: provided "
                        "port is not in the valid range. The range of valid "
                        "ports is 30000-32767",
                    )
                )
            elif (number in self._ports and number not in held) or number in seen:
                causes.append(
                    status.field(
                        where, f"Invalid value: {number}: provided port is already allocated"
                    )
                )
            if isinstance(number, int):
                seen.add(number)
        return causes

    def _free_ip(self) -> str:
        size = SERVICE_CIDR.num_addresses
        for _ in range(64):
            candidate = str(SERVICE_CIDR[10 + secrets.randbelow(size - 12)])
            if candidate not in self._ips:
                return candidate
        for address in SERVICE_CIDR.hosts():
            if str(address) not in self._ips:
                return str(address)
        raise status.ApiError(500, "InternalError", "the service IP range is exhausted")

    def _free_port(self) -> int:
        for _ in range(64):
            candidate = NODE_PORTS[secrets.randbelow(len(NODE_PORTS))]
            if candidate not in self._ports:
                return candidate
        for candidate in NODE_PORTS:
            if candidate not in self._ports:
                return candidate
        raise status.ApiError(500, "InternalError", "the node port range is exhausted")


def _cluster_ips(svc: Obj | None) -> list[str]:
    spec = (svc or {}).get("spec") or {}
    ips = [ip for ip in spec.get("clusterIPs") or [spec.get("clusterIP")] if ip and ip != "None"]
    return [str(ip) for ip in ips]


def _node_ports(svc: Obj | None) -> list[int]:
    spec = (svc or {}).get("spec") or {}
    return [
        p["nodePort"]
        for p in spec.get("ports") or []
        if isinstance(p, dict) and isinstance(p.get("nodePort"), int)
    ]
