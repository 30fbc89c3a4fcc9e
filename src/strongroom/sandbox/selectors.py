"""Label and field selectors of list and watch requests, with the API server's syntax and rules.

Label selectors (``labelSelector=``), as documented under "Labels and Selectors": a
comma-separated AND of requirements ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
``k notin (a,b)``, ``k``, ``!k`` and the numeric ``k>n``, ``k<n``; keys are qualified names
(optional DNS subdomain prefix and ``/``), values label values. ``!=`` and ``notin`` also match
objects without the label.

Field selectors (``fieldSelector=``): a comma-separated AND of ``f=v``, ``f==v``, ``f!=v``,
where ``\\``, ``\\,`` and ``\\=`` escape those characters in values. Only the fields a resource
supports may be used.

Both parsers raise :class:`SelectorError` with a one-line message; the server answers 400.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Mapping
from typing import Any

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_NAME_RE = re.compile(_NAME)
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_SPECIAL = frozenset("=!(),<>")
_OPERATORS = ("!=", "==", "=", "(", ")", ",", "!", ">", "<")
_NAME_HELP = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)


class SelectorError(ValueError):
    """A malformed selector, an invalid key or value, or an unsupported field."""


def validate_label_key(key: str) -> None:
    """Raise unless ``key`` is a qualified name: ``[prefix/]name``."""
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        raise SelectorError(f"invalid label key {key!r}: prefix part must be non-empty")
    if "/" in prefix:
        raise SelectorError(f"invalid label key {key!r}: a qualified name has at most one '/'")
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN_RE.fullmatch(prefix)):
        raise SelectorError(
            f"invalid label key {key!r}: prefix part must be a lowercase RFC 1123 subdomain"
        )
    if not name:
        raise SelectorError(f"invalid label key {key!r}: name part must be non-empty")
    if len(name) > 63:
        raise SelectorError(f"invalid label key {key!r}: name part must be no more than 63 chars")
    if not _NAME_RE.fullmatch(name):
        raise SelectorError(f"invalid label key {key!r}: name part {_NAME_HELP}")


def validate_label_value(value: str) -> None:
    """Raise unless ``value`` is a valid label value (empty, or up to 63 name characters)."""
    if len(value) > 63:
        raise SelectorError(f"invalid label value {value!r}: must be no more than 63 characters")
    if value and not _NAME_RE.fullmatch(value):
        raise SelectorError(f"invalid label value {value!r}: a valid label {_NAME_HELP}")


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``operator`` is in, notin, =, !=, exists, !, gt or lt."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if not present or not re.fullmatch(r"[-+]?\d+", value):
            return False
        limit = int(self.values[0])
        return int(value) > limit if self.operator == "gt" else int(value) < limit

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return "!" + self.key
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(sorted(self.values))})"
        symbol = {"gt": ">", "lt": "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{self.values[0]}"


@dataclasses.dataclass(frozen=True)
class LabelSelector:
    """The AND of its requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


#: The operators of structured selectors (LabelSelector, NodeSelectorRequirement) by name.
_STRUCTURED = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!",
              "Gt": "gt", "Lt": "lt"}  # fmt: skip


def requirement(expression: Mapping[str, Any]) -> Requirement | None:
    """A ``matchExpressions`` entry as a requirement; None for an unknown operator or a
    malformed Gt/Lt (which match nothing)."""
    operator = _STRUCTURED.get(str(expression.get("operator")))
    values = tuple(str(v) for v in expression.get("values") or [])
    if operator is None or (operator in ("gt", "lt") and (
        len(values) != 1 or not re.fullmatch(r"[-+]?\d+", values[0])
    )):  # fmt: skip
        return None
    return Requirement(str(expression.get("key")), operator, values)


def from_document(selector: Mapping[str, Any] | None) -> LabelSelector | None:
    """A structured LabelSelector (``matchLabels``, ``matchExpressions``); None when one of
    its expressions can match nothing. A missing or empty one matches everything."""
    found = [Requirement(str(k), "=", (str(v),))
             for k, v in ((selector or {}).get("matchLabels") or {}).items()]  # fmt: skip
    for expression in (selector or {}).get("matchExpressions") or []:
        made = requirement(expression)
        if made is None:
            return None
        found.append(made)
    return LabelSelector(tuple(found))


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy a structured LabelSelector (an empty one: always)."""
    found = from_document(selector)
    return found is not None and found.matches(labels)


def _tokens(text: str) -> list[tuple[str, str]]:
    """Lex into ("op", symbol) and ("id", identifier) tokens, like the API server's lexer."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
        elif char in _SPECIAL:
            symbol = next(op for op in _OPERATORS if text.startswith(op, pos))
            tokens.append(("op", symbol))
            pos += len(symbol)
        else:
            end = pos
            while end < len(text) and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            tokens.append(("id", text[pos:end]))
            pos = end
    return tokens


class _LabelParser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def fail(self, found: tuple[str, str], expected: str) -> SelectorError:
        shown = found[1] if found[0] != "end" else "end of string"
        return SelectorError(f"unable to parse requirement: found '{shown}', expected: {expected}")

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        while True:
            requirements.append(self.requirement())
            token = self.take()
            if token[0] == "end":
                return LabelSelector(tuple(requirements))
            if token != ("op", ","):
                raise self.fail(token, "',' or 'end of string'")

    def requirement(self) -> Requirement:
        negated = self.peek() == ("op", "!")
        if negated:
            self.take()
        token = self.take()
        if token[0] != "id":
            raise self.fail(token, "!, identifier" if not negated else "identifier")
        key = token[1]
        validate_label_key(key)
        if self.peek() in (("end", ""), ("op", ",")):
            return Requirement(key, "!" if negated else "exists")
        if negated:
            raise self.fail(self.peek(), "',' or 'end of string'")
        operator = self.take()
        if operator[1] in ("in", "notin"):
            return self._checked(key, operator[1], self.value_set())
        symbols = {"=": "=", "==": "=", "!=": "!=", ">": "gt", "<": "lt"}
        if operator[0] != "op" or operator[1] not in symbols:
            raise self.fail(operator, "in, notin, =, ==, !=, gt, lt")
        return self._checked(key, symbols[operator[1]], (self.exact_value(),))

    def exact_value(self) -> str:
        token = self.peek()
        if token in (("end", ""), ("op", ",")):
            return ""
        self.take()
        if token[0] != "id":
            raise self.fail(token, "identifier")
        return token[1]

    def value_set(self) -> tuple[str, ...]:
        token = self.take()
        if token != ("op", "("):
            raise self.fail(token, "'('")
        values: list[str] = []
        expect_value = True
        while True:
            token = self.take()
            if token == ("op", ")"):
                if expect_value:  # "()" and "(a,)" hold an empty value, as in the API server
                    values.append("")
                return tuple(values)
            if token == ("op", ",") and expect_value:
                values.append("")
            elif token == ("op", ","):
                expect_value = True
            elif token[0] == "id" and expect_value:
                values.append(token[1])
                expect_value = False
            else:
                raise self.fail(token, "',', ')' or identifier")

    @staticmethod
    def _checked(key: str, operator: str, values: tuple[str, ...]) -> Requirement:
        if operator in ("gt", "lt") and not re.fullmatch(r"[-+]?\d+", values[0]):
            raise SelectorError(
                f"invalid requirement {key!r}: for 'Gt', 'Lt' operators, the value must be an "
                "integer"
            )
        for value in values:
            validate_label_value(value)
        return Requirement(key, operator, tuple(dict.fromkeys(values)))


def parse_label_selector(text: str) -> LabelSelector:
    """Parse a label selector; the empty (or all-blank) text selects everything."""
    if not text.strip():
        return LabelSelector()
    return _LabelParser(text).parse()


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    """One term of a field selector: ``field`` compared to ``value`` with = or !=."""

    field: str
    operator: str
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = field_value(obj, self.field)
        return (actual == self.value) == (self.operator == "=")


@dataclasses.dataclass(frozen=True)
class FieldSelector:
    """The AND of its requirements; the empty selector matches everything."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(requirement.matches(obj) for requirement in self.requirements)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(requirement.field for requirement in self.requirements)


def field_value(obj: Mapping[str, Any], field: str) -> str:
    """The value of a dotted field path as a selector compares it ("" when absent)."""
    node: Any = obj
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return ""
        node = node[part]
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    return json.dumps(node, separators=(",", ":"), sort_keys=True)


def _split_unescaped(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    pos = 0
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
            continue
        if text[pos] == ",":
            parts.append(text[start:pos])
            start = pos + 1
        pos += 1
    parts.append(text[start:])
    return parts


def _split_term(term: str) -> tuple[str, str, str] | None:
    pos = 0
    while pos < len(term):
        if term[pos] == "\\":
            pos += 2
            continue
        for operator in ("!=", "==", "="):
            if term.startswith(operator, pos):
                return term[:pos], operator, term[pos + len(operator) :]
        pos += 1
    return None


def unescape_field_value(value: str) -> str:
    """Undo ``\\\\``, ``\\,`` and ``\\=``; reject other escapes and bare ``,`` or ``=``."""
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence in {value!r}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SelectorError(f"invalid field selector: unescaped {char!r} in value {value!r}")
        else:
            out.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector: invalid escape sequence in {value!r}")
    return "".join(out)


def parse_field_selector(text: str, allowed: Collection[str]) -> FieldSelector:
    """Parse a field selector whose fields must all be in ``allowed``."""
    requirements: list[FieldRequirement] = []
    for term in _split_unescaped(text):
        if not term:
            continue
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, value = split
        if field not in allowed:
            raise SelectorError(f"field label not supported: {field}")
        requirements.append(
            FieldRequirement(field, "!=" if operator == "!=" else "=", unescape_field_value(value))
        )
    return FieldSelector(tuple(requirements))
