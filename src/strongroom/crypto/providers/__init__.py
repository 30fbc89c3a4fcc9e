"""Key providers: one class per keyslot type, found by type name in :mod:`.registry`.

Importing this package registers the built-in types ``age-x25519`` and ``passphrase``, and
makes the key-service types ``aws-kms``, ``hcvault``, ``gcp-kms`` and ``azure-kv`` known (also
by URI: :func:`registry.for_uri`); each of those modules, with its SDK, is imported the first
time a slot of its type is used.
"""

from __future__ import annotations

from strongroom.crypto.providers import age_x25519, passphrase, registry

registry.register(age_x25519.AgeX25519Provider)
registry.register(passphrase.PassphraseProvider)
registry.register_deferred("aws-kms", "strongroom.crypto.providers.aws_kms", "AwsKmsProvider")
registry.register_deferred(
    "hcvault", "strongroom.crypto.providers.vault_transit", "VaultTransitProvider"
)
registry.register_deferred("gcp-kms", "strongroom.crypto.providers.gcp_kms", "GcpKmsProvider")
registry.register_deferred(
    "azure-kv", "strongroom.crypto.providers.azure_kv", "AzureKeyVaultProvider"
)
