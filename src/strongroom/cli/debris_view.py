"""How incomplete backups and restores are shown: id, objects, age, and what removes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from strongroom.repository import debris

REMOVE_HINT = "'strongroom backup delete --incomplete' removes those older than an hour"


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "age unknown"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} old"
    return f"{int(seconds)}s old"


def lines(items: Sequence[debris.Incomplete], now: float) -> list[str]:
    return [
        f"incomplete {i.kind} {i.id}: {i.objects} objects, {age_text(i.age(now))} "
        "(in progress, or left by a crash)"
        for i in items
    ]


def documents(items: Sequence[debris.Incomplete], now: float) -> list[dict[str, Any]]:
    return [
        {
            "kind": i.kind,
            "id": i.id,
            "backup": i.backup,
            "objects": i.objects,
            "ageSeconds": None if i.age(now) is None else int(i.age(now) or 0),
        }
        for i in items
    ]


def warn(items: Sequence[debris.Incomplete], now: float) -> None:
    """One line per incomplete item on standard error, then how to remove them."""
    for line in lines(items, now):
        click.echo(f"note: {line}", err=True)
    if items:
        click.echo(f"note: {REMOVE_HINT}", err=True)
