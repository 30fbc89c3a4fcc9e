"""``strongroom location create``: register where backups are stored."""

from __future__ import annotations

import dataclasses
import pathlib

import click

from strongroom import clock, errors
from strongroom.cli import config, context, flags, keyslot_flags, location_view
from strongroom.repository import keyring, repo
from strongroom.storage import factory

#: ``k=v,k2=v2`` as a mapping; one parser for every key=value flag.
parse_key_values = flags.key_values


@click.command()
@click.argument("name")
@click.option(
    "--provider",
    type=click.Choice(config.PROVIDERS),
    required=True,
    help="filesystem (the bucket is a folder) or s3.",
)
@click.option("--bucket", required=True, help="Bucket name, or the folder for filesystem.")
@click.option("--prefix", default="", help="Key prefix inside the bucket.")
@click.option(
    "--config",
    "provider_config",
    multiple=True,
    metavar="KEY=VALUE,...",
    help="Provider settings, e.g. region=..,s3Url=..,insecureSkipTLSVerify=..,profile=..",
)
@click.option("--default", "make_default", is_flag=True, help="Make this the default location.")
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="AGE_PUBKEY",
    help="Age recipient of a keyslot: an offline recovery key (repeatable).",
)
@click.option(
    "--kms",
    multiple=True,
    metavar="URI",
    help="KMS key of a keyslot: aws-kms://, hcvault://, gcp-kms://, azure-kv:// (repeatable).",
)
@click.option(
    "--passphrase-env",
    default="",
    metavar="VAR",
    help="Environment variable holding a passphrase for a keyslot (Argon2id).",
)
@click.option(
    "--fingerprint",
    default="",
    metavar="FINGERPRINT",
    help="Connecting to an existing repository: the keyring fingerprint its creator printed; "
    "anything else is refused (without it, the first keyring seen is trusted).",
)
@context.output_option
def create(
    name: str,
    provider: str,
    bucket: str,
    prefix: str,
    provider_config: tuple[str, ...],
    make_default: bool,
    recipients: tuple[str, ...],
    kms: tuple[str, ...],
    passphrase_env: str,
    fingerprint: str,
) -> None:
    """Create storage location NAME, and the encrypted repository in it.

    When the folder or bucket already holds a Strongroom repository (created from another
    cluster, say), the location connects to it instead: that is how a second cluster finds
    the backups to migrate. Pass the keyring fingerprint the creator printed with
    --fingerprint, and the KMS keys this client may call with --kms.
    """
    settings = context.settings()
    config.check_name("location", name)
    if provider == "filesystem":
        bucket = str(pathlib.Path(bucket).expanduser().absolute())
    loc = config.Location(
        name=name,
        provider=provider,
        bucket=bucket,
        prefix=prefix.strip("/"),
        config=parse_key_values(provider_config, "--config"),
        passphrase_env=passphrase_env,
    )
    pinned = keyring.normalise_fingerprint(fingerprint) if fingerprint else ""
    if pinned is None:
        raise errors.UsageError(
            f"--fingerprint {fingerprint[:60]!r}: expected 32 base32 characters (dashes allowed)"
        )
    cfg = config.load(settings.config_path)
    cfg.with_location(loc, make_default=False)  # a taken name fails before any I/O
    slot_providers = keyslot_flags.providers(recipients, passphrase_env, kms)
    backend = factory.open_backend(loc.provider, loc.bucket, loc.prefix, loc.config)
    factory.probe(backend)
    header = repo.read_header(backend)
    kms_keys = tuple(uri.strip() for uri in kms)
    if header is not None:
        if recipients:
            raise errors.UsageError(
                f"{backend.location} already holds repository {header.repository}: "
                "--recipient only applies to a new repository (see 'strongroom key add')"
            )
        verb = f"connected to the existing repository {header.repository}"
        repository_id = header.repository
        loc = dataclasses.replace(loc, fingerprint=pinned, kms_keys=kms_keys)
        if not pinned:
            click.echo(
                "warning: no --fingerprint: the first keyring this client opens will be "
                "trusted; compare the fingerprint it prints with the creator's",
                err=True,
            )
    else:
        if pinned:
            raise errors.UsageError(
                f"--fingerprint: {backend.location} holds no repository to connect to"
            )
        if not slot_providers:
            raise errors.UsageError(
                "a new repository needs a keyslot: give --recipient AGE_PUBKEY "
                "(an offline recovery key), --kms URI and/or --passphrase-env VAR"
            )
        if not recipients:
            click.echo(keyslot_flags.NO_OFFLINE_WARNING, err=True)
        created = repo.Repository.create(backend, slot_providers, clock.SystemClock())
        repository_id = created.id
        verb = f"created with a new repository {repository_id}"
        loc = dataclasses.replace(
            loc, fingerprint=created.pin.fingerprint, epoch=created.pin.epoch, kms_keys=kms_keys
        )
    loc = dataclasses.replace(loc, repository=repository_id)
    updated = cfg.with_location(loc, make_default=make_default or not cfg.locations)
    config.save(updated)
    if settings.output is context.OutputFormat.TABLE:
        click.echo(f'Storage location "{name}" {verb}.')
        if header is None:
            shown = keyring.show_fingerprint(loc.fingerprint)
            click.echo(
                f"Keyring fingerprint: {shown}. Other clusters connect with "
                f"'strongroom location create ... --fingerprint {shown}'."
            )
    else:
        location_view.emit(updated, [loc], as_list=False)
