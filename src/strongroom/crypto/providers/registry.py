"""The keyslot types Strongroom knows: ``type`` name -> provider class.

Built-in providers register when :mod:`strongroom.crypto.providers` is imported; a provider
module for another key service (one module per SDK) calls :func:`register` the same way. The
table is written only while modules are imported, never while a command runs.

A key-service provider (:class:`base.UriKeyProvider`, one with a ``from_uri`` classmethod) is
also reachable by URI: its scheme is its type, so ``for_uri("aws-kms://alias/x")`` asks the
``aws-kms`` class. That is how ``--kms URI`` picks a provider.
"""

from __future__ import annotations

from typing import cast

from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import base

_PROVIDERS: dict[str, type[base.KeyProvider]] = {}


class UnknownSlotType(errors.CryptoError):
    """A keyslot type no registered provider implements."""


class UnknownKeyUri(errors.CryptoError, root_errors.UsageError):
    """A key URI whose scheme no registered key-service provider handles."""


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


def schemes() -> tuple[str, ...]:
    """The URI schemes :func:`for_uri` accepts: the types whose class has ``from_uri``, sorted."""
    return tuple(name for name in types() if callable(getattr(_PROVIDERS[name], "from_uri", None)))


def for_uri(uri: str) -> base.UriKeyProvider:
    """The provider for a key URI (``<scheme>://...``), built by its class's ``from_uri``.

    UnknownKeyUri (exit 2) names the scheme and lists the known ones when no registered
    key-service provider handles it; a malformed rest of the URI is the provider's to refuse.
    """
    scheme, separator, _ = uri.partition("://")
    known = schemes()
    if not separator or scheme not in known:
        shown = scheme if separator else uri[:40]
        raise UnknownKeyUri(
            f"unknown key URI scheme {shown!r}: expected one of {', '.join(known) or 'none'}"
        )
    cls = cast(type[base.UriKeyProvider], _PROVIDERS[scheme])
    return cls.from_uri(uri)
