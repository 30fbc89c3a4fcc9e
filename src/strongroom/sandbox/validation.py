"""Name, label and annotation validation with the rules and messages of a real API server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from strongroom.sandbox import status

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_LABEL_RE = re.compile(rf"^{_LABEL}$")
_DNS1035_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
QUALIFIED_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)

NameCheck = Callable[[str], list[str]]


def dns_subdomain(name: str) -> list[str]:
    errs = []
    if len(name) > 253:
        errs.append("must be no more than 253 characters")
    if not _SUBDOMAIN_RE.match(name):
        errs.append(SUBDOMAIN_MSG)
    return errs


def dns_label(name: str) -> list[str]:
    errs = []
    if len(name) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_RE.match(name):
        errs.append(LABEL_MSG)
    return errs


def dns1035_label(name: str) -> list[str]:
    errs = []
    if len(name) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(name):
        errs.append(DNS1035_MSG)
    return errs


def path_segment(name: str) -> list[str]:
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    for bad in ("/", "%"):
        if bad in name:
            return [f"may not contain '{bad}'"]
    return []


#: Name rules that differ from the default (DNS-1123 subdomain), by (group, plural).
_NAME_RULES: dict[tuple[str, str], NameCheck] = {
    ("", "namespaces"): dns_label,
    ("", "services"): dns1035_label,
    ("rbac.authorization.k8s.io", "roles"): path_segment,
    ("rbac.authorization.k8s.io", "clusterroles"): path_segment,
    ("rbac.authorization.k8s.io", "rolebindings"): path_segment,
    ("rbac.authorization.k8s.io", "clusterrolebindings"): path_segment,
}


def name_rule(group: str, plural: str) -> NameCheck:
    return _NAME_RULES.get((group, plural), dns_subdomain)


def qualified_name(key: str) -> list[str]:
    """Errors of a label or annotation key (``[prefix/]name``)."""
    prefix, slash, name = key.rpartition("/")
    errs: list[str] = []
    if slash and not prefix:
        errs.append("prefix part must be non-empty")
    elif prefix:
        errs.extend(f"prefix part {m}" for m in dns_subdomain(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_RE.match(name):
        errs.append(QUALIFIED_MSG)
    return errs


def label_value(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if value and not _QUALIFIED_RE.match(value):
        errs.append(LABEL_VALUE_MSG)
    return errs


def _invalid(path: str, value: object, msg: str) -> status.Cause:
    return status.field(path, f"Invalid value: {json.dumps(value)}: {msg}")


def metadata_causes(meta: dict[str, Any], check: NameCheck) -> list[status.Cause]:
    """Field errors of ``metadata``: name, generateName, labels, annotations, finalizers."""
    causes: list[status.Cause] = []
    name = meta.get("name")
    if not name:
        causes.append(
            status.field(
                "metadata.name",
                "Required value: name or generateName is required",
                "FieldValueRequired",
            )
        )
    elif not isinstance(name, str):
        causes.append(_invalid("metadata.name", name, "must be a string"))
    else:
        causes.extend(_invalid("metadata.name", name, m) for m in check(name))
    causes.extend(_map_causes(meta, "labels", label_value))
    causes.extend(_map_causes(meta, "annotations", None))
    finalizers = meta.get("finalizers") or []
    if not isinstance(finalizers, list):
        causes.append(_invalid("metadata.finalizers", finalizers, "must be a list"))
    else:
        for i, fin in enumerate(finalizers):
            for m in qualified_name(str(fin)):
                causes.append(_invalid(f"metadata.finalizers[{i}]", fin, m))
    return causes


def _map_causes(
    meta: dict[str, Any], key: str, value_check: Callable[[str], list[str]] | None
) -> list[status.Cause]:
    mapping = meta.get(key)
    if mapping is None:
        return []
    if not isinstance(mapping, dict):
        return [_invalid(f"metadata.{key}", mapping, "must be a map of strings")]
    causes: list[status.Cause] = []
    for k, v in mapping.items():
        causes.extend(_invalid(f"metadata.{key}", k, m) for m in qualified_name(str(k)))
        if not isinstance(v, str):
            causes.append(_invalid(f"metadata.{key}", v, "must be a string"))
        elif value_check is not None:
            causes.extend(_invalid(f"metadata.{key}", v, m) for m in value_check(v))
    if key == "annotations" and sum(len(k) + len(str(v)) for k, v in mapping.items()) > 262144:
        causes.append(
            status.field(
                "metadata.annotations",
                "Too long: must have at most 262144 bytes",
                "FieldValueTooLong",
            )
        )
    return causes
