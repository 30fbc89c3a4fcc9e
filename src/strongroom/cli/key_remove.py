"""``strongroom key remove``: delete a keyslot; its holder can no longer open the repository."""

from __future__ import annotations

import click

from strongroom.cli import keyslot_flags, session


@click.command()
@click.argument("slot_id")
@click.option("--location", "location", default=None, help="Location (default: the default).")
@click.option("--force", is_flag=True, help="Allow removing the last keyslot.")
def remove(slot_id: str, location: str | None, force: bool) -> None:
    """Remove keyslot SLOT_ID (see 'key list'), including one reported as untrusted.

    Whoever copied the repository key before keeps it: rotate with --repository-key to
    protect new backups from them.
    """
    _, repo = session.open_repository(location, tolerate_problems=True)
    removed = repo.remove_slot(slot_id, force=force)
    click.echo(f"Keyslot {slot_id} removed ({removed.strip()}).")
    if removed.startswith("age-x25519") and not any(
        s.type == "age-x25519" for s in repo.trusted_slots()
    ):
        click.echo(keyslot_flags.NO_OFFLINE_WARNING, err=True)
