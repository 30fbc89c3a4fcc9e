"""Key providers: one class per keyslot type, found by type name in :mod:`.registry`.

Importing this package registers the built-in types ``age-x25519`` and ``passphrase`` and the
key-service types ``aws-kms``, ``hcvault``, ``gcp-kms`` and ``azure-kv`` (also found by URI:
:func:`registry.for_uri`).
"""

from __future__ import annotations

from strongroom.crypto.providers import (
    age_x25519,
    aws_kms,
    azure_kv,
    gcp_kms,
    passphrase,
    registry,
    vault_transit,
)

registry.register(age_x25519.AgeX25519Provider)
registry.register(passphrase.PassphraseProvider)
registry.register(aws_kms.AwsKmsProvider)
registry.register(vault_transit.VaultTransitProvider)
registry.register(gcp_kms.GcpKmsProvider)
registry.register(azure_kv.AzureKeyVaultProvider)
