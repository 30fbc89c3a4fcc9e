"""What commands open: the configured location's storage, its repository, the cluster.

Unlocking material comes, in order, from ``--identity FILE`` (repeatable), the file named by
``$STRONGROOM_IDENTITY``, the configuration's ``identityFiles``, and the passphrase in the
environment variable the location names (``passphraseEnv``) or ``$STRONGROOM_PASSPHRASE``.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

from strongroom import clock, errors
from strongroom.cli import config, context
from strongroom.crypto import agekeys
from strongroom.crypto.providers import base as provider_base
from strongroom.kube import client as kube_client
from strongroom.repository import repo, writers
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


def open_repository(location: str | None) -> tuple[config.Location, repo.Repository]:
    """Unlock the repository of ``location`` (default: the default location)."""
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc = cfg.location(location)
    store = backend(loc)
    opened = repo.Repository.open(store, credentials(settings, cfg, loc), clock.SystemClock())
    if loc.repository and opened.id != loc.repository:
        raise RepositoryMismatch(
            f"location {loc.name!r} now holds repository {opened.id}, not {loc.repository} "
            "as when it was created: refusing to use it"
        )
    return loc, opened


def kube() -> kube_client.Client:
    settings = context.settings()
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
