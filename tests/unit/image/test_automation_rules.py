"""Pure rules of the ImageUpdateAutomation (gotk.image.automation): policySelector matching (matchLabels,
matchExpressions, invalid selectors), observedPolicies, and the data a commit message template sees."""

from __future__ import annotations

import pytest

from gotk.image import automation, setters
from gotk.image.automation import SelectorError, label_selector_matches


def test_selector_matching() -> None:
    labels = {"app": "web", "tier": "front"}
    assert label_selector_matches(None, labels)
    assert label_selector_matches({}, labels)
    assert label_selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert not label_selector_matches({"matchLabels": {"app": "db"}}, labels)
    expr = {"key": "tier", "operator": "In", "values": ["front", "back"]}
    assert label_selector_matches({"matchExpressions": [expr]}, labels)
    assert not label_selector_matches({"matchExpressions": [{**expr, "operator": "NotIn"}]}, labels)
    assert label_selector_matches({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, labels)
    assert not label_selector_matches({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)


@pytest.mark.parametrize(
    "expr",
    [
        {"key": "a", "operator": "In", "values": []},
        {"key": "a", "operator": "Exists", "values": ["x"]},
        {"key": "a", "operator": "Near"},
    ],
)
def test_invalid_selectors(expr: dict[str, object]) -> None:
    with pytest.raises(SelectorError):
        label_selector_matches({"matchExpressions": [expr]}, {"a": "x"})


def test_observed_policies_and_message_data() -> None:
    policies = [
        {"metadata": {"name": "a"}, "status": {"latestRef": {"name": "img", "tag": "1"}}},
        {"metadata": {"name": "b"}, "status": {"latestRef": {"name": "img", "tag": "2", "digest": "sha256:x"}}},
    ]
    assert automation.observed_policies(policies) == {
        "a": {"name": "img", "tag": "1"},
        "b": {"name": "img", "tag": "2", "digest": "sha256:x"},
    }
    oid = setters.ObjectId("apps/v1", "Deployment", "web", "apps")
    result = setters.Result(file_changes={"d.yaml": {oid: [setters.Change("img:1", "img:2", "apps:b")]}})
    obj = {
        "metadata": {"name": "auto", "namespace": "apps"},
        "spec": {"git": {"commit": {"messageTemplateValues": {"env": "prod"}}}},
    }
    data = automation.message_data(obj, result)
    assert data == {
        "automation": {"name": "auto", "namespace": "apps"},
        "files": [
            {
                "file": "d.yaml",
                "objects": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "web",
                        "namespace": "apps",
                        "changes": [{"OldValue": "img:1", "NewValue": "img:2", "Setter": "apps:b"}],
                    }
                ],
            }
        ],
        "values": {"env": "prod"},
    }
