"""Secrets (Velero's ``secret`` action), for ``kubernetes.io/service-account-token`` only.

A token secret the cluster created for an account (named ``<account>-token-*`` after the
account of its ``kubernetes.io/service-account.name`` annotation) is not restored: the
cluster makes a new one. Any other token secret is restored without its ``token`` and
``ca.crt`` data and its ``kubernetes.io/service-account.uid`` annotation, so that the token
controller fills them in for the new account.
"""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

TOKEN_TYPE = "kubernetes.io/service-account-token"  # noqa: S105 (a Secret type)
ACCOUNT_NAME = "kubernetes.io/service-account.name"
ACCOUNT_UID = "kubernetes.io/service-account.uid"


class SecretAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/secret"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = ("secrets",)

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        if item.get("type") != TOKEN_TYPE:
            return base.ActionOutput(item=item)
        meta = base.metadata(item)
        annotations = meta.get("annotations") or {}
        account = annotations.get(ACCOUNT_NAME)
        if account and str(meta.get("name", "")).startswith(f"{account}-token-"):
            return base.ActionOutput(
                item=item, skip=True, reason=f"token secret created for service account {account}"
            )
        if isinstance(meta.get("annotations"), dict):
            meta["annotations"].pop(ACCOUNT_UID, None)
        data = item.get("data")
        if isinstance(data, dict):
            data.pop("token", None)
            data.pop("ca.crt", None)
        return base.ActionOutput(item=item)
