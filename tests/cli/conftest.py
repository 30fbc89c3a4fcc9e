from __future__ import annotations

import pathlib

import pytest

from tests.cli.helpers import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path) -> Cli:
    return Cli(capsys, tmp_path / "config" / "strongroom.yaml")
