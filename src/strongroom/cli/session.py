"""What commands open: the configured location's storage, its repository, the cluster.

Unlocking material comes, in order, from ``--identity FILE`` (repeatable), the file named by
``$STRONGROOM_IDENTITY``, the configuration's ``identityFiles``, and the passphrase in the
environment variable the location names (``passphraseEnv``) or ``$STRONGROOM_PASSPHRASE``.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Mapping

import click

from strongroom import clock, errors
from strongroom.cli import config, context
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.kube import client as kube_client
from strongroom.kube import credentials as kube_credentials
from strongroom.repository import keyring, repo, trust, writers
from strongroom.storage import base as storage_base
from strongroom.storage import factory

PASSPHRASE_ENV = "STRONGROOM_PASSPHRASE"  # noqa: S105 (a variable name)
IDENTITY_ENV = "STRONGROOM_IDENTITY"


class IdentityFileError(errors.UsageError):
    pass


class RepositoryMismatch(errors.IntegrityError):
    pass


def read_identity_file(path: pathlib.Path) -> list[agekeys.Identity]:
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
        raise IdentityFileError(f"identity file {path}: {reason}") from exc
    try:
        return agekeys.parse_identity_file(text)
    except errors.StrongroomError as exc:
        raise IdentityFileError(f"identity file {path}: {exc}") from exc


def credentials(
    settings: context.Settings,
    cfg: config.Config,
    loc: config.Location,
    environ: Mapping[str, str] = os.environ,
) -> provider_base.Credentials:
    files = [*settings.identity_files]
    if env_file := environ.get(IDENTITY_ENV):
        files.append(pathlib.Path(env_file))
    files.extend(pathlib.Path(f) for f in cfg.identity_files)
    identities = [identity for path in files for identity in read_identity_file(path)]
    passphrases = []
    for var in (loc.passphrase_env, PASSPHRASE_ENV):
        if var and (value := environ.get(var)):
            passphrases.append(value.encode())
    return provider_base.Credentials(identities=tuple(identities), passphrases=tuple(passphrases))


def backend(loc: config.Location) -> storage_base.Backend:
    return factory.open_backend(loc.provider, loc.bucket, loc.prefix, loc.config)


class KeyslotProblems(errors.IntegrityError):
    """Keyslot objects that were reported and skipped: tampering until removed."""


def trust_of(loc: config.Location) -> trust.Trust:
    """What this client's configuration vouches for at ``loc`` (format §4.4)."""
    pin = trust.Pin(loc.fingerprint, loc.epoch) if loc.fingerprint else None
    return trust.Trust(pin, loc.kms_keys, loc.slot)


def remember(cfg: config.Config, loc: config.Location, opened: repo.Repository) -> config.Location:
    """Keep the pin (and, for a configuration from an earlier release, the key-service
    URIs) that opening the repository established; say so when it changed."""
    kms_keys = loc.kms_keys
    if kms_keys is None:
        kms_keys = tuple(str(s.fields["uri"]) for s in opened.trusted_slots() if "uri" in s.fields)
    pin = opened.pin
    updated = dataclasses.replace(
        loc,
        fingerprint=pin.fingerprint,
        epoch=pin.epoch,
        kms_keys=kms_keys,
        slot=opened.opened_by.slot,
    )
    if updated == loc:
        return loc
    shown = keyring.show_fingerprint(pin.fingerprint)
    if not loc.fingerprint:
        click.echo(
            f"location {loc.name}: pinned keyring fingerprint {shown} (epoch {pin.epoch}) "
            "on first use",
            err=True,
        )
    elif pin.epoch > loc.epoch and loc.epoch:
        click.echo(
            f"location {loc.name}: accepted key epoch {pin.epoch} (fingerprint {shown})",
            err=True,
        )
    config.save(cfg.replacing(updated))
    return updated


def open_repository(
    location: str | None, *, tolerate_problems: bool = False, v1: bool = False
) -> tuple[config.Location, repo.Repository]:
    """Unlock the repository of ``location`` (default: the default location).

    Keyslot objects that were reported while opening stop the command with exit 4 naming
    the first, unless ``tolerate_problems`` (the commands that deal with them). ``v1`` opens
    a repository that still has v1 keyslots (the upgrade).
    """
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc = cfg.location(location)
    store = backend(loc)
    header = repo.read_header(store)
    if header is not None and loc.repository and header.repository != loc.repository:
        raise RepositoryMismatch(
            f"location {loc.name!r} now holds repository {header.repository}, not "
            f"{loc.repository} as when it was created: refusing to use it"
        )
    opened = repo.Repository.open(
        store, credentials(settings, cfg, loc), clock.SystemClock(), trust_of(loc), v1=v1
    )
    if not v1:
        loc = remember(cfg, loc, opened)
    if opened.problems and not tolerate_problems:
        more = f" (and {len(opened.problems) - 1} more)" if len(opened.problems) > 1 else ""
        raise KeyslotProblems(
            f"{opened.problems[0]}{more}: see 'strongroom key list', remove it with "
            "'strongroom key remove ID'"
        )
    return loc, opened


def kube() -> kube_client.Client:
    """The cluster client. Exec credential plugins it runs never see a passphrase variable
    that any configured location names (nor any ``STRONGROOM_*`` variable)."""
    settings = context.settings()
    names = (loc.passphrase_env for loc in config.load(settings.config_path).locations)
    kube_credentials.withhold(names)
    return kube_client.Client.from_kubeconfig(
        settings.kubeconfig,
        settings.kube_context,
        qps=settings.client_qps,
        burst=settings.client_burst,
    )


def write_private(path: pathlib.Path, data: bytes) -> None:
    """Write a new file readable by its owner only; never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise errors.AlreadyExistsError(f"{path} exists: not overwriting it") from exc
    except OSError as exc:
        raise errors.PermissionDeniedError(f"{path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


WRITER_ENV = "STRONGROOM_WRITER_CREDENTIAL"


def open_writer(location: str | None, credential_file: pathlib.Path) -> writers.WriterRepository:
    """Writing access with a writer credential: no keyring, no decryption."""
    settings = context.settings()
    loc = config.load(settings.config_path).location(location)
    try:
        data = credential_file.expanduser().read_bytes()
    except OSError as exc:
        raise IdentityFileError(f"writer credential {credential_file}: {exc.strerror}") from exc
    credential = writers.Credential.from_bytes(data, str(credential_file))
    return writers.WriterRepository.open(backend(loc), credential, clock.SystemClock())
