"""The ``aws-kms`` keyslot: the keyring wrapped by AWS KMS ``Encrypt`` (docs/kms.md).

URI ``aws-kms://<key id | key ARN | alias/name>``. Region, credentials, profile and endpoint
come from the standard AWS configuration: ``AWS_REGION`` or ``AWS_DEFAULT_REGION``,
``AWS_PROFILE``, the credential chain, ``AWS_ENDPOINT_URL_KMS`` / ``AWS_ENDPOINT_URL``
(honoured by botocore itself). Nothing in :class:`base.Credentials` is used.

``wrap`` is one ``Encrypt`` with ``EncryptionContext`` = the slot context as a flat string map
(``format``, ``purpose``, ``repository``, ``slot``, and for v2 slots ``epoch``). CloudTrail
logs the encryption context in clear: it holds identifiers only, never secrets. ``unwrap`` is
one ``Decrypt`` naming the key of the URI (never the ``keyArn`` a stored slot records, which is
only shown); ``rewrap`` is one ``ReEncrypt`` (same context on both sides), so the keyring
never leaves KMS. Type fields: ``{"uri": ..., "keyArn": <ARN Encrypt reported>}``.

Errors: refused, unknown or disabled keys -> :class:`errors.KeyServiceDenied` (exit 7);
``InvalidCiphertextException`` (wrong context, altered blob) -> :class:`errors.IntegrityError`
(exit 4); throttling, 5xx and connection failures are retried (:mod:`._kmscall`), then
:class:`errors.KeyServiceUnreachable` (exit 8). Every message names the URI and the slot.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from strongroom.crypto import errors
from strongroom.crypto.providers import _kmscall, base

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient

T = TypeVar("T")
SCHEME = "aws-kms://"
#: KMS ``Encrypt`` takes at most 4096 bytes of plaintext.
MAX_PLAINTEXT = 4096
CONTEXT_KEYS = frozenset({"format", "purpose", "repository", "slot"})
#: Keyslot v2 contexts also name the epoch (format §4.2).
CONTEXT_KEYS_V2 = CONTEXT_KEYS | {"epoch"}
_KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_ALIAS = r"alias/[A-Za-z0-9/_-]{1,250}"
_ARN_HEAD = r"arn:aws[a-z-]*:kms:[a-z0-9-]{1,32}:[0-9]{12}:"
KEY_ARN = re.compile(_ARN_HEAD + "key/" + _KEY_ID)
KEY_NAME = re.compile(f"{_KEY_ID}|{_ALIAS}|{_ARN_HEAD}(?:key/{_KEY_ID}|{_ALIAS})")
_DENIED = {
    "AccessDeniedException": "access denied",
    "NotFoundException": "key not found",
    "DisabledException": "key disabled",
    "KMSInvalidStateException": "key not usable in its current state",
    "IncorrectKeyException": "the slot was wrapped under another key",
    "InvalidKeyUsageException": "key is not a symmetric encryption key",
    "UnrecognizedClientException": "credentials refused",
    "InvalidSignatureException": "credentials refused",
    "ExpiredTokenException": "credentials expired",
}
_BUSY = {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException"}
_BUSY |= {"KeyUnavailableException", "RequestLimitExceeded", "ServiceUnavailable"}
_CONFIG = botocore.config.Config(
    connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 1, "mode": "standard"}
)


def parse_uri(uri: str) -> str:
    """The key name in ``aws-kms://<name>``; :class:`errors.InvalidKeyUri` if malformed."""
    name = uri[len(SCHEME) :] if uri.startswith(SCHEME) else None
    if name is None or KEY_NAME.fullmatch(name) is None:
        raise errors.InvalidKeyUri(
            f"{uri[:120]!r} is not aws-kms://<key id | key ARN | alias/name>"
        )
    return name


def encryption_context(context: bytes) -> dict[str, str]:
    """The canonical slot context as KMS ``EncryptionContext``: its four string fields."""
    try:
        value = json.loads(context)
    except ValueError:
        value = None
    if (
        not isinstance(value, dict)
        or set(value) not in (CONTEXT_KEYS, CONTEXT_KEYS_V2)
        or not all(isinstance(item, str) for item in value.values())
    ):
        raise errors.CryptoError("aws-kms keyslot: the slot context is not a keyslot context")
    return value


def make_client() -> KMSClient:
    """A KMS client from the environment, botocore's retries off, short timeouts."""
    session = boto3.session.Session()
    region = session.region_name or os.environ.get("AWS_REGION") or None
    try:
        return session.client("kms", region_name=region, config=_CONFIG)
    except botocore.exceptions.NoRegionError:
        raise errors.KeyServiceError(
            "aws-kms: no AWS region configured (set AWS_REGION or a profile region)"
        ) from None


@dataclasses.dataclass(frozen=True)
class AwsKmsProvider:
    """Wraps and unwraps with the KMS key ``key`` (id, ARN or alias)."""

    TYPE: ClassVar[str] = "aws-kms"

    key: str
    #: The key ARN recorded in an existing slot (``keyArn``): shown, never called.
    key_arn: str | None = None
    backoff: _kmscall.Backoff = _kmscall.Backoff()
    client_factory: Callable[[], KMSClient] = dataclasses.field(
        default=make_client, repr=False, compare=False
    )
    #: The ARN ``Encrypt`` or ``DescribeKey`` reported, for :meth:`fields`.
    _learned: dict[str, str] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def uri(self) -> str:
        return SCHEME + self.key

    @functools.cached_property
    def _client(self) -> KMSClient:
        return self.client_factory()

    @classmethod
    def from_uri(cls, uri: str) -> AwsKmsProvider:
        return cls(parse_uri(uri))

    @classmethod
    def for_slot(cls, fields: Mapping[str, Any], credentials: base.Credentials) -> AwsKmsProvider:
        """A provider for any well-formed aws-kms slot (access comes from the environment).

        ``Decrypt`` names the key of the slot's ``uri`` (which the repository layer checked
        against the client's configuration), not the slot's ``keyArn``: a stored field never
        decides which key is called. ``keyArn`` is kept for display."""
        uri, arn = fields.get("uri"), fields.get("keyArn")
        if set(fields) != {"uri", "keyArn"} or not isinstance(uri, str) or not isinstance(arn, str):
            raise errors.IntegrityError("aws-kms keyslot: fields are not exactly 'uri', 'keyArn'")
        if KEY_ARN.fullmatch(arn) is None:
            raise errors.IntegrityError(f"aws-kms keyslot {uri[:120]!r}: 'keyArn' is malformed")
        try:
            return cls(parse_uri(uri), arn)
        except errors.InvalidKeyUri as exc:
            raise errors.IntegrityError(f"aws-kms keyslot: {exc}") from None

    def fields(self) -> dict[str, Any]:
        """``uri`` and ``keyArn``; before any wrap this costs one ``DescribeKey``."""
        arn = self.key_arn or self._learned.get("arn")
        if arn is None and KEY_ARN.fullmatch(self.key):
            arn = self.key
        if arn is None:
            response = self._call(self.uri, lambda c: c.describe_key(KeyId=self.key))
            arn = self._learned.setdefault("arn", response["KeyMetadata"]["Arn"])
        return {"uri": self.uri, "keyArn": arn}

    def wrap(self, secret: bytes, context: bytes) -> bytes:
        if len(secret) > MAX_PLAINTEXT:
            raise errors.KeyServiceError(
                f"{self.uri}: a keyring of {len(secret)} bytes exceeds the KMS limit of 4096"
            )
        ctx = encryption_context(context)
        label = _kmscall.slot_label(self.uri, context)
        response = self._call(
            label, lambda c: c.encrypt(KeyId=self.key, Plaintext=secret, EncryptionContext=ctx)
        )
        self._learned["arn"] = response["KeyId"]
        return response["CiphertextBlob"]

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        ctx = encryption_context(context)
        label = _kmscall.slot_label(self.uri, context)
        if not wrapped:
            raise errors.IntegrityError(f"{label}: the wrapped keyring is empty")
        key = self.key
        response = self._call(
            label,
            lambda c: c.decrypt(CiphertextBlob=wrapped, EncryptionContext=ctx, KeyId=key),
        )
        return response["Plaintext"]

    def rewrap(self, wrapped: bytes, context: bytes) -> bytes:
        """``wrapped`` re-encrypted by KMS under the current material of this provider's key.

        One ``ReEncrypt``: the keyring is never returned to the caller. Source and destination are
        this provider's key (a key rotated in KMS re-encrypts under its current material); the
        context is unchanged.
        """
        ctx = encryption_context(context)
        label = _kmscall.slot_label(self.uri, context)
        if not wrapped:
            raise errors.IntegrityError(f"{label}: the wrapped keyring is empty")
        source = self.key
        response = self._call(
            label,
            lambda c: c.re_encrypt(
                CiphertextBlob=wrapped,
                SourceEncryptionContext=ctx,
                SourceKeyId=source,
                DestinationKeyId=self.key,
                DestinationEncryptionContext=ctx,
            ),
        )
        self._learned["arn"] = response["KeyId"]
        return response["CiphertextBlob"]

    def _call(self, label: str, request: Callable[[KMSClient], T]) -> T:
        """One KMS request, retried while transient, its failures translated."""

        def attempt() -> T:
            try:
                return request(self._client)
            except botocore.exceptions.ClientError as exc:
                raise _translate(label, exc) from exc
            except (
                botocore.exceptions.ConnectionError,
                botocore.exceptions.HTTPClientError,
            ) as exc:
                raise _kmscall.Retry(f"no answer ({type(exc).__name__})") from exc

        try:
            return self.backoff.run(attempt)
        except _kmscall.Retry as exc:
            raise errors.KeyServiceUnreachable(
                f"{label}: AWS KMS unreachable or busy after {self.backoff.attempts} attempts"
                f" ({exc.reason})"
            ) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise errors.KeyServiceDenied(f"{label}: no AWS credentials found") from exc
        except botocore.exceptions.ParamValidationError as exc:
            raise errors.IntegrityError(f"{label}: request refused before sending") from exc


def _translate(label: str, exc: botocore.exceptions.ClientError) -> Exception:
    """The error (or :class:`_kmscall.Retry`) a KMS error response stands for."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _BUSY or status == 429 or status >= 500:
        return _kmscall.Retry(f"{code or 'HTTP'} {status}")
    if code == "InvalidCiphertextException":
        return errors.IntegrityError(
            f"{label}: KMS refused the wrapped keyring (altered, or bound to another slot)"
        )
    if code in _DENIED:
        return errors.KeyServiceDenied(f"{label}: {_DENIED[code]} ({code})")
    return errors.KeyServiceError(f"{label}: AWS KMS error {code or status}")
