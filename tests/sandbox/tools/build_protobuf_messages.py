"""Regenerate src/strongroom/sandbox/data/protobuf-messages.json.

Usage: python tests/sandbox/tools/build_protobuf_messages.py API_CHECKOUT APIMACHINERY_CHECKOUT

The arguments are git checkouts of github.com/kubernetes/api and kubernetes/apimachinery. Every
``generated.proto`` in them is parsed for its messages and field numbers; the table keeps the
messages reachable from the kinds the sandbox serves with a ``create`` verb.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

DATA = pathlib.Path(__file__).resolve().parents[3] / "src/strongroom/sandbox/data"
FIELD = re.compile(r"^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+)")
MAP = re.compile(r"^\s*map<\s*(\w+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)")
SCALARS = {"string", "bool", "int32", "int64", "bytes", "double", "float"}
PACKAGES = {
    "": "core",
    "apps": "apps",
    "batch": "batch",
    "autoscaling": "autoscaling",
    "policy": "policy",
    "rbac.authorization.k8s.io": "rbac",
    "networking.k8s.io": "networking",
    "storage.k8s.io": "storage",
    "scheduling.k8s.io": "scheduling",
    "coordination.k8s.io": "coordination",
    "admissionregistration.k8s.io": "admissionregistration",
    "certificates.k8s.io": "certificates",
    "discovery.k8s.io": "discovery",
    "events.k8s.io": "events",
    "node.k8s.io": "node",
    "flowcontrol.apiserver.k8s.io": "flowcontrol",
    "authorization.k8s.io": "authorization",
    "authentication.k8s.io": "authentication",
}


def git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, *args], capture_output=True, text=True, check=True
    ).stdout


def protos(repo: str) -> Iterator[str]:
    for name in git(repo, "ls-tree", "-r", "--name-only", "HEAD").split():
        if name.endswith("generated.proto"):
            yield git(repo, "show", f"HEAD:{name}")


def parse(text: str, messages: dict[str, list[list[Any]]]) -> None:
    package = re.search(r"^package ([\w.]+);", text, re.M)
    assert package is not None
    prefix = package.group(1)
    current: str | None = None

    def resolve(name: str) -> str:
        if name in SCALARS:
            return name
        return name[1:] if name.startswith(".") else f"{prefix}.{name}"

    for line in text.splitlines():
        start = re.match(r"^message (\w+) \{", line)
        if start:
            current = f"{prefix}.{start.group(1)}"
            messages[current] = []
        elif line.startswith("}"):
            current = None
        elif current is not None and (m := MAP.match(line)):
            key, value, field, number = m.groups()
            messages[current].append([int(number), field, "map", [key, resolve(value)], False])
        elif current is not None and (m := FIELD.match(line)):
            label, kind, field, number = m.groups()
            ref = resolve(kind)
            scalar = ref in SCALARS
            messages[current].append(
                [
                    int(number),
                    field,
                    ref if scalar else "message",
                    None if scalar else ref,
                    label == "repeated",
                ]
            )


def main(api: str, machinery: str) -> None:
    messages: dict[str, list[list[Any]]] = {}
    for repo in (api, machinery):
        for text in protos(repo):
            parse(text, messages)
    kinds: dict[str, str] = {}
    for doc in json.loads((DATA / "k3s-discovery.json").read_text()):
        group, _, version = doc["groupVersion"].rpartition("/")
        if group not in PACKAGES:
            continue
        for res in doc["resources"]:
            name = f"k8s.io.api.{PACKAGES[group]}.{version}.{res['kind']}"
            if "/" not in res["name"] and "create" in res["verbs"] and name in messages:
                kinds[f"{doc['groupVersion']}/{res['kind']}"] = name
    keep: dict[str, list[list[Any]]] = {}
    todo = list(kinds.values())
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = messages[name]
        for _, _, kind, ref, _ in messages[name]:
            if kind == "message":
                todo.append(ref)
            elif kind == "map" and ref[1] not in SCALARS:
                todo.append(ref[1])
    table = {
        "source": {
            "kubernetes/api": git(api, "rev-parse", "HEAD").strip(),
            "kubernetes/apimachinery": git(machinery, "rev-parse", "HEAD").strip(),
        },
        "kinds": dict(sorted(kinds.items())),
        "messages": dict(sorted(keep.items())),
    }
    (DATA / "protobuf-messages.json").write_text(json.dumps(table, separators=(",", ":")))
    print(f"{len(kinds)} kinds, {len(keep)} messages")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
