"""The generated CRDs on a real kube-apiserver: Flux manifests as users write them are accepted, and
invalid ones are rejected with the API server's own message naming the offending field.

The module applies the CRDs itself (server-side, then waits for Established), so it does not depend
on what the session's `cluster` fixture installs. Manifests live in manifests/flux/{valid,invalid}/.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from gotk.api import crdgen, kinds

pytestmark = pytest.mark.cluster

MANIFESTS = Path(__file__).parent / "manifests" / "flux"
VALID = sorted((MANIFESTS / "valid").glob("*.yaml"))
KUBECTL = Path(sys.prefix) / "bin" / "kubectl"

# invalid manifest → substrings the API server's rejection must contain
REJECTIONS: dict[str, list[str]] = {
    "kustomization-missing-prune.yaml": ['The Kustomization "apps" is invalid', "spec.prune: Required value"],
    "kustomization-unknown-deletion-policy.yaml": [
        'spec.deletionPolicy: Unsupported value: "Sometimes"',
        'supported values: "MirrorPrune", "Delete", "WaitForTermination", "Orphan"',
    ],
    "helmrelease-unknown-crds-policy.yaml": ['spec.upgrade.crds: Unsupported value: "Bogus"'],
    "helmrelease-chart-and-chartref.yaml": ["spec: Invalid value: either chart or chartRef must be set"],
    "gitrepository-malformed-interval.yaml": [
        'spec.interval: Invalid value: "1x"',
        r"spec.interval in body should match '^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$'",
    ],
    # server-side apply rejects a wrong JSON type while building the typed patch, before validation
    "gitrepository-ref-not-an-object.yaml": [".spec.ref: expected map"],
    "gitrepository-unsupported-url.yaml": ["spec.url in body should match '^(http|https|ssh)://.*$'"],
    "ocirepository-timeout-in-hours.yaml": [
        'spec.timeout: Invalid value: "1h"',
        r"should match '^([0-9]+(\.[0-9]+)?(ms|s|m))+$'",
    ],
    "alert-unknown-severity.yaml": [
        'spec.eventSeverity: Unsupported value: "warning": supported values: "info", "error"'
    ],
    "receiver-without-secret.yaml": ["spec: Invalid value: secretRef is required when type is not generic-oidc"],
}


class Cluster(Protocol):
    kubeconfig: Path


def kubectl(cluster: Cluster, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KUBECTL), f"--kubeconfig={cluster.kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def must(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{' '.join(result.args[2:])} failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def crds(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    """The cluster with the generated CRDs established and the flux-system namespace present."""
    path = tmp_path_factory.mktemp("crds") / "crds.yaml"
    path.write_text("".join(crdgen.render_yaml(crd) for crd in crdgen.render_all()))
    apply = ("apply", "--server-side", "--force-conflicts", "--field-manager=gotk")
    must(kubectl(cluster, *apply, "-f", str(path)))
    names = [f"crd/{crdgen.crd_name(info)}" for info in kinds.all_kinds()]
    must(kubectl(cluster, "wait", "--for=condition=established", "--timeout=60s", *names))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}}
    must(kubectl(cluster, *apply, "-f", "-", stdin=json.dumps(namespace)))
    return cluster


def dry_run(cluster: Cluster, path: Path) -> subprocess.CompletedProcess[str]:
    return kubectl(cluster, "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", str(path))


def test_every_manifest_has_an_expectation() -> None:
    assert sorted(p.name for p in (MANIFESTS / "invalid").glob("*.yaml")) == sorted(REJECTIONS)
    assert VALID


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_flux_manifests_are_accepted(crds: Cluster, path: Path) -> None:
    out = must(dry_run(crds, path))
    applied = json.loads(out)
    items = applied["items"] if applied.get("kind") == "List" else [applied]
    expected = [doc["kind"] for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert [item["kind"] for item in items] == expected


@pytest.mark.parametrize("name", sorted(REJECTIONS))
def test_invalid_manifests_are_rejected_naming_the_field(crds: Cluster, name: str) -> None:
    result = dry_run(crds, MANIFESTS / "invalid" / name)
    assert result.returncode != 0, f"{name} was accepted"
    for text in REJECTIONS[name]:
        assert text in result.stderr, f"{text!r} not in:\n{result.stderr}"


def test_schema_defaults_are_applied_by_the_api_server(crds: Cluster) -> None:
    def applied(file: str, kind: str) -> dict[str, Any]:
        out = json.loads(must(dry_run(crds, MANIFESTS / "valid" / file)))
        items = out["items"] if out.get("kind") == "List" else [out]
        [item] = [item for item in items if item["kind"] == kind]
        spec: dict[str, Any] = item["spec"]
        return spec

    assert applied("gotk-sync.yaml", "GitRepository")["timeout"] == "60s"
    chart = applied("helmrelease.yaml", "HelmRelease")["chart"]["spec"]
    assert chart["reconcileStrategy"] == "ChartVersion"
    assert applied("image-policy.yaml", "ImagePolicy")["digestReflectionPolicy"] == "Never"
    assert applied("image-policy.yaml", "ImageRepository")["exclusionList"] == [r"^.*\.sig$"]
    assert applied("alert.yaml", "Provider").get("timeout") is None
    assert applied("receiver.yaml", "Receiver")["interval"] == "10m"


def test_short_names_and_printer_columns(crds: Cluster) -> None:
    namespace = "gotk-crds-columns"
    manifest = (MANIFESTS / "valid" / "gotk-sync.yaml").read_text()
    docs = [doc for doc in yaml.safe_load_all(manifest) if doc]
    for doc in docs:
        doc["metadata"]["namespace"] = namespace
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    body = json.dumps({"apiVersion": "v1", "kind": "List", "items": [ns, *docs]})
    must(kubectl(crds, "apply", "--server-side", "-f", "-", stdin=body))
    try:
        header = must(kubectl(crds, "get", "gitrepo", "-n", namespace)).splitlines()[0].split()
        assert header == ["NAME", "URL", "AGE", "READY", "STATUS"]
        header = must(kubectl(crds, "get", "ks", "-n", namespace)).splitlines()[0].split()
        assert header == ["NAME", "AGE", "READY", "STATUS"]
        listed = must(kubectl(crds, "get", "fluxcd-sources", "-n", namespace, "-o", "name"))
        assert "gitrepository.source.toolkit.fluxcd.io/flux-system" in listed.split()
    finally:
        kubectl(crds, "delete", "namespace", namespace, "--wait=false", "--ignore-not-found")
