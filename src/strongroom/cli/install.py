"""``strongroom install``: put the node agents into the cluster (or print what that takes)."""

from __future__ import annotations

import json
import pathlib
import typing
from typing import Any

import click
import yaml

from strongroom import errors
from strongroom.cli import config, context, session
from strongroom.engine import install as manifests
from strongroom.engine.podvolumes import objects, restores
from strongroom.kube import bodies
from strongroom.kube import errors as kube_errors
from strongroom.repository import writers

FIELD_MANAGER = "strongroom-install"


@click.command("install")
@click.option("--namespace", default=objects.DEFAULT_NAMESPACE, show_default=True,
              help="The namespace of the node agents and their objects.")  # fmt: skip
@click.option("--image", default=restores.DEFAULT_IMAGE, show_default=True,
              help="Strongroom's image, for the agents (and restore helpers).")  # fmt: skip
@click.option("--storage-location", default=None,
              help="The location the agents write to (default: the default one).")  # fmt: skip
@click.option(
    "--writer-credential",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="The agents' writer credential ('key add --writer-output'); needed unless --dry-run.",
)
@click.option(
    "--credentials-file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    default=None,
    help="An AWS shared credentials file for an S3 location, given to the agents.",
)
@click.option("--dry-run", is_flag=True, help="Print the objects (-o yaml|json); apply nothing.")
@context.output_option
def install(
    namespace: str,
    image: str,
    storage_location: str | None,
    writer_credential: pathlib.Path | None,
    credentials_file: pathlib.Path | None,
    dry_run: bool,
) -> None:
    """Install the node agents: their namespace, the PodVolumeBackup and PodVolumeRestore
    definitions, a service account with least privilege, a DaemonSet of one agent per node,
    and a Secret with the location's configuration and the writer credential.

    With --dry-run the objects are printed (YAML, or -o json) and nothing is applied; the
    Secret is left out, since it holds the credential: create it as the note on stderr says.
    Otherwise every object is applied server-side (again is harmless).
    """
    objs = manifests.node_agent(
        namespace, image, with_credentials_file=credentials_file is not None
    )
    if dry_run:
        _print(objs)
        click.echo(
            f"note: Secret {namespace}/{manifests.SECRET} is not printed (it holds the writer "
            f"credential): kubectl create secret generic {manifests.SECRET} -n {namespace} "
            "--from-file=config.yaml=... --from-file=writer.json=...",
            err=True,
        )
        return
    if writer_credential is None:
        raise errors.UsageError("--writer-credential is needed to install (or use --dry-run)")
    files = _secret_files(storage_location, writer_credential, credentials_file)
    with session.kube() as kube:
        for obj in [*objs[:1], manifests.secret(namespace, files), *objs[1:]]:
            _apply(kube, obj)
            if obj["kind"] == "CustomResourceDefinition":
                kube.wait_for_condition("customresourcedefinitions", obj["metadata"]["name"])
    click.echo(f"Installed the node agents in namespace {namespace}: {len(objs) + 1} objects "
               "applied.")  # fmt: skip


def _secret_files(
    location: str | None, credential_file: pathlib.Path, credentials: pathlib.Path | None
) -> dict[str, bytes]:
    settings = context.settings()
    cfg = config.load(settings.config_path)
    loc = cfg.location(location)
    try:
        credential = credential_file.read_bytes()
        extra = {} if credentials is None else {"credentials": credentials.read_bytes()}
    except OSError as exc:
        raise errors.NotFoundError(f"{exc.filename}: {exc.strerror}") from None
    parsed = writers.Credential.from_bytes(credential, str(credential_file))
    if parsed.volume is None:
        raise writers.CredentialError(
            f"{credential_file}: a writer credential from before volume data; the agents need "
            "a new one ('key add --writer-output')"
        )
    agents = config.Config(cfg.path, locations=(loc,), default_location=loc.name)
    text = yaml.safe_dump(config.document(agents), sort_keys=False).encode()
    return {"config.yaml": text, "writer.json": credential, **extra}


def _apply(kube: Any, obj: dict[str, Any]) -> None:
    group = obj["apiVersion"].rpartition("/")[0]
    resource = f"{obj['kind']}.{group}" if group else obj["kind"]
    meta = obj["metadata"]
    try:
        kube.patch(resource, meta["name"], typing.cast(bodies.KubeObject, obj),
                   meta.get("namespace"), patch_type="apply", force=True,
                   field_manager=FIELD_MANAGER)  # fmt: skip
    except kube_errors.KubeError as exc:
        raise errors.StrongroomError(f"{obj['kind']} {meta['name']}: {exc}") from exc


def _print(objs: list[dict[str, Any]]) -> None:
    if context.settings().output is context.OutputFormat.JSON:
        click.echo(json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}, indent=2))
    else:
        click.echo(yaml.safe_dump_all(objs, sort_keys=False), nl=False)
