"""Rendering of command results as a table, JSON or YAML.

Commands hand over plain data: a list of documents (for ``-o json|yaml``) and the table rows
derived from them. JSON and YAML print the documents; a list of more than one document, or a
``get`` without a name, prints a ``List`` like kubectl does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click
import yaml
from rich.console import Console
from rich.table import Table

from strongroom.cli import context


def emit_documents(
    documents: Sequence[Mapping[str, Any]],
    *,
    as_list: bool,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> None:
    """Print ``documents`` in the selected format, or ``rows`` under ``columns`` as a table."""
    fmt = context.settings().output
    if fmt is context.OutputFormat.TABLE:
        emit_table(columns, rows)
        return
    payload: Any
    if as_list:
        payload = {"apiVersion": "v1", "kind": "List", "items": list(documents)}
    else:
        payload = documents[0]
    if fmt is context.OutputFormat.JSON:
        click.echo(json.dumps(payload, indent=2, sort_keys=False))
    else:
        click.echo(yaml.safe_dump(payload, sort_keys=False), nl=False)


def emit_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A borderless table in kubectl's style; a note on stderr when there is nothing."""
    if not rows:
        click.echo("No resources found.", err=True)
        return
    table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column.upper(), overflow="fold", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=True, width=max(80, sum(len(c) for c in columns) + 200)).print(table)


def emit_fields(pairs: Sequence[tuple[str, str]]) -> None:
    """``Name:  value`` lines, aligned, as ``describe`` prints them."""
    width = max((len(k) for k, _ in pairs), default=0) + 2
    for key, value in pairs:
        click.echo(f"{key + ':':<{width}}{value}")
