"""``strongroom key add``: another keyslot (opening every backup, old ones included), or a
writer that can back up but decrypt nothing."""

from __future__ import annotations

import dataclasses
import pathlib

import click

from strongroom import errors
from strongroom.cli import config, context, key_view, keyslot_flags, session


@click.command()
@click.option("--location", "location", default=None, help="Location (default: the default).")
@click.option(
    "--recipient", "recipients", multiple=True, metavar="AGE_PUBKEY", help="Age recipient."
)
@click.option("--kms", multiple=True, metavar="URI", help="KMS key (aws-kms://, hcvault://, ...).")
@click.option("--passphrase-env", default="", metavar="VAR", help="Variable holding a passphrase.")
@click.option("--label", default="", help="A note shown by 'key list'.")
@click.option(
    "--writer-output",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Register a writer that can back up but decrypt nothing; write its credential here.",
)
def add(
    location: str | None,
    recipients: tuple[str, ...],
    kms: tuple[str, ...],
    passphrase_env: str,
    label: str,
    writer_output: pathlib.Path | None,
) -> None:
    """Add keyslots: the repository key is wrapped once more; no backup is rewritten."""
    new = keyslot_flags.providers(recipients, passphrase_env, kms)
    if not new and writer_output is None:
        raise errors.UsageError("give --recipient, --kms, --passphrase-env or --writer-output")
    loc, repo = session.open_repository(location)
    for provider in new:
        slot = repo.add_slot(provider, label)
        click.echo(f"Keyslot {slot.slot} added ({slot.type} {key_view.key_of(slot)}).")
    if kms:
        # This client configured these keys: it may call them from now on (format §4.4).
        cfg = config.load(context.settings().config_path)
        known = tuple(loc.kms_keys or ())
        added = tuple(uri.strip() for uri in kms if uri.strip() not in known)
        config.save(cfg.replacing(dataclasses.replace(loc, kms_keys=known + added)))
    if writer_output is not None:
        session.write_private(writer_output, repo.add_writer().to_bytes())
        click.echo(f"Writer registered; its credential is in {writer_output} (keep it secret).")
