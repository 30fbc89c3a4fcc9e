"""The ``azure-kv`` keyslot: the keyring sealed under a slot key that Key Vault wraps (§4.2).

The only module that imports the Azure SDK.

- URI: ``azure-kv://<vault>.vault.azure.net/keys/<name>[/<version>]`` (an RSA key; without a
  version Key Vault uses the current one). Sovereign-cloud vault domains are accepted too.
- RSA key wrapping has no associated data and RSA-OAEP-256 with a 2048-bit key wraps at most
  190 bytes, while the keyring grows by 80+ bytes per epoch. So a slot is an envelope::

      slot key  = 32 random bytes
      sealed    = wrapKey(RSA-OAEP-256, canonical(context) || 0x00 || slot key)
      wrapped   = len(sealed) (2 bytes, big-endian) || sealed
                  || nonce (12) || AES-256-GCM(slot key, nonce, canonical(keyring),
                                               aad = canonical(context))

  After ``unwrapKey`` the plaintext must be exactly ``canonical(context) || 0x00 || 32 bytes``
  (canonical JSON holds no NUL byte): anything else is :class:`errors.IntegrityError`, checked
  before the keyring is decrypted. A failed AES-GCM tag is an integrity error too.
- Clear fields: ``{"uri": <the URI>, "keyId": <the kid Key Vault returned on wrap>}``.
- One Key Vault operation per wrap (``wrapKey``) and per unwrap (``unwrapKey``). The SDK also
  reads the key first (``GET /keys/<name>/<version>``, keys/get permission); with that
  permission it wraps locally with the public key, without it (403) it calls ``wrapKey``.

Environment: the credential is azure-identity's ``DefaultAzureCredential`` (environment,
workload identity, managed identity, Azure CLI ...). ``STRONGROOM_AZURE_KV_ENDPOINT``
(``https://host[:port]``) replaces the vault's scheme, host and port, for a private endpoint
or an emulator; the URI still names the vault, and since such a host cannot match the
resource in Key Vault's authentication challenge, the client does not check that match. Its
TLS certificate is checked against the system store or ``REQUESTS_CA_BUNDLE``.

Errors: refused credentials, missing permission or an unknown key -> :class:`KeyServiceDenied`
(exit 7); busy (429), server errors (5xx) or no answer -> retried (:mod:`._kmscall`),
then :class:`KeyServiceUnreachable` (exit 8); an ``unwrapKey`` refused as invalid (400) ->
:class:`errors.IntegrityError`. Messages name the slot and the key URI.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import azure.core.exceptions as aexc
from azure.core.credentials import TokenCredential
from azure.identity import CredentialUnavailableError, DefaultAzureCredential
from azure.keyvault.keys import crypto as kvcrypto
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import aead

from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base

T = TypeVar("T")
SCHEME = "azure-kv://"
ENDPOINT_ENV = "STRONGROOM_AZURE_KV_ENDPOINT"
SLOT_KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
#: Seconds to connect, and to wait for an answer, before a request counts as unanswered.
CONNECT_TIMEOUT, READ_TIMEOUT = 2, 5
_DOMAINS = (
    "vault.azure.net|vault.azure.cn|vault.usgovcloudapi.net|vault.microsoftazure.de"
    "|managedhsm.azure.net"
)
_URI = re.compile(
    rf"(?P<host>[A-Za-z][A-Za-z0-9-]{{1,22}}[A-Za-z0-9]\.(?:{_DOMAINS}))"
    r"/keys/(?P<name>[A-Za-z0-9-]{1,127})(?:/(?P<version>[0-9A-Za-z]{1,64}))?"
)
_TRANSIENT = (aexc.ServiceRequestError, aexc.ServiceResponseError)


@dataclasses.dataclass(frozen=True)
class KeyName:
    """A Key Vault key: vault host, key name, and version ("" for the current one)."""

    host: str
    name: str
    version: str = ""

    @classmethod
    def parse(cls, uri: str) -> KeyName:
        match = _URI.fullmatch(uri.removeprefix(SCHEME)) if uri.startswith(SCHEME) else None
        if match is None:
            raise errors.InvalidKeyUri(
                f"invalid Azure Key Vault key URI {uri[:200]!r}: expected "
                "azure-kv://<vault>.vault.azure.net/keys/<name>[/<version>]"
            )
        return cls(match["host"].lower(), match["name"], match["version"] or "")

    def uri(self) -> str:
        return f"{SCHEME}{self.host}/keys/{self.name}" + (
            f"/{self.version}" if self.version else ""
        )


@dataclasses.dataclass(frozen=True)
class AzureKeyVaultProvider:
    """Wraps and unwraps slot keys with the Key Vault RSA key ``key``."""

    TYPE: ClassVar[str] = "azure-kv"

    key: KeyName
    #: The credential; None means azure-identity's DefaultAzureCredential.
    credential: TokenCredential | None = dataclasses.field(default=None, repr=False, compare=False)
    backoff: _kmscall.Backoff = dataclasses.field(default=_kmscall.Backoff(), compare=False)
    rng: Callable[[int], bytes] = dataclasses.field(default=os.urandom, repr=False, compare=False)
    #: The kid of the last wrap, reported by :meth:`fields`.
    _kids: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @classmethod
    def from_uri(cls, uri: str) -> AzureKeyVaultProvider:
        return cls(KeyName.parse(uri))

    @classmethod
    def for_slot(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> AzureKeyVaultProvider | None:
        uri = fields.get("uri")
        if not isinstance(uri, str):
            raise errors.IntegrityError("azure-kv keyslot: 'uri' missing or not a string")
        try:
            return cls(KeyName.parse(uri))
        except errors.InvalidKeyUri:
            raise errors.IntegrityError("azure-kv keyslot: malformed 'uri'") from None

    def fields(self) -> dict[str, Any]:
        found = {"uri": self.key.uri()}
        if self._kids:
            found["keyId"] = self._kids[-1]
        return found

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        slot_key, nonce = self.rng(SLOT_KEY_SIZE), self.rng(NONCE_SIZE)
        if len(slot_key) != SLOT_KEY_SIZE or len(nonce) != NONCE_SIZE:
            raise errors.CryptoError("azure-kv keyslot: random source returned a short read")
        algorithm = kvcrypto.KeyWrapAlgorithm.rsa_oaep_256
        kids: list[str] = []
        result = self._call(
            "azure-kv keyslot " + _kmscall.slot_label(self.key.uri(), context),
            "wrapKey",
            lambda client: client.wrap_key(
                algorithm,
                context + b"\x00" + slot_key,
                connection_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                raw_response_hook=functools.partial(_record_kid, kids),
            ),
        )
        sealed = bytes(result.encrypted_key)
        kid = kids[-1] if kids else result.key_id
        if kid:
            self._kids.append(kid)
        body = aead.AESGCM(slot_key).encrypt(nonce, secret, context)
        return len(sealed).to_bytes(2, "big") + sealed + nonce + body

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        where = "azure-kv keyslot " + _kmscall.slot_label(self.key.uri(), context)
        size = int.from_bytes(wrapped[:2], "big")
        sealed, rest = wrapped[2 : 2 + size], wrapped[2 + size :]
        if len(wrapped) < 2 or size == 0 or len(sealed) < size or len(rest) < NONCE_SIZE + TAG_SIZE:
            raise errors.IntegrityError(f"{where}: wrapped value is truncated")
        algorithm = kvcrypto.KeyWrapAlgorithm.rsa_oaep_256
        result = self._call(
            where,
            "unwrapKey",
            lambda client: client.unwrap_key(
                algorithm, sealed, connection_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT
            ),
        )
        opened = bytes(result.key)
        if len(opened) != len(context) + 1 + SLOT_KEY_SIZE or not opened.startswith(
            context + b"\x00"
        ):
            raise errors.IntegrityError(f"{where}: the slot key was made for another context")
        try:
            return aead.AESGCM(opened[-SLOT_KEY_SIZE:]).decrypt(
                rest[:NONCE_SIZE], rest[NONCE_SIZE:], context
            )
        except InvalidTag:
            raise errors.IntegrityError(
                f"{where}: the sealed keyring failed authentication"
            ) from None

    def _client(self, credential: TokenCredential) -> kvcrypto.CryptographyClient:
        endpoint = os.environ.get(ENDPOINT_ENV, "").strip().rstrip("/")
        if endpoint and not endpoint.startswith("https://"):
            raise errors.KeyServiceError(
                f"{ENDPOINT_ENV} must be an https:// URL: Key Vault tokens never travel in clear"
            )
        key_id = f"{endpoint or 'https://' + self.key.host}/keys/{self.key.name}/{self.key.version}"
        return kvcrypto.CryptographyClient(
            key_id.rstrip("/"),
            credential,
            verify_challenge_resource=not endpoint,
            retry_total=0,
        )

    def _call(self, where: str, verb: str, call: Callable[[kvcrypto.CryptographyClient], T]) -> T:
        """``call(client)`` with retries, SDK errors translated; ``where`` names the slot."""
        credential = self.credential or DefaultAzureCredential()

        def attempt() -> T:
            try:
                with self._client(credential) as client:
                    return call(client)
            except _TRANSIENT as exc:
                raise _kmscall.Retry(type(exc).__name__) from exc
            except aexc.HttpResponseError as exc:
                if exc.status_code == 429 or (exc.status_code or 0) >= 500:
                    raise _kmscall.Retry(f"HTTP {exc.status_code}") from exc
                raise

        try:
            return self.backoff.run(attempt)
        except _kmscall.Retry as exc:
            raise errors.KeyServiceUnreachable(
                f"{where}: Key Vault did not answer {verb} ({exc.reason}, after retries)"
            ) from exc
        except aexc.AzureError as exc:
            raise _translate(where, verb, exc) from exc
        finally:
            if self.credential is None:
                close = getattr(credential, "close", None)
                if callable(close):
                    close()


def _record_kid(found: list[str], response: Any) -> None:
    """Keep the ``kid`` of a successful answer: wrapKey's, or the key's when read (GET)."""
    answer = response.http_response
    if answer.status_code != 200:
        return
    try:
        body = answer.json()
    except ValueError:
        return
    if isinstance(body, dict):
        key = body.get("key")
        kid = body.get("kid") or (key.get("kid") if isinstance(key, dict) else None)
        if isinstance(kid, str):
            found.append(kid)


def _translate(where: str, verb: str, exc: aexc.AzureError) -> errors.CryptoError:
    """The crypto error for a Key Vault or credential failure that retrying did not cure."""
    no_answer = isinstance(exc, aexc.HttpResponseError) and exc.response is None
    if isinstance(exc, CredentialUnavailableError) or (
        isinstance(exc, aexc.ClientAuthenticationError) and no_answer
    ):
        return errors.KeyServiceDenied(f"{where}: could not get an Azure token for {verb}")
    if isinstance(exc, aexc.ResourceNotFoundError):
        return errors.KeyServiceDenied(f"{where}: Key Vault has no such key")
    if isinstance(exc, aexc.ClientAuthenticationError):
        return errors.KeyServiceDenied(f"{where}: Key Vault refused the credential for {verb}")
    status = exc.status_code if isinstance(exc, aexc.HttpResponseError) else None
    if status == 403:
        return errors.KeyServiceDenied(f"{where}: Key Vault refused {verb} (HTTP 403)")
    if status == 400 and verb == "unwrapKey":
        return errors.IntegrityError(
            f"{where}: Key Vault refused to unwrap it (altered, or made for another key)"
        )
    return errors.KeyServiceError(f"{where}: Key Vault failed {verb} ({type(exc).__name__})")
