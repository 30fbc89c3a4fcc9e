"""The user's configuration file: storage locations and which one is the default.

The file is YAML, found at ``--config``, else ``$STRONGROOM_CONFIG``, else
``$XDG_CONFIG_HOME/strongroom/config.yaml`` (``~/.config/strongroom/config.yaml``)::

    apiVersion: strongroom.io/v1alpha1
    kind: Config
    defaultLocation: primary
    locations:
    - name: primary
      provider: s3
      bucket: backups
      prefix: cluster-a
      config: {region: eu-west-1, s3Url: "https://minio.example:9000"}
      repository: 3ybq...            # the repository id found or created there
      keyring: {fingerprint: "...", epoch: 1, slot: ...}   # what this client pinned (§4.4)
      kmsKeys: ["aws-kms://alias/backup"]        # the only key-service keys it calls

The file is the client's trust anchor: the bucket is not trusted to say which keyring,
epoch or KMS key is the right one, this file is.

A missing file is an empty configuration. A file that does not parse, or holds something
other than the above, is a :class:`ConfigFileError` naming the file; it is never overwritten.
Writes go to a temporary file beside it (mode 0600) that replaces it atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import tempfile
from collections.abc import Mapping
from typing import Any

import yaml

from strongroom import errors

API_VERSION = "strongroom.io/v1alpha1"
KIND = "Config"
PROVIDERS = ("filesystem", "s3")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_FINGERPRINT = re.compile(r"[a-z2-7]{32}")


class ConfigFileError(errors.ConfigError):
    """The configuration file cannot be read or does not hold a Strongroom configuration."""


class InvalidNameError(errors.UsageError):
    """A name that is not a DNS-1123 label."""


class LocationNotFound(errors.NotFoundError):
    pass


class LocationExists(errors.AlreadyExistsError):
    pass


def default_path(environ: Mapping[str, str]) -> pathlib.Path:
    """Where the configuration lives when ``--config`` is not given."""
    if explicit := environ.get("STRONGROOM_CONFIG"):
        return pathlib.Path(explicit)
    base = environ.get("XDG_CONFIG_HOME") or str(pathlib.Path.home() / ".config")
    return pathlib.Path(base) / "strongroom" / "config.yaml"


def check_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a DNS-1123 label (as Velero's object names are)."""
    if not _NAME.match(name):
        raise InvalidNameError(
            f"invalid {kind} name {name!r}: use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


@dataclasses.dataclass(frozen=True)
class Location:
    """A storage location: where a repository of backups lives."""

    name: str
    provider: str
    bucket: str
    prefix: str = ""
    config: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: The id of the repository found or created there; a different one later is an alarm.
    repository: str = ""
    #: The environment variable holding the passphrase that unlocks it, if any.
    passphrase_env: str = ""
    #: The pinned keyring fingerprint (bare base32) and the highest epoch accepted; "" before
    #: the first unlock (trust on first use); epoch 0 when pinned by fingerprint alone.
    fingerprint: str = ""
    epoch: int = 0
    #: The keyslot that opened the repository last time: tried first next time.
    slot: str = ""
    #: Key-service URIs this client may call; None when never configured (earlier releases).
    kms_keys: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "provider": self.provider,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "config": dict(self.config),
            "repository": self.repository,
        }
        if self.passphrase_env:
            doc["passphraseEnv"] = self.passphrase_env
        if self.fingerprint:
            doc["keyring"] = {"fingerprint": self.fingerprint, "epoch": self.epoch}
            if self.slot:
                doc["keyring"]["slot"] = self.slot
        if self.kms_keys is not None:
            doc["kmsKeys"] = list(self.kms_keys)
        return doc


@dataclasses.dataclass(frozen=True)
class Config:
    path: pathlib.Path
    locations: tuple[Location, ...] = ()
    default_location: str | None = None
    #: Age identity files tried when unlocking repositories.
    identity_files: tuple[str, ...] = ()

    def location(self, name: str | None) -> Location:
        """The named location, or the default one when ``name`` is None."""
        wanted = name or self.default_location
        if wanted is None:
            if len(self.locations) == 1:
                return self.locations[0]
            raise LocationNotFound(
                "no storage location given and no default set "
                "(use --storage-location or 'strongroom location create ... --default')"
            )
        for loc in self.locations:
            if loc.name == wanted:
                return loc
        raise LocationNotFound(f"storage location {wanted!r} not found in {self.path}")

    def with_location(self, loc: Location, *, make_default: bool) -> Config:
        if any(existing.name == loc.name for existing in self.locations):
            raise LocationExists(f"storage location {loc.name!r} already exists in {self.path}")
        default = loc.name if make_default else self.default_location
        return dataclasses.replace(self, locations=(*self.locations, loc), default_location=default)

    def replacing(self, loc: Location) -> Config:
        """This configuration with the location of the same name replaced by ``loc``."""
        self.location(loc.name)  # raises when absent
        rest = tuple(loc if existing.name == loc.name else existing for existing in self.locations)
        return dataclasses.replace(self, locations=rest)

    def without_location(self, name: str) -> Config:
        self.location(name)  # raises when absent
        rest = tuple(loc for loc in self.locations if loc.name != name)
        default = None if self.default_location == name else self.default_location
        return dataclasses.replace(self, locations=rest, default_location=default)


def load(path: pathlib.Path) -> Config:
    """Read the configuration at ``path``; a missing file is an empty configuration."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read configuration {path}: {_reason(exc)}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigFileError(f"configuration {path} is not valid YAML{where}") from exc
    if raw is None:
        return Config(path=path)
    _check_keys(path, text)
    return _parse(path, raw)


_TOP_KEYS = frozenset({"apiVersion", "kind", "defaultLocation", "locations", "identityFiles"})
_LOCATION_KEYS = frozenset(
    {"name", "provider", "bucket", "prefix", "config", "repository", "passphraseEnv"}
    | {"keyring", "kmsKeys"}
)
_KEYRING_KEYS = frozenset({"fingerprint", "epoch", "slot"})


def _check_keys(path: pathlib.Path, text: str) -> None:
    """Refuse unknown keys (a later write would drop them) and duplicate location names,
    naming the line: the file is the user's, and nothing in it is silently lost."""
    root = yaml.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return  # _parse reports the shape

    def unknown(node: yaml.MappingNode, allowed: frozenset[str], where: str) -> None:
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value not in allowed:
                raise ConfigFileError(
                    f"configuration {path} line {key.start_mark.line + 1}: unknown key "
                    f"{key.value!r}{where}"
                )

    unknown(root, _TOP_KEYS, "")
    items = [
        item
        for key, value in root.value
        if key.value == "locations" and isinstance(value, yaml.SequenceNode)
        for item in value.value
        if isinstance(item, yaml.MappingNode)
    ]
    for item in items:
        unknown(item, _LOCATION_KEYS, " in a location")
        for field, inner in item.value:
            if field.value == "keyring" and isinstance(inner, yaml.MappingNode):
                unknown(inner, _KEYRING_KEYS, " in a location's keyring")
    _check_names(path, items)


def _check_names(path: pathlib.Path, items: list[yaml.MappingNode]) -> None:
    seen: dict[str, int] = {}
    for item in items:
        for field, inner in item.value:
            if field.value != "name" or not isinstance(inner, yaml.ScalarNode):
                continue
            line = inner.start_mark.line + 1
            if inner.value in seen:
                raise ConfigFileError(
                    f"configuration {path} line {line}: location {inner.value!r} is defined "
                    f"twice (first on line {seen[inner.value]})"
                )
            seen[inner.value] = line


def _parse(path: pathlib.Path, raw: object) -> Config:
    def bad(what: str) -> ConfigFileError:
        return ConfigFileError(f"configuration {path}: {what}")

    if not isinstance(raw, dict) or raw.get("kind", KIND) != KIND:
        raise bad(f"expected a mapping of kind {KIND}")
    items = raw.get("locations") or []
    if not isinstance(items, list):
        raise bad("'locations' must be a list")
    locations = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad(f"locations[{index}] must be a mapping")
        fields = {k: item.get(k) for k in ("name", "provider", "bucket")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise bad(f"locations[{index}] needs string fields name, provider and bucket")
        cfg = item.get("config") or {}
        if not isinstance(cfg, dict) or not all(isinstance(v, str) for v in cfg.values()):
            raise bad(f"locations[{index}].config must map names to strings")
        extra = {k: item.get(k) or "" for k in ("prefix", "repository", "passphraseEnv")}
        if not all(isinstance(v, str) for v in extra.values()):
            raise bad(f"locations[{index}]: prefix, repository and passphraseEnv must be strings")
        fingerprint, epoch, slot = _keyring(item.get("keyring"), bad, index)
        kms_keys = item.get("kmsKeys")
        if kms_keys is not None and (
            not isinstance(kms_keys, list) or not all(isinstance(k, str) for k in kms_keys)
        ):
            raise bad(f"locations[{index}].kmsKeys must be a list of key URIs")
        locations.append(
            Location(
                prefix=extra["prefix"],
                config=dict(cfg),
                repository=extra["repository"],
                passphrase_env=extra["passphraseEnv"],
                fingerprint=fingerprint,
                epoch=epoch,
                slot=slot,
                kms_keys=None if kms_keys is None else tuple(kms_keys),
                **fields,  # type: ignore[arg-type]
            )
        )
    default = raw.get("defaultLocation")
    if default is not None and not isinstance(default, str):
        raise bad("'defaultLocation' must be a string")
    identity_files = raw.get("identityFiles") or []
    if not isinstance(identity_files, list) or not all(isinstance(f, str) for f in identity_files):
        raise bad("'identityFiles' must be a list of paths")
    return Config(
        path=path,
        locations=tuple(locations),
        default_location=default,
        identity_files=tuple(identity_files),
    )


def _keyring(raw: object, bad: Any, index: int) -> tuple[str, int, str]:
    """The pinned fingerprint, epoch and last slot of a location entry (empty when absent)."""
    if raw is None:
        return "", 0, ""
    fingerprint = raw.get("fingerprint") if isinstance(raw, dict) else None
    epoch = raw.get("epoch") if isinstance(raw, dict) else None
    if (
        not isinstance(fingerprint, str)
        or _FINGERPRINT.fullmatch(fingerprint) is None
        or not isinstance(epoch, int)
        or isinstance(epoch, bool)
        or epoch < 0
    ):
        raise bad(f"locations[{index}].keyring needs a fingerprint and an epoch (0: not known yet)")
    slot = raw.get("slot", "") if isinstance(raw, dict) else ""
    if not isinstance(slot, str):
        raise bad(f"locations[{index}].keyring.slot must be a keyslot id")
    return fingerprint, epoch, slot


def document(cfg: Config) -> dict[str, Any]:
    """The configuration as the file holds it."""
    doc: dict[str, Any] = {"apiVersion": API_VERSION, "kind": KIND}
    if cfg.default_location:
        doc["defaultLocation"] = cfg.default_location
    if cfg.identity_files:
        doc["identityFiles"] = list(cfg.identity_files)
    doc["locations"] = [loc.to_dict() for loc in cfg.locations]
    return doc


def save(cfg: Config) -> None:
    """Write ``cfg`` to its path atomically, readable by the owner only."""
    text = yaml.safe_dump(document(cfg), sort_keys=False)
    try:
        cfg.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=cfg.path.parent)
    except OSError as exc:
        raise ConfigFileError(f"cannot write configuration {cfg.path}: {_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, cfg.path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigFileError(f"cannot write configuration {cfg.path}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
