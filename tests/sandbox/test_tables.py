"""Server-side printing: Table answers and the API server's rendering of ages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.sandbox import printers, tables

MINUTE, HOUR, DAY, YEAR = 60, 3600, 86400, 365 * 86400

# apimachinery's HumanDuration thresholds, which kubectl shows in the AGE column
DURATIONS = [
    (-5, "<invalid>"),
    (-1, "0s"),
    (0, "0s"),
    (59, "59s"),
    (119, "119s"),
    (2 * MINUTE, "2m"),
    (2 * MINUTE + 1, "2m1s"),
    (9 * MINUTE + 59, "9m59s"),
    (10 * MINUTE + 30, "10m"),
    (179 * MINUTE, "179m"),
    (3 * HOUR, "3h"),
    (3 * HOUR + 5 * MINUTE, "3h5m"),
    (8 * HOUR + 5 * MINUTE, "8h"),
    (47 * HOUR, "47h"),
    (2 * DAY, "2d"),
    (2 * DAY + 3 * HOUR, "2d3h"),
    (8 * DAY + 3 * HOUR, "8d"),
    (729 * DAY, "729d"),
    (2 * YEAR, "2y"),
    (2 * YEAR + 10 * DAY, "2y10d"),
    (9 * YEAR, "9y"),
]


@pytest.mark.parametrize(("seconds", "text"), DURATIONS)
def test_human_duration_matches_the_api_server(seconds: int, text: str) -> None:
    assert printers.human_duration(seconds) == text


@given(st.integers(min_value=0, max_value=20 * YEAR))
def test_human_duration_is_short_and_well_formed(seconds: int) -> None:
    text = printers.human_duration(seconds)
    assert 2 <= len(text) <= 7
    assert text[-1] in "smhdy" and text[0].isdigit()


def test_accept_headers_asking_for_a_table() -> None:
    kubectl = (
        "application/json;as=Table;v=v1;g=meta.k8s.io,"
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
    )
    assert tables.wants_table(kubectl)
    assert not tables.wants_table("application/json")
    assert not tables.wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io")


def deployment(name: str) -> dict[str, object]:
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": "2020-01-01T00:00:00Z",
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "c", "image": "img:1"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }


def test_deployment_list_table_rows_and_wide_columns() -> None:
    columns = printers.columns_for(("apps", "deployments"))
    body = {"metadata": {"resourceVersion": "7", "continue": "abc"}, "items": [deployment("web")]}
    table = tables.to_table(body, columns)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "7", "continue": "abc"}
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    wide = [c["name"] for c in table["columnDefinitions"] if c["priority"] > 0]
    assert wide == ["Containers", "Images", "Selector"]
    row = table["rows"][0]
    assert row["cells"][:4] == ["web", "2/3", 3, 2]
    assert re.fullmatch(r"\d+y(\d+d)?", row["cells"][4])
    assert row["cells"][5:] == ["c", "img:1", "app=web"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["namespace"] == "shop"
    assert "object" not in tables.to_table(body, columns, "None")["rows"][0]


def test_custom_resources_use_additional_printer_columns() -> None:
    crd = {
        "spec": {
            "versions": [
                {
                    "name": "v1",
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                        {"name": "First", "type": "string", "jsonPath": ".spec.parts[0].name"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                }
            ]
        }
    }
    columns = printers.crd_columns(crd, "v1")
    obj = {"metadata": {"name": "w"}, "spec": {"size": 4, "parts": [{"name": "bolt"}]}}
    cells = tables.to_table(obj, columns)["rows"][0]["cells"]
    assert cells == ["w", 4, "bolt", "<unknown>"]
    assert printers.crd_columns(crd, "v2") == (printers.AGE,)
    assert printers.crd_columns(None, "v1") == (printers.AGE,)
