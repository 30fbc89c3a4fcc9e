"""Running the CLI in-process and reading what it printed."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import pytest

from strongroom.cli import main


@dataclasses.dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """``strongroom`` with its own configuration file, run in this process."""

    def __init__(self, capsys: pytest.CaptureFixture[str], config_path: pathlib.Path) -> None:
        self.capsys = capsys
        self.config_path = config_path

    def __call__(self, *args: str) -> Outcome:
        self.capsys.readouterr()
        code = main.run(["--config", str(self.config_path), *args])
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)
