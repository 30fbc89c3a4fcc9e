"""``strongroom demo`` runs end to end on its embedded defaults and cleans up after itself."""

from __future__ import annotations

import pathlib
import re

from strongroom.errors import ExitCode
from tests.cli.helpers import Cli


def test_demo_deploys_and_surveys_the_sample_shop(cli: Cli) -> None:
    result = cli("demo")
    assert result.code == ExitCode.OK, result.err
    assert re.search(r"Sandbox cluster serving at http://127\.0\.0\.1:\d+", result.out)
    total = re.search(r"A backup of namespace 'shop' collects (\d+) objects", result.out)
    assert total is not None
    rows = dict(re.findall(r"^(\S+)\s+(\d+)\s*$", result.out, flags=re.MULTILINE))
    assert int(total.group(1)) == sum(int(v) for v in rows.values()) >= 11
    assert rows["coupons.shop.example.com"] == "2"
    assert rows["services"] == "2"
    assert rows["secrets"] == "1"
    folder = re.search(r"kubeconfig (\S+)\)", result.out)
    assert folder is not None
    assert not pathlib.Path(folder.group(1)).parent.exists(), "the demo folder is removed"
    assert not cli.config_path.exists(), "the demo never touches the user's configuration"
