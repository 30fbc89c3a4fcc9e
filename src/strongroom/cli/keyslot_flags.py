"""Keyslot flags shared by ``location create`` and ``key add``: recipients and passphrases."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from strongroom import errors
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.crypto.providers import registry
from strongroom.crypto.providers.age_x25519 import AgeX25519Provider
from strongroom.crypto.providers.passphrase import PassphraseProvider


def providers(
    recipients: Sequence[str],
    passphrase_env: str,
    kms: Sequence[str] = (),
    environ: Mapping[str, str] = os.environ,
) -> list[provider_base.KeyProvider]:
    """One key provider per ``--recipient`` and ``--kms``, one for ``--passphrase-env``."""
    found: list[provider_base.KeyProvider] = [registry.for_uri(uri.strip()) for uri in kms]
    for text in recipients:
        try:
            found.append(AgeX25519Provider(agekeys.Recipient.parse(text.strip())))
        except errors.StrongroomError as exc:
            raise errors.UsageError(f"--recipient {text[:20]!r}...: not an age recipient") from exc
    if passphrase_env:
        value = environ.get(passphrase_env, "")
        if not value:
            raise errors.UsageError(
                f"--passphrase-env {passphrase_env}: the variable is unset or empty"
            )
        found.append(PassphraseProvider.new(value.encode()))
    return found


NO_OFFLINE_WARNING = (
    "warning: no offline recovery key (--recipient): losing the passphrase or the KMS "
    "loses every backup"
)
