"""The flux CLI against the real local control plane, run as a subprocess like a user would:
`get` tables (golden files, namespace names normalised), suspend/resume, reconcile, `check`, `install`,
and the error paths (missing kubeconfig, unreachable server: one ✗ line, exit code 1, no traceback).

No controller runs in the test session. Statuses are patched through the status subresource, and for
reconcile/resume a `SimulatedController` thread plays the controller (see its docstring).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gotk.cli import kinds_cli
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import Resource
from gotk.local.controlplane import ControlPlane
from gotk.testing.cli import run_flux
from gotk.testing.golden import assert_golden

pytestmark = pytest.mark.cluster

GOLDEN = Path(__file__).parents[1] / "golden" / "cli"
SHA = "696f056df216eea4f9401adbee0ff744d4df390f"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
StatusFn = Callable[[dict[str, Any]], dict[str, Any]]


def flux(cp: ControlPlane, *args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_flux(kubeconfig or cp.kubeconfig, *args)


def normalise(text: str, namespace: str) -> str:
    """Pin the test namespace (same length, so table columns keep their width)."""
    return text.replace(namespace, "test-NNNNNNNN")


def ready(status: str, message: str, reason: str = "Succeeded", generation: int = 1) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": generation,
    }


def patch_status(kubectl: Kubectl, kind: str, name: str, namespace: str, status: dict[str, Any]) -> None:
    body = json.dumps({"status": status})
    kubectl("patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)


def create_objects(kubectl: Kubectl, namespace: str) -> None:
    """GitRepositories `podinfo` (ready) and `broken` (failing), Kustomization `apps` (applied)."""
    manifest = f"""
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: podinfo, namespace: {namespace}, labels: {{suite: {namespace}}}}}
spec: {{url: "https://github.com/stefanprodan/podinfo", interval: 1m, ref: {{branch: main}}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: broken, namespace: {namespace}, labels: {{suite: {namespace}}}}}
spec: {{url: "https://example.com/missing", interval: 1m}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: apps, namespace: {namespace}, labels: {{suite: {namespace}}}}}
spec: {{interval: 10m, path: ./kustomize, prune: true, sourceRef: {{kind: GitRepository, name: podinfo}}}}
"""
    kubectl("apply", "-f", "-", input=manifest)
    revision = f"main@sha1:{SHA}"
    patch_status(
        kubectl,
        "gitrepository",
        "podinfo",
        namespace,
        {
            "observedGeneration": 1,
            "artifact": _artifact(revision),
            "conditions": [ready("True", f"stored artifact for revision '{revision}'")],
        },
    )
    failed = ready("False", "failed to checkout and determine revision", reason="GitOperationFailed")
    patch_status(kubectl, "gitrepository", "broken", namespace, {"observedGeneration": 1, "conditions": [failed]})
    applied = {"lastAppliedRevision": revision, "conditions": [ready("True", f"Applied revision: {revision}")]}
    patch_status(kubectl, "kustomization", "apps", namespace, {"observedGeneration": 1, **applied})


def _artifact(revision: str) -> dict[str, Any]:
    return {
        "path": "gitrepository/x/x.tar.gz",
        "url": "http://source-controller/x.tar.gz",
        "revision": revision,
        "digest": "sha256:" + "0" * 64,
        "lastUpdateTime": "2026-01-01T00:00:00Z",
    }


class SimulatedController:
    """TEST-SIDE SIMULATION of a Flux controller, acceptable only in these CLI tests.

    The session runs no controllers, so `flux reconcile` and `flux resume` would wait forever. This
    thread polls the given kinds in one namespace every 100 ms and, for each unsuspended object whose
    reconcile.fluxcd.io/requestedAt differs from status.lastHandledReconcileAt, writes the status a
    controller would: lastHandledReconcileAt, observedGeneration and what `status_fn(obj)` returns
    (typically a Ready condition and an artifact). It does nothing else a controller does.
    """

    def __init__(self, kubeconfig: Path, namespace: str, kinds: Mapping[Resource, StatusFn]) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.kinds = kinds
        self.handled: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> SimulatedController:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    async def _run(self) -> None:
        async with Client(config.load(self.kubeconfig)) as client:
            while not self._stop.is_set():
                for res, status_fn in self.kinds.items():
                    for obj in (await client.list(res, self.namespace))["items"]:
                        await self._handle(client, res, obj, status_fn)
                await asyncio.sleep(0.1)

    async def _handle(self, client: Client, res: Resource, obj: dict[str, Any], status_fn: StatusFn) -> None:
        token = (obj["metadata"].get("annotations") or {}).get(kinds_cli.REQUESTED_AT)
        status = obj.get("status") or {}
        if not token or token == status.get("lastHandledReconcileAt") or (obj.get("spec") or {}).get("suspend"):
            return
        generation = obj["metadata"]["generation"]
        new_status = {"lastHandledReconcileAt": token, "observedGeneration": generation, **status_fn(obj)}
        await client.patch(res, obj["metadata"]["name"], {"status": new_status}, self.namespace, subresource="status")
        self.handled.append(f"{res.kind}/{obj['metadata']['name']}")


def git_ready(obj: dict[str, Any]) -> dict[str, Any]:
    revision = f"main@sha1:{SHA}"
    generation = obj["metadata"]["generation"]
    return {
        "artifact": _artifact(revision),
        "conditions": [ready("True", f"stored '{revision}'", generation=generation)],
    }


def ks_ready(obj: dict[str, Any]) -> dict[str, Any]:
    revision = f"main@sha1:{SHA}"
    generation = obj["metadata"]["generation"]
    message = f"Applied revision: {revision}"
    return {"lastAppliedRevision": revision, "conditions": [ready("True", message, generation=generation)]}


# -- get -------------------------------------------------------------------------------------------


def test_get_tables(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    create_objects(kubectl, namespace)

    result = flux(cluster, "get", "sources", "git", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "get_sources_git.golden", result.stdout)

    result = flux(cluster, "get", "ks", "-A", "-l", f"suite={namespace}")
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "get_ks_all_namespaces.golden", normalise(result.stdout, namespace))

    result = flux(cluster, "get", "source", "git", "--status-selector", "ready=false", "-n", namespace)
    assert_golden(GOLDEN, "get_sources_git_not_ready.golden", result.stdout)

    result = flux(cluster, "-n", namespace, "get", "all")
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "get_all.golden", result.stdout)


def test_get_nothing_found(cluster: ControlPlane, namespace: str) -> None:
    result = flux(cluster, "get", "helmreleases", "-n", namespace)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f'✗ no HelmRelease objects found in "{namespace}" namespace\n'

    result = flux(cluster, "get", "kustomization", "nope", "-n", namespace)
    assert result.stderr == f"✗ Kustomization object 'nope' not found in \"{namespace}\" namespace\n"
    assert result.returncode == 1

    result = flux(cluster, "get", "all", "-n", namespace)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# -- suspend / resume ------------------------------------------------------------------------------


def test_suspend_and_resume(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    create_objects(kubectl, namespace)

    result = flux(cluster, "suspend", "ks", "apps", "missing", "-n", namespace)
    assert result.returncode == 0
    assert normalise(result.stderr, namespace) == (
        "► suspending kustomization apps in test-NNNNNNNN namespace\n"
        "✔ kustomization suspended\n"
        "✗ Kustomization missing not found in test-NNNNNNNN namespace\n"
    )
    suspended = kubectl("get", "kustomization", "apps", "-n", namespace, "-o", "jsonpath={.spec.suspend}")
    assert suspended.stdout == "true"

    result = flux(cluster, "reconcile", "ks", "apps", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, "✗ resource is suspended\n")

    result = flux(cluster, "resume", "ks", "apps", "--no-wait", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert normalise(result.stderr, namespace) == (
        "► resuming kustomization apps in test-NNNNNNNN namespace\n✔ kustomization resumed\n"
    )
    assert kubectl("get", "ks", "apps", "-n", namespace, "-o", "jsonpath={.spec.suspend}").stdout == "false"

    flux(cluster, "suspend", "source", "git", "--all", "-n", namespace)
    res = kinds_cli.SOURCE_GIT.resource
    with SimulatedController(cluster.kubeconfig, namespace, {res: git_ready}):
        result = flux(cluster, "resume", "source", "git", "podinfo", "-n", namespace, "--timeout", "30s")
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "resume_source_git.golden", normalise(result.stderr, namespace))


# -- reconcile -------------------------------------------------------------------------------------


def test_reconcile(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    create_objects(kubectl, namespace)
    kinds = {kinds_cli.SOURCE_GIT.resource: git_ready, kinds_cli.KUSTOMIZATION.resource: ks_ready}
    with SimulatedController(cluster.kubeconfig, namespace, kinds) as controller:
        result = flux(cluster, "reconcile", "source", "git", "podinfo", "-n", namespace, "--timeout", "30s")
        assert result.returncode == 0, result.stderr
        assert_golden(GOLDEN, "reconcile_source_git.golden", normalise(result.stderr, namespace))

        result = flux(cluster, "reconcile", "kustomization", "apps", "--with-source", "-n", namespace)
        assert result.returncode == 0, result.stderr
        assert_golden(GOLDEN, "reconcile_ks_with_source.golden", normalise(result.stderr, namespace))
        assert controller.handled == ["GitRepository/podinfo", "GitRepository/podinfo", "Kustomization/apps"]

    annotations = kubectl("get", "ks", "apps", "-n", namespace, "-o", "jsonpath={.metadata.annotations}").stdout
    token = json.loads(annotations)[kinds_cli.REQUESTED_AT]
    assert abs((datetime.fromisoformat(token.replace("Z", "+00:00")) - datetime.now(UTC)).total_seconds()) < 60


def test_reconcile_failure_and_missing(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    create_objects(kubectl, namespace)

    def failing(obj: dict[str, Any]) -> dict[str, Any]:
        return {"conditions": [ready("False", "authentication required", "GitOperationFailed")]}

    with SimulatedController(cluster.kubeconfig, namespace, {kinds_cli.SOURCE_GIT.resource: failing}):
        result = flux(cluster, "reconcile", "source", "git", "broken", "-n", namespace, "--timeout", "30s")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "✗ GitRepository reconciliation failed: 'authentication required'"

    result = flux(cluster, "reconcile", "source", "git", "nope", "-n", namespace)
    assert result.returncode == 1
    assert result.stderr == '✗ gitrepositories.source.toolkit.fluxcd.io "nope" not found\n'

    result = flux(cluster, "reconcile", "source", "git", "podinfo", "-n", namespace, "--timeout", "1s")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "✗ timeout waiting for GitRepository reconciliation: context deadline exceeded"
    )


# -- check -----------------------------------------------------------------------------------------


def test_check_crds_and_controllers_out_of_cluster(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    result = flux(cluster, "check", "-n", namespace)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "► checking prerequisites"
    assert re.fullmatch(r"✔ Kubernetes 1\.\d+\.\d+\S* >=1\.33\.0-0", lines[1])
    assert f"✗ no controllers found in the '{namespace}' namespace with the label selector" in result.stderr
    assert "✔ gitrepositories.source.toolkit.fluxcd.io/v1" in lines
    assert "✔ kustomizations.kustomize.toolkit.fluxcd.io/v1" in lines
    assert lines[-1] == "✗ check failed"

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "source-controller-leader-election", "namespace": namespace},
        "spec": {"holderIdentity": "laptop_42", "leaseDurationSeconds": 35, "renewTime": now, "acquireTime": now},
    }
    kubectl("apply", "-f", "-", input=json.dumps(lease))
    result = flux(cluster, "check", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert (
        "✔ source-controller: leader lease held by laptop_42\n✔ controllers running out of cluster\n" in result.stderr
    )
    assert result.stderr.endswith("✔ all checks passed\n")

    result = flux(cluster, "check", "--pre")
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == "✔ prerequisites checks passed"


def test_check_finds_local_controllers_by_state_file(cluster: ControlPlane, namespace: str, tmp_path: Path) -> None:
    """`flux local up` records its controllers process; check asks that process's /readyz."""

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        shutil.copy(cluster.kubeconfig, kubeconfig)
        argv = ["flux", "controllers", "run", "--health-addr", f"127.0.0.1:{server.server_port}"]
        state = {"components": [{"name": "controllers", "pid": os.getpid(), "argv": argv}]}
        (tmp_path / "state.json").write_text(json.dumps(state))
        result = flux(cluster, "check", "-n", namespace, kubeconfig=kubeconfig)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr
    expected = f"✔ controllers running out of cluster (pid {os.getpid()}, 127.0.0.1:{server.server_port}/readyz ok)"
    assert expected in result.stderr.splitlines()


# -- install ---------------------------------------------------------------------------------------


@pytest.fixture
def install_namespace(cluster: ControlPlane, kubectl: Kubectl) -> Iterator[str]:
    """A namespace name for `flux install`; its cluster-scoped RBAC is removed afterwards."""
    name = f"inst-{os.urandom(4).hex()}"
    yield name
    selector = f"app.kubernetes.io/instance={name}"
    kubectl("delete", "clusterrolebinding,clusterrole", "-l", selector, "--ignore-not-found", check=False)
    kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)


def test_install_applies_and_waits(cluster: ControlPlane, install_namespace: str, kubectl: Kubectl) -> None:
    """A real install (kwok runs the pods) of one component into a fresh namespace; a rerun changes nothing."""
    args = ("install", "-n", install_namespace, "--components", "source-controller", "--timeout", "90s")
    result = flux(cluster, *args)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        "✚ generating manifests",
        "✔ manifests build completed",
        f"► installing components in {install_namespace} namespace",
    ]
    assert f"Namespace/{install_namespace} created" in lines
    assert f"Deployment/{install_namespace}/source-controller created" in lines
    assert lines[-3:] == ["◎ verifying installation", "✔ source-controller: deployment ready", "✔ install finished"]

    rerun = flux(cluster, *args)
    assert rerun.returncode == 0, rerun.stderr
    applied = [line for line in rerun.stderr.splitlines() if line.count("/") and not line.startswith(("✔", "►"))]
    assert applied and all(line.endswith(" unchanged") for line in applied), applied


def test_install_over_flux_needs_force(cluster: ControlPlane, install_namespace: str, kubectl: Kubectl) -> None:
    """Flux's own source-controller (its image) in the namespace: refused without --force, replaced with it."""
    cluster.ensure_namespace(install_namespace)
    flux_deployment = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: source-controller, namespace: {install_namespace}, labels: {{app.kubernetes.io/part-of: flux}}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: source-controller}}}}
  template:
    metadata: {{labels: {{app: source-controller}}}}
    spec: {{containers: [{{name: manager, image: "ghcr.io/fluxcd/source-controller:v1.7.0"}}]}}
"""
    kubectl("apply", "-f", "-", input=flux_deployment)
    args = ("install", "-n", install_namespace, "--components", "source-controller", "--timeout", "90s")
    refused = flux(cluster, *args)
    assert refused.returncode == 1
    assert "Flux's own controllers run in the" in refused.stderr and "source-controller" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.stderr
    forced = flux(cluster, *args, "--force")
    assert forced.returncode == 0, forced.stderr
    image = kubectl("get", "deployment", "source-controller", "-n", install_namespace, "-o",
                    "jsonpath={.spec.template.spec.containers[0].image}").stdout  # fmt: skip
    assert not image.startswith("ghcr.io/fluxcd/"), image


# -- errors ----------------------------------------------------------------------------------------


def test_missing_kubeconfig_is_one_line(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "gotk.cli.main", "--kubeconfig", "/nonexistent", "get", "ks"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr == "✗ kubeconfig not found: /nonexistent (set --kubeconfig or KUBECONFIG)\n"


@pytest.mark.parametrize("args", [["get", "sources", "git"], ["reconcile", "ks", "apps"], ["suspend", "hr", "x"]])
def test_unreachable_server_is_one_line(tmp_path: Path, args: list[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    argv = [sys.executable, "-m", "gotk.cli.main", "--kubeconfig", str(kubeconfig), *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("✗ cannot reach the API server at https://127.0.0.1:1")
    assert "Traceback" not in result.stderr
