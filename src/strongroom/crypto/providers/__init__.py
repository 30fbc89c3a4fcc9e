"""Key providers: one class per keyslot type, found by type name in :mod:`.registry`.

Importing this package registers the built-in types ``age-x25519`` and ``passphrase``.
"""

from __future__ import annotations

from strongroom.crypto.providers import age_x25519, passphrase, registry

registry.register(age_x25519.AgeX25519Provider)
registry.register(passphrase.PassphraseProvider)
