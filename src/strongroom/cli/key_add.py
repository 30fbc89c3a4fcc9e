"""``strongroom key add``: another keyslot, opening every backup, old ones included."""

from __future__ import annotations

import click

from strongroom import errors
from strongroom.cli import key_view, keyslot_flags, session


@click.command()
@click.option("--location", "location", default=None, help="Location (default: the default).")
@click.option(
    "--recipient", "recipients", multiple=True, metavar="AGE_PUBKEY", help="Age recipient."
)
@click.option(
    "--kms", multiple=True, metavar="URI", help="KMS key URI (aws-kms://, hcvault://, ...)."
)
@click.option("--passphrase-env", default="", metavar="VAR", help="Variable holding a passphrase.")
@click.option("--label", default="", help="A note shown by 'key list'.")
def add(
    location: str | None,
    recipients: tuple[str, ...],
    kms: tuple[str, ...],
    passphrase_env: str,
    label: str,
) -> None:
    """Add keyslots: the repository key is wrapped once more; no backup is rewritten."""
    new = keyslot_flags.providers(recipients, passphrase_env, kms)
    if not new:
        raise errors.UsageError("give --recipient, --kms or --passphrase-env")
    _, repo = session.open_repository(location)
    for provider in new:
        slot = repo.add_slot(provider, label)
        click.echo(f"Keyslot {slot.slot} added ({slot.type} {key_view.key_of(slot)}).")
