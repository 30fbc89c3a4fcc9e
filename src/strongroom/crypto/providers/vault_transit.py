"""The ``hcvault`` keyslot: the keyring wrapped by Vault (or OpenBao) Transit (docs/kms.md).

URI ``hcvault://<key>`` for a key on the ``transit`` mount, ``hcvault://<key>?mount=<path>``
for another mount. The server and token come from ``VAULT_ADDR``, ``VAULT_TOKEN`` (else the
CLI's ``~/.vault-token``), ``VAULT_NAMESPACE``, ``VAULT_CACERT`` and ``VAULT_SKIP_VERIFY``.

``wrap`` is one ``encrypt`` with ``associated_data`` = base64 of the canonical slot context,
so the key must be an AEAD type (``aes256-gcm96``, ``aes128-gcm96``, ``chacha20-poly1305``);
others are refused. ``wrapped`` is the ASCII ``vault:vN:...`` ciphertext and the type fields
are ``{"uri": ..., "keyVersion": N}``. ``unwrap`` is one ``decrypt`` with the same data.

``rewrap`` moves a slot to the newest key version. Transit's own ``rewrap`` endpoint takes no
associated data, so it is a ``decrypt`` then an ``encrypt`` (the keyring passes through this
process's memory, never stored) and needs both permissions.

Errors: 403/401, unknown keys and mounts -> :class:`errors.KeyServiceDenied` (exit 7); a failed
authentication (wrong context, altered ciphertext) -> :class:`errors.IntegrityError` (exit 4);
429, 5xx and connection failures are retried (:mod:`._kmscall`), then
:class:`errors.KeyServiceUnreachable` (exit 8). Every message names the URI and the slot.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import os
import pathlib
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import hvac
import hvac.exceptions

from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base

T = TypeVar("T")
SCHEME = "hcvault://"
DEFAULT_MOUNT = "transit"
KEY_NAME = re.compile(r"\w(?:[\w.@-]*\w)?", re.ASCII)
MOUNT_PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)*", re.ASCII)
CIPHERTEXT = re.compile(rb"vault:v([1-9][0-9]{0,9}):[A-Za-z0-9+/]+={0,2}")
#: Connect and read timeout of each request.
TIMEOUT_SECONDS = 3
_INTEGRITY = ("message authentication failed", "invalid ciphertext", "could not decode")
_BAD_REQUESTS = {
    "non-AEAD": "the key type takes no associated data (use aes256-gcm96 or chacha20-poly1305)",
    "encryption key not found": "key not found",
    "too old": "the slot's key version is below the key's min_decryption_version",
}


def parse_uri(uri: str) -> tuple[str, str]:
    """``(key, mount)`` from ``hcvault://<key>[?mount=<path>]``; InvalidKeyUri if malformed."""
    head, _, query = uri.partition("?")
    key = head[len(SCHEME) :] if head.startswith(SCHEME) else ""
    try:
        params = urllib.parse.parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        params = {"": []}
    mounts = params.pop("mount", [DEFAULT_MOUNT])
    if KEY_NAME.fullmatch(key) is None or params or len(mounts) != 1:
        raise errors.InvalidKeyUri(f"{uri[:120]!r} is not hcvault://<key>[?mount=<path>]")
    if MOUNT_PATH.fullmatch(mounts[0]) is None:
        raise errors.InvalidKeyUri(f"{uri[:120]!r}: the mount path is malformed")
    return key, mounts[0]


def format_uri(key: str, mount: str) -> str:
    """The canonical URI: no query for the default mount."""
    return SCHEME + key + ("" if mount == DEFAULT_MOUNT else f"?mount={mount}")


@dataclasses.dataclass(frozen=True)
class VaultSettings:
    """Where the Vault server is and how to authenticate; :meth:`from_env` reads the usual."""

    addr: str
    token: str | None = dataclasses.field(default=None, repr=False)
    namespace: str | None = None
    #: False (``VAULT_SKIP_VERIFY``), a CA bundle path (``VAULT_CACERT``) or True.
    verify: bool | str = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VaultSettings:
        env = os.environ if env is None else env
        addr = env.get("VAULT_ADDR")
        if not addr:
            raise errors.KeyServiceError("hcvault: VAULT_ADDR is not set")
        token = env.get("VAULT_TOKEN") or _token_file()
        skip = env.get("VAULT_SKIP_VERIFY", "").lower() in {"1", "true", "yes"}
        verify: bool | str = False if skip else (env.get("VAULT_CACERT") or True)
        return cls(addr, token, env.get("VAULT_NAMESPACE") or None, verify)


def _token_file() -> str | None:
    path = pathlib.Path.home() / ".vault-token"
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


@dataclasses.dataclass(frozen=True)
class VaultTransitProvider:
    """Wraps and unwraps with the transit key ``key`` on ``mount``."""

    TYPE: ClassVar[str] = "hcvault"

    key: str
    mount: str = DEFAULT_MOUNT
    #: None: read from the environment when the first request is made.
    settings: VaultSettings | None = None
    backoff: _kmscall.Backoff = _kmscall.Backoff()
    #: The key version the last encrypt reported, for :meth:`fields`.
    _learned: dict[str, int] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def uri(self) -> str:
        return format_uri(self.key, self.mount)

    @functools.cached_property
    def _client(self) -> hvac.Client:
        s = self.settings or VaultSettings.from_env()
        if s.token is None:
            raise errors.KeyServiceDenied(f"{self.uri}: no Vault token (set VAULT_TOKEN)")
        return hvac.Client(
            url=s.addr, token=s.token, namespace=s.namespace, verify=s.verify,
            timeout=TIMEOUT_SECONDS,
        )  # fmt: skip

    @classmethod
    def from_uri(cls, uri: str) -> VaultTransitProvider:
        return cls(*parse_uri(uri))

    @classmethod
    def for_slot(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> VaultTransitProvider:
        """A provider for any well-formed hcvault slot (access comes from the environment)."""
        uri, version = fields.get("uri"), fields.get("keyVersion")
        if set(fields) != {"uri", "keyVersion"} or not isinstance(uri, str):
            raise errors.IntegrityError(
                "hcvault keyslot: fields are not exactly 'uri', 'keyVersion'"
            )
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise errors.IntegrityError(f"hcvault keyslot {uri[:120]!r}: 'keyVersion' malformed")
        try:
            return cls(*parse_uri(uri))
        except errors.InvalidKeyUri as exc:
            raise errors.IntegrityError(f"hcvault keyslot: {exc}") from None

    def fields(self) -> dict[str, Any]:
        """``uri`` and ``keyVersion``; before any wrap this costs one key read."""
        version = self._learned.get("version")
        if version is None:
            response = self._call(self.uri, lambda t: t.read_key(self.key, mount_point=self.mount))
            version = int(response["data"]["latest_version"])
        return {"uri": self.uri, "keyVersion": version}

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        label = _kmscall.slot_label(self.uri, context)
        response = self._call(
            label,
            lambda t: t.encrypt_data(
                self.key, plaintext=_b64(secret), associated_data=_b64(context),
                mount_point=self.mount,
            ),
        )  # fmt: skip
        wrapped = str(response["data"]["ciphertext"]).encode("ascii")
        self._learned["version"] = key_version(wrapped, label)
        return wrapped

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        label = _kmscall.slot_label(self.uri, context)
        key_version(wrapped, label)
        response = self._call(
            label,
            lambda t: t.decrypt_data(
                self.key, ciphertext=wrapped.decode("ascii"), associated_data=_b64(context),
                mount_point=self.mount,
            ),
        )  # fmt: skip
        try:
            return base64.b64decode(response["data"]["plaintext"], validate=True)
        except (binascii.Error, KeyError, TypeError) as exc:
            raise errors.KeyServiceError(f"{label}: Vault answered without a plaintext") from exc

    def rewrap(self, wrapped: bytes, context: bytes) -> bytes:
        """``wrapped`` re-encrypted under the key's newest version (a decrypt, then a wrap)."""
        return self.wrap(self.unwrap(wrapped, context), context)

    def _call(self, label: str, request: Callable[[Any], T]) -> T:
        """One transit request, retried while transient, its failures translated."""

        def attempt() -> T:
            try:
                return request(self._client.secrets.transit)
            except hvac.exceptions.VaultError as exc:
                raise _translate(label, exc) from exc
            except OSError as exc:  # requests' connection errors and timeouts
                raise _kmscall.Retry(f"no answer ({type(exc).__name__})") from exc

        try:
            return self.backoff.run(attempt)
        except _kmscall.Retry as exc:
            raise errors.KeyServiceUnreachable(
                f"{label}: Vault unreachable or busy after {self.backoff.attempts} attempts"
                f" ({exc.reason})"
            ) from exc


def key_version(wrapped: bytes, label: str) -> int:
    """N in ``vault:vN:...``; IntegrityError if ``wrapped`` is not a transit ciphertext."""
    found = CIPHERTEXT.fullmatch(wrapped)
    if found is None:
        raise errors.IntegrityError(f"{label}: the wrapped keyring is not a vault:vN: ciphertext")
    return int(found.group(1))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _translate(label: str, exc: hvac.exceptions.VaultError) -> Exception:
    """The error (or :class:`_kmscall.Retry`) a Vault error response stands for."""
    text = " ".join(str(item) for item in exc.errors) if exc.errors else str(exc)
    if isinstance(exc, hvac.exceptions.Forbidden | hvac.exceptions.Unauthorized):
        return errors.KeyServiceDenied(f"{label}: permission denied by Vault")
    if isinstance(exc, hvac.exceptions.InvalidPath):
        return errors.KeyServiceDenied(f"{label}: no such key or transit mount")
    if isinstance(
        exc,
        hvac.exceptions.RateLimitExceeded
        | hvac.exceptions.InternalServerError
        | hvac.exceptions.BadGateway
        | hvac.exceptions.VaultDown,
    ):
        return _kmscall.Retry(f"HTTP {exc.__class__.__name__}")
    if isinstance(exc, hvac.exceptions.InvalidRequest):
        if any(marker in text for marker in _INTEGRITY):
            return errors.IntegrityError(
                f"{label}: Vault refused the wrapped keyring (altered, or bound to another slot)"
            )
        for marker, meaning in _BAD_REQUESTS.items():
            if marker in text:
                cls = errors.KeyServiceError if marker == "non-AEAD" else errors.KeyServiceDenied
                return cls(f"{label}: {meaning}")
    return errors.KeyServiceError(f"{label}: Vault error ({exc.__class__.__name__})")
