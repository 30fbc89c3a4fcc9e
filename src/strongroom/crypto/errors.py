"""The crypto layer's exceptions.

Every failure the crypto layer reports derives from :class:`CryptoError` and from the
:mod:`strongroom.errors` class that carries its exit code::

    CryptoError (StrongroomError, exit 1)
    ├── IntegrityError (errors.IntegrityError, 4)     bad MAC or tag, truncation, trailing
    │                                                  data, wrong bind stanza, bad header
    ├── NoMatchingIdentity (PermissionDeniedError, 7) no given identity opens the file
    ├── WrongPassphrase (PermissionDeniedError, 7)    no given passphrase opens the slot
    ├── InvalidKeyText (UsageError, 2)                malformed age recipient or identity text
    ├── InvalidKeyUri (UsageError, 2)                 malformed KMS key URI (``--kms``)
    ├── UnsupportedParameters (CryptoError, 1)        KDF parameters outside accepted limits
    ├── KeyServiceDenied (PermissionDeniedError, 7)   a KMS refused: permission, unknown key
    ├── KeyServiceUnreachable (UnreachableError, 8)   a KMS did not answer within the retry bound
    └── KeyServiceError (CryptoError, 1)              any other KMS failure

Messages are one line, name the object concerned and never contain key material, passphrases
or plaintext.
"""

from __future__ import annotations

from strongroom import errors


class CryptoError(errors.StrongroomError):
    """Base of every crypto failure."""


class IntegrityError(CryptoError, errors.IntegrityError):
    """Ciphertext failed authentication or does not follow the format: never use its output."""


class NoMatchingIdentity(CryptoError, errors.PermissionDeniedError):
    """None of the given identities can unwrap the file key: the wrong key was supplied."""


class WrongPassphrase(CryptoError, errors.PermissionDeniedError):
    """No supplied passphrase opens the keyslot (or the slot was altered: AES-GCM cannot tell)."""


class InvalidKeyText(CryptoError, errors.UsageError):
    """Text that should be an age recipient or identity is malformed."""


class InvalidKeyUri(CryptoError, errors.UsageError):
    """A key URI (``aws-kms://...``, ``hcvault://...``) that does not follow its scheme's form."""


class UnsupportedParameters(CryptoError):
    """KDF parameters outside what a reader accepts (memory, iterations, lanes, salt)."""


class KeyServiceDenied(CryptoError, errors.PermissionDeniedError):
    """A key service refused the request: missing permission, unknown key, refused credentials."""


class KeyServiceUnreachable(CryptoError, errors.UnreachableError):
    """A key service did not answer, or kept answering busy, within the retry bound."""


class KeyServiceError(CryptoError):
    """A key service answered with an error no other class describes."""
