"""Namespace patterns: names with the glob wildcards Velero accepts (``*``, ``?``, ``[...]``).

``*`` matches any run of characters, ``?`` one character, ``[abc]``, ``[a-z]`` one character
of a set and ``[!abc]`` (or ``[^abc]``) one character outside it. Apart from wildcards a pattern
is held to the namespace-name rules (lowercase letters, digits and ``-``, at most 63
characters), as Velero validates it with each wildcard replaced by a letter.
"""

from __future__ import annotations

import dataclasses
import re

from strongroom import errors

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_BRACKET = re.compile(r"\[(!|\^)?(\]?[^\]]*)\]")


class PatternError(errors.UsageError):
    """A namespace pattern that is not a namespace name with glob wildcards."""


@dataclasses.dataclass(frozen=True)
class Pattern:
    """A compiled namespace pattern."""

    text: str
    regex: re.Pattern[str]

    @property
    def literal(self) -> bool:
        """Whether the pattern names exactly one namespace (no wildcard)."""
        return not any(c in self.text for c in "*?[")

    def matches(self, name: str) -> bool:
        return self.regex.fullmatch(name) is not None


def compile_pattern(text: str, what: str = "namespace") -> Pattern:
    """The :class:`Pattern` for ``text``; :class:`PatternError` when it is malformed."""
    out: list[str] = []
    stand_in: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            out.append(".*")
            stand_in.append("x")
        elif ch == "?":
            out.append(".")
            stand_in.append("x")
        elif ch == "[":
            match = _BRACKET.match(text, i)
            if match is None or not match.group(2):
                raise PatternError(f"{what} pattern {text!r}: unclosed or empty '['")
            out.append(_bracket(text, match.group(1) is not None, match.group(2)))
            stand_in.append("x")
            i = match.end()
            continue
        elif ch == "]":
            raise PatternError(f"{what} pattern {text!r}: ']' without '['")
        else:
            out.append(re.escape(ch))
            stand_in.append(ch)
        i += 1
    name = "".join(stand_in)
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        raise PatternError(
            f"{what} pattern {text!r}: a namespace is at most 63 lowercase letters, digits "
            "or '-', starting and ending with a letter or digit"
        )
    return Pattern(text, re.compile("".join(out), re.DOTALL))


def _bracket(text: str, negated: bool, body: str) -> str:
    parts: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if low > high:
                raise PatternError(f"namespace pattern {text!r}: bad range {low}-{high}")
            parts.append(f"{re.escape(low)}-{re.escape(high)}")
            i += 3
        else:
            parts.append(re.escape(body[i]))
            i += 1
    return f"[{'^' if negated else ''}{''.join(parts)}]"
