"""The ``strongroom`` command: global options, the command tree and error reporting.

Every error reaches the user as one line on stderr, ``error: <cause>``, and the process exits
with the error's exit code (``strongroom.errors``). ``-v`` adds the traceback and debug logs.
"""

from __future__ import annotations

import logging
import os
import pathlib
import sys
import traceback
from collections.abc import Sequence

import click

import strongroom
from strongroom import errors
from strongroom.cli import (
    backup_create,
    backup_delete,
    backup_describe,
    backup_download,
    backup_get,
    backup_logs,
    backup_verify,
    config,
    context,
    demo,
    key_add,
    key_list,
    key_remove,
    key_rotate,
    location_create,
    location_delete,
    location_describe,
    location_get,
    location_pin,
    location_upgrade,
    location_verify,
    restore_create,
    restore_delete,
    restore_describe,
    restore_get,
    restore_logs,
    sandbox_serve,
    version,
    volume_backup,
    volume_delete,
    volume_gc,
    volume_list,
    volume_restore,
    volume_verify,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(strongroom.__version__, "--version", prog_name="strongroom")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Configuration file (default $STRONGROOM_CONFIG, else the XDG config dir).",
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="Kubeconfig file (default $KUBECONFIG, else ~/.kube/config).",
)
@click.option("--context", "kube_context", default=None, help="Kubeconfig context to use.")
@click.option(
    "-o",
    "--output",
    type=click.Choice([f.value for f in context.OutputFormat]),
    default="table",
    help="Output format: table, json or yaml.",
)
@click.option(
    "--identity",
    "identity_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Age identity file to unlock repositories (repeatable; also $STRONGROOM_IDENTITY).",
)
@click.option(
    "--client-qps",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Most requests per second to the API server (0: no client-side limit; the server's "
    "priority and fairness limits apply, as for kubectl).",
)
@click.option(
    "--client-burst",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Requests allowed at once above --client-qps.",
)
@click.option("-v", "--verbose", count=True, help="More detail: debug logs and tracebacks.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: pathlib.Path | None,
    kubeconfig: pathlib.Path | None,
    kube_context: str | None,
    output: str,
    identity_files: tuple[pathlib.Path, ...],
    client_qps: float,
    client_burst: int,
    verbose: int,
) -> None:
    """Back up and migrate Kubernetes applications, encrypted before anything is stored."""
    logging.basicConfig(
        level=logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    ctx.obj = context.Settings(
        config_path=config_path or config.default_path(os.environ),
        kubeconfig=kubeconfig,
        kube_context=kube_context,
        output=context.OutputFormat(output),
        verbose=verbose,
        identity_files=identity_files,
        client_qps=client_qps,
        client_burst=client_burst,
    )


def _group(name: str, doc: str, *commands: click.Command) -> None:
    group = click.Group(name=name, help=doc)
    for command in commands:
        group.add_command(command)
    cli.add_command(group)


_group(
    "location",
    "Storage locations: where the encrypted backups are kept.",
    location_create.create,
    location_get.get,
    location_describe.describe,
    location_delete.delete,
    location_verify.verify,
    location_pin.pin,
    location_upgrade.upgrade_,
)
_group(
    "backup",
    "Backups: create, list, inspect, verify, download and delete them.",
    backup_create.create,
    backup_get.get,
    backup_describe.describe,
    backup_logs.logs,
    backup_download.download,
    backup_delete.delete,
    backup_verify.verify,
)
_group(
    "restore",
    "Restores: bring a backup back, into this cluster or another.",
    restore_create.create,
    restore_get.get,
    restore_describe.describe,
    restore_logs.logs,
    restore_delete.delete,
)
_group(
    "key",
    "Keyslots: who can open a location's repository (age, passphrase, KMS), and writers.",
    key_list.list_,
    key_add.add,
    key_remove.remove,
    key_rotate.rotate,
)
_group(
    "volume",
    "Volume data: snapshots of folders, deduplicated and encrypted (standalone folders for "
    "now; Kubernetes volumes come with the node agent).",
    volume_backup.backup_,
    volume_list.list_,
    volume_restore.restore_,
    volume_verify.verify_,
    volume_delete.delete,
    volume_gc.gc,
)
_group(
    "sandbox",
    "An emulated Kubernetes API server for trying Strongroom out and for tests.",
    sandbox_serve.serve,
)
cli.add_command(version.version)
cli.add_command(demo.demo)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` and return the exit code; never raises."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = any(a in ("-v", "--verbose") or a.startswith("-vv") for a in args)
    try:
        result = cli.main(args=args, prog_name="strongroom", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return errors.ExitCode.FAILURE
    except click.ClickException as exc:
        click.echo(f"error: {_usage_line(exc)}", err=True)
        return errors.ExitCode.USAGE
    except errors.StrongroomError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so in one line, the stack only with -v
        if verbose:
            traceback.print_exc()
        click.echo(f"error: internal error: {type(exc).__name__}: {exc} (rerun with -v)", err=True)
        return errors.ExitCode.FAILURE
    return result if isinstance(result, int) else errors.ExitCode.OK


def _usage_line(exc: click.ClickException) -> str:
    """Click's usage error as one line like every other error: the cause, then where help is.

    Click sorts its own message into a usage block, a hint and the cause over four lines."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        return f"{message[:1].lower()}{message[1:]} (see '{ctx.command_path} --help')"
    return message


def main() -> None:
    """Console script entry point."""
    sys.exit(run())
