"""`flux create` (sources incl. helm/chart, secrets, kustomizations, helmreleases, alert providers, alerts and
receivers), `flux delete` and `flux export` against the real local control plane, run as processes.

No controller runs in the session: while `flux create` waits, the test writes the status a controller
would (Ready for the latest generation plus an artifact or an applied revision) through the status
subresource, then checks flux's lines. Also: the credentials Secrets flux makes, the update path, the
timeout, delete's confirmation, and an export → delete → `kubectl apply` → export round trip.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gotk.local.controlplane import ControlPlane
from gotk.testing.gitserver import SshGitServer
from gotk.testing.golden import assert_golden

pytestmark = pytest.mark.cluster

GOLDEN = Path(__file__).parents[1] / "golden" / "cli" / "create"
SHA = "67e2c98a60dc92283531412a9e604dd4bae005a9"
REVISION = f"6.3.5@sha1:{SHA}"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def argv(cp: ControlPlane, *args: str) -> list[str]:
    return [sys.executable, "-m", "gotk.cli.main", "--kubeconfig", str(cp.kubeconfig), *args]


def flux(cp: ControlPlane, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": "UTC"}
    return subprocess.run(argv(cp, *args), input=stdin, capture_output=True, text=True, timeout=120, env=env)


def normalise(text: str, namespace: str) -> str:
    return text.replace(namespace, "test-NNNNNNNN")


def get(kubectl: Kubectl, kind: str, name: str, namespace: str) -> dict[str, Any]:
    result = kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else {}


def ready_status(obj: dict[str, Any], message: str = "succeeded", **extra: Any) -> dict[str, Any]:
    generation = obj["metadata"]["generation"]
    cond = {
        "type": "Ready",
        "status": "True",
        "reason": "Succeeded",
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": generation,
    }
    return {"observedGeneration": generation, "conditions": [cond], **extra}


def artifact() -> dict[str, Any]:
    return {
        "path": "gitrepository/x/x.tar.gz",
        "url": "http://source-controller/x.tar.gz",
        "revision": REVISION,
        "digest": "sha256:" + "0" * 64,
        "lastUpdateTime": "2026-01-01T00:00:00Z",
    }


def play_controller(cp: ControlPlane, args: list[str], step: Callable[[], bool]) -> subprocess.CompletedProcess[str]:
    """Run `flux ARGS` as a process and, while it runs, call `step` (the test playing a controller) every
    200 ms until it returns True."""
    proc = subprocess.Popen(argv(cp, *args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TZ": "UTC"})  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not step():
            time.sleep(0.2)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def create_and_reconcile(
    cp: ControlPlane, kubectl: Kubectl, kind: str, name: str, namespace: str, args: list[str], status: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """Run `flux create …` and play the controller: once the object (re)appears with a new generation,
    mark it Ready for that generation with `status`."""
    before = get(kubectl, kind, name, namespace).get("metadata", {}).get("generation", 0)

    def step() -> bool:
        obj = get(kubectl, kind, name, namespace)
        if not obj or obj["metadata"]["generation"] <= before:
            return False
        body = json.dumps({"status": ready_status(obj, **status)})
        kubectl("patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)
        return True

    return play_controller(cp, args, step)


# -- create ---------------------------------------------------------------------------------------


def test_create_source_git_applies_secret_and_waits(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    args = ["create", "source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo",
            "--tag=6.3.5", "-u", "git", "-p", "s3cret", "--label=team=a", "-n", namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(
        cluster, kubectl, "gitrepository", "podinfo", namespace, args, {"artifact": artifact()}
    )
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_source_git.golden", result.stderr)

    repo = get(kubectl, "gitrepository", "podinfo", namespace)
    assert repo["metadata"]["labels"] == {"team": "a"}
    assert repo["spec"]["secretRef"] == {"name": "podinfo"}
    assert repo["spec"]["interval"] == "1m0s" and repo["spec"]["ref"] == {"tag": "6.3.5"}
    data = get(kubectl, "secret", "podinfo", namespace)["data"]
    assert {k: base64.b64decode(v).decode() for k, v in data.items()} == {"username": "git", "password": "s3cret"}

    # a second run updates the object (labels replaced, spec replaced) and waits for the new generation
    args = ["create", "source", "git", "podinfo", "--url=https://github.com/stefanprodan/podinfo",
            "--branch=main", "--secret-ref=podinfo", "-n", namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(
        cluster, kubectl, "gitrepository", "podinfo", namespace, args, {"artifact": artifact()}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:3] == [
        "✚ generating GitRepository source",
        "► applying GitRepository source",
        "✔ GitRepository source updated",
    ]
    repo = get(kubectl, "gitrepository", "podinfo", namespace)
    assert "labels" not in repo["metadata"] and repo["spec"]["ref"] == {"branch": "main"}


def test_create_source_git_over_ssh(cluster: ControlPlane, namespace: str, kubectl: Kubectl, tmp_path: Path) -> None:
    """A generated key pair and the scanned host key go into the Secret once the deploy key is confirmed."""
    with SshGitServer(tmp_path) as sshd:
        url = f"--url=ssh://git@127.0.0.1:{sshd.port}/org/repo"
        base = ["create", "source", "git", "podinfo", url, "--branch=main", "-n", namespace]
        result = flux(cluster, *base, "--ssh-key-algorithm=ed25519", "--timeout=60s")
        lines = result.stderr.splitlines()
        assert result.returncode == 1
        assert lines[:3] == [
            "✚ generating GitRepository source",
            "✔ collected public key from SSH server:",
            sshd.known_hosts_line(),
        ]
        assert lines[3].startswith("✚ deploy key: ssh-ed25519 AAAA") and lines[4:] == ["", "✗ aborting"]
        assert get(kubectl, "secret", "podinfo", namespace) == {}

        args = [*base, "--silent", "--timeout=60s"]
        result = create_and_reconcile(
            cluster, kubectl, "gitrepository", "podinfo", namespace, args, {"artifact": artifact()}
        )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[3].startswith("✚ deploy key: ecdsa-sha2-nistp384 AAAA")
    assert lines[5:] == [
        "► applying secret with repository credentials",
        "✔ authentication configured",
        "► applying GitRepository source",
        "✔ GitRepository source created",
        "◎ waiting for GitRepository source reconciliation",
        "✔ GitRepository source reconciliation completed",
        f"✔ fetched revision: {REVISION}",
    ]
    data = get(kubectl, "secret", "podinfo", namespace)["data"]
    assert sorted(data) == ["identity", "identity.pub", "known_hosts"]
    assert base64.b64decode(data["known_hosts"]).decode() == sshd.known_hosts_line()
    assert base64.b64decode(data["identity.pub"]).decode() == lines[3].removeprefix("✚ deploy key: ") + "\n"
    assert get(kubectl, "gitrepository", "podinfo", namespace)["spec"]["secretRef"] == {"name": "podinfo"}


def test_create_times_out_and_reports_missing_artifact(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    result = flux(cluster, "create", "source", "git", "slow", "--url=http://example.com/repo.git", "--branch=main",
                  "-n", namespace, "--timeout=2s")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "✚ generating GitRepository source",
        "⚠️ insecure configuration: credentials configured for an HTTP URL",
        "► applying GitRepository source",
        "✔ GitRepository source created",
        "◎ waiting for GitRepository source reconciliation",
        "✗ context deadline exceeded",
    ]
    assert get(kubectl, "gitrepository", "slow", namespace)["spec"]["url"] == "http://example.com/repo.git"
    assert get(kubectl, "secret", "slow", namespace) == {}  # no credentials, no Secret

    args = ["create", "source", "oci", "podinfo", "--url=oci://ghcr.io/stefanprodan/manifests/podinfo",
            "--tag=6.3.5", "-n", namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(cluster, kubectl, "ocirepository", "podinfo", namespace, args, {})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "► applying OCIRepository",
        "✔ OCIRepository created",
        "◎ waiting for OCIRepository reconciliation",
        "✔ OCIRepository reconciliation completed",
        "✗ no artifact was found",
    ]


def test_create_bucket_and_kustomization(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    args = ["create", "source", "bucket", "podinfo", "--bucket-name=podinfo", "--endpoint=minio:9000",
            "--access-key=ak", "--secret-key=sk", "--label=a=b", "-n", namespace]  # fmt: skip
    result = create_and_reconcile(cluster, kubectl, "bucket", "podinfo", namespace, args, {"artifact": artifact()})
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_source_bucket.golden", result.stderr)
    secret = get(kubectl, "secret", "bucket-podinfo", namespace)
    assert secret["metadata"]["labels"] == {"a": "b"} and sorted(secret["data"]) == ["accesskey", "secretkey"]

    args = ["create", "kustomization", "podinfo", "--source=Bucket/podinfo", "--path=./kustomize", "--prune",
            "-n", namespace]  # fmt: skip
    status = {"lastAppliedRevision": REVISION}
    result = create_and_reconcile(cluster, kubectl, "kustomization", "podinfo", namespace, args, status)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_kustomization.golden", result.stderr)


def test_create_secret_git(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    result = flux(cluster, "create", "secret", "git", "auth", "--url=https://github.com/x/y", "--bearer-token=t0k",
                  "--label=team=a", "-n", namespace)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"► git secret 'auth' created in '{namespace}' namespace\n"
    secret = get(kubectl, "secret", "auth", namespace)
    assert secret["metadata"]["labels"] == {"team": "a"}
    assert base64.b64decode(secret["data"]["bearerToken"]) == b"t0k"


def test_create_helm_sources_and_secret(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    """HelmRepository with generated credentials (Secret `helm-NAME`), a static OCI one, a HelmChart on it."""
    args = ["create", "source", "helm", "podinfo", "--url=https://charts.example.com", "-u", "u", "-p", "s3cret",
            "--pass-credentials", "--label=team=a", "-n", namespace, "--timeout=60s"]  # fmt: skip
    status = {"artifact": artifact()}
    result = create_and_reconcile(cluster, kubectl, "helmrepository", "podinfo", namespace, args, status)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_source_helm.golden", result.stderr)
    repo = get(kubectl, "helmrepository", "podinfo", namespace)
    assert repo["metadata"]["labels"] == {"team": "a"}
    assert repo["spec"]["secretRef"] == {"name": "helm-podinfo"} and repo["spec"]["passCredentials"] is True
    secret = get(kubectl, "secret", "helm-podinfo", namespace)
    assert secret["type"] == "kubernetes.io/basic-auth" and "labels" not in secret["metadata"]
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == {
        "username": "u",
        "password": "s3cret",
    }

    # an OCI repository is static (the CRD-defaulted observedGeneration -1 stays): Ready at once, no artifact
    result = flux(cluster, "create", "source", "helm", "oci", "--url=oci://ghcr.io/stefanprodan/charts",
                  "--oci-provider=generic", "-n", namespace, "--timeout=30s")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "✚ generating HelmRepository source",
        "► applying HelmRepository source",
        "✔ source created",
        "◎ waiting for HelmRepository source reconciliation",
        "✔ HelmRepository source reconciliation completed",
    ]
    assert get(kubectl, "helmrepository", "oci", namespace)["spec"]["type"] == "oci"
    result = flux(cluster, "create", "source", "helm", "bad", "--url=https://x.example.com", "--ca-file=/nope",
                  "-n", namespace)  # fmt: skip
    assert (result.returncode, result.stderr) == (
        1,
        "✗ unable to read TLS CA file: open /nope: no such file or directory\n",
    )

    args = ["create", "source", "chart", "podinfo", "--source=HelmRepository/podinfo", "--chart=podinfo",
            "--chart-version=6.x", "-n", namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(cluster, kubectl, "helmchart", "podinfo", namespace, args, status)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_source_chart.golden", result.stderr)
    chart = get(kubectl, "helmchart", "podinfo", namespace)["spec"]
    assert chart["sourceRef"] == {"kind": "HelmRepository", "name": "podinfo"} and chart["version"] == "6.x"

    result = flux(cluster, "create", "secret", "helm", "auth", "-u", "u", "-p", "p", "--label=team=a", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"► helm secret 'auth' created in '{namespace}' namespace\n"
    secret = get(kubectl, "secret", "auth", namespace)
    assert secret["type"] == "kubernetes.io/basic-auth" and secret["metadata"]["labels"] == {"team": "a"}


def test_create_notification_objects(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    """Providers and Alerts have no status: ready once applied. A Receiver waits for Ready, then flux prints
    the webhook path the controller published."""
    result = flux(cluster, "create", "alert-provider", "slack", "--type=slack", "--channel=general",
                  "--secret-ref=slack-url", "--label=team=a", "-n", namespace, "--timeout=30s")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "✚ generating Provider",
        "► applying Provider",
        "✔ Provider created",
        "◎ waiting for Provider reconciliation",
        "✔ Provider slack is ready",
    ]
    provider = get(kubectl, "providers.notification.toolkit.fluxcd.io", "slack", namespace)
    assert provider["metadata"]["labels"] == {"team": "a"}
    assert provider["spec"] == {"type": "slack", "channel": "general", "secretRef": {"name": "slack-url"}}

    base = ["create", "alert", "podinfo", "--provider-ref=slack", "-n", namespace, "--timeout=30s"]
    result = flux(cluster, *base, "--event-source=Kustomization/*,GitRepository/podinfo.flux-system")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[2:] == [
        "✔ Alert created",
        "◎ waiting for Alert reconciliation",
        "✔ Alert podinfo is ready",
    ]
    result = flux(cluster, *base, "--event-source=HelmRelease/podinfo", "--event-severity=error")
    assert result.returncode == 0, result.stderr
    assert "✔ Alert updated" in result.stderr.splitlines()
    alert = get(kubectl, "alerts.notification.toolkit.fluxcd.io", "podinfo", namespace)["spec"]
    assert alert["eventSources"] == [{"kind": "HelmRelease", "name": "podinfo"}] and alert["eventSeverity"] == "error"

    path = "/hook/" + "0" * 64
    args = ["create", "receiver", "github", "--type=github", "--event=ping,push", "--secret-ref=webhook-token",
            "--resource=GitRepository/webapp", "-n", namespace, "--timeout=60s"]  # fmt: skip
    receivers = "receivers.notification.toolkit.fluxcd.io"
    result = create_and_reconcile(cluster, kubectl, receivers, "github", namespace, args, {"webhookPath": path})
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "apply_receiver.golden", result.stderr)
    spec = get(kubectl, receivers, "github", namespace)["spec"]
    assert spec["events"] == ["ping", "push"] and spec["resources"] == [{"kind": "GitRepository", "name": "webapp"}]

    result = flux(cluster, "create", "receiver", "slow", *args[3:-1], "--timeout=2s")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-2:] == ["◎ waiting for Receiver reconciliation", "✗ context deadline exceeded"]


# -- helmrelease: flux2's e2e TestHelmReleaseFromGit -------------------------------------------------

HR_MESSAGE = "Helm install succeeded for release {ns}/thrfg.v1 with chart podinfo@6.3.5"


def hr_status(namespace: str) -> dict[str, Any]:
    """What the helm controller reports after installing podinfo 6.3.5 as release NS/thrfg.v1."""
    snapshot = {"name": "thrfg", "namespace": namespace, "version": 1, "status": "deployed", "chartName": "podinfo",
                "chartVersion": "6.3.5", "configDigest": "sha256:" + "1" * 64, "digest": "sha256:" + "2" * 64,
                "firstDeployed": "2026-01-01T00:00:00Z", "lastDeployed": "2026-01-01T00:00:00Z"}  # fmt: skip
    return {"message": HR_MESSAGE.format(ns=namespace), "history": [snapshot], "lastAttemptedRevision": "6.3.5"}


def handle_requests(kubectl: Kubectl, namespace: str, statuses: dict[tuple[str, str], dict[str, Any]]) -> bool:
    """One round of the controllers of `statuses` ((kind, name) -> status): every unsuspended object with a new
    reconcile.fluxcd.io/requestedAt is marked handled and Ready for its generation. Never done (False)."""
    for (kind, name), status in statuses.items():
        obj = get(kubectl, kind, name, namespace)
        token = (obj["metadata"].get("annotations") or {}).get("reconcile.fluxcd.io/requestedAt")
        if token and token != obj.get("status", {}).get("lastHandledReconcileAt") and not obj["spec"].get("suspend"):
            body = json.dumps({"status": ready_status(obj, lastHandledReconcileAt=token, **status)})
            kubectl("patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)
    return False


def test_helmrelease_from_git(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    """create source git, create/get/reconcile --with-source/suspend/resume/export/delete helmrelease: the
    lines are flux2's testdata/helmrelease goldens (their namespace written `{{ .ns }}`), byte for byte."""

    def as_flux2(text: str) -> str:
        return text.replace(namespace, "{{ .ns }}")

    args = ["create", "source", "git", "thrfg", "--url=https://github.com/stefanprodan/podinfo", "--branch=main",
            "--tag=6.3.5", "-n", namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(cluster, kubectl, "gitrepository", "thrfg", namespace, args, {"artifact": artifact()})
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "helmrelease_create_source_git.golden", result.stderr)
    chart = f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {{name: {namespace}-thrfg, namespace: {namespace}}}
spec: {{chart: ./charts/podinfo, interval: 1m, sourceRef: {{kind: GitRepository, name: thrfg}}}}
"""
    kubectl("apply", "-f", "-", input=chart)  # the chart the helm controller makes for the release

    args = ["create", "helmrelease", "thrfg", "--source=GitRepository/thrfg", "--chart=./charts/podinfo", "-n",
            namespace, "--timeout=60s"]  # fmt: skip
    result = create_and_reconcile(cluster, kubectl, "helmrelease", "thrfg", namespace, args, hr_status(namespace))
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "helmrelease_create_from_git.golden", result.stderr)
    exported = flux(cluster, "export", "hr", "thrfg", "-n", namespace).stdout  # with the CRD's default version '*'
    assert_golden(GOLDEN, "helmrelease_export_from_git.golden", normalise(exported, namespace))
    assert flux(cluster, "export", "hr", "--all", "-n", namespace).stdout == exported
    result = flux(cluster, "get", "helmrelease", "thrfg", "-n", namespace)
    assert_golden(GOLDEN, "helmrelease_get_from_git.golden", normalise(result.stdout, namespace))

    chart_status = {"artifact": {**artifact(), "revision": "6.3.5"}}
    statuses = {("gitrepository", "thrfg"): {"artifact": artifact()}, ("helmchart", f"{namespace}-thrfg"): chart_status,
                ("helmrelease", "thrfg"): hr_status(namespace)}  # fmt: skip
    for verb in ("reconcile", "suspend", "resume"):
        extra = ["--with-source"] if verb == "reconcile" else []
        args = [verb, "helmrelease", "thrfg", *extra, "-n", namespace, "--timeout=60s"]
        result = play_controller(cluster, args, lambda: handle_requests(kubectl, namespace, statuses))
        assert result.returncode == 0, result.stderr
        assert_golden(GOLDEN, f"helmrelease_{verb}_from_git.golden", as_flux2(result.stderr))
    doc = yaml.safe_load(flux(cluster, "export", "hr", "thrfg", "-n", namespace).stdout)
    assert "reconcile.fluxcd.io/requestedAt" in doc["metadata"]["annotations"]
    assert doc["spec"] == yaml.safe_load(exported)["spec"]  # resumed: `suspend: false` is not printed

    result = flux(cluster, "delete", "helmrelease", "thrfg", "--silent", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN, "helmrelease_delete_from_git.golden", as_flux2(result.stderr))
    assert get(kubectl, "helmrelease", "thrfg", namespace) == {}


# -- delete and export ------------------------------------------------------------------------------

OBJECTS = """
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {{name: podinfo, namespace: {ns}, labels: {{app: podinfo}}, annotations: {{note: "8080"}}}}
spec: {{url: "ssh://git@github.com/example/repo", interval: 5m, ref: {{branch: main}}, suspend: false,
        secretRef: {{name: podinfo-auth}}, ignore: "*.md\\n/docs"}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata: {{name: podinfo, namespace: {ns}}}
spec: {{bucketName: podinfo, endpoint: s3.amazonaws.com, provider: aws, region: us-east-1, interval: 1h}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: apps, namespace: {ns}}}
spec: {{interval: 10m, path: ./apps, prune: false, wait: false, sourceRef: {{kind: GitRepository, name: podinfo}},
        postBuild: {{substitute: {{cluster: "", replicas: "2"}}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: podinfo-auth, namespace: {ns}}}
type: Opaque
stringData: {{identity: key, known_hosts: "github.com ssh-ed25519 AAAA"}}
"""


def test_export_delete_apply_round_trip(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=OBJECTS.format(ns=namespace))
    status = json.dumps({"status": {"observedGeneration": 1, "artifact": artifact()}})
    kubectl("patch", "gitrepository", "podinfo", "-n", namespace, "--subresource=status", "--type=merge", "-p", status)

    exported = flux(cluster, "export", "source", "git", "podinfo", "--with-credentials", "-n", namespace)
    assert exported.returncode == 0, exported.stderr
    assert_golden(GOLDEN, "export_source_git.golden", normalise(exported.stdout, namespace))
    everything = flux(cluster, "export", "source", "all", "--all", "-n", namespace)
    assert everything.returncode == 0, everything.stderr
    assert_golden(GOLDEN, "export_source_all.golden", normalise(everything.stdout, namespace))
    ks = flux(cluster, "export", "ks", "--all", "-n", namespace)
    assert ks.returncode == 0, ks.stderr
    assert_golden(GOLDEN, "export_kustomization.golden", normalise(ks.stdout, namespace))

    # delete asks first: no answer aborts, `y` on stdin confirms, --silent does not ask
    result = flux(cluster, "delete", "source", "git", "podinfo", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, "✗ aborting\n")
    assert get(kubectl, "gitrepository", "podinfo", namespace)
    result = flux(cluster, "delete", "source", "git", "podinfo", "-n", namespace, stdin="y\n")
    assert result.returncode == 0, result.stderr
    assert normalise(result.stderr, namespace) == (
        "► deleting source git podinfo in test-NNNNNNNN namespace\n✔ source git deleted\n"
    )
    result = flux(cluster, "delete", "ks", "apps", "--silent", "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert get(kubectl, "gitrepository", "podinfo", namespace) == {}
    assert get(kubectl, "kustomization", "apps", namespace) == {}

    result = flux(cluster, "delete", "source", "git", "podinfo", "-s", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, '✗ gitrepositories.source.toolkit.fluxcd.io "podinfo" not found\n')
    result = flux(cluster, "export", "source", "git", "--all", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, f"✗ no objects found in {namespace} namespace\n")

    # the exported YAML brings the objects back, and exports the same again
    kubectl("apply", "--server-side", "-f", "-", input=exported.stdout + ks.stdout)
    again = flux(cluster, "export", "source", "git", "podinfo", "--with-credentials", "-n", namespace)
    assert again.stdout == exported.stdout
    assert flux(cluster, "export", "ks", "apps", "-n", namespace).stdout == ks.stdout
    docs = list(yaml.safe_load_all(exported.stdout))
    assert [d["kind"] for d in docs if d] == ["GitRepository", "Secret"]


def test_delete_and_export_errors(cluster: ControlPlane, namespace: str) -> None:
    result = flux(cluster, "delete", "source", "oci", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, "✗ source oci name is required\n")
    result = flux(cluster, "export", "source", "bucket", "-n", namespace)
    assert (result.returncode, result.stderr) == (1, "✗ name is required\n")
    result = flux(cluster, "export", "kustomization", "nope", "-n", namespace)
    assert (result.returncode, result.stderr) == (
        1,
        '✗ kustomizations.kustomize.toolkit.fluxcd.io "nope" not found\n',
    )
