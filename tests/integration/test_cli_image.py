"""The image nouns of the flux CLI against the real local control plane, run as processes, without controllers
(objects have no status): `flux create image … --export` applied with kubectl, flux2's export-test objects
exported byte for byte as its testdata/export/image-*.yaml (CRD defaults applied by the real API server),
`get images all`, suspend/resume, `export --all` and delete. Reconcile waits are unit-tested
(tests/unit/cli/test_cli_image.py).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gotk.local.controlplane import ControlPlane
from gotk.testing.cli import run_flux
from gotk.testing.golden import assert_golden

pytestmark = pytest.mark.cluster

GOLDEN = Path(__file__).parents[1] / "golden" / "cli" / "image"
FLUX2 = GOLDEN / "flux2"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def flux(cp: ControlPlane, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_flux(cp.kubeconfig, *args, "-n", namespace)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def spec_of(kubectl: Kubectl, kind: str, name: str, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)
    spec: dict[str, Any] = found["spec"]
    return spec


def test_image_commands(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    # flux2's export test objects, its template rendered (a range over a missing key prints nothing)
    objects = (FLUX2 / "export-objects-image.yaml").read_text().replace("{{ .fluxns }}", namespace)
    kubectl("create", "-f", "-", input=objects.replace("'{{range .Updated.Images}}{{println .}}{{end}}'", "''"))
    # and the objects of flux2's TestImageScanning, made by `flux create … --export`
    created = [
        ("repository", "podinfo", "--image=ghcr.io/stefanprodan/podinfo", "--interval=10m"),
        ("policy", "podinfo-semver", "--image-ref=podinfo", "--interval=10m", "--reflect-digest=Always",
         "--select-semver=5.0.x"),
    ]  # fmt: skip
    for kind, *args in created:
        exported = ok(flux(cluster, namespace, "create", "image", kind, *args, "--export")).stdout
        kubectl("create", "-f", "-", input=exported)

    for noun, golden in (("repository", "repo"), ("policy", "policy"), ("update", "update")):
        result = ok(flux(cluster, namespace, "export", "image", noun, "flux-system"))
        templated = result.stdout.replace(f"namespace: {namespace}\n", "namespace: {{ .fluxns }}\n")
        assert_golden(FLUX2, f"export-image-{golden}.yaml", templated)

    result = ok(flux(cluster, namespace, "suspend", "image", "repository", "podinfo"))
    assert result.stderr.splitlines() == [
        f"► suspending image repository podinfo in {namespace} namespace",
        "✔ image repository suspended",
    ]
    assert spec_of(kubectl, "imagerepositories", "podinfo", namespace)["suspend"] is True
    assert_golden(
        GOLDEN, "get_images_all_no_status.golden", ok(flux(cluster, namespace, "get", "images", "all")).stdout
    )

    # two names: flux does not wait (no controller runs here)
    result = ok(flux(cluster, namespace, "resume", "image", "repository", "podinfo", "flux-system"))
    assert result.stderr.splitlines() == [
        f"► resuming image repository podinfo in {namespace} namespace",
        "✔ image repository resumed",
        f"► resuming image repository flux-system in {namespace} namespace",
        "✔ image repository resumed",
    ]
    assert spec_of(kubectl, "imagerepositories", "podinfo", namespace)["suspend"] is False

    every = [
        doc for doc in yaml.safe_load_all(ok(flux(cluster, namespace, "export", "image", "policy", "--all")).stdout)
    ]
    assert sorted(doc["metadata"]["name"] for doc in every) == ["flux-system", "podinfo-semver"]
    semver = next(doc for doc in every if doc["metadata"]["name"] == "podinfo-semver")
    assert semver["spec"] == {
        "digestReflectionPolicy": "Always",
        "imageRepositoryRef": {"name": "podinfo"},
        "interval": "10m0s",
        "policy": {"semver": {"range": "5.0.x"}},
    }

    result = ok(flux(cluster, namespace, "delete", "image", "policy", "podinfo-semver", "--silent"))
    assert result.stderr.splitlines() == [
        f"► deleting image policy podinfo-semver in {namespace} namespace",
        "✔ image policy deleted",
    ]
    result = flux(cluster, namespace, "get", "image", "policy", "podinfo-semver")
    assert (result.returncode, result.stderr) == (
        1,
        f"✗ ImagePolicy object 'podinfo-semver' not found in \"{namespace}\" namespace\n",
    )
    result = flux(cluster, namespace, "delete", "image", "update", "missing", "-s")
    assert result.returncode == 1
    assert 'imageupdateautomations.image.toolkit.fluxcd.io "missing" not found' in result.stderr
