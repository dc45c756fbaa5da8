"""`flux debug helmrelease|kustomization` against the real control plane, with flux2's own testdata
(cmd/flux/testdata/debug_*: the objects and the golden outputs, the namespace templated as Flux does)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gotk.local.controlplane import ControlPlane
from gotk.testing.cli import run_flux

pytestmark = pytest.mark.cluster
GOLDEN = Path(__file__).parents[1] / "golden" / "cli"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _apply_testdata(kubectl: Kubectl, directory: str, namespace: str) -> None:
    text = (GOLDEN / directory / "objects.yaml").read_text().replace("{{ .fluxns }}", namespace)
    kubectl("apply", "-f", "-", input=text)
    for doc in yaml.safe_load_all(text):
        if doc and doc.get("status"):  # as Flux's test env does: the status through the status subresource
            body = json.dumps({"status": doc["status"]})
            kind, name = doc["kind"].lower(), doc["metadata"]["name"]
            kubectl("patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)


def _golden(directory: str, name: str, namespace: str) -> str:
    return (GOLDEN / directory / name).read_text().replace("{{ .fluxns }}", namespace)


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        ("helmrelease test-values-inline --show-status --show-values=false", "status.golden.yaml"),
        ("helmrelease test-values-inline --show-values --show-status=false", "values-inline.golden.yaml"),
        ("hr test-values-from --show-values --show-status=false", "values-from.golden.yaml"),
        ("helmrelease test-with-history --show-history --show-status=false", "history.golden.yaml"),
        ("helmrelease test-values-inline --show-history --show-status=false", "history-empty.golden.yaml"),
    ],
)
def test_debug_helmrelease(cluster: ControlPlane, namespace: str, kubectl: Kubectl, args: str, golden: str) -> None:
    _apply_testdata(kubectl, "debug_helmrelease", namespace)
    result = run_flux(cluster.kubeconfig, "debug", *args.split(), f"-n={namespace}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == _golden("debug_helmrelease", golden, namespace)


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        ("ks test --show-status --show-vars=false", "status.golden.yaml"),
        ("ks test --show-vars --show-status=false", "vars.golden.env"),
        ("kustomization test-from --show-vars --show-status=false", "vars-from.golden.env"),
        ("ks test-with-history --show-history --show-status=false", "history.golden.yaml"),
        ("ks test --show-history --show-status=false", "history-empty.golden.yaml"),
    ],
)
def test_debug_kustomization(cluster: ControlPlane, namespace: str, kubectl: Kubectl, args: str, golden: str) -> None:
    _apply_testdata(kubectl, "debug_kustomization", namespace)
    result = run_flux(cluster.kubeconfig, "debug", *args.split(), f"-n={namespace}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == _golden("debug_kustomization", golden, namespace)


def test_debug_needs_exactly_one_flag(cluster: ControlPlane, namespace: str) -> None:
    result = run_flux(cluster.kubeconfig, "debug", "hr", "x", "--show-status", "--show-values", f"-n={namespace}")
    assert result.returncode == 1
    assert "exactly one of --show-status, --show-values, or --show-history must be set" in result.stderr
    assert "Traceback" not in result.stderr
