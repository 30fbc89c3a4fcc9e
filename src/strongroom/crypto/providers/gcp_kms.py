"""The ``gcp-kms`` keyslot: the keyring encrypted by a Cloud KMS key (format.md §4.2).

The only module that imports the Google Cloud client libraries.

- URI: ``gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K`` (a symmetric
  ``ENCRYPT_DECRYPT`` key; Cloud KMS picks its primary version when encrypting).
- ``wrapped`` = the Cloud KMS ciphertext of ``canonical(keyring)`` encrypted with
  ``additional_authenticated_data = canonical(context)``, so a slot moved to another context
  fails to decrypt (Cloud KMS answers INVALID_ARGUMENT: :class:`errors.IntegrityError`).
- Clear fields: ``{"uri": <the URI>, "keyVersion": <the cryptoKeyVersion that encrypted>}``.
- Integrity in transit, as Google documents it: every request carries the CRC32C of its
  plaintext or ciphertext and of the AAD; an encrypt answer must report both as verified and
  carry a ciphertext matching its ``ciphertext_crc32c``; a decrypt answer's plaintext must
  match its ``plaintext_crc32c``. Any mismatch is :class:`errors.IntegrityError`.
- One Cloud KMS request per wrap and per unwrap (plus retries of transient failures).

Environment: credentials are Application Default Credentials. ``STRONGROOM_GCP_KMS_ENDPOINT``
replaces the endpoint (default ``https://cloudkms.googleapis.com``), for a private endpoint
(``https://host[:port]``, with credentials) or a local emulator (``http://127.0.0.1:port``, to
which no credentials are ever sent, since a bearer token must not travel in clear).

Errors: refused credentials, permission denied or an unknown key -> :class:`KeyServiceDenied`
(exit 7); busy (429), server errors (5xx) or no answer -> retried (:mod:`._kmscall`),
then :class:`KeyServiceUnreachable` (exit 8). Messages name the slot and the key URI.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import google.api_core.exceptions as gexc
import google.auth.credentials
import google.auth.exceptions
import google_crc32c
import requests
from google.api_core import client_options
from google.cloud import kms_v1

from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base

T = TypeVar("T")
SCHEME = "gcp-kms://"
ENDPOINT_ENV = "STRONGROOM_GCP_KMS_ENDPOINT"
#: Seconds one request may take before it counts as unanswered.
TIMEOUT = 5.0
_NAME = re.compile(
    r"projects/[a-z0-9][a-z0-9.:-]{0,99}/locations/[a-z0-9-]{1,63}"
    r"/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}"
)
_TRANSIENT = (
    gexc.TooManyRequests,
    gexc.ServerError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    google.auth.exceptions.TransportError,
)
_DENIED = (gexc.Unauthorized, gexc.Forbidden, google.auth.exceptions.GoogleAuthError)


def parse_uri(uri: str) -> str:
    """The crypto key resource name ``uri`` names; errors.InvalidKeyUri otherwise."""
    name = uri.removeprefix(SCHEME)
    if not uri.startswith(SCHEME) or _NAME.fullmatch(name) is None:
        raise errors.InvalidKeyUri(
            f"invalid GCP KMS key URI {uri[:200]!r}: expected "
            "gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K"
        )
    return name


def crc32c(data: bytes) -> int:
    """The CRC32C checksum Cloud KMS uses for its integrity fields."""
    return int(google_crc32c.value(data))


@dataclasses.dataclass(frozen=True)
class GcpKmsProvider:
    """Wraps and unwraps with the Cloud KMS key ``name`` (a resource name, not the URI)."""

    TYPE: ClassVar[str] = "gcp-kms"

    name: str
    #: Credentials for the client; None means Application Default Credentials.
    credentials: google.auth.credentials.Credentials | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    backoff: _kmscall.Backoff = dataclasses.field(default=_kmscall.Backoff(), compare=False)
    #: The cryptoKeyVersion of the last wrap, reported by :meth:`fields`.
    _versions: list[str] = dataclasses.field(default_factory=list, repr=False, compare=False)

    @property
    def uri(self) -> str:
        return SCHEME + self.name

    @classmethod
    def from_uri(cls, uri: str) -> GcpKmsProvider:
        return cls(parse_uri(uri))

    @classmethod
    def for_slot(
        cls, fields: Mapping[str, Any], credentials: base.Credentials
    ) -> GcpKmsProvider | None:
        uri = fields.get("uri")
        if not isinstance(uri, str):
            raise errors.IntegrityError("gcp-kms keyslot: 'uri' missing or not a string")
        try:
            return cls(parse_uri(uri))
        except errors.InvalidKeyUri:
            raise errors.IntegrityError("gcp-kms keyslot: malformed 'uri'") from None

    def fields(self) -> dict[str, Any]:
        found = {"uri": self.uri}
        if self._versions:
            found["keyVersion"] = self._versions[-1]
        return found

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        request = kms_v1.EncryptRequest(
            name=self.name,
            plaintext=secret,
            plaintext_crc32c=crc32c(secret),
            additional_authenticated_data=context,
            additional_authenticated_data_crc32c=crc32c(context),
        )
        where = "gcp-kms keyslot " + _kmscall.slot_label(self.uri, context)
        answer = self._call(
            where, "encrypt", lambda client: client.encrypt(request, retry=None, timeout=TIMEOUT)
        )
        if not (
            answer.verified_plaintext_crc32c
            and answer.verified_additional_authenticated_data_crc32c
            and answer.ciphertext_crc32c == crc32c(answer.ciphertext)
        ):
            raise errors.IntegrityError(f"{where}: the encrypt answer failed its CRC32C checks")
        if not answer.name.startswith(self.name + "/cryptoKeyVersions/"):
            raise errors.IntegrityError(f"{where}: Cloud KMS answered for another key")
        self._versions.append(answer.name)
        return bytes(answer.ciphertext)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        where = "gcp-kms keyslot " + _kmscall.slot_label(self.uri, context)
        if not wrapped:
            raise errors.IntegrityError(f"{where}: wrapped value is empty")
        request = kms_v1.DecryptRequest(
            name=self.name,
            ciphertext=wrapped,
            ciphertext_crc32c=crc32c(wrapped),
            additional_authenticated_data=context,
            additional_authenticated_data_crc32c=crc32c(context),
        )
        answer = self._call(
            where, "decrypt", lambda client: client.decrypt(request, retry=None, timeout=TIMEOUT)
        )
        if answer.plaintext_crc32c != crc32c(answer.plaintext):
            raise errors.IntegrityError(f"{where}: the decrypt answer failed its CRC32C check")
        return bytes(answer.plaintext)

    def _client(self) -> kms_v1.KeyManagementServiceClient:
        endpoint = os.environ.get(ENDPOINT_ENV, "").strip()
        options = client_options.ClientOptions(api_endpoint=endpoint or None)
        credentials = self.credentials
        if endpoint.startswith("http://"):
            credentials = google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]
        return kms_v1.KeyManagementServiceClient(
            credentials=credentials, transport="rest", client_options=options
        )

    def _call(
        self, where: str, verb: str, call: Callable[[kms_v1.KeyManagementServiceClient], T]
    ) -> T:
        """``call(client)`` with retries, SDK errors translated; ``where`` names the slot."""

        def attempt() -> T:
            try:
                return call(self._client())
            except _TRANSIENT as exc:
                raise _kmscall.Retry(type(exc).__name__) from exc

        try:
            return self.backoff.run(attempt)
        except _kmscall.Retry as exc:
            raise errors.KeyServiceUnreachable(
                f"{where}: Cloud KMS did not answer {verb} ({exc.reason}, after retries)"
            ) from exc
        except (gexc.GoogleAPICallError, google.auth.exceptions.GoogleAuthError) as exc:
            raise _translate(where, verb, exc) from exc


def _status(exc: gexc.GoogleAPICallError) -> str:
    """The canonical status name in a REST error answer (``FAILED_PRECONDITION`` ...)."""
    try:
        error = exc.response.json().get("error", {}) if exc.response is not None else {}
    except (ValueError, AttributeError):
        return ""
    status = error.get("status") if isinstance(error, dict) else None
    return status if isinstance(status, str) else ""


def _translate(where: str, verb: str, exc: Exception) -> errors.CryptoError:
    """The crypto error for a Cloud KMS or credentials failure that retrying did not cure."""
    if isinstance(exc, google.auth.exceptions.DefaultCredentialsError):
        return errors.KeyServiceDenied(f"{where}: no Application Default Credentials found")
    if isinstance(exc, gexc.NotFound):
        return errors.KeyServiceDenied(f"{where}: Cloud KMS has no such key")
    if isinstance(exc, _DENIED):
        return errors.KeyServiceDenied(f"{where}: Cloud KMS refused {verb} ({type(exc).__name__})")
    if isinstance(exc, gexc.BadRequest) and _status(exc) == "FAILED_PRECONDITION":
        return errors.KeyServiceDenied(f"{where}: the key version is not enabled for {verb}")
    if isinstance(exc, gexc.BadRequest) and verb == "decrypt":
        return errors.IntegrityError(
            f"{where}: Cloud KMS refused to decrypt it (altered, or made for another context)"
        )
    return errors.KeyServiceError(f"{where}: Cloud KMS failed {verb} ({type(exc).__name__})")
