"""gotk.ssa.plan.adopt_paths (spec.ignore): the live value is kept for paths only we or Update managers
own, stripped for paths another Apply manager owns, and dropped when live has none; plus the labels
fallback of `plan.annotation` that Flux's selectors allow.
"""

from __future__ import annotations

from typing import Any

from gotk.ssa import plan


def live(replicas: int | None, *managed: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    spec = {} if replicas is None else {"replicas": replicas}
    fields = [{"manager": m, "operation": op, "fieldsV1": f} for m, op, f in managed]
    return {"metadata": {"managedFields": fields}, "spec": spec}


REPLICAS = {"f:spec": {"f:replicas": {}}}


def test_adopts_the_live_value_when_no_other_applier_owns_it() -> None:
    desired = {"spec": {"replicas": 2}}
    plan.adopt_paths(desired, live(5, ("kubectl", "Update", REPLICAS)), ["/spec/replicas"], "kc")
    assert desired == {"spec": {"replicas": 5}}


def test_strips_a_path_another_apply_manager_owns() -> None:
    desired = {"spec": {"replicas": 2}}
    plan.adopt_paths(desired, live(5, ("hpa", "Apply", REPLICAS)), ["/spec/replicas"], "kc")
    assert desired == {"spec": {}}


def test_drops_a_path_live_does_not_have() -> None:
    desired = {"spec": {"replicas": 2}}
    plan.adopt_paths(desired, live(None), ["/spec/replicas"], "kc")
    assert desired == {"spec": {}}


def test_list_items_and_escaped_pointers() -> None:
    desired = {"spec": {"containers": [{"name": "a", "image": "x:1"}]}, "metadata": {"annotations": {}}}
    current = {
        "metadata": {"annotations": {"example.com/key": "live"}},
        "spec": {"containers": [{"name": "a", "image": "x:9"}]},
    }
    plan.adopt_paths(desired, current, ["/spec/containers/0/image", "/metadata/annotations/example.com~1key"], "kc")
    assert desired["spec"]["containers"][0]["image"] == "x:9"
    assert desired["metadata"]["annotations"] == {"example.com/key": "live"}


def test_an_applier_owning_list_items_owns_indexed_paths() -> None:
    owned = {"f:spec": {"f:containers": {'k:{"name":"a"}': {"f:image": {}}}}}
    desired = {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}
    current = live(None, ("other", "Apply", owned))
    current["spec"] = {"containers": [{"name": "a", "image": "x:9"}]}
    plan.adopt_paths(desired, current, ["/spec/containers/0/image"], "kc")
    assert desired == {"spec": {"containers": [{"name": "a"}]}}


def test_policies_read_labels_too() -> None:
    obj = {"metadata": {"labels": {plan.RECONCILE_ANNOTATION: "Disabled"}}}
    assert plan.skipped(obj)
    assert not plan.skipped({"metadata": {"labels": {"other": "disabled"}}})
