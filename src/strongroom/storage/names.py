"""Object names: the only strings a backend accepts or returns ("no crap in, no crap out").

A name is a relative path of components joined by ``/``. Each component is 1 to
:data:`MAX_COMPONENT` characters from ``A-Z a-z 0-9 _ - . = +`` and does not start with ``.``
(which rules out ``.``, ``..`` and hidden files; the filesystem backend keeps its temporary
files under such names). The whole name is at most :data:`MAX_NAME` characters. So a name has
no leading or trailing slash, no empty component, no backslash, blank or control character,
and reads the same on every filesystem and in every S3 URL.
"""

from __future__ import annotations

import re
import typing

from strongroom.storage import errors

ObjectName = typing.NewType("ObjectName", str)

MAX_NAME = 512
MAX_COMPONENT = 200
SEPARATOR = "/"
_COMPONENT = re.compile(r"[A-Za-z0-9_\-=+][A-Za-z0-9_\-=+.]*")


def _problem(name: str) -> str | None:
    """Why ``name`` is not a valid object name, or None when it is."""
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME:
        return f"it is longer than {MAX_NAME} characters"
    if name.startswith(SEPARATOR):
        return "it is absolute (starts with '/')"
    for component in name.split(SEPARATOR):
        if not component:
            return "it has an empty component (a trailing or doubled '/')"
        if len(component) > MAX_COMPONENT:
            return f"a component is longer than {MAX_COMPONENT} characters"
        if component.startswith("."):
            return "a component starts with '.' (such as '..')"
        if not _COMPONENT.fullmatch(component):
            return "it has a character outside A-Z a-z 0-9 _ - . = +"
    return None


def check(name: str) -> ObjectName:
    """Return ``name`` as an :data:`ObjectName`; raise :class:`InvalidName` if it breaks a rule."""
    problem = _problem(name)
    if problem is not None:
        raise errors.InvalidName(f"invalid object name {name[:80]!r}: {problem}")
    return ObjectName(name)


def check_prefix(prefix: str) -> str:
    """Validate a listing prefix: empty, or a valid name optionally followed by one ``/``.

    ``"data/"`` selects the objects under ``data``; ``"data/ab"`` also selects ``data/abc``.
    """
    if prefix == "":
        return prefix
    body = prefix[:-1] if prefix.endswith(SEPARATOR) else prefix
    problem = _problem(body)
    if problem is not None:
        raise errors.InvalidName(f"invalid prefix {prefix[:80]!r}: {problem}")
    return prefix


def is_valid(name: str) -> bool:
    """True when ``name`` passes :func:`check`; used to skip foreign files when listing."""
    return _problem(name) is None
