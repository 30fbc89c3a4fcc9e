"""Optional persistence of a sandbox's objects to a state directory.

Every change marks the state dirty; a writer thread saves it shortly after (at most every
:data:`FLUSH_DELAY` seconds, so a burst of writes costs one save) and once more on stop. Saves
are atomic: a temporary file, fsync, then rename over ``cluster.json``. A restarted sandbox with
the same directory loads the objects, the resourceVersion counter, the CRD registrations and
the allocated IPs and ports; the watch history starts empty, so older resourceVersions are
expired (410) as after a real server's compaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import threading

from strongroom import errors
from strongroom.sandbox import cluster, store

FILE_NAME = "cluster.json"
FORMAT = 1
FLUSH_DELAY = 0.1


class StateError(errors.ConfigError):
    """A state directory whose saved cluster cannot be read or written."""


class Persister:
    """Loads a cluster from a state directory and keeps the directory up to date."""

    def __init__(self, c: cluster.Cluster, state_dir: pathlib.Path) -> None:
        self._cluster = c
        self._dir = pathlib.Path(state_dir)
        self._path = self._dir / FILE_NAME
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-persist", daemon=True)
        self._write_lock = threading.Lock()

    def load(self) -> bool:
        """Load the saved cluster, if any; returns whether there was one."""
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateError(f"cannot read sandbox state {self._path}: {exc.strerror}") from exc
        try:
            image = json.loads(text)
            if image.get("format") != FORMAT:
                raise ValueError(f"unknown format {image.get('format')!r}")
            self._cluster.store.load(image)
        except (ValueError, KeyError, TypeError) as exc:
            raise StateError(f"sandbox state {self._path} is unreadable: {exc}") from exc
        self._cluster.rebuild()
        return True

    def start(self) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create sandbox state directory {self._dir}: {exc.strerror}"
            ) from exc
        self._cluster.store.add_listener(self._on_event)
        self._thread.start()
        self.flush()

    def stop(self) -> None:
        self._stopped.set()
        self._dirty.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.flush()

    def _on_event(self, event: store.Event) -> None:
        del event
        self._dirty.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._dirty.wait()
            if self._stopped.is_set():
                return
            self._stopped.wait(FLUSH_DELAY)
            self._dirty.clear()
            self.flush()

    def flush(self) -> None:
        """Save the current state atomically."""
        with self._write_lock:
            image = self._cluster.store.dump()
            image["format"] = FORMAT
            data = json.dumps(image, separators=(",", ":")).encode()
            tmp = self._path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self._path)
                with contextlib.suppress(OSError):
                    dir_fd = os.open(self._dir, os.O_RDONLY)
                    try:
                        os.fsync(dir_fd)
                    finally:
                        os.close(dir_fd)
            except OSError as exc:
                raise StateError(
                    f"cannot write sandbox state {self._path}: {exc.strerror}"
                ) from exc
