"""The resource list: one byte an item, read and stored exactly as Velero's sorted map."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from strongroom.archive import layout, reader
from strongroom.engine.restore import outcome, planner, resourcelist, spec, steps
from strongroom.engine.restore.actions import registry
from strongroom.kube import discovery

SERVED = (
    discovery.APIResource("configmaps", "", "v1", "ConfigMap", True),
    discovery.APIResource("namespaces", "", "v1", "Namespace", False),
    discovery.APIResource("persistentvolumes", "", "v1", "PersistentVolume", False),
)
KINDS = {"configmaps": "ConfigMap", "namespaces": "Namespace", "persistentvolumes": "PV"}
MAPPINGS = {"a": "b", "x": "a-b"}
#: Names with characters that sort before "(", "/" and "-", to catch any order but Velero's.
NAMES = st.text(alphabet="ab-.!( :", min_size=1, max_size=4).filter(layout.is_component)
ITEMS = st.lists(
    st.tuples(
        st.sampled_from(sorted(KINDS)),
        st.sampled_from(["a", "b", "a-b", "x"]),
        NAMES,
        st.sampled_from(["v1", "v2"]),
        st.sampled_from([None, *outcome.ACTIONS]),
    ),
    unique_by=lambda t: (t[0], None if t[0] != "configmaps" else t[1], t[2]),
    max_size=30,
)
EXTRA = st.lists(st.tuples(st.sampled_from(["a", "zz", "a-b"]), st.sampled_from(outcome.ACTIONS)))


def read_item(gr: str, ns: str | None, name: str, version: str) -> reader.ReadItem:
    obj: dict[str, Any] = {"apiVersion": version, "kind": KINDS[gr], "metadata": {"name": name}}
    path = layout.item_path(gr, ns, name)
    return reader.ReadItem(path, layout.parse_item_path(path), json.dumps(obj).encode())


def planned(raw: list[tuple[str, str, str, str, Any]]) -> planner.Plan:
    found = [read_item(gr, ns if gr == "configmaps" else None, n, v) for gr, ns, n, v, _ in raw]
    restore = spec.RestoreSpec(name="r", backup_name="b", namespace_mappings=MAPPINGS)
    return planner.plan(found, restore, SERVED, registry.default())


@given(ITEMS, EXTRA)
def test_the_list_is_velero_s_sorted_map_read_or_stored(
    raw: list[tuple[str, str, str, str, Any]], extra: list[tuple[str, outcome.Action]]
) -> None:
    plan = planned(raw)
    actions = {(gr, ns if gr == "configmaps" else None, name): a for gr, ns, name, _, a in raw}
    found = resourcelist.ResourceList(plan)
    expected: dict[str, list[str]] = {}
    for item in (*plan.crds, *plan.items):
        action = actions[(item.key.group_resource, item.key.namespace, item.key.name)]
        if action is None:
            continue
        found.record(item.row, action)
        name = item.key.name
        if item.key.group_resource == "namespaces":
            name = MAPPINGS.get(name, name)
        entry = f"{outcome.entry_name(item.target_namespace, name)}({action})"
        expected.setdefault(f"{item.api_version}/{item.kind}", []).append(entry)
    for name, action in extra:
        found.add("v1", "Namespace", None, name, action)
        expected.setdefault("v1/Namespace", []).append(f"{name}({action})")
    expected = {key: sorted(expected[key]) for key in sorted(expected)}

    assert found.to_dict() == expected
    assert list(found.view()) == list(expected)
    text = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert b"".join(found.document()) == text.encode()
    counts = found.counts
    assert sum(counts.values()) == sum(len(v) for v in expected.values())


def test_a_long_list_is_stored_in_pieces() -> None:
    raw = [("configmaps", "a", f"c{i:05}", "v1", "created") for i in range(5000)]
    found = resourcelist.ResourceList(plan := planned(raw))
    for row in plan.rows():
        found.record(row, "created")
    pieces = list(found.document())
    assert len(pieces) > 1 and all(len(p) < 2 * resourcelist.CHUNK for p in pieces)
    assert json.loads(b"".join(pieces))["v1/ConfigMap"][:2] == [
        "b/c00000(created)",
        "b/c00001(created)",
    ]


def test_dry_run_steps_come_in_plan_order_with_their_reasons() -> None:
    plan = planned([("configmaps", "a", n, "v1", None) for n in ("m", "k", "l")])
    found = steps.Steps(plan)
    rows = list(plan.rows())
    found.record(rows[2], "skip", "not wanted")
    found.record(rows[0], "create")
    view = found.view()
    assert [str(s) for s in view] == [
        "v1/ConfigMap b/k: create",
        "v1/ConfigMap b/m: skip (not wanted)",
    ]
    assert len(view) == 2 and view[1].reason == "not wanted" and view[:1] == [view[0]]
    assert found.counts() == {"create": 1, "skip": 1}
