"""``strongroom key rotate``: reseal the keyslots, or start a new repository-key epoch."""

from __future__ import annotations

import click

from strongroom.cli import config, context, session
from strongroom.repository import keyring


@click.command()
@click.option("--location", "location", default=None, help="Location (default: the default).")
@click.option(
    "--repository-key",
    is_flag=True,
    help="Also start a new repository-key epoch for new backups; old ones stay readable.",
)
def rotate(location: str | None, repository_key: bool) -> None:
    """Seal every keyslot anew (KMS slots under their key's current version).

    Only the small keyslot objects are written; no backup is rewritten. Passphrase slots need
    their passphrase (the location's passphrase variable or $STRONGROOM_PASSPHRASE).
    A new epoch retires every writer credential: issue new ones with 'key add --writer-output'.
    """
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc, repo = session.open_repository(location)
    credentials = session.credentials(settings, cfg, loc)
    pairs = (
        repo.rotate_repository_key(credentials)
        if repository_key
        else repo.rewrap_slots(credentials)
    )
    for old, new in pairs:
        click.echo(f"Keyslot {old.slot} resealed as {new.slot} ({new.type}).")
    if repository_key:
        session.remember(cfg, loc, repo)
        shown = keyring.show_fingerprint(repo.pin.fingerprint)
        click.echo(f"New backups use repository-key epoch {repo.epochs()[-1]['epoch']}.")
        click.echo(
            f"Keyring fingerprint: {shown}. Pin it on every other client: "
            f"strongroom location pin {loc.name} --fingerprint {shown}"
        )
