"""How keyslots look on the command line: id, type, what key, when; never a secret."""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any

from strongroom.cli import config, output
from strongroom.repository import keyring, keyslots

COLUMNS = ("id", "type", "key", "created", "label", "status")


def key_of(slot: keyslots.Slot) -> str:
    """What the slot is tied to: a recipient, a KMS key URI, or the KDF for a passphrase."""
    fields = slot.fields
    if "recipient" in fields:
        return str(fields["recipient"])
    if "uri" in fields:
        return str(fields["uri"])
    kdf = fields.get("kdf")
    return f"{kdf.get('name')} passphrase" if isinstance(kdf, dict) else ""


def document(location: str, slot: keyslots.Slot, trusted: bool) -> dict[str, Any]:
    return {
        "id": slot.slot,
        "type": slot.type,
        "uri": key_of(slot),
        "created": slot.created,
        "label": slot.label,
        "trusted": trusted,
        "location": location,
    }


def emit(
    location: str,
    slots: Sequence[keyslots.Slot],
    epochs: Sequence[dict[str, Any]],
    trusted: Set[str],
    fingerprint: str,
) -> None:
    def status(slot: keyslots.Slot) -> str:
        return "trusted" if slot.slot in trusted else "UNTRUSTED"

    rows = [(s.slot, s.type, key_of(s), s.created, s.label, status(s)) for s in slots]
    docs = [document(location, s, s.slot in trusted) for s in slots]
    listing = {
        "apiVersion": config.API_VERSION,
        "kind": "KeySlotList",
        "items": docs,
        "epochs": list(epochs),
        "fingerprint": keyring.show_fingerprint(fingerprint),
    }
    output.emit_documents([listing], as_list=False, columns=COLUMNS, rows=rows)
