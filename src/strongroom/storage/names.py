"""Object names: the only strings a backend accepts or returns ("no crap in, no crap out").

A name is a relative path of components joined by ``/``. Each component is 1 to
:data:`MAX_COMPONENT` characters from ``A-Z a-z 0-9 _ =``; the whole name is at most
:data:`MAX_NAME` characters. So a name has no leading or trailing slash, no empty, ``.`` or
``..`` component, no backslash, blank or control character, and reads the same on every
filesystem and in every S3 URL. (The filesystem backend's temporary files start with ``.``,
so they can never be taken for objects.)

Every allowed character sorts after ``/``. That makes plain string order of names the same as
component-by-component order, which is what a folder walk or a filer-backed S3 server (such as
SeaweedFS) produces, while AWS S3 lists in byte order: with ``-`` or ``.`` allowed, ``a-b``
would sort before ``a/x`` on one and after it on the other. So ``list`` is sorted the same way
on every backend.
"""

from __future__ import annotations

import re
import typing

from strongroom.storage import errors

ObjectName = typing.NewType("ObjectName", str)

MAX_NAME = 512
MAX_COMPONENT = 200
SEPARATOR = "/"
_COMPONENT = re.compile(r"[A-Za-z0-9_=]+")


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
        if not _COMPONENT.fullmatch(component):
            return "it has a character outside A-Z a-z 0-9 _ ="
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


_LOCATION_COMPONENT = re.compile(r"[A-Za-z0-9._-]+")


def location_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` (a user's location prefix, slashes stripped) is unusable, or None.

    Location prefixes are chosen by people ("cluster-a/prod"), so they may also hold ``.``
    and ``-``; components ``.`` and ``..`` are refused. Object names below them stay strict.
    """
    if len(prefix) > MAX_NAME // 2:
        return f"it is longer than {MAX_NAME // 2} characters"
    for component in prefix.split(SEPARATOR):
        if component in ("", ".", ".."):
            return "it has an empty, '.' or '..' component"
        if not _LOCATION_COMPONENT.fullmatch(component):
            return "it has a character outside A-Z a-z 0-9 . _ -"
    return None


def check_after(after: str) -> str:
    """Validate the ``after`` argument of ``list``: empty, or a valid name."""
    return check(after) if after else after


def is_valid(name: str) -> bool:
    """True when ``name`` passes :func:`check`; used to skip foreign files when listing."""
    return _problem(name) is None
