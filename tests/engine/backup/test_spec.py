"""The backup spec: validation as Velero's FailedValidation, Go durations, the manifest form."""

from __future__ import annotations

import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom import errors
from strongroom.engine.backup import durations, globs, selectors, spec
from tests.engine.backup.test_selectors import KEY, LABELS, SELECTORS


def test_defaults_and_manifest_form() -> None:
    s = spec.BackupSpec("nightly")
    assert s.ttl == datetime.timedelta(hours=720)
    assert s.to_dict() == {
        "includedNamespaces": [],
        "excludedNamespaces": [],
        "includedResources": [],
        "excludedResources": [],
        "includeClusterResources": None,
        "ttl": "720h0m0s",
        "storageLocation": "default",
    }
    assert s.server_selectors() == (None,)


def test_lists_become_tuples_and_selectors_take_velero_shape() -> None:
    s = spec.BackupSpec(
        "b",
        included_namespaces=["shop*"],  # type: ignore[arg-type]
        label_selector="app=web,tier in (db,web),!legacy,env!=prod,a=1,a=2",
        include_cluster_resources=True,
        ttl=datetime.timedelta(minutes=90),
        storage_location="s3-eu",
    )
    assert s.included_namespaces == ("shop*",)
    assert s.server_selectors() == ("a=1,a=2,app=web,env!=prod,!legacy,tier in (db,web)",)
    doc = s.to_dict()
    assert doc["ttl"] == "1h30m0s" and doc["storageLocation"] == "s3-eu"
    assert doc["includeClusterResources"] is True
    assert doc["labelSelector"] == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "a", "operator": "In", "values": ["1"]},
            {"key": "a", "operator": "In", "values": ["2"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "legacy", "operator": "DoesNotExist"},
            {"key": "tier", "operator": "In", "values": ["db", "web"]},
        ],
    }
    ors = spec.BackupSpec("b", or_label_selectors=("app=web", "tier"))
    assert ors.server_selectors() == ("app=web", "tier")
    assert ors.to_dict()["orLabelSelectors"] == [
        {"matchLabels": {"app": "web"}},
        {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
    ]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"label_selector": "a=b", "or_label_selectors": ("c=d",)}, "cannot be used together"),
        ({"label_selector": "a in (b"}, "label selector"),
        ({"or_label_selectors": ("ok=1", "bad=(")}, "label selector"),
        ({"label_selector": "replicas>3"}, "not allowed in a backup"),
        ({"included_namespaces": ("*", "shop")}, "'*' alone"),
        ({"excluded_namespaces": ("*",)}, "cannot contain '*'"),
        ({"included_namespaces": ("shop",), "excluded_namespaces": ("shop",)}, "both"),
        ({"included_resources": ("pods",), "excluded_resources": ("pods",)}, "both"),
        ({"excluded_resources": ("*",)}, "cannot contain '*'"),
        ({"included_namespaces": ("Shop",)}, "namespace pattern"),
        ({"included_namespaces": ("shop[",)}, "unclosed"),
        ({"excluded_namespaces": ("a]",)}, "without '['"),
        ({"included_namespaces": ("x" * 64,)}, "namespace pattern"),
        ({"included_resources": ("",)}, "empty name"),
        ({"ttl": datetime.timedelta(seconds=-1)}, "negative"),
        ({"storage_location": " "}, "storage location"),
        ({"included_namespaces": "shop"}, "list of strings"),
        # Velero 1.11's scoped filters: '*' alone in either list, an exclude '*' alone.
        ({"included_cluster_scoped_resources": ("*", "sc")}, "'*' alone"),
        ({"excluded_cluster_scoped_resources": ("*", "sc")}, "'*' alone"),
        ({"included_namespace_scoped_resources": ("*", "pods")}, "'*' alone"),
        (
            {
                "included_namespace_scoped_resources": ("pods",),
                "excluded_namespace_scoped_resources": ("*",),
            },
            "excludedNamespaceScopedResources is '*': includedNamespaceScopedResources must be",
        ),
        (
            {
                "included_cluster_scoped_resources": ("sc",),
                "excluded_cluster_scoped_resources": ("sc",),
            },
            "'sc' is both included and excluded (clusterscopedresources)",
        ),
        ({"excluded_namespace_scoped_resources": ("pods", " ")}, "an empty name"),
        ({"included_cluster_scoped_resources": "sc"}, "list of strings"),
        # ... and never with the old ones.
        (
            {"included_resources": ("pods",), "included_namespace_scoped_resources": ("pods",)},
            "includedResources and includedNamespaceScopedResources cannot be used together",
        ),
        (
            {"excluded_resources": ("pods",), "excluded_cluster_scoped_resources": ("sc",)},
            "excludedResources and excludedClusterScopedResources cannot be used together",
        ),
        (
            {"include_cluster_resources": False, "excluded_cluster_scoped_resources": ("*",)},
            "includeClusterResources and excludedClusterScopedResources cannot be used together",
        ),
        # The Backup's own labels and annotations, as the API server checks them.
        ({"labels": {"Bad Key": "x"}}, "label key 'Bad Key'"),
        ({"labels": {"example.com/": "x"}}, "label key 'example.com/'"),
        ({"labels": {"Example.com/team": "x"}}, "lowercase DNS subdomain"),
        ({"labels": {"team": "x" * 64}}, "label team='xxx"),
        ({"labels": {"team": "a b"}}, "a label value is empty or at most 63"),
        ({"labels": {"strongroom.io/writer": "w1"}}, "set by Strongroom itself"),
        ({"labels": {"strongroom.io/storage-location": "x"}}, "set by Strongroom itself"),
        ({"labels": {"team": 7}}, "labels: a mapping of strings"),
        ({"labels": ["team=a"]}, "labels: a mapping of strings"),
        ({"annotations": {"": "x"}}, "annotation key ''"),
        ({"annotations": {"a/b/c": "x"}}, "at most one '/'"),
        ({"annotations": {"note": "x" * (256 * 1024)}}, "262148 bytes in all, more than 262144"),
        ({"annotations": {"note": "caf\udce9"}}, "not valid UTF-8"),
        ({"annotations": {"note": None}}, "annotations: a mapping of strings"),
    ],
)
def test_refused_specs(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(errors.UsageError, match=".*") as info:
        spec.BackupSpec("b", **fields)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert info.value.exit_code == errors.ExitCode.USAGE


@pytest.mark.parametrize("name", ["", "Nightly", "-a", "a_b", "x" * 254, "a..b"])
def test_refused_names(name: str) -> None:
    with pytest.raises(spec.SpecError, match="backup name"):
        spec.BackupSpec(name)


def test_ttl_from_text() -> None:
    assert spec.BackupSpec.with_ttl_text("b", "1h30m").ttl == datetime.timedelta(minutes=90)
    assert spec.BackupSpec.with_ttl_text("b", "0").ttl == spec.DEFAULT_TTL  # Velero's rule
    assert spec.BackupSpec.with_ttl_text("b", "0s").ttl == spec.DEFAULT_TTL
    with pytest.raises(durations.DurationError, match="ttl '3 days'"):
        spec.BackupSpec.with_ttl_text("b", "3 days")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("720h", datetime.timedelta(hours=720)),
        ("30m", datetime.timedelta(minutes=30)),
        ("1h30m", datetime.timedelta(minutes=90)),
        ("1.5h", datetime.timedelta(minutes=90)),
        (".5m", datetime.timedelta(seconds=30)),
        ("90s", datetime.timedelta(seconds=90)),
        ("1m500ms", datetime.timedelta(seconds=60.5)),
        ("2us", datetime.timedelta(microseconds=2)),
        ("3µs", datetime.timedelta(microseconds=3)),
        ("+5m", datetime.timedelta(minutes=5)),
        ("0", datetime.timedelta(0)),
        ("-0", datetime.timedelta(0)),
    ],
)
def test_go_durations(text: str, expected: datetime.timedelta) -> None:
    assert durations.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["", "5", "h", ".h", "1d", "5 m", "1h 2m", "-5m", "-", "1e3s", "5M", "9999999h"]
)
def test_bad_go_durations(text: str) -> None:
    with pytest.raises(durations.DurationError):
        durations.parse(text)


@given(st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=10**5)))
def test_duration_string_round_trips(value: datetime.timedelta) -> None:
    text = durations.to_string(value)
    assert durations.parse(text) == value


@given(st.text(max_size=20))
def test_duration_parser_raises_only_usage_errors(text: str) -> None:
    try:
        value = durations.parse(text)
    except durations.DurationError:
        return
    assert value >= datetime.timedelta(0)


def test_go_duration_strings() -> None:
    assert durations.to_string(datetime.timedelta(hours=720)) == "720h0m0s"
    assert durations.to_string(datetime.timedelta(seconds=45)) == "45s"
    assert durations.to_string(datetime.timedelta(milliseconds=1500)) == "1.5s"
    assert durations.to_string(datetime.timedelta(milliseconds=250)) == "250ms"
    assert durations.to_string(datetime.timedelta(0)) == "0s"


@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ("shop", ["shop"], ["shop-dev", "sho"]),
        ("shop*", ["shop", "shop-dev"], ["myshop"]),
        ("*-dev", ["shop-dev", "-dev"], ["dev", "shop-dev2"]),
        ("s?op", ["shop", "stop"], ["sop", "shhop"]),
        ("[bs]log", ["blog", "slog"], ["clog"]),
        ("[!b]log", ["clog"], ["blog"]),
        ("team-[a-c]", ["team-a", "team-c"], ["team-d"]),
    ],
)
def test_namespace_globs(pattern: str, matching: list[str], other: list[str]) -> None:
    compiled = globs.compile_pattern(pattern)
    assert all(compiled.matches(n) for n in matching)
    assert not any(compiled.matches(n) for n in other)
    assert compiled.literal == (pattern == "shop")


@given(st.text(alphabet=st.sampled_from(list("ab-*?[]!^z09.")), max_size=12))
def test_glob_compiler_raises_only_usage_errors(text: str) -> None:
    try:
        compiled = globs.compile_pattern(text)
    except globs.PatternError:
        return
    if "[" not in text:
        assert compiled.matches(text.replace("*", "ab").replace("?", "z"))
        assert compiled.matches(text.replace("*", "").replace("?", "0"))
        if "*" not in text:
            assert not compiled.matches(text + "a")


NO_RANGE = SELECTORS.filter(
    lambda s: all(r.op not in (selectors.Op.GREATER, selectors.Op.LESS) for r in s.requirements)
)


def _resource_filters(
    draw: st.DrawFn, resources: st.SearchStrategy[list[str]]
) -> dict[str, object]:
    """Either the old resource filters or the scoped ones, never both."""
    if draw(st.booleans()):
        included = draw(resources)
        return {
            "included_resources": tuple(included),
            "excluded_resources": tuple(r for r in draw(resources) if r not in included),
            "include_cluster_resources": draw(st.sampled_from([None, True, False])),
        }
    fields: dict[str, object] = {}
    for scope in ("cluster", "namespace"):
        included = draw(resources)
        excluded = [r for r in draw(resources) if r not in included]
        if not included and draw(st.booleans()):
            excluded = ["*"]
        fields[f"included_{scope}_scoped_resources"] = tuple(included)
        fields[f"excluded_{scope}_scoped_resources"] = tuple(excluded)
    return fields


@st.composite
def specs(draw: st.DrawFn) -> spec.BackupSpec:
    namespaces = st.lists(st.sampled_from(["shop", "blog*", "team-[ab]", "s?op"]), unique=True)
    resources = st.lists(st.sampled_from(["pods", "cm", "deployments.apps", "Secret"]), unique=True)
    included_ns = draw(namespaces)
    selector_kind = draw(st.sampled_from(["none", "one", "or"]))
    fields = _resource_filters(draw, resources)
    if selector_kind == "one":
        fields["label_selector"] = str(draw(NO_RANGE))
    elif selector_kind == "or":
        fields["or_label_selectors"] = tuple(str(s) for s in draw(st.lists(NO_RANGE, max_size=3)))
    return spec.BackupSpec(
        "b",
        included_namespaces=tuple(included_ns),
        excluded_namespaces=tuple(n for n in draw(namespaces) if n not in included_ns),
        ttl=draw(
            st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=999))
        ),
        labels=draw(LABELS),
        annotations=draw(st.dictionaries(KEY, st.text(max_size=8), max_size=3)),
        **fields,  # type: ignore[arg-type]
    )


@given(specs(), st.lists(LABELS, max_size=5))
def test_manifest_spec_reads_back(original: spec.BackupSpec, samples: list[dict[str, str]]) -> None:
    doc = json.loads(json.dumps(original.to_dict()))
    again = spec.BackupSpec.from_dict("b", doc)
    assert again.to_dict() == original.to_dict()
    assert again.ttl == original.ttl
    # The selectors may read back in another spelling ("a!=b" as "a notin (b)"), never
    # with another meaning.
    before, after = original.server_selectors(), again.server_selectors()
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        for labels in samples:
            assert selectors.parse(old or "").matches(labels) == selectors.parse(new or "").matches(
                labels
            )


@pytest.mark.parametrize(
    "doc",
    [
        {"includedNamespaces": "shop"},
        {"includeClusterResources": "yes"},
        {"ttl": 5},
        {"ttl": "5 days"},
        {"labelSelector": []},
        {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]}},
        {"labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
        {
            "labelSelector": {
                "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
            }
        },
        {"labelSelector": {"matchLabels": {"a": "b c"}}},
        {"orLabelSelectors": {}},
    ],
)
def test_malformed_manifest_specs(doc: dict[str, object]) -> None:
    with pytest.raises(errors.UsageError):
        spec.BackupSpec.from_dict("b", doc)


def test_scoped_filters_in_the_manifest_only_when_given() -> None:
    s = spec.BackupSpec(
        "b",
        included_namespaces=("shop",),
        included_cluster_scoped_resources=("storageclasses",),
        excluded_namespace_scoped_resources=("*",),
    )
    assert s.scoped_filters and not spec.BackupSpec("b").scoped_filters
    doc = s.to_dict()
    assert doc["includedClusterScopedResources"] == ["storageclasses"]
    assert doc["excludedNamespaceScopedResources"] == ["*"]
    assert "excludedClusterScopedResources" not in doc
    assert "includedNamespaceScopedResources" not in doc
    assert doc["includeClusterResources"] is None and doc["includedResources"] == []
    # '*' alone is a valid exclude in a scoped list, with nothing included beside it.
    assert spec.BackupSpec("b", excluded_cluster_scoped_resources=("*",)).scoped_filters


def test_labels_and_annotations_are_the_backups_own_metadata() -> None:
    labels = {"team": "payments", "example.com/tier": "", "App.Name": "web-1"}
    annotations = {"Example.COM/Owner": "Ops team, on call", "note": "ünïcode = fine"}
    s = spec.BackupSpec("b", labels=labels, annotations=annotations)
    assert s.to_dict()["metadata"] == {"labels": labels, "annotations": annotations}
    assert s.labels == labels and s.annotations == annotations
    labels["team"] = "changed"  # the spec keeps its own copy, read-only
    assert s.labels["team"] == "payments"
    with pytest.raises(TypeError):
        s.labels["team"] = "x"  # type: ignore[index]
    only = spec.BackupSpec("b", annotations={"note": "x"}).to_dict()
    assert only["metadata"] == {"annotations": {"note": "x"}}
    assert "metadata" not in spec.BackupSpec("b").to_dict()
    at_limit = {"k": "x" * (256 * 1024 - 1)}
    assert spec.BackupSpec("b", annotations=at_limit).annotations == at_limit


@pytest.mark.parametrize(
    "doc",
    [
        {"includedClusterScopedResources": "sc"},
        {"includedResources": ["pods"], "excludedNamespaceScopedResources": ["secrets"]},
        {"metadata": ["team=a"]},
        {"metadata": {"labels": ["team=a"]}},
        {"metadata": {"labels": {"team": 1}}},
        {"metadata": {"annotations": {"": "x"}}},
    ],
)
def test_malformed_scoped_filters_and_metadata_in_a_manifest(doc: dict[str, object]) -> None:
    with pytest.raises(spec.SpecError):
        spec.BackupSpec.from_dict("b", doc)
