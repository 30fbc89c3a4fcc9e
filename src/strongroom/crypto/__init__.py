"""Strongroom's crypto layer (see docs/architecture.md and docs/format.md §1, §4, §5).

- :mod:`.agekeys`: age X25519 recipients and identities, identity files;
- :mod:`.ageformat`: age v1 files with the ``strongroom.io/bind`` stanza, streaming;
- :mod:`.kdf`: epoch subkeys (HKDF-SHA-256) and Argon2id;
- :mod:`.providers`: keyslot types (``age-x25519``, ``passphrase``) in a registry;
- :mod:`.errors`: the layer's exception tree.

It imports no storage, Kubernetes or repository code.
"""
