"""``strongroom restore delete``: remove a restore's stored outputs and free its name."""

from __future__ import annotations

import sys

import click

from strongroom import errors
from strongroom.cli import locate


class PartiallyDeleted(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


@click.command()
@click.argument("name")
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--storage-location", default=None, help="Location to use (default: the one holding NAME)."
)
def delete(name: str, confirm: bool, storage_location: str | None) -> None:
    """Delete restore NAME's log, results and resource list (also those of a restore that was
    killed before it finished), so the name can be used again. The cluster is not touched."""
    if not confirm:
        if not sys.stdin.isatty():
            raise errors.UsageError("deleting a restore's records cannot be undone: add --confirm")
        click.confirm(f"Delete the records of restore {name}?", abort=True)
    _, repo = locate.claimed("restore", name, storage_location)
    failed = repo.delete_restore(name)
    if failed:
        raise PartiallyDeleted(
            f"restore {name}: {len(failed)} objects could not be deleted, e.g. {failed[0]}"
        )
    click.echo(f"Restore {name} deleted.")
