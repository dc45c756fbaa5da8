"""ApplyMemory: a dry-run is skipped only for the exact desired state on the exact resourceVersion applied."""

from gotk.ssa import plan
from gotk.ssa.apply import ApplyMemory


def obj(value: str, rv: str = "1") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "ns", "resourceVersion": rv},
        "data": {"k": value},
    }


def test_unchanged_only_for_same_fingerprint_and_resource_version() -> None:
    memory = ApplyMemory()
    desired = obj("x")
    fp = plan.fingerprint(desired)
    assert not memory.unchanged(desired, fp, obj("x", "5"))
    memory.remember(desired, fp, obj("x", "5"))
    assert memory.unchanged(desired, fp, obj("x", "5"))
    assert not memory.unchanged(desired, fp, obj("x", "6")), "someone changed the object"
    other = obj("y")
    assert not memory.unchanged(other, plan.fingerprint(other), obj("x", "5")), "desired state changed"
    memory.forget(desired)
    assert not memory.unchanged(desired, fp, obj("x", "5"))


def test_bounded() -> None:
    memory = ApplyMemory(max_entries=2)
    for i in range(5):
        o = obj(str(i))
        o["metadata"]["name"] = f"n{i}"  # type: ignore[index]
        memory.remember(o, plan.fingerprint(o), o)
    assert len(memory._seen) <= 2


def test_inventory_ids_match_flux_for_rbac_names() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "system:foo"}}
    assert plan.obj_id(role) == "_system__foo_rbac.authorization.k8s.io_ClusterRole"
    assert plan.parse_id(plan.obj_id(role)) == ("", "system:foo", "rbac.authorization.k8s.io", "ClusterRole")
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns"}}
    assert plan.parse_id(plan.obj_id(cm)) == ("ns", "a", "", "ConfigMap")
