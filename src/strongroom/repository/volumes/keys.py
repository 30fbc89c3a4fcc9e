"""The keys of one epoch's volume data (docs/format.md §4.3, §10): derived once, kept here.

Nothing above the repository layer sees them: the engine gets a chunker, chunk ids and a
store, never a key.
"""

from __future__ import annotations

import dataclasses

from strongroom.crypto import agekeys, chunker
from strongroom.repository import keyring as keyring_mod


@dataclasses.dataclass(frozen=True, repr=False)
class VolumeKeys:
    """Subkeys of epoch ``epoch`` for volume data; ``identity`` is None for a writer."""

    repository: str
    epoch: int
    recipient: agekeys.Recipient
    identity: agekeys.Identity | None
    chunk_id_key: bytes
    index_key: bytes
    mac_key: bytes

    def __repr__(self) -> str:
        return f"VolumeKeys(repository={self.repository!r}, epoch={self.epoch})"

    def chunk_id(self, data: bytes | memoryview) -> bytes:
        """The chunk id: BLAKE3 keyed with ``K(e, "chunk-id")`` (§10.1)."""
        return chunker.chunk_id(self.chunk_id_key, data)


def for_epoch(ring: keyring_mod.Keyring, epoch: int) -> VolumeKeys:
    """The volume keys of ``epoch`` from an open keyring (reader and writer)."""
    identity = ring.recipient_identity(epoch)
    return VolumeKeys(
        repository=ring.repository,
        epoch=epoch,
        recipient=identity.recipient(),
        identity=identity,
        chunk_id_key=ring.subkey(epoch, "chunk-id"),
        index_key=ring.subkey(epoch, "volume-index"),
        mac_key=ring.subkey(epoch, "volume-mac"),
    )
