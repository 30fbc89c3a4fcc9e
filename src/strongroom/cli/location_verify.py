"""``strongroom location verify``: every backup and restore, and the set as a whole."""

from __future__ import annotations

import time

import click

from strongroom import errors
from strongroom.cli import debris_view, heads, session


class VerifyFailed(errors.IntegrityError):
    pass


@click.command()
@click.argument("name", required=False)
def verify(name: str | None) -> None:
    """Verify location NAME (default: the default): the keyslots, every object of every backup
    and restore, the chain of manifests and the seals of closed key epochs, and what this
    client last saw (rollback, vanished backups)."""
    loc, repo = session.open_repository(name, tolerate_problems=True)
    problems = heads.check(repo)
    problems += repo.claim_problems()
    count = 0
    for item in [*repo.committed(), *repo.restores()]:
        try:
            item.verify()
            count += 1
        except errors.IntegrityError as exc:
            problems.append(f"{item.manifest.kind.lower()} {item.name!r}: {exc}")
    for problem in problems:
        click.echo(f"violation: {problem}", err=True)
    debris_view.warn(repo.incomplete(), time.time())
    if problems:
        raise VerifyFailed(f"location {loc.name}: {len(problems)} integrity violations")
    click.echo(f"Location {loc.name} verified: {count} backups and restores, all authentic.")
