"""The log of one backup or restore run: bounded, in memory, rendered as text for storage.

Lines look like Velero's (logrus text format)::

    time="2026-11-29T16:31:08Z" level=info msg="listed 12 configmaps" namespace=shop

At most ``max_lines`` lines are kept; later ones are counted in :attr:`RunLog.dropped` and the
rendered text ends with a line saying how many were dropped. Lines are kept as text, and
every :data:`SEGMENT_LINES` of them compressed into one zstd frame: a log of 20,000 lines
holds about 100 KB, not the 4 MB its lines would as strings, and is read back
(:meth:`RunLog.chunks`) a segment at a time. Warnings and errors are counted
whether kept or not (Velero's log counter hook: ``status.warnings`` and ``status.errors``) and,
when the log was given a :class:`~strongroom.engine.results.Results`, also recorded there under
their scope. Callers log names, counts and error messages, never object bodies or Secret
values; each message is folded onto one line and cut to :data:`MAX_MESSAGE` characters.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from typing import Literal

from strongroom import clock as clock_mod
from strongroom.archive import compress
from strongroom.engine import messages
from strongroom.engine import results as results_mod

Level = Literal["debug", "info", "warning", "error"]
DEFAULT_MAX_LINES = 20_000
MAX_MESSAGE = 2_000
#: Lines compressed together, once that many are kept.
SEGMENT_LINES = 1_024


@dataclasses.dataclass(frozen=True)
class Line:
    time: str
    level: Level
    message: str
    fields: tuple[tuple[str, str], ...] = ()

    def render(self) -> str:
        parts = [f'time="{self.time}"', f"level={self.level}", f"msg={_quote(self.message)}"]
        parts.extend(f"{key}={_value(value)}" for key, value in self.fields)
        return " ".join(parts)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _value(text: str) -> str:
    plain = text and all(c.isalnum() or c in "-._/:@" for c in text)
    return text if plain else _quote(text)


def _fold(message: str) -> str:
    flat = " ".join(message.split())
    return flat if len(flat) <= MAX_MESSAGE else flat[: MAX_MESSAGE - 3] + "..."


class RunLog:
    """A bounded, thread-safe run log; see the module docstring."""

    def __init__(
        self,
        clock: clock_mod.Clock,
        *,
        results: results_mod.Results | None = None,
        max_lines: int = DEFAULT_MAX_LINES,
    ) -> None:
        if max_lines < 1:
            raise ValueError("a run log keeps at least one line")
        self._clock = clock
        self._results = results
        self._max_lines = max_lines
        self._segments: list[bytes] = []
        self._recent: list[str] = []
        self._compressor = compress.compressor(3)
        self._lock = threading.Lock()
        self.kept = 0
        self.dropped = 0
        self.warnings = 0
        self.errors = 0

    def log(self, level: Level, message: str, **fields: str | None) -> None:
        """Record one line; ``fields`` with a None value are left out."""
        line = Line(
            clock_mod.rfc3339(self._clock.now()),
            level,
            _fold(message),
            tuple((k, _fold(v)) for k, v in fields.items() if v is not None),
        ).render()
        with self._lock:
            if level == "warning":
                self.warnings += 1
            elif level == "error":
                self.errors += 1
            if self.kept < self._max_lines:
                self.kept += 1
                self._recent.append(line)
                if len(self._recent) >= SEGMENT_LINES:
                    frame = self._compressor.compress(_text(self._recent))
                    self._segments.append(messages.compact(frame))
                    self._recent = []
            else:
                self.dropped += 1

    def debug(self, message: str, **fields: str | None) -> None:
        self.log("debug", message, **fields)

    def info(self, message: str, **fields: str | None) -> None:
        self.log("info", message, **fields)

    def warning(
        self,
        message: str,
        where: results_mod.Where = results_mod.STRONGROOM,
        **fields: str | None,
    ) -> None:
        """A warning line, also added to the results under ``where``."""
        self.log("warning", message, **{**_scope_fields(where), **fields})
        if self._results is not None:
            self._results.add_warning(where, _fold(message))

    def error(
        self,
        message: str,
        where: results_mod.Where = results_mod.STRONGROOM,
        **fields: str | None,
    ) -> None:
        """An error line, also added to the results under ``where``."""
        self.log("error", message, **{**_scope_fields(where), **fields})
        if self._results is not None:
            self._results.add_error(where, _fold(message))

    def chunks(self) -> Iterator[bytes]:
        """The log as UTF-8 text, one line each, with a final note of dropped lines, in
        pieces (the lines logged so far)."""
        with self._lock:
            segments, recent = list(self._segments), list(self._recent)
            if self.dropped:
                recent.append(
                    f'level=warning msg="{self.dropped} more lines were dropped: '
                    f'the log keeps {self._max_lines}"'
                )
        for segment in segments:
            yield compress.decompress_document(segment)
        if recent:
            yield _text(recent)

    def render(self) -> bytes:
        """The whole log as UTF-8 text (:meth:`chunks` joined)."""
        return b"".join(self.chunks())


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def _scope_fields(where: results_mod.Where) -> dict[str, str | None]:
    if isinstance(where, results_mod.InNamespace):
        return {"namespace": where.name}
    return {}
