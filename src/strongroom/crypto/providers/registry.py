"""The keyslot types Strongroom knows: ``type`` name -> provider class.

Built-in providers register when :mod:`strongroom.crypto.providers` is imported; a provider
module for another key service (one module per SDK) calls :func:`register` the same way. The
table is written only while modules are imported, never while a command runs.
"""

from __future__ import annotations

from strongroom.crypto import errors
from strongroom.crypto.providers import base

_PROVIDERS: dict[str, type[base.KeyProvider]] = {}


class UnknownSlotType(errors.CryptoError):
    """A keyslot type no registered provider implements."""


def register(cls: type[base.KeyProvider]) -> type[base.KeyProvider]:
    """Add ``cls`` under ``cls.TYPE`` (usable as a class decorator); a clash is an error."""
    existing = _PROVIDERS.get(cls.TYPE)
    if existing is not None and existing is not cls:
        raise errors.CryptoError(f"keyslot type {cls.TYPE!r} is already registered")
    _PROVIDERS[cls.TYPE] = cls
    return cls


def get(type_name: str) -> type[base.KeyProvider]:
    """The provider class for ``type_name``; UnknownSlotType names the type otherwise."""
    try:
        return _PROVIDERS[type_name]
    except KeyError:
        raise UnknownSlotType(f"unknown keyslot type {type_name!r}") from None


def types() -> tuple[str, ...]:
    """Every registered type name, sorted."""
    return tuple(sorted(_PROVIDERS))
