"""The global options every command sees, carried on click's context object."""

from __future__ import annotations

import dataclasses
import enum
import pathlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


@dataclasses.dataclass
class Settings:
    """Options given before the command (``strongroom -o json location get``)."""

    config_path: pathlib.Path
    kubeconfig: pathlib.Path | None = None
    kube_context: str | None = None
    output: OutputFormat = OutputFormat.TABLE
    verbose: int = 0
    identity_files: tuple[pathlib.Path, ...] = ()
    #: 0: no client-side limit (API priority and fairness on the server does the limiting).
    client_qps: float = 0.0
    client_burst: int = 1000


def settings() -> Settings:
    """The settings of the command being run."""
    obj = click.get_current_context().find_object(Settings)
    if obj is None:  # only when a command is invoked outside the root group
        raise RuntimeError("command invoked without the strongroom root group")
    return obj


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        obj = ctx.find_object(Settings)
        if obj is not None:
            obj.output = OutputFormat(value)


def output_option(func: F) -> F:
    """Let a command take ``-o`` after its name too (``location get -o json``)."""
    option = click.option(
        "-o",
        "--output",
        type=click.Choice([f.value for f in OutputFormat]),
        default=None,
        expose_value=False,
        callback=_set_output,
        help="Output format: table, json or yaml.",
    )
    return option(func)
