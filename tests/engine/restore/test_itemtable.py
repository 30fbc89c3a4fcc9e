"""The item table: one compact row per item, found by key, walked in name order."""

from __future__ import annotations

import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from strongroom.engine.restore import itemtable
from strongroom.engine.restore.actions import base

KEYS = st.lists(
    st.tuples(
        st.sampled_from(["configmaps", "persistentvolumes", "widgets.example.com"]),
        st.sampled_from([None, "a", "shop"]),
        st.text(min_size=1, max_size=6),  # any name, lone surrogates included
    ),
    unique=True,
    max_size=40,
)


@given(KEYS)
def test_rows_give_back_their_keys_and_are_found_by_them(
    raw: list[tuple[str, str | None, str]],
) -> None:
    table = itemtable.ItemTable()
    rows = {}
    for gr, ns, name in raw:
        key = base.ItemKey(gr, ns, name)
        rows[key] = table.add(key, "v1", gr.title())
    table.seal()

    assert len(table) == len(raw)
    for key, row in rows.items():
        assert table.key(row) == key and table.find(key) == row
        assert (table.api_version(row), table.kind(row)) == ("v1", key.group_resource.title())
    assert table.find(base.ItemKey("configmaps", "a", "\0absent")) is None
    assert table.find(base.ItemKey("secrets", "a", "x")) is None
    for gr, ns, group in table.groups():
        names = [table.name(row) for row in group]
        assert names == sorted(names)
        assert all((table.group_resource(r), table.namespace(r)) == (gr, ns) for r in group)


def test_archive_order_is_kept_when_it_is_name_order() -> None:
    table = itemtable.ItemTable()
    for name in ("c", "a", "b"):
        table.add(base.ItemKey("configmaps", "shop", name), "v1", "ConfigMap")
    for name in ("x", "y"):
        table.add(base.ItemKey("secrets", "shop", name), "v1", "Secret")
    table.seal()
    groups = {gr: [table.name(row) for row in rows] for gr, _, rows in table.groups()}
    assert groups == {"configmaps": ["a", "b", "c"], "secrets": ["x", "y"]}


def test_a_row_costs_tens_of_bytes() -> None:
    count = 20_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        table = itemtable.ItemTable()
        for i in range(count):
            table.add(base.ItemKey("configmaps", f"ns-{i % 10}", f"obj-{i}"), "v1", "ConfigMap")
        table.seal()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used < 48 * count, f"{used / count:.0f} bytes a row"
