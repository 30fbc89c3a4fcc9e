"""The configuration file: where it lives, how it is written, what it rejects."""

from __future__ import annotations

import pathlib
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.cli import config, location_create
from strongroom.errors import ExitCode, UsageError


def test_default_path_prefers_strongroom_config_then_xdg(tmp_path: pathlib.Path) -> None:
    assert config.default_path({"STRONGROOM_CONFIG": "/x/c.yaml"}) == pathlib.Path("/x/c.yaml")
    assert config.default_path({"XDG_CONFIG_HOME": "/xdg"}) == pathlib.Path(
        "/xdg/strongroom/config.yaml"
    )
    assert config.default_path({}).parts[-3:] == (".config", "strongroom", "config.yaml")


def test_save_then_load_round_trips_and_is_private(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "deep" / "config.yaml"
    loc = config.Location("a", "s3", "bucket", "p/q", {"region": "eu-west-1"})
    cfg = config.Config(path=path).with_location(loc, make_default=True)
    config.save(cfg)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = config.load(path)
    assert loaded.locations == (loc,)
    assert loaded.default_location == "a"
    assert loaded.location(None) == loc


def test_missing_file_is_an_empty_configuration(tmp_path: pathlib.Path) -> None:
    cfg = config.load(tmp_path / "absent.yaml")
    assert cfg.locations == ()
    with pytest.raises(config.LocationNotFound):
        cfg.location(None)


@pytest.mark.parametrize("name", ["UPPER", "-lead", "trail-", "a_b", "a.b", "", "x" * 64])
def test_invalid_location_names_are_refused(name: str) -> None:
    with pytest.raises(config.InvalidNameError) as info:
        config.check_name("location", name)
    assert info.value.exit_code == ExitCode.USAGE


_token = st.text(
    alphabet=st.characters(blacklist_characters=",=", blacklist_categories=("Cs", "Zs", "Cc")),
    min_size=1,
    max_size=12,
)


@given(st.dictionaries(_token, _token | st.just(""), max_size=6))
def test_key_value_flags_round_trip(pairs: dict[str, str]) -> None:
    text = ",".join(f"{k}={v}" for k, v in pairs.items())
    parsed = location_create.parse_key_values((text,) if text else (), "--config")
    assert parsed == {k.strip(): v.strip() for k, v in pairs.items()}


@pytest.mark.parametrize("text", ["region", "=x", "a=1,,b=2", "a=1,b"])
def test_malformed_key_value_flags_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        location_create.parse_key_values((text,), "--config")


def _write(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "word"),
    [
        ("kind: Config\ncolour: red\n", 2, "'colour'"),
        (
            "kind: Config\nlocations:\n- name: a\n  provider: s3\n  bucket: b\n  buckett: c\n",
            6,
            "'buckett'",
        ),
        (
            "locations:\n- name: a\n  provider: s3\n  bucket: b\n"
            "  keyring: {fingerprint: " + "a" * 32 + ", epoch: 1, salt: x}\n",
            5,
            "'salt'",
        ),
        (
            "locations:\n- name: a\n  provider: s3\n  bucket: b\n"
            "- name: a\n  provider: filesystem\n  bucket: /x\n",
            5,
            "defined twice (first on line 2)",
        ),
    ],
    ids=["top-level", "location", "keyring", "duplicate-name"],
)
def test_unknown_keys_and_duplicate_names_are_refused_with_the_line(
    tmp_path: pathlib.Path, text: str, line: int, word: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(config.ConfigFileError) as caught:
        config.load(path)
    assert f"line {line}:" in str(caught.value) and word in str(caught.value)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    assert path.read_text() == text, "never rewritten"


def test_a_fully_populated_location_round_trips(tmp_path: pathlib.Path) -> None:
    loc = config.Location(
        "a", "s3", "b", "p", {"region": "r"}, "r" * 26, "PASS_VAR", "f" * 32, 2, "s" * 26, ("k",)
    )
    cfg = config.Config(path=tmp_path / "c.yaml").with_location(loc, make_default=True)
    config.save(cfg)
    assert config.load(cfg.path).locations == (loc,)
