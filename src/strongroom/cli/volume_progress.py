"""Progress of volume backups and restores: bytes, files, rate and (when the total is known)
time left, as one live line on stderr. Only on a terminal: pipes and CI logs get nothing.

The engines call back once per file from the thread doing the walk or the writing; the line
is redrawn at most every :data:`EVERY` seconds.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from strongroom.cli import volume_view
from strongroom.engine.volumes import backup as snapshotting
from strongroom.engine.volumes import restore as restoring

EVERY = 0.1


def interactive() -> bool:
    """Whether stderr is a terminal (progress is drawn only then)."""
    return sys.stderr.isatty()


class Meter:
    """A context manager around a run; ``total`` bytes when known, for a bar and an ETA."""

    def __init__(
        self, label: str, *, total: int | None = None, console: Console | None = None
    ) -> None:
        self.label = label
        self.total = total
        self._console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last = 0.0

    def __enter__(self) -> Meter:
        if self._console is None and not interactive():
            return self
        columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
        if self.total is not None:
            columns += [BarColumn(), DownloadColumn(binary_units=True)]
        else:
            columns.append(TextColumn("{task.fields[done]}"))
        columns += [TextColumn("{task.fields[files]} files"), TransferSpeedColumn()]
        columns.append(TimeRemainingColumn() if self.total is not None else TimeElapsedColumn())
        console = self._console or Console(stderr=True)
        self._bar = Progress(*columns, console=console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total, done="0 B", files=0)
        return self

    def update(self, done: int, files: int, note: str = "") -> None:
        if self._bar is None or self._task is None:
            return
        now = time.monotonic()
        if now - self._last < EVERY:
            return
        self._last = now
        description = f"{self.label} {note}".rstrip()
        self._bar.update(
            self._task,
            completed=done,
            description=description,
            done=volume_view.size(done),
            files=files,
        )

    def backup(self, stats: snapshotting.Stats) -> None:
        """The backup engine's callback: bytes seen so far (the total is unknown)."""
        self.update(stats.bytes, stats.files, f"({volume_view.size(stats.bytes_read)} read)")

    def restore(self, outcome: restoring.Outcome) -> None:
        """The restore engine's callback: bytes written so far."""
        self.update(outcome.bytes, outcome.files)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
