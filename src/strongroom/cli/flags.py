"""Flags of ``backup create`` and ``restore create``, spelled as Velero spells them.

:func:`selection` is shared by both; :func:`scoped_resources` (Velero 1.11's scoped resource
filters) and :func:`backup_metadata` (``--labels``, ``--annotations``) are backup's only.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

from strongroom import errors

F = TypeVar("F", bound=Callable[..., Any])


def comma_list(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--include-namespaces a,b --include-namespaces c`` as ``("a", "b", "c")``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def tristate(value: str | None) -> bool | None:
    return None if value is None else value == "true"


def selection(func: F) -> F:
    """Namespace, resource and label filters, and the cluster-scoped switch."""
    options = [
        click.option(
            "--include-namespaces", multiple=True, help="Namespaces to include (globs; default *)."
        ),
        click.option("--exclude-namespaces", multiple=True, help="Namespaces to exclude (globs)."),
        click.option(
            "--include-resources", multiple=True, help="Resources to include (default *)."
        ),
        click.option("--exclude-resources", multiple=True, help="Resources to exclude."),
        click.option(
            "-l", "--selector", default=None, help="Only objects with these labels (k=v,...)."
        ),
        click.option(
            "--or-selector",
            default=None,
            help="Objects matching any of these selectors, separated by ' or '.",
        ),
        click.option(
            "--include-cluster-resources",
            type=click.Choice(["true", "false"]),
            default=None,
            help="Include cluster-scoped resources (default: only when everything is selected).",
        ),
        click.option(
            "--storage-location", default=None, help="Location to use (default: the default)."
        ),
        click.option("--wait", is_flag=True, help="Show progress while the run goes on."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def or_selectors(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(" or ")) if text else ()


def selection_fields(opts: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`selection` as the engines' spec fields."""
    return {
        "included_namespaces": comma_list(opts["include_namespaces"]),
        "excluded_namespaces": comma_list(opts["exclude_namespaces"]),
        "included_resources": comma_list(opts["include_resources"]),
        "excluded_resources": comma_list(opts["exclude_resources"]),
        "label_selector": opts["selector"],
        "or_label_selectors": or_selectors(opts["or_selector"]),
        "include_cluster_resources": tristate(opts["include_cluster_resources"]),
    }


_SCOPED = {
    "include_cluster_scoped_resources": (
        "included_cluster_scoped_resources",
        "Cluster-scoped resources to include ('*' for all). Not with --include-resources, "
        "--exclude-resources or --include-cluster-resources.",
    ),
    "exclude_cluster_scoped_resources": (
        "excluded_cluster_scoped_resources",
        "Cluster-scoped resources to exclude ('*' for all).",
    ),
    "include_namespace_scoped_resources": (
        "included_namespace_scoped_resources",
        "Namespace-scoped resources to include ('*' for all, the default).",
    ),
    "exclude_namespace_scoped_resources": (
        "excluded_namespace_scoped_resources",
        "Namespace-scoped resources to exclude ('*' for all).",
    ),
}


def scoped_resources(func: F) -> F:
    """Velero 1.11's scoped resource filters: comma lists of resources, ``*`` for all."""
    for option in reversed(_SCOPED):
        flag = "--" + option.replace("_", "-")
        func = click.option(flag, option, multiple=True, help=_SCOPED[option][1])(func)
    return func


def backup_metadata(func: F) -> F:
    """The Backup's own labels and annotations."""
    func = click.option(
        "--annotations", multiple=True, help="Annotations to apply to the backup (k=v,...)."
    )(func)
    return click.option("--labels", multiple=True, help="Labels to apply to the backup (k=v,...).")(
        func
    )


def strict_list(values: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """Like :func:`comma_list`, but an empty name (``a,,b``, ``''``) is a usage error."""
    names = tuple(part.strip() for value in values for part in value.split(","))
    if any(not name for name in names):
        raise errors.UsageError(f"{flag}: an empty resource name in {','.join(values)!r}")
    return names


def key_values(values: tuple[str, ...], flag: str) -> dict[str, str]:
    """``k=v,k2=v2`` (the flag may repeat) as a mapping, later keys winning as in Velero's
    map flags; an entry without ``=`` or without a key is a usage error."""
    found: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            key, sep, val = pair.partition("=")
            if not sep or not key.strip():
                raise errors.UsageError(f"invalid {flag} entry {pair!r}: expected key=value")
            found[key.strip()] = val.strip()
    return found


def backup_fields(opts: dict[str, Any]) -> dict[str, Any]:
    """The options of :func:`scoped_resources` and :func:`backup_metadata` as spec fields."""
    fields: dict[str, Any] = {
        field: strict_list(opts[option], "--" + option.replace("_", "-"))
        for option, (field, _) in _SCOPED.items()
    }
    fields["labels"] = key_values(opts["labels"], "--labels")
    fields["annotations"] = key_values(opts["annotations"], "--annotations")
    return fields


def label_selector(verb: str) -> Callable[[F], F]:
    """``-l/--selector`` of ``get``, ``describe`` and ``delete``: the backups or restores
    whose labels (as ``-o json`` shows them) match."""
    return click.option(
        "-l",
        "--selector",
        default=None,
        metavar="SELECTOR",
        help=f"{verb} those whose labels match (k=v, k!=v, k in (a,b)...).",
    )


def writer_credential(help_text: str, *, required: bool = False) -> Callable[[F], F]:
    """``--writer-credential FILE`` (or ``$STRONGROOM_WRITER_CREDENTIAL``): a writer credential
    from 'key add --writer-output'."""
    return click.option(
        "--writer-credential",
        type=click.Path(dir_okay=False, path_type=pathlib.Path),
        envvar="STRONGROOM_WRITER_CREDENTIAL",
        required=required,
        help=help_text,
    )
