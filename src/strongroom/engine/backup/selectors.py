"""Kubernetes label selectors, parsed on the client with the API server's grammar and rules.

A selector is a comma-separated AND of requirements::

    key            key exists              !key           key does not exist
    key=value      key==value              key!=value     (``!=`` also matches a missing key)
    key in (a,b)   key notin (a,b)         key>5  key<5   (integers; the label must parse too)

Keys are qualified names (an optional lowercase DNS-subdomain prefix of at most 253 characters
and ``/``, then a name of at most 63 characters of ``[A-Za-z0-9._-]`` starting and ending
alphanumerically); values are empty or such a name. White space between tokens is ignored;
``in`` and ``notin`` are keywords only where an operator is expected; ``key=`` means the empty
value and ``key in ()`` the set holding the empty value, as the API server reads them.

:func:`parse` returns a :class:`Selector` whose ``str()`` is the canonical form (requirements
sorted by key and then text, set values sorted), which parses back to an equal selector. Errors are
:class:`SelectorError` (a usage error) with a one-line message naming the selector.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping

from strongroom import errors

_NAME_RE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SYMBOLS = frozenset("=!(),<>")
_SYMBOL_TOKENS = frozenset({"=", "==", "!=", "!", "(", ")", ",", "<", ">"})
_WHITESPACE = frozenset(" \t\r\n")
_INT64 = range(-(2**63), 2**63)


class SelectorError(errors.UsageError):
    """A malformed label selector, or a key or value the API server would refuse."""


class Op(enum.Enum):
    EXISTS = ""
    NOT_EXISTS = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = " in "
    NOT_IN = " notin "
    GREATER = ">"
    LESS = "<"


_BINARY = {
    "=": Op.EQUALS,
    "==": Op.DOUBLE_EQUALS,
    "!=": Op.NOT_EQUALS,
    "in": Op.IN,
    "notin": Op.NOT_IN,
    ">": Op.GREATER,
    "<": Op.LESS,
}


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One requirement; ``values`` is sorted and free of duplicates."""

    key: str
    op: Op
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.op is Op.EXISTS:
            return self.key
        if self.op is Op.NOT_EXISTS:
            return f"!{self.key}"
        if self.op in (Op.IN, Op.NOT_IN):
            return f"{self.key}{self.op.value}({','.join(self.values)})"
        return f"{self.key}{self.op.value}{self.values[0]}"

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op is Op.EXISTS:
            return present
        if self.op is Op.NOT_EXISTS:
            return not present
        if self.op in (Op.EQUALS, Op.DOUBLE_EQUALS, Op.IN):
            return present and labels[self.key] in self.values
        if self.op in (Op.NOT_EQUALS, Op.NOT_IN):
            return not present or labels[self.key] not in self.values
        number = _as_int64(labels.get(self.key))
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if self.op is Op.GREATER else number < bound


@dataclasses.dataclass(frozen=True)
class Selector:
    """An AND of requirements, kept sorted (by key, then text) so that equal selectors
    compare and print equal; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.requirements, key=lambda r: (r.key, str(r))))
        object.__setattr__(self, "requirements", ordered)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        found = labels or {}
        return all(r.matches(found) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


def _as_int64(text: str | None) -> int | None:
    if text is None or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    value = int(text)
    return value if value in _INT64 else None


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a qualified name, or None when it is one."""
    parts = key.split("/")
    if len(parts) > 2:
        return "a qualified name has at most one '/'"
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            return "the prefix before '/' must be non-empty"
        if len(prefix) > 253 or not _SUBDOMAIN_RE.fullmatch(prefix):
            return "the prefix must be a lowercase DNS subdomain of at most 253 characters"
    if not name:
        return "the name part must be non-empty"
    if len(name) > 63 or not _NAME_RE.fullmatch(name):
        return (
            "the name part must be at most 63 characters of letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    return None


def value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value, or None when it is one."""
    if value and (len(value) > 63 or not _NAME_RE.fullmatch(value)):
        return (
            "a label value is empty or at most 63 characters of letters, digits, '-', '_' "
            "or '.', starting and ending with a letter or digit"
        )
    return None


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kind is ``id``, ``sym`` or ``end``."""
    found: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WHITESPACE:
            i += 1
        elif ch in _SYMBOLS:
            pair = text[i : i + 2]
            if len(pair) == 2 and pair in _SYMBOL_TOKENS:
                found.append(("sym", pair))
                i += 2
            else:
                found.append(("sym", ch))
                i += 1
        else:
            start = i
            while i < n and text[i] not in _SYMBOLS and text[i] not in _WHITESPACE:
                i += 1
            found.append(("id", text[start:i]))
    found.append(("end", ""))
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0

    def fail(self, detail: str) -> SelectorError:
        shown = self.text if len(self.text) <= 200 else self.text[:197] + "..."
        return SelectorError(f"label selector {shown!r}: {detail}")

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def found(self, token: tuple[str, str]) -> str:
        return "end of string" if token[0] == "end" else repr(token[1])

    def selector(self) -> Selector:
        reqs: list[Requirement] = []
        if self.peek()[0] == "end":
            return Selector()
        while True:
            token = self.peek()
            if token[0] != "id" and token != ("sym", "!"):
                raise self.fail(f"found {self.found(token)}, expected '!' or a key")
            reqs.append(self.requirement())
            after = self.take()
            if after[0] == "end":
                return Selector(tuple(reqs))
            if after != ("sym", ","):
                raise self.fail(f"found {self.found(after)}, expected ',' or end of string")

    def requirement(self) -> Requirement:
        negated = self.peek() == ("sym", "!")
        if negated:
            self.take()
        kind, key = self.take()
        if kind != "id":
            raise self.fail(f"found {self.found((kind, key))}, expected a key")
        problem = key_problem(key)
        if problem:
            raise self.fail(f"invalid key {key!r}: {problem}")
        if negated:
            return Requirement(key, Op.NOT_EXISTS)
        if self.peek()[0] == "end" or self.peek() == ("sym", ","):
            return Requirement(key, Op.EXISTS)
        op_token = self.take()
        op = _BINARY.get(op_token[1])
        if op is None:
            raise self.fail(
                f"found {self.found(op_token)} after {key!r}, expected one of "
                "=, ==, !=, in, notin, >, <"
            )
        values = self.set_values() if op in (Op.IN, Op.NOT_IN) else self.exact_value()
        return self.checked(key, op, values)

    def exact_value(self) -> tuple[str, ...]:
        if self.peek()[0] == "end" or self.peek() == ("sym", ","):
            return ("",)
        kind, value = self.take()
        if kind != "id":
            raise self.fail(f"found {self.found((kind, value))}, expected a value")
        return (value,)

    def set_values(self) -> tuple[str, ...]:
        opening = self.take()
        if opening != ("sym", "("):
            raise self.fail(f"found {self.found(opening)}, expected '('")
        values: set[str] = set()
        expect_value = True
        while True:
            kind, text = self.take()
            if (kind, text) == ("sym", ")"):
                if expect_value:
                    values.add("")  # "()" and "(a,)" hold the empty value
                return tuple(sorted(values))
            if (kind, text) == ("sym", ","):
                if expect_value:
                    values.add("")  # "(,a)" and "(a,,b)" too
                expect_value = True
            elif kind == "id" and expect_value:
                values.add(text)
                expect_value = False
            else:
                raise self.fail(f"found {self.found((kind, text))}, expected ',', ')' or a value")

    def checked(self, key: str, op: Op, values: tuple[str, ...]) -> Requirement:
        for value in values:
            problem = value_problem(value)
            if problem:
                raise self.fail(f"invalid value {value!r} for key {key!r}: {problem}")
        if op in (Op.GREATER, Op.LESS) and _as_int64(values[0]) is None:
            raise self.fail(f"the value of {key!r} for '>' or '<' must be an integer")
        return Requirement(key, op, values)


def parse(text: str) -> Selector:
    """The selector ``text`` denotes; :class:`SelectorError` when the API server would refuse it."""
    return _Parser(text).selector()
