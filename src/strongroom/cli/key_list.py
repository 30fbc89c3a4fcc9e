"""``strongroom key list``: the keyslots of a location's repository."""

from __future__ import annotations

import click

from strongroom.cli import context, key_view, session


@click.command(name="list")
@click.option("--location", "location", default=None, help="Location (default: the default).")
@context.output_option
def list_(location: str | None) -> None:
    """List the keyslots: each trusted one opens every backup of the repository.

    Objects under keys/ that are not trusted keyslots (planted, altered, stale, malformed)
    are listed on standard error; remove them with 'key remove'.
    """
    loc, repo = session.open_repository(location, tolerate_problems=True)
    trusted = {s.slot for s in repo.trusted_slots()}
    key_view.emit(loc.name, repo.slots(), repo.epochs(), trusted, repo.pin.fingerprint)
    for problem in repo.problems:
        click.echo(f"untrusted: {problem}", err=True)
