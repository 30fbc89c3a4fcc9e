"""Admission webhook configurations (Velero's ``admission-webhook-configuration`` action):
in ``admissionregistration.k8s.io/v1`` a webhook's ``sideEffects`` must be ``None`` or
``NoneOnDryRun``; any other value (``Unknown``, ``Some``, missing: what v1beta1 allowed)
becomes ``None`` so the configuration is accepted."""

from __future__ import annotations

from typing import ClassVar

from strongroom.engine.restore.actions import base

V1 = "admissionregistration.k8s.io/v1"
VALID_SIDE_EFFECTS = ("None", "NoneOnDryRun")


class AdmissionWebhookAction:
    API_VERSION: ClassVar[str] = base.API_VERSION
    NAME: ClassVar[str] = "strongroom.io/admission-webhook-configuration"
    GROUP_RESOURCES: ClassVar[tuple[str, ...]] = (
        "mutatingwebhookconfigurations.admissionregistration.k8s.io",
        "validatingwebhookconfigurations.admissionregistration.k8s.io",
    )

    def execute(self, action_input: base.ActionInput) -> base.ActionOutput:
        item = action_input.item
        if item.get("apiVersion") != V1:
            return base.ActionOutput(item=item)
        warnings = []
        for webhook in item.get("webhooks") or []:
            if isinstance(webhook, dict) and webhook.get("sideEffects") not in VALID_SIDE_EFFECTS:
                warnings.append(
                    f"webhook {webhook.get('name', '')}: sideEffects "
                    f"{webhook.get('sideEffects')!r} set to 'None'"
                )
                webhook["sideEffects"] = "None"
        return base.ActionOutput(item=item, warnings=tuple(warnings))
