"""The command tree, global options and how errors reach the user."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

import strongroom
from strongroom.errors import ExitCode
from tests.cli.helpers import Cli


def test_help_lists_the_command_groups(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == ExitCode.OK
    for word in ("location", "sandbox", "--kubeconfig", "--context", "--output", "--verbose"):
        assert word in result.out


def test_version_prints_the_package_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == ExitCode.OK
    assert strongroom.__version__ in result.out


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("frobnicate")
    assert result.code == ExitCode.USAGE
    assert "no such command 'frobnicate'" in result.err and result.err.count("\n") == 1


def test_invalid_output_format_is_a_usage_error(cli: Cli) -> None:
    result = cli("-o", "xml", "location", "get")
    assert result.code == ExitCode.USAGE
    assert "xml" in result.err


def test_malformed_config_file_is_one_line_and_left_untouched(cli: Cli) -> None:
    cli.config_path.parent.mkdir(parents=True)
    cli.config_path.write_text("locations: [unclosed\n")
    result = cli("location", "get")
    assert result.code == ExitCode.INVALID_CONFIG
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert str(cli.config_path) in result.err
    assert cli.config_path.read_text() == "locations: [unclosed\n"


def test_config_of_the_wrong_shape_is_rejected(cli: Cli) -> None:
    cli.config_path.parent.mkdir(parents=True)
    cli.config_path.write_text("locations:\n- name: a\n  provider: s3\n")
    result = cli("location", "get")
    assert result.code == ExitCode.INVALID_CONFIG
    assert "locations[0]" in result.err


def test_console_script_reports_errors_without_traceback(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("- not a mapping\n")
    env = {**os.environ, "STRONGROOM_CONFIG": str(bad)}
    exe = pathlib.Path(sys.executable).with_name("strongroom")
    proc = subprocess.run(
        [str(exe), "location", "get"], env=env, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == ExitCode.INVALID_CONFIG
    assert proc.stderr.startswith("error: configuration ")
    assert "Traceback" not in proc.stderr
    verbose = subprocess.run(
        [str(exe), "-v", "location", "get"], env=env, capture_output=True, text=True, timeout=30
    )
    assert verbose.returncode == ExitCode.INVALID_CONFIG
    assert "Traceback" in verbose.stderr


def test_usage_errors_are_one_line_naming_the_help(cli: Cli) -> None:
    for args, cause in (
        (["backup", "get", "--bogus"], "no such option '--bogus'"),
        (["restore", "create"], "give --from-backup BACKUP or --from-schedule SCHEDULE"),
        (["backup", "get", "-o", "xml"], "'xml' is not one of"),
    ):
        outcome = cli(*args)
        assert outcome.code == ExitCode.USAGE, args
        assert outcome.err.count("\n") == 1 and outcome.err.startswith("error: "), outcome.err
        assert cause in outcome.err and "--help'" in outcome.err


def test_no_client_side_rate_limit_unless_asked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    from strongroom.cli import session
    from strongroom.sandbox import server

    made: list[float] = []
    real = session.kube

    def spy() -> object:
        client = real()
        made.append(client.limiter.qps)
        return client

    monkeypatch.setattr(session, "kube", spy)
    from strongroom.crypto import agekeys

    identity = agekeys.Identity.generate()
    (tmp_path / "id").write_text(identity.encode() + "\n")
    recipient = identity.recipient().encode()
    where = ["--provider", "filesystem", "--bucket", str(tmp_path / "b"), "--recipient", recipient]
    assert cli("location", "create", "loc", *where).code == ExitCode.OK
    with server.Sandbox() as cluster:
        kubeconfig = cluster.write_kubeconfig(tmp_path / "k")
        for flags, qps in (([], 0.0), (["--client-qps", "50"], 50.0)):
            name = f"x{len(made)}"
            cli("--kubeconfig", str(kubeconfig), "--identity", str(tmp_path / "id"), *flags,
                "backup", "create", name)  # fmt: skip
            assert made[-1] == qps
