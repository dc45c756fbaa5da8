"""`flux trace`, `flux events` and `flux stats` against the real local control plane, run as a user runs them.

No controller runs: a GitRepository, a Kustomization applying from it and a ConfigMap carrying the
Kustomization's labels are created, their statuses written through the status subresource, and core Events
recorded for the two Flux objects (and one for a Pod, which flux leaves out).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from gotk.cli import output
from gotk.local.controlplane import ControlPlane
from gotk.testing.cli import run_flux

pytestmark = pytest.mark.cluster
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
SHA = "696f056df216eea4f9401adbee0ff744d4df390f"
REVISION = f"main@sha1:{SHA}"
WHEN = "2026-01-02T03:04:05Z"


def _ready(message: str, status: str = "True") -> list[dict[str, object]]:
    return [{"type": "Ready", "status": status, "reason": "Succeeded", "message": message, "lastTransitionTime": WHEN}]


def _objects(ns: str) -> list[dict[str, object]]:
    labels = {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": ns}
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": "repo", "namespace": ns},
            "spec": {"interval": "5m", "url": "https://example.com/repo.git", "ref": {"branch": "main"}},
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": ns},
            "spec": {
                "interval": "10m",
                "path": "./deploy",
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app-config", "namespace": ns, "labels": labels},
        },
    ]


def _event(ns: str, name: str, kind: str, obj: str, reason: str, message: str, ago: timedelta, **extra: object) -> dict:  # type: ignore[type-arg]
    stamp = (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": kind, "name": obj, "namespace": ns},
        "type": extra.pop("type", "Normal"),
        "reason": reason,
        "message": message,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "source": {"component": "test"},
        **extra,
    }


def _apply(kubectl: Kubectl, docs: list[dict[str, object]]) -> None:
    kubectl("apply", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))


@pytest.fixture
def pipeline(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> str:
    _apply(kubectl, _objects(namespace))
    artifact = {
        "path": "gitrepository/x/repo/sha.tar.gz",
        "url": "http://source-controller/gitrepository/x/repo/sha.tar.gz",
        "revision": REVISION,
        "digest": "sha256:" + "0" * 64,
        "lastUpdateTime": WHEN,
        "size": 2048,
    }
    statuses = {
        "gitrepository/repo": {
            "artifact": artifact,
            "conditions": _ready(f"stored artifact for revision '{REVISION}'"),
        },
        "kustomization/apps": {"lastAppliedRevision": REVISION, "conditions": _ready(f"Applied revision: {REVISION}")},
    }
    for target, status in statuses.items():
        body = json.dumps({"status": status})
        kubectl("patch", target, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)
    _apply(
        kubectl,
        [
            _event(namespace, "e1", "GitRepository", "repo", "NewArtifact", "stored artifact", timedelta(hours=4)),
            _event(namespace, "e2", "Kustomization", "apps", "ReconciliationSucceeded", "applied", timedelta(hours=1)),
            _event(namespace, "e3", "Pod", "web", "Scheduled", "not Flux's", timedelta(minutes=30)),
        ],
    )
    return namespace


def test_trace_events_stats(cluster: ControlPlane, pipeline: str) -> None:
    ns = pipeline
    expected = (
        f"\nObject:          ConfigMap/app-config\nNamespace:       {ns}\nStatus:          Managed by Flux\n"
        f"---\nKustomization:   apps\nNamespace:       {ns}\nPath:            ./deploy\n"
        f"Revision:        {REVISION}\nStatus:          Last reconciled at 2026-01-02 03:04:05 +0000 UTC\n"
        f"Message:         Applied revision: {REVISION}\n"
        f"---\nGitRepository:   repo\nNamespace:       {ns}\nURL:             https://example.com/repo.git\n"
        f"Branch:          main\nRevision:        {REVISION}\n"
        "Status:          Last reconciled at 2026-01-02 03:04:05 +0000 UTC\n"
        f"Message:         stored artifact for revision '{REVISION}'\n"
    )
    result = run_flux(cluster.kubeconfig, "trace", "app-config", "--kind", "ConfigMap", "--api-version", "v1", "-n", ns)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", expected)
    result = run_flux(cluster.kubeconfig, "trace", "-n", ns, "cm/app-config", "kustomization/apps")
    assert result.returncode == 0
    assert result.stdout == expected + "---\n"
    assert result.stderr == f"failed to trace Kustomization/apps in namespace {ns}: object not managed by Flux"

    result = run_flux(cluster.kubeconfig, "events", "-n", ns)
    rows = [
        ["4h", "Normal", "NewArtifact", "GitRepository/repo", "stored artifact"],
        ["60m", "Normal", "ReconciliationSucceeded", "Kustomization/apps", "applied"],
    ]
    header = ["Last seen", "Type", "Reason", "Object", "Message"]
    assert (result.returncode, result.stderr, result.stdout) == (0, "", output.table(header, rows))
    result = run_flux(cluster.kubeconfig, "events", "-n", ns, "--for", "Kustomization/apps", "--types", "normal")
    assert result.stdout == output.table(header, rows)
    result = run_flux(cluster.kubeconfig, "events", "-n", ns, "--for", "GitRepository", "--types", "Warning")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", f"✗ No events found in {ns} namespace.\n")

    result = run_flux(cluster.kubeconfig, "stats", "-n", ns)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["RECONCILERS", "RUNNING", "FAILING", "SUSPENDED", "STORAGE"]
    table = {line[0]: line[1:] for line in lines[1:]}
    assert table["GitRepository"] == ["1", "0", "0", "2.0", "KiB"]
    assert table["Kustomization"] == ["1", "0", "0", "-"]
    assert table["HelmRelease"] == ["0", "0", "0", "-"]
    assert len(table) == 13
