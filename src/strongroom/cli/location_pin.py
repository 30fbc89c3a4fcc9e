"""``strongroom location pin``: what this client trusts at a location (format §4.4)."""

from __future__ import annotations

import dataclasses

import click

from strongroom import errors
from strongroom.cli import config, context
from strongroom.repository import keyring


@click.command()
@click.argument("name")
@click.option(
    "--fingerprint",
    default="",
    metavar="FINGERPRINT",
    help="The keyring fingerprint to trust from now on (as 'key rotate' or 'location create' "
    "printed it).",
)
@click.option(
    "--kms",
    multiple=True,
    metavar="URI",
    help="A KMS key this client may call to open the repository (repeatable).",
)
def pin(name: str, fingerprint: str, kms: tuple[str, ...]) -> None:
    """Pin the keyring fingerprint of location NAME, or allow it more KMS keys.

    After 'key rotate --repository-key' on another client, this client refuses the new key
    epoch when it comes through an age or Azure keyslot (which anyone can write) until the
    new fingerprint is pinned here. Nothing is read from storage: compare the fingerprint
    with the one the rotation printed.
    """
    if not fingerprint and not kms:
        raise errors.UsageError("give --fingerprint and/or --kms")
    pinned = keyring.normalise_fingerprint(fingerprint) if fingerprint else ""
    if pinned is None:
        raise errors.UsageError(
            f"--fingerprint {fingerprint[:60]!r}: expected 32 base32 characters (dashes allowed)"
        )
    cfg = config.load(context.settings().config_path)
    loc = cfg.location(name)
    if pinned:
        loc = dataclasses.replace(loc, fingerprint=pinned, epoch=0)
    if kms:
        known = tuple(loc.kms_keys or ())
        loc = dataclasses.replace(
            loc, kms_keys=known + tuple(u.strip() for u in kms if u.strip() not in known)
        )
    config.save(cfg.replacing(loc))
    if pinned:
        shown = keyring.show_fingerprint(pinned)
        click.echo(f"Location {name}: pinned keyring fingerprint {shown}.")
    if kms:
        click.echo(f"Location {name}: may call {', '.join(loc.kms_keys or ())}.")
