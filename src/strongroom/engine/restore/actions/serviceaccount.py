"""ServiceAccounts (Velero's ``service-account`` action): entries of ``secrets`` named
``<account>-token-*`` are dropped, since the cluster creates such token secrets itself.

When the account already exists, the restorer merges it with the live one
(:func:`merge`) whatever the existing-resource policy, as Velero does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, ClassVar

from strongroom.engine.restore.actions import base


class ServiceAccountAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/service-account"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("serviceaccounts",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        prefix = f"{base.metadata(item).get('name', '')}-token-"
        secrets = item.get("secrets")
        if isinstance(secrets, list):
            item["secrets"] = [
                s
                for s in secrets
                if not (isinstance(s, dict) and str(s.get("name", "")).startswith(prefix))
            ]
        return base.ActionOutput(item=item)


def merge(live: Mapping[str, Any], restored: Mapping[str, Any]) -> dict[str, Any]:
    """The live account with the restored one's labels, annotations, ``secrets`` and
    ``imagePullSecrets`` added (live values win; list entries are unioned by name)."""
    out: dict[str, Any] = copy.deepcopy(dict(live))
    meta = out.setdefault("metadata", {})
    for field in ("labels", "annotations"):
        merged = {**(base.metadata(restored).get(field) or {}), **(meta.get(field) or {})}
        if merged:
            meta[field] = merged
    for field in ("secrets", "imagePullSecrets"):
        entries = list(out.get(field) or [])
        names = {e.get("name") for e in entries if isinstance(e, dict)}
        for entry in restored.get(field) or []:
            if isinstance(entry, dict) and entry.get("name") not in names:
                entries.append(copy.deepcopy(entry))
                names.add(entry.get("name"))
        if entries:
            out[field] = entries
    return out
