"""Running one restore item action the way the restorer does, for table tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from strongroom.engine.restore import sanitize
from strongroom.engine.restore.actions import base, registry

Obj = dict[str, Any]


def run(
    group_resource: str,
    obj: Obj,
    *,
    mappings: dict[str, str] | None = None,
    preserve_node_ports: bool = False,
    planned: Callable[[base.ItemKey], bool] = lambda key: False,
) -> base.ActionOutput:
    """Every registered action for ``group_resource`` on ``obj`` (stripped first)."""
    backup = copy.deepcopy(obj)
    meta = obj.get("metadata", {})
    key = base.ItemKey(group_resource, meta.get("namespace"), meta.get("name", ""))
    context = base.ActionContext(
        backup_name="nightly",
        restore_name="r1",
        namespace_mappings=mappings or {},
        preserve_node_ports=preserve_node_ports,
        planned=planned,
    )
    out = registry.default().run(base.ActionInput(key, sanitize.strip(obj), obj, context))
    assert obj == backup, "an action modified the backed-up object"
    return out
