"""`flux build`, `flux diff` and `flux tree kustomization` against the real local control plane, run as
a subprocess like a user would. No controller runs: objects are applied with the kustomize-controller
field manager by the test (as the controller would have), and Kustomization statuses (inventories) are
patched through the status subresource. Outputs are compared with golden files, the test namespace
replaced by a same-length placeholder.
"""

from __future__ import annotations

import base64
import gzip
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

GOLDEN = Path(__file__).parents[1] / "golden" / "cli"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
CHANGED = "⚠️ identified at least one change, exiting with non-zero exit code\n"

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {region: "${region}", tier: "${tier}"}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 8080, name: http}]
"""
SETTINGS = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  mode: fast
  motd: |
    hello
    world
"""
CREDENTIALS = """apiVersion: v1
kind: Secret
metadata: {name: credentials}
stringData: {password: hunter2, user: admin}
"""


def flux(cp: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return run_flux(cp.kubeconfig, *args)


def normalise(text: str, namespace: str) -> str:
    return text.replace(namespace, "test-NNNNNNNN")


def kustomization(namespace: str, name: str = "apps", **spec: Any) -> dict[str, Any]:
    body = {
        "interval": "10m",
        "path": "./apps",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "repo"},
        "targetNamespace": namespace,
        **spec,
    }
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def apply(kubectl: Kubectl, *objects: dict[str, Any]) -> None:
    kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objects))


def patch_status(kubectl: Kubectl, kind: str, name: str, namespace: str, status: dict[str, Any]) -> None:
    body = json.dumps({"status": status})
    kubectl("patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge", "-p", body)


def inventory(*ids: str) -> dict[str, Any]:
    return {"inventory": {"entries": [{"id": i, "v": "v1"} for i in ids]}}


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_build_substitutes_variables_from_the_cluster(
    cluster: ControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    vars_from = [{"kind": "ConfigMap", "name": "vars"}, {"kind": "Secret", "name": "secret-vars"}]
    apply(
        kubectl,
        kustomization(namespace, postBuild={"substitute": {"tier": "inline"}, "substituteFrom": vars_from}),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "vars", "namespace": namespace},
         "data": {"region": "eu-west-1", "tier": "from-configmap"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secret-vars", "namespace": namespace},
         "stringData": {"region": "us-east-1"}},
    )  # fmt: skip
    apps = write(tmp_path / "apps", {"deployment.yaml": DEPLOYMENT, "settings.yaml": SETTINGS})

    result = flux(cluster, "build", "kustomization", "apps", "--path", str(apps), "-n", namespace)
    assert result.returncode == 0, result.stderr
    assert_golden(GOLDEN / "build", "cluster_variables.golden", normalise(result.stdout, namespace))

    missing = flux(cluster, "build", "ks", "other", "--path", str(apps), "-n", namespace)
    assert missing.returncode == 1
    assert missing.stderr == (
        '✗ failed to get kustomization object: kustomizations.kustomize.toolkit.fluxcd.io "other" not found\n'
    )


def test_diff_reports_created_drifted_and_pruned_objects(
    cluster: ControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path
) -> None:
    apply(kubectl, kustomization(namespace, postBuild={"substitute": {"region": "eu", "tier": "web"}}))
    apps = write(
        tmp_path / "apps",
        {"deployment.yaml": DEPLOYMENT, "settings.yaml": SETTINGS, "credentials.yaml": CREDENTIALS},
    )
    args = ("diff", "kustomization", "apps", "--path", str(apps), "--progress-bar=false", "-n", namespace)

    # nothing applied yet: everything would be created
    first = flux(cluster, *args)
    assert (first.returncode, first.stderr) == (1, CHANGED)
    assert_golden(GOLDEN / "diff", "created.golden", normalise(first.stdout, namespace))

    # applied as the controller would: no difference, exit code 0
    built = flux(cluster, "build", "ks", "apps", "--path", str(apps), "-n", namespace)
    kubectl("apply", "--server-side", "--field-manager=kustomize-controller", "-f", "-", input=built.stdout)
    ids = [f"{namespace}_{n}__{k}" for n, k in (("settings", "ConfigMap"), ("credentials", "Secret"))]
    patch_status(kubectl, "kustomization", "apps", namespace, inventory(*ids, f"{namespace}_web_apps_Deployment"))
    same = flux(cluster, *args)
    assert (same.returncode, same.stdout, same.stderr) == (0, "", "")

    # local changes: a value, a secret value, a new object, a removed object (pruned)
    write(apps, {"settings.yaml": SETTINGS.replace("fast", "slow").replace("world", "there")})
    write(apps, {"credentials.yaml": CREDENTIALS.replace("hunter2", "correct-horse")})
    write(apps, {"extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n"})
    (apps / "deployment.yaml").unlink()
    changed = flux(cluster, *args)
    assert (changed.returncode, changed.stderr) == (1, CHANGED)
    assert "hunter2" not in changed.stdout and "correct-horse" not in changed.stdout
    assert_golden(GOLDEN / "diff", "drifted.golden", normalise(changed.stdout, namespace))

    # without prune, removed objects are not reported
    apply(kubectl, kustomization(namespace, prune=False, postBuild={"substitute": {"region": "eu", "tier": "web"}}))
    unpruned = flux(cluster, *args)
    assert "deleted" not in unpruned.stdout and unpruned.returncode == 1


def test_diff_errors_exit_with_two(cluster: ControlPlane, kubectl: Kubectl, namespace: str, tmp_path: Path) -> None:
    apps = write(tmp_path / "apps", {"settings.yaml": SETTINGS})
    missing = flux(cluster, "diff", "ks", "nope", "--path", str(apps), "--progress-bar=false", "-n", namespace)
    assert missing.returncode == 2
    assert missing.stderr == (
        '✗ failed to get kustomization object: kustomizations.kustomize.toolkit.fluxcd.io "nope" not found\n'
    )
    bad_path = flux(cluster, "diff", "ks", "apps", "--path", str(tmp_path / "none"), "-n", namespace)
    assert (bad_path.returncode, bad_path.stderr) == (2, f'✗ invalid resource path "{tmp_path / "none"}"\n')

    # an object in a namespace that does not exist yet cannot be dry-run applied
    file = tmp_path / "ks.yaml"
    file.write_text(yaml.safe_dump(kustomization(namespace, name="local", targetNamespace="not-there-yet")))
    local = flux(
        cluster, "diff", "ks", "local", "--path", str(apps), "--kustomization-file", str(file),
        "--ignore-not-found", "--progress-bar=false", "-n", namespace,
    )  # fmt: skip
    assert local.returncode == 2
    assert local.stderr == '✗ ConfigMap/not-there-yet/settings not found: namespaces "not-there-yet" not found\n'


def helm_release_secret(namespace: str, manifest: str) -> dict[str, Any]:
    """A Helm storage Secret as Helm writes it: base64 of gzipped release JSON, inside Secret data."""
    release = {"name": "podinfo", "namespace": namespace, "version": 2, "manifest": manifest}
    encoded = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {"name": "sh.helm.release.v1.podinfo.v2", "namespace": namespace},
        "data": {"release": base64.b64encode(encoded.encode()).decode()},
    }


def test_tree_walks_inventories(cluster: ControlPlane, kubectl: Kubectl, namespace: str) -> None:
    ns = namespace
    helmrelease = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "podinfo", "namespace": ns},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": "podinfo", "sourceRef": {"kind": "HelmRepository",
                 "name": "podinfo"}}}},
    }  # fmt: skip
    manifest = (
        "---\n# Source: podinfo/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n"
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: podinfo-reader\n"
    )
    apply(
        kubectl,
        kustomization(ns, name="root"),
        kustomization(ns, name="infra"),
        kustomization(ns, name="remote", kubeConfig={"secretRef": {"name": "kubeconfig"}}),
        helmrelease,
        helm_release_secret(ns, manifest),
    )
    patch_status(
        kubectl, "kustomization", "root", ns,
        inventory(f"_{ns}__Namespace", f"{ns}_infra_kustomize.toolkit.fluxcd.io_Kustomization",
                  f"{ns}_remote_kustomize.toolkit.fluxcd.io_Kustomization",
                  f"{ns}_root_kustomize.toolkit.fluxcd.io_Kustomization",
                  f"{ns}_repo_source.toolkit.fluxcd.io_GitRepository"),
    )  # fmt: skip
    patch_status(
        kubectl, "kustomization", "infra", ns,
        inventory(f"{ns}_podinfo_helm.toolkit.fluxcd.io_HelmRelease", f"{ns}_config__ConfigMap"),
    )  # fmt: skip
    patch_status(kubectl, "kustomization", "remote", ns, inventory(f"{ns}_far__ConfigMap"))
    history = [{"name": "podinfo", "namespace": ns, "version": 2, "chartName": "podinfo", "chartVersion": "6.0.0",
                "configDigest": "sha256:0", "digest": "sha256:0", "status": "deployed",
                "firstDeployed": "2026-01-01T00:00:00Z", "lastDeployed": "2026-01-01T00:00:00Z"}]  # fmt: skip
    patch_status(kubectl, "helmrelease", "podinfo", ns, {"storageNamespace": ns, "history": history})

    text = flux(cluster, "tree", "kustomization", "root", "-n", ns)
    assert text.returncode == 0, text.stderr
    assert_golden(GOLDEN / "tree", "tree.golden", normalise(text.stdout, ns))
    compact = flux(cluster, "tree", "ks", "root", "--compact", "-n", ns)
    assert_golden(GOLDEN / "tree", "tree_compact.golden", normalise(compact.stdout, ns))
    as_json = flux(cluster, "tree", "ks", "root", "--compact", "-o", "json", "-n", ns)
    assert_golden(GOLDEN / "tree", "tree_compact.json.golden", normalise(as_json.stdout, ns))
    as_yaml = flux(cluster, "tree", "ks", "infra", "-o", "yaml", "-n", ns)
    assert_golden(GOLDEN / "tree", "tree_infra.yaml.golden", normalise(as_yaml.stdout, ns))
    missing = flux(cluster, "tree", "ks", "nope", "-n", ns)
    assert (missing.returncode, missing.stderr) == (
        1,
        '✗ kustomizations.kustomize.toolkit.fluxcd.io "nope" not found\n',
    )
