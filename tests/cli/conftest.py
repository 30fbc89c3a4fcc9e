from __future__ import annotations

import pathlib

import pytest

from tests.cli.helpers import Cli


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("STRONGROOM_IDENTITY", "STRONGROOM_PASSPHRASE", "STRONGROOM_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return Cli(capsys, tmp_path / "config" / "strongroom.yaml")
