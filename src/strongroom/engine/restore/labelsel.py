"""Label selectors at restore: the backup engine's parser, held to what Velero accepts.

Velero turns ``--selector`` into a ``metav1.LabelSelector`` (``matchLabels`` and
``matchExpressions``), which cannot hold ``>`` and ``<``; a restore refuses them too.
"""

from __future__ import annotations

from typing import Any

from strongroom.engine.backup import metav1, selectors
from strongroom.engine.restore import errors


def parse(text: str) -> selectors.Selector:
    """The selector ``text`` denotes; :class:`~strongroom.engine.restore.errors.SelectorError`
    when it does not parse or uses an operator a LabelSelector cannot express."""
    try:
        found = selectors.parse(text)
    except selectors.SelectorError as exc:
        raise errors.SelectorError(str(exc)) from exc
    for requirement in found.requirements:
        if requirement.op in (selectors.Op.GREATER, selectors.Op.LESS):
            raise errors.SelectorError(
                f"label selector {text!r}: '>' and '<' are not supported at restore"
            )
    return found


def check(text: str) -> None:
    """Raise SelectorError unless ``text`` is a selector a restore accepts."""
    parse(text)


def to_label_selector(text: str) -> dict[str, Any]:
    """``text`` as a Kubernetes ``LabelSelector`` document (Velero's spec field shape), the
    same conversion a backup's spec uses."""
    parse(text)
    return metav1.to_document(text)
