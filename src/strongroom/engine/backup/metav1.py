"""Label selectors as Kubernetes ``metav1.LabelSelector`` documents, the form Velero stores.

:func:`to_document` is what Velero's ``--selector`` flag does with a selector string
(``metav1.ParseToLabelSelector``): equalities become ``matchLabels``, everything else
``matchExpressions``; ``>`` and ``<`` have no such form and are refused. A key given two
equalities (``a=1,a=2``) keeps both as ``In`` expressions rather than losing one.
:func:`from_document` turns a document back into a selector string that means the same.
"""

from __future__ import annotations

from typing import Any

from strongroom import errors
from strongroom.engine.backup import selectors

_OPERATORS = {
    selectors.Op.NOT_EQUALS: "NotIn",
    selectors.Op.IN: "In",
    selectors.Op.NOT_IN: "NotIn",
    selectors.Op.EXISTS: "Exists",
    selectors.Op.NOT_EXISTS: "DoesNotExist",
}
_EQUALITIES = (selectors.Op.EQUALS, selectors.Op.DOUBLE_EQUALS)


class SelectorDocumentError(errors.UsageError):
    """A selector with no LabelSelector form, or a malformed LabelSelector document."""


def to_document(text: str) -> dict[str, Any]:
    """The ``metav1.LabelSelector`` of selector ``text`` (empty fields left out)."""
    parsed = selectors.parse(text)
    equal_keys = [r.key for r in parsed.requirements if r.op in _EQUALITIES]
    labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for req in parsed.requirements:
        if req.op in (selectors.Op.GREATER, selectors.Op.LESS):
            raise SelectorDocumentError(
                f"label selector {text!r}: '>' and '<' are not allowed in a backup"
            )
        if req.op in _EQUALITIES and equal_keys.count(req.key) == 1:
            labels[req.key] = req.values[0]
            continue
        operator = "In" if req.op in _EQUALITIES else _OPERATORS[req.op]
        expression: dict[str, Any] = {"key": req.key, "operator": operator}
        if req.values:
            expression["values"] = list(req.values)
        expressions.append(expression)
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if expressions:
        out["matchExpressions"] = expressions
    return out


def from_document(doc: object) -> str:
    """The canonical selector string a LabelSelector document means."""
    if not isinstance(doc, dict):
        raise SelectorDocumentError("a label selector document must be an object")
    labels = doc.get("matchLabels") or {}
    expressions = doc.get("matchExpressions") or []
    if not isinstance(labels, dict) or not isinstance(expressions, list):
        raise SelectorDocumentError("matchLabels must be an object, matchExpressions a list")
    parts = [f"{key}={value}" for key, value in labels.items()]
    parts.extend(_expression_text(e) for e in expressions)
    try:
        return str(selectors.parse(",".join(parts)))
    except selectors.SelectorError as exc:
        raise SelectorDocumentError(f"label selector document: {exc}") from exc


def _expression_text(expression: object) -> str:
    if not isinstance(expression, dict):
        raise SelectorDocumentError("a matchExpressions entry must be an object")
    key, operator = expression.get("key"), expression.get("operator")
    values = expression.get("values") or []
    if not isinstance(key, str) or not isinstance(values, list):
        raise SelectorDocumentError("a matchExpressions entry needs a key and a list of values")
    if operator in ("Exists", "DoesNotExist"):
        if values:
            raise SelectorDocumentError(f"{operator} on {key!r} takes no values")
        return key if operator == "Exists" else f"!{key}"
    if operator not in ("In", "NotIn") or not values:
        raise SelectorDocumentError(f"operator {operator!r} on {key!r}: In or NotIn with values")
    word = "in" if operator == "In" else "notin"
    return f"{key} {word} ({','.join(str(v) for v in values)})"
