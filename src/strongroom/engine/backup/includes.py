"""Velero's rules for include/exclude lists, as its backup validation applies them.

* :func:`list_problem`: ``ValidateIncludesExcludes`` (``*`` alone or not at all among the
  includes, never among the excludes, no entry in both lists, no empty name) and, for the
  scoped lists, ``ValidateScopedIncludesExcludes``, which allows ``*`` alone in the excludes
  as long as nothing is included.
* :func:`mixing_problem`: the old resource filters (``includedResources``,
  ``excludedResources``, ``includeClusterResources``) and the scoped ones of Velero 1.11
  (``included|excludedClusterScopedResources``, ``included|excludedNamespaceScopedResources``)
  exclude each other.

Each returns the one-line reason, naming the spec field, or None.
"""

from __future__ import annotations

from collections.abc import Mapping


def list_problem(
    field: str, included: tuple[str, ...], excluded: tuple[str, ...], *, scoped: bool = False
) -> str | None:
    """Why ``included<field>`` and ``excluded<field>`` are no valid pair of lists."""
    if len(set(included)) > 1 and "*" in included:
        return f"included{field}: either '*' alone or a list of names"
    if "*" in excluded and not scoped:
        return f"excluded{field}: cannot contain '*'"
    if len(set(excluded)) > 1 and "*" in excluded:
        return f"excluded{field}: either '*' alone or a list of names"
    if included and "*" in excluded:
        return f"excluded{field} is '*': included{field} must be empty"
    both = sorted(set(included) & set(excluded))
    if both:
        return f"{both[0]!r} is both included and excluded ({field.lower()})"
    for name in (*included, *excluded):
        if not name.strip():
            return f"included/excluded{field}: an empty name"
    return None


def mixing_problem(old: Mapping[str, object], scoped: Mapping[str, object]) -> str | None:
    """Why old and scoped filters (spec field name -> value, empty when not given) clash."""
    old_given = [key for key, value in old.items() if value not in (None, (), [])]
    scoped_given = [key for key, value in scoped.items() if value]
    if old_given and scoped_given:
        return (
            f"{old_given[0]} and {scoped_given[0]} cannot be used together: the old resource "
            "filters (includedResources, excludedResources, includeClusterResources) and the "
            "scoped ones exclude each other"
        )
    return None
