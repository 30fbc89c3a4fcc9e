"""The ``strongroom`` command: global options, the command tree and error reporting.

Every error reaches the user as one line on stderr, ``error: <cause>``, and the process exits
with the error's exit code (``strongroom.errors``). ``-v`` adds the traceback and debug logs.
"""

from __future__ import annotations

import importlib
import logging
import os
import pathlib
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

import strongroom
from strongroom import errors
from strongroom.cli import config, context


class _Lazy(click.Group):
    """A group whose commands are imported when used: ``lazy`` maps a name to
    ``"module:attribute"`` of :mod:`strongroom.cli`. Each command then pulls in only its own
    layers (a volume backup does not import the sandbox or the Kubernetes client)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"strongroom.cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command


@click.group(cls=_Lazy, context_settings={"help_option_names": ["-h", "--help"]})
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


def _group(name: str, doc: str, commands: dict[str, str]) -> None:
    cli.add_command(_Lazy(name=name, help=doc, lazy=commands))


_group(
    "location",
    "Storage locations: where the encrypted backups are kept.",
    {
        "create": "location_create:create",
        "get": "location_get:get",
        "describe": "location_describe:describe",
        "delete": "location_delete:delete",
        "verify": "location_verify:verify",
        "pin": "location_pin:pin",
        "upgrade": "location_upgrade:upgrade_",
    },
)
_group(
    "backup",
    "Backups: create, list, inspect, verify, download and delete them.",
    {
        "create": "backup_create:create",
        "get": "backup_get:get",
        "describe": "backup_describe:describe",
        "logs": "backup_logs:logs",
        "download": "backup_download:download",
        "delete": "backup_delete:delete",
        "verify": "backup_verify:verify",
    },
)
_group(
    "restore",
    "Restores: bring a backup back, into this cluster or another.",
    {
        "create": "restore_create:create",
        "get": "restore_get:get",
        "describe": "restore_describe:describe",
        "logs": "restore_logs:logs",
        "delete": "restore_delete:delete",
    },
)
_group(
    "key",
    "Keyslots: who can open a location's repository (age, passphrase, KMS), and writers.",
    {
        "list": "key_list:list_",
        "add": "key_add:add",
        "remove": "key_remove:remove",
        "rotate": "key_rotate:rotate",
    },
)
_group(
    "volume",
    "Volume data: snapshots of folders, deduplicated and encrypted (pod volumes go into "
    "backups through the node agent).",
    {
        "backup": "volume_backup:backup_",
        "list": "volume_list:list_",
        "restore": "volume_restore:restore_",
        "verify": "volume_verify:verify_",
        "delete": "volume_delete:delete",
        "gc": "volume_gc:gc",
    },
)
_group(
    "sandbox",
    "An emulated Kubernetes API server for trying Strongroom out and for tests.",
    {"serve": "sandbox_serve:serve"},
)
cli.lazy.update(
    {
        "version": "version:version",
        "demo": "demo:demo",
        "node-agent": "node_agent:node_agent",
        "restore-helper": "restore_helper:restore_helper",
        "install": "install:install",
    }
)


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
