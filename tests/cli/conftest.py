from __future__ import annotations

import pathlib

import pytest

from tests.cli.helpers import Cli
from tests.fixtures.seaweedfs import SeaweedFS


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for var in ("STRONGROOM_IDENTITY", "STRONGROOM_PASSPHRASE", "STRONGROOM_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return Cli(capsys, tmp_path / "config" / "strongroom.yaml")


@pytest.fixture
def aws_profiles(
    seaweedfs: SeaweedFS, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials come from the standard AWS chain: here, a shared credentials file."""
    creds = seaweedfs.write_credentials(tmp_path / "aws-credentials")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "absent-aws-config"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
