"""``strongroom demo`` runs the whole job on its embedded defaults and cleans up after itself."""

from __future__ import annotations

import pathlib
import re

from strongroom.errors import ExitCode
from tests.cli.helpers import Cli


def test_demo_backs_up_and_restores_the_sample_shop(cli: Cli) -> None:
    result = cli("demo")
    assert result.code == ExitCode.OK, result.err
    out = result.out
    assert re.search(r"source http://127\.0\.0\.1:\d+, target http://127\.0\.0\.1:\d+", out)
    assert "Backup 'shop-nightly' Completed" in out
    assert "and 2 volumes (through the node agents" in out
    assert "no password, no names, no plaintext" in out
    assert re.search(r"with the recovery key as 'shop-restored': Completed \(\d+ created", out)
    assert "match, Secret values included" in out
    assert "the database's rows, byte for byte" in out
    rows = dict(re.findall(r"^(\S+)\s+(\d+)\s*$", out, flags=re.MULTILINE))
    assert rows == {
        "configmaps": "1",
        "coupons.shop.example.com": "2",
        "deployments.apps": "1",
        "secrets": "1",
        "services": "2",
        "statefulsets.apps": "1",
    }
    folder = re.search(r"in (/\S+)/backups,", out)
    assert folder is not None
    assert not pathlib.Path(folder.group(1)).exists(), "the demo folder is removed"
    assert not cli.config_path.exists(), "the demo never touches the user's configuration"
