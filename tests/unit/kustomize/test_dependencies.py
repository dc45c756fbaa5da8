"""gotk.kustomize.sources.dependency_problem, Flux's checkDependencies: Ready at the current generation,
the shared source's revision, and `readyExpr` (CEL over `dep` and `self`) replacing the built-in check;
an expression with a parse error or an unknown variable raises InvalidReadyExpr.
"""

from __future__ import annotations

from typing import Any

import pytest

from gotk.kustomize.sources import dependency_problem, dependency_refs, source_ref
from gotk.runtime.dependencies import InvalidReadyExpr
from gotk.runtime.refindex import RefIndex

REF = ("apps", "infra")
REVISION = "main@sha1:2"


def ks(name: str, *, ready: bool = True, applied: str = REVISION, source: str = "repo", **meta: Any) -> dict[str, Any]:
    condition = {"type": "Ready", "status": "True" if ready else "False", "reason": "x", "message": ""}
    return {
        "metadata": {"name": name, "namespace": "apps", "generation": 1, **meta},
        "spec": {"sourceRef": {"kind": "GitRepository", "name": source}},
        "status": {"observedGeneration": 1, "conditions": [condition], "lastAppliedRevision": applied},
    }


def test_ready_at_the_same_revision() -> None:
    assert dependency_problem(ks("infra"), REF, obj=ks("app"), revision=REVISION) is None


def test_not_found_not_ready_and_behind() -> None:
    assert dependency_problem(None, REF) == "dependency 'apps/infra' not found"
    assert dependency_problem(ks("infra", ready=False), REF) == "dependency 'apps/infra' is not ready"
    behind = ks("infra", applied="main@sha1:1")
    assert dependency_problem(behind, REF, obj=ks("app"), revision=REVISION) == (
        "dependency 'apps/infra' revision is not up to date"
    )
    other_source = ks("infra", applied="main@sha1:1", source="other")
    assert dependency_problem(other_source, REF, obj=ks("app"), revision=REVISION) is None


def test_ready_expr_replaces_the_built_in_check() -> None:
    expr = "dep.metadata.annotations['v'] == self.metadata.annotations['v']"
    dep = ks("infra", ready=False, annotations={"v": "1"})
    assert dependency_problem(dep, REF, obj=ks("app", annotations={"v": "1"}), ready_expr=expr) is None
    problem = dependency_problem(dep, REF, obj=ks("app", annotations={"v": "2"}), ready_expr=expr)
    assert problem == "dependency 'apps/infra' is not ready according to readyExpr eval"


@pytest.mark.parametrize("expr", ["self.generation == deps.generation", "dep.metadata.name =="])
def test_invalid_ready_expr(expr: str) -> None:
    with pytest.raises(InvalidReadyExpr, match="failed to"):
        dependency_problem(ks("infra"), REF, obj=ks("app"), ready_expr=expr)


def test_ref_index_follows_changes_of_dependsOn() -> None:
    index = RefIndex(dependency_refs)
    app = ks("app")
    app["spec"]["dependsOn"] = [{"name": "infra"}, {"name": "crds", "namespace": "flux-system"}]
    index.update(app, None)
    assert index.users(("apps", "infra")) == {("apps", "app")}
    assert index.users(("flux-system", "crds")) == {("apps", "app")}

    moved = ks("app")
    moved["spec"]["dependsOn"] = [{"name": "infra"}]
    index.update(moved, app)
    assert index.users(("apps", "infra")) == {("apps", "app")}
    assert index.users(("flux-system", "crds")) == set()

    index.update(None, moved)
    assert index.users(("apps", "infra")) == set()
    assert index._users == {}


def test_ref_index_of_sources() -> None:
    index = RefIndex(lambda obj: [source_ref(obj)])
    index.update(ks("a"), None)
    index.update(ks("b"), None)
    index.update(ks("c", source="other"), None)
    assert index.users(("GitRepository", "apps", "repo")) == {("apps", "a"), ("apps", "b")}
    assert index.users(("GitRepository", "apps", "other")) == {("apps", "c")}
