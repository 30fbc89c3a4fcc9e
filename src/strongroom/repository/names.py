"""Backup and restore names: their claims under every key epoch (format §7).

A name is claimed under the epoch current when it was taken, so a name is looked up under
every epoch of the keyring, newest first, and a new name is refused when any epoch holds it.
"""

from __future__ import annotations

import contextlib
from collections import abc

from strongroom import errors as base_errors
from strongroom.repository import claims, errors
from strongroom.repository import keyring as keyring_mod
from strongroom.storage import base as storage_base

_MISSING = (errors.BackupNotFound, errors.RestoreNotFound)


class Names:
    def __init__(
        self, backend: storage_base.Backend, ring: abc.Callable[[], keyring_mod.Keyring]
    ) -> None:
        self._backend = backend
        self._ring = ring

    def candidates(self, kind: str, name: str) -> list[str]:
        """The claim object names ``name`` may have, one per epoch, newest first."""
        ring = self._ring()
        return [
            claims.name(ring.subkey(e.number, "name-tag"), kind, name)
            for e in reversed(ring.epochs)
        ]

    def find(self, kind: str, name: str) -> tuple[str, dict[str, str]]:
        """The claim of ``name`` under the newest epoch that has one, and its ids; the
        kind's not-found error when there is none."""
        every = self.candidates(kind, name)
        for claim in every[:-1]:
            with contextlib.suppress(*_MISSING):
                return claim, claims.read(self._backend, claim, kind, name)
        return every[-1], claims.read(self._backend, every[-1], kind, name)

    def exists(self, kind: str, name: str) -> bool:
        try:
            self.find(kind, name)
        except _MISSING:
            return False
        return True

    def new(self, kind: str, name: str) -> str:
        """The claim to take for a new ``name``; NameTaken if an earlier epoch holds it (the
        current epoch's claim is taken create-only, which refuses a taken name itself)."""
        current, *earlier = self.candidates(kind, name)
        for claim in earlier:
            with contextlib.suppress(base_errors.NotFoundError):
                self._backend.stat(claim)
                raise errors.NameTaken(f"{kind} {name!r} already exists")
        return current

    def owner(self, kind: str, name: str) -> dict[str, str] | None:
        """The ids the claim of ``name`` points to, or None when no epoch has a claim."""
        try:
            return self.find(kind, name)[1]
        except _MISSING:
            return None
