"""Resource modifiers: Velero's rule documents, conditions, and each kind of patch."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.engine.restore import modifiers, strategic

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web-1", "namespace": "shop", "labels": {"tier": "front"}},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "old.registry/web:1",
                        "ports": [{"containerPort": 80}],
                    },  # fmt: skip
                    {"name": "sidecar", "image": "old.registry/side:1"},
                ]
            }
        },
    },
}


def _apply(text: str, obj: dict[str, Any] = DEPLOYMENT, gr: str = "deployments.apps") -> Any:
    rules = modifiers.parse(text, "test")
    before = copy.deepcopy(obj)
    out, applied = rules.apply(copy.deepcopy(obj), gr)
    assert obj == before
    return out, applied


def test_a_json_patch_rule_with_every_condition() -> None:
    out, applied = _apply(
        """
version: v1
resourceModifierRules:
- conditions:
    groupResource: deployments.apps
    resourceNameRegex: "^web-"
    namespaces: [shop]
    labelSelector: {matchLabels: {tier: front}}
    matches: [{path: /spec/replicas, value: "3"}]
  patches:
  - {operation: replace, path: /spec/replicas, value: "1"}
  - {operation: add, path: /metadata/labels/migrated, value: "yes"}
  - {operation: remove, path: /spec/template/spec/containers/1}
"""
    )
    assert applied == 1 and out["spec"]["replicas"] == 1
    assert out["metadata"]["labels"] == {"tier": "front", "migrated": "yes"}
    assert [c["name"] for c in out["spec"]["template"]["spec"]["containers"]] == ["web"]


@pytest.mark.parametrize(
    "condition",
    [
        "groupResource: statefulsets.apps",
        "{groupResource: deployments.apps, resourceNameRegex: '^db-'}",
        "{groupResource: deployments.apps, namespaces: [other]}",
        "{groupResource: deployments.apps, labelSelector: {matchLabels: {tier: back}}}",
        "{groupResource: deployments.apps, matches: [{path: /spec/replicas, value: '2'}]}",
        "{groupResource: deployments.apps, matches: [{path: /spec/absent, value: ''}]}",
    ],
)
def test_a_rule_whose_condition_fails_changes_nothing(condition: str) -> None:
    if condition.startswith("groupResource"):
        condition = "{" + condition + "}"
    text = f"""
version: v1
resourceModifierRules:
- conditions: {condition}
  patches: [{{operation: replace, path: /spec/replicas, value: "9"}}]
"""
    out, applied = _apply(text)
    assert applied == 0 and out == DEPLOYMENT


def test_a_failed_test_operation_skips_the_rule_as_in_velero() -> None:
    out, applied = _apply(
        """
version: v1
resourceModifierRules:
- conditions: {groupResource: "*"}
  patches:
  - {operation: test, path: /spec/replicas, value: "5"}
  - {operation: replace, path: /spec/replicas, value: "1"}
"""
    )
    assert out == DEPLOYMENT and applied == 1


def test_merge_and_strategic_patches() -> None:
    out, _ = _apply(
        """
version: v1
resourceModifierRules:
- conditions: {groupResource: "*.apps"}
  mergePatches:
  - patchData: '{"metadata": {"labels": {"tier": null, "team": "a"}}}'
- conditions: {groupResource: deployments.apps}
  strategicPatches:
  - patchData: |
      spec:
        template:
          spec:
            containers:
            - name: web
              image: new.registry/web:1
            - name: sidecar
              $patch: delete
"""
    )
    assert out["metadata"]["labels"] == {"team": "a"}
    (web,) = out["spec"]["template"]["spec"]["containers"]
    assert web == {"name": "web", "image": "new.registry/web:1", "ports": [{"containerPort": 80}]}


def test_a_patch_that_cannot_apply_is_an_error_of_the_item() -> None:
    with pytest.raises(modifiers.PatchFailed):
        _apply(
            """
version: v1
resourceModifierRules:
- conditions: {groupResource: "*"}
  patches: [{operation: remove, path: /spec/nothing/here}]
"""
        )


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("version: v2\nresourceModifierRules: []", "version"),
        ("version: v1\nresourceModifierRules: []", "must be a list"),
        ("version: v1\nresourceModifierRules:\n- {patches: []}", "conditions"),
        ("version: v1\nresourceModifierRules:\n- conditions: {}\n  patches: [x]", "groupResource"),
        (
            "version: v1\nresourceModifierRules:\n- conditions: {groupResource: a}\n"
            "  patches: [{operation: frob, path: /a}]",
            "operation",
        ),
        (
            "version: v1\nresourceModifierRules:\n- conditions: {groupResource: a}\n"
            "  patches: [{operation: add, path: /a, value: 1}]\n"
            "  mergePatches: [{patchData: '{}'}]",
            "exactly one",
        ),
        (
            "version: v1\nresourceModifierRules:\n- conditions: {groupResource: a, "
            "resourceNameRegex: '('}\n  patches: [{operation: remove, path: /a}]",
            "resourceNameRegex",
        ),
        (
            "version: v1\nresourceModifierRules:\n- conditions: {groupResource: a}\n"
            "  patches: [{operation: remove, path: a}]",
            "JSON pointer",
        ),
        ("[unclosed", "not valid YAML"),
    ],
)
def test_malformed_documents_are_one_line_usage_errors(text: str, cause: str) -> None:
    with pytest.raises(modifiers.ModifierError, match=cause) as caught:
        modifiers.parse(text, "rules.yaml")
    assert "\n" not in str(caught.value) and "rules.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ("1", 1),
        ("true", True),
        ("null", None),
        ('{"a": 1}', {"a": 1}),
        ("premium", "premium"),
        ("", ""),
        ("[1, 2]", [1, 2]),
    ],  # fmt: skip
)
def test_values_are_read_as_velero_reads_them(given: str, taken: Any) -> None:
    assert modifiers.value_of(given) == taken


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=4), _json, max_size=4), _json)
def test_strategic_patch_without_lists_is_a_merge_patch(target: dict[str, Any], patch: Any) -> None:
    from strongroom.engine.restore import mergepatch

    def no_lists(value: Any) -> bool:
        if isinstance(value, list):
            return False
        if isinstance(value, dict):
            return all(no_lists(v) and k != "$patch" for k, v in value.items())
        return True

    if no_lists(target) and no_lists(patch):
        assert strategic.apply(target, patch) == mergepatch.apply(target, patch)


def test_strategic_lists_merge_by_key_and_unknown_lists_are_replaced() -> None:
    target = {"spec": {"ports": [{"port": 80, "name": "http"}], "finalizers": ["a", "b"]}}
    patch = {"spec": {"ports": [{"port": 80, "name": "web"}, {"port": 443}], "finalizers": ["c"]}}
    out = strategic.apply(target, patch)
    assert out["spec"]["ports"] == [{"port": 80, "name": "web"}, {"port": 443}]
    assert out["spec"]["finalizers"] == ["c"]
    replaced = strategic.apply(target, {"spec": {"ports": [{"$patch": "replace"}, {"port": 1}]}})
    assert replaced["spec"]["ports"] == [{"port": 1}]
