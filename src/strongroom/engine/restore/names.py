"""Kubernetes name rules the restore engine checks, and Velero's label-value shortening."""

from __future__ import annotations

import hashlib
import re

#: Longest label value (and DNS-1123 label) Kubernetes accepts.
MAX_LABEL = 63
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def is_dns_label(value: str) -> bool:
    """Whether ``value`` is an RFC 1123 label: what a namespace name must be."""
    return len(value) <= MAX_LABEL and _DNS_LABEL.fullmatch(value) is not None


def valid_label_value(value: str) -> str:
    """``value`` when it fits a label value; else its first 57 characters and 6 hex
    characters of its SHA-256, as Velero's ``label.GetValidName`` does."""
    if len(value) <= MAX_LABEL:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    return value[: MAX_LABEL - 6] + digest[:6]
