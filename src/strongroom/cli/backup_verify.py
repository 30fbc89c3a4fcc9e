"""``strongroom backup verify``: prove a backup intact without restoring it."""

from __future__ import annotations

import click

from strongroom import errors
from strongroom.cli import locate
from strongroom.engine.volumes import snapshots
from strongroom.engine.volumes import verify as volume_verify


class VolumeDataDamaged(errors.IntegrityError):
    pass


@click.command()
@click.argument("name")
@click.option(
    "--storage-location", default=None, help="Location to read (default: every location)."
)
@click.option(
    "--read-data",
    is_flag=True,
    help="Also decrypt and check every chunk of the backup's pod volumes.",
)
def verify(name: str, storage_location: str | None, read_data: bool) -> None:
    """Check every object of backup NAME: present, digest, binding and every AEAD tag; and
    for each pod volume it holds, that every chunk is indexed in a pack that is there (with
    --read-data: decrypted and checked).

    Exits 4 naming the object and the reason at the first violation.
    """
    (_, repo), backup = locate.find("backup", name, storage_location)
    checked = backup.verify()
    size = sum(r.size for r in backup.manifest.objects) + backup.manifest_record.size
    held = snapshots.in_backup(backup)
    problems = []
    for each in held:
        found = volume_verify.verify(repo, each, read_data=read_data, objects_checked=True)
        problems += [f"volume {each.entry.get('volume')} of pod {each.entry.get('namespace')}/"
                     f"{each.entry.get('pod')}: {p}" for p in found]  # fmt: skip
    if problems:
        for problem in problems[1:]:
            click.echo(f"error: {problem}", err=True)
        raise VolumeDataDamaged(problems[0])
    volumes = f" and {len(held)} pod volumes" if held else ""
    how = " (every chunk read)" if read_data and held else ""
    click.echo(
        f"Backup {name} verified: {len(checked) + 2} objects, {size} bytes{volumes}, all "
        f"authentic{how}."
    )
