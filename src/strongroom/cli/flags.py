"""Flags that ``backup create`` and ``restore create`` share, spelled as Velero spells them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

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
