"""``strongroom restore delete``: remove restores' stored outputs and free their names."""

from __future__ import annotations

import sys

import click

from strongroom import errors
from strongroom.cli import flags, locate


class PartiallyDeleted(errors.StrongroomError):
    exit_code = errors.ExitCode.PARTIALLY_FAILED


@click.command()
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete the records of every restore.")
@flags.label_selector("Delete")
@click.option("--confirm", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--storage-location", default=None, help="Location (default: the one holding each NAME)."
)
def delete(
    names: tuple[str, ...],
    all_: bool,
    selector: str | None,
    confirm: bool,
    storage_location: str | None,
) -> None:
    """Delete the log, results and resource list of restores NAMES (or of every one with
    --all, or those matching --selector), also of a restore killed before it finished, so
    the names can be used again. The cluster is not touched."""
    if sum((bool(names), all_, selector is not None)) != 1:
        raise errors.UsageError("give one of: restore NAMES, --all, --selector")
    if not confirm and not sys.stdin.isatty():
        raise errors.UsageError("deleting a restore's records cannot be undone: add --confirm")
    if names:
        targets = [(n, locate.claimed("restore", n, storage_location)[1]) for n in names]
    else:
        found = locate.select("restore", (), None if all_ else selector, storage_location)
        targets = [(f.item.name, f.repo) for f in found]
    if not targets:
        click.echo("No restores match.")
        return
    if not confirm:
        listed = ", ".join(name for name, _ in targets)
        click.confirm(f"Delete the records of {len(targets)} restores ({listed})?", abort=True)
    for name, repo in targets:
        failed = repo.delete_restore(name)
        if failed:
            raise PartiallyDeleted(
                f"restore {name}: {len(failed)} objects could not be deleted, e.g. {failed[0]}"
            )
        click.echo(f"Restore {name} deleted.")
