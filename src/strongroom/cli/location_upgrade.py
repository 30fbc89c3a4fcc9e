"""``strongroom location upgrade``: authenticated keyslots for a v1 repository (format §9.1)."""

from __future__ import annotations

import dataclasses

import click

from strongroom import errors
from strongroom.cli import config, context, session
from strongroom.crypto import agekeys
from strongroom.repository import keyring, upgrade


@click.command(name="upgrade")
@click.argument("name", required=False)
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    metavar="AGE_PUBKEY",
    help="An offline recovery key whose v1 keyslot you vouch for (repeatable).",
)
@click.option(
    "--drop-unverified",
    is_flag=True,
    help="Leave out v1 keyslots that nothing given opens and no --recipient vouches for.",
)
def upgrade_(name: str | None, recipients: tuple[str, ...], drop_unverified: bool) -> None:
    """Upgrade location NAME's repository (default: the default) to authenticated keyslots.

    Every backup, restore, deletion record and writer is authenticated first; then each v1
    keyslot that the identities and passphrases given open, or whose age recipient you name
    with --recipient, is sealed anew with a MAC, and the v1 keyslots are deleted. No backup
    is rewritten. Prints the keyring fingerprint, pinned here, for the other clusters.
    """
    vouched = []
    for text in recipients:
        try:
            vouched.append(agekeys.Recipient.parse(text.strip()))
        except errors.StrongroomError as exc:
            raise errors.UsageError(f"--recipient {text[:20]!r}...: not an age recipient") from exc
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc, repo = session.open_repository(name, tolerate_problems=True, v1=True)
    outcome = upgrade.upgrade(
        repo,
        session.credentials(settings, cfg, loc),
        vouched,
        loc.kms_keys,
        drop_unverified=drop_unverified,
    )
    kms_keys = loc.kms_keys
    if kms_keys is None:
        carried = [new for _, new in outcome.carried]
        kms_keys = tuple(str(new.fields["uri"]) for new in carried if "uri" in new.fields)
    updated = dataclasses.replace(
        loc, fingerprint=outcome.pin.fingerprint, epoch=outcome.pin.epoch, kms_keys=kms_keys
    )
    config.save(config.load(settings.config_path).replacing(updated))
    for old, new in outcome.carried:
        click.echo(f"Keyslot {old.slot} sealed anew as {new.slot} ({new.type}).")
    for slot in outcome.dropped:
        click.echo(f"Keyslot {slot.slot} ({slot.type}) left out: nothing vouched for it.")
    shown = keyring.show_fingerprint(outcome.pin.fingerprint)
    click.echo(
        f"Location {loc.name} upgraded. Keyring fingerprint: {shown}; pin it on other "
        f"clusters: strongroom location pin {loc.name} --fingerprint {shown}"
    )
