"""Progress for ``--wait``: a live bar on a terminal, plain lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)


class Reporter:
    """Counts items as an engine reports them; a context manager around the run."""

    def __init__(self, label: str, *, enabled: bool, interactive: bool | None = None) -> None:
        self.label = label
        self.enabled = enabled
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last_line = 0.0

    def __enter__(self) -> Reporter:
        if self.enabled and self.interactive:
            columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
            self._bar = Progress(*columns, MofNCompleteColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=None)
        return self

    def update(self, done: int, total: int | None, current: str = "") -> None:
        if not self.enabled:
            return
        if self._bar is not None and self._task is not None:
            description = f"{self.label} {current}".strip()
            self._bar.update(self._task, completed=done, total=total, description=description)
            return
        now = time.monotonic()
        if now - self._last_line >= 1.0 or (total is not None and done == total):
            self._last_line = now
            of = f"/{total}" if total else ""
            click.echo(f"{self.label}: {done}{of} items {current}".rstrip(), err=True)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
