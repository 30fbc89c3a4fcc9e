"""The keyslot types Strongroom knows: ``type`` name -> provider class.

Built-in providers register when :mod:`strongroom.crypto.providers` is imported; a provider
module for another key service (one module per SDK) calls :func:`register` the same way. The
table is written only while modules are imported, never while a command runs.

A key-service provider (:class:`base.UriKeyProvider`, one with a ``from_uri`` classmethod) is
also reachable by URI: its scheme is its type, so ``for_uri("aws-kms://alias/x")`` asks the
``aws-kms`` class. That is how ``--kms URI`` picks a provider.
"""

from __future__ import annotations

import importlib
from typing import cast

from strongroom import errors as root_errors
from strongroom.crypto import errors
from strongroom.crypto.providers import base

_PROVIDERS: dict[str, type[base.KeyProvider]] = {}
#: Key-service providers known by name before their module (and its SDK) is imported:
#: type name -> (module, class name). Importing a cloud SDK costs a CLI run up to a second,
#: so it happens only when a slot of that type is used.
_DEFERRED: dict[str, tuple[str, str]] = {}


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


def register_deferred(type_name: str, module: str, class_name: str) -> None:
    """Make the key-service provider ``module.class_name`` known as ``type_name`` (and as a
    URI scheme) without importing it; the first :func:`get` imports and registers it."""
    if type_name not in _PROVIDERS:
        _DEFERRED[type_name] = (module, class_name)


def get(type_name: str) -> type[base.KeyProvider]:
    """The provider class for ``type_name``; UnknownSlotType names the type otherwise."""
    if type_name not in _PROVIDERS and type_name in _DEFERRED:
        module, class_name = _DEFERRED.pop(type_name)
        register(getattr(importlib.import_module(module), class_name))
    try:
        return _PROVIDERS[type_name]
    except KeyError:
        raise UnknownSlotType(f"unknown keyslot type {type_name!r}") from None


def types() -> tuple[str, ...]:
    """Every registered type name, sorted."""
    return tuple(sorted({*_PROVIDERS, *_DEFERRED}))


def schemes() -> tuple[str, ...]:
    """The URI schemes :func:`for_uri` accepts: deferred key-service types, and registered
    types whose class has ``from_uri``; sorted."""
    return tuple(
        name
        for name in types()
        if name in _DEFERRED or callable(getattr(_PROVIDERS[name], "from_uri", None))
    )


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
    cls = cast(type[base.UriKeyProvider], get(scheme))
    return cls.from_uri(uri)
