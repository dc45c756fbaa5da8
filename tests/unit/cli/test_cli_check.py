"""flux check's pure parts: a CRD that differs from this build's (schema, served versions, not
Established) is reported with the path of the first difference; Kubernetes version parsing;
Deployment readiness; finding `flux local up` controllers through the state file next to the kubeconfig.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

from gotk.api import crdgen
from gotk.cli import check
from gotk.cli.context import Globals


def installed(crd: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns for an applied CRD: the same spec plus an Established status."""
    out: dict[str, Any] = json.loads(json.dumps(crd))
    out["status"] = {
        "conditions": [{"type": "Established", "status": "True"}],
        "storedVersions": [crd["spec"]["versions"][0]["name"]],
    }
    return out


@pytest.fixture
def git_crd() -> dict[str, Any]:
    return next(c for c in crdgen.render_all() if c["metadata"]["name"] == "gitrepositories.source.toolkit.fluxcd.io")


def test_matching_crd_has_no_problems(git_crd: dict[str, Any]) -> None:
    assert check.crd_problems(installed(git_crd), git_crd) == []


def test_schema_difference_names_the_path(git_crd: dict[str, Any]) -> None:
    have = installed(git_crd)
    spec = have["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["interval"]["pattern"] = "^.*$"
    del spec["properties"]["url"]
    problems = check.crd_problems(have, git_crd)
    assert problems == [
        "v1 schema differs from this build at openAPIV3Schema.properties.spec.properties.interval.pattern"
    ]
    spec["properties"]["interval"]["pattern"] = git_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
        "properties"
    ]["spec"]["properties"]["interval"]["pattern"]
    assert check.crd_problems(have, git_crd) == [
        "v1 schema differs from this build at openAPIV3Schema.properties.spec.properties.url (missing in the cluster)"
    ]


def test_other_served_version_and_not_established(git_crd: dict[str, Any]) -> None:
    have = installed(git_crd)
    old = copy.deepcopy(have["spec"]["versions"][0])
    old["name"], old["storage"] = "v1beta2", False
    have["spec"]["versions"].append(old)
    have["status"]["conditions"][0]["status"] = "False"
    assert check.crd_problems(have, git_crd) == ["serves v1,v1beta2, this build serves v1", "not established"]


def test_first_difference_in_lists() -> None:
    assert check._first_difference([1, 2], [1, 2], "x") is None
    assert check._first_difference([1, 2], [1], "x") == "x (2 items in the cluster, 1 in this build)"
    assert check._first_difference({"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}]}, "x") == "x.a[1].b"
    assert check._first_difference({"a": 1, "z": 1}, {"a": 1}, "x") == "x.z (unknown to this build)"


@pytest.mark.parametrize(
    ("git_version", "expected"),
    [
        ("v1.36.3", ((1, 36, 3), "1.36.3")),
        ("v1.33.0-rc.1", ((1, 33, 0), "1.33.0-rc.1")),
        ("v1.34.1+k3s1", ((1, 34, 1), "1.34.1+k3s1")),
        ("garbage", None),
    ],
)
def test_parse_kubernetes_version(git_version: str, expected: Any) -> None:
    assert check.parse_kubernetes_version(git_version) == expected


def test_deployment_ready() -> None:
    deploy: dict[str, Any] = {"metadata": {"generation": 2}, "spec": {"replicas": 1}, "status": {}}
    assert not check.deployment_ready(deploy)
    deploy["status"] = {
        "observedGeneration": 2,
        "replicas": 1,
        "updatedReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
    }
    assert check.deployment_ready(deploy)
    deploy["status"]["observedGeneration"] = 1
    assert not check.deployment_ready(deploy)


def test_local_controllers_from_state_file(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    g = Globals(kubeconfig=str(kubeconfig), context=None, namespace="flux-system", timeout="5m", verbose=False)
    assert check.local_controllers(g) is None
    argv = ["python", "-m", "gotk.cli.main", "controllers", "run", "--health-addr", "127.0.0.1:4321"]
    state = {"components": [{"name": "controllers", "pid": os.getpid(), "argv": argv}]}
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert check.local_controllers(g) == (os.getpid(), "127.0.0.1:4321")
    state["components"][0]["pid"] = 2**22 + 12345  # above pid_max: not running
    (tmp_path / "state.json").write_text(json.dumps(state))
    assert check.local_controllers(g) is None
