"""`flux uninstall` on real control planes.

On the shared session cluster only `--dry-run` runs (its CRDs serve every other test): the objects of
`flux install --export -n <ns>` (its CRDs left out) are applied into the test's namespace, with a
Kustomization holding a finalizer, and the printed plan is checked against what is there; nothing changes.

On the second control plane (`remote`) a real `flux install` and `flux uninstall --silent`: the source and
kustomize controllers run in-process against it until a Kustomization has applied a ConfigMap, then stop
(as deleting their Deployments stops them in a cluster). Uninstall removes the controllers' objects, the
finalizers, the CRDs (and with them every Flux object) and the namespace, and the ConfigMap stays.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import CONFIGMAPS, CRDS, GITREPOSITORIES, KUSTOMIZATIONS, NAMESPACES
from gotk.kustomize import controller as kustomize_controller
from gotk.local import gitrepos
from gotk.local.controlplane import ControlPlane
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.cli import run_flux
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.waiting import eventually

pytestmark = pytest.mark.cluster

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
PART_OF = "app.kubernetes.io/part-of=flux"
FINALIZER = "finalizers.fluxcd.io"
COMPONENT_KINDS = ("Deployment", "Service", "NetworkPolicy", "ServiceAccount")


def install_objects(namespace: str) -> list[dict[str, Any]]:
    result = run_flux("/nonexistent", "install", "--export", "-n", namespace)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def names(objects: list[dict[str, Any]], kind: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in objects if o["kind"] == kind)


def plan_of_components(objects: list[dict[str, Any]], namespace: str, suffix: str) -> list[str]:
    """The lines of uninstall's first step for the objects `flux install` made."""
    lines = [f"► deleting components in {namespace} namespace"]
    for kind in COMPONENT_KINDS:
        lines += [f"✔ {kind}/{namespace}/{name} deleted {suffix}" for name in names(objects, kind)]
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        lines += [f"✔ {kind}/{name} deleted {suffix}" for name in names(objects, kind)]
    return lines


def kustomization(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    body = {"interval": "1h", "path": "./", "prune": True, "sourceRef": {"kind": "GitRepository", "name": "repo"}}
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {**body, **spec},
    }


@pytest.fixture
def cluster_rbac_cleanup(namespace: str, kubectl: Kubectl) -> Iterator[None]:
    """The install's ClusterRoles and bindings outlive the namespace: remove them afterwards."""
    yield
    selector = f"app.kubernetes.io/instance={namespace}"
    kubectl("delete", "clusterrolebinding,clusterrole", "-l", selector, "--ignore-not-found", check=False)


def test_dry_run_prints_the_plan_and_changes_nothing(
    cluster: ControlPlane, namespace: str, kubectl: Kubectl, cluster_rbac_cleanup: None
) -> None:
    objects = [o for o in install_objects(namespace) if o["kind"] != "CustomResourceDefinition"]
    kubectl("apply", "--server-side", "--field-manager=flux", "-f", "-", input=json.dumps({"apiVersion": "v1",
            "kind": "List", "items": objects}))  # fmt: skip
    ks = kustomization("apps", namespace)
    ks["metadata"]["finalizers"] = [FINALIZER]
    kubectl("apply", "-f", "-", input=json.dumps(ks))
    flux_crds = kubectl("get", "crd", "-l", PART_OF, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()

    result = run_flux(cluster.kubeconfig, "uninstall", "--dry-run", "-n", namespace)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    finalizers_at = lines.index("► deleting toolkit.fluxcd.io finalizers in all namespaces")
    crds_at = lines.index("► deleting toolkit.fluxcd.io custom resource definitions")

    assert lines[:finalizers_at] == plan_of_components(objects, namespace, "(dry run)")
    assert names(objects, "Deployment") and names(objects, "ClusterRole")  # the plan is not empty

    finalized = lines[finalizers_at + 1 : crds_at]
    assert f"✔ Kustomization/{namespace}/apps finalizers deleted (dry run)" in finalized
    shape = re.compile(
        r"(✔ \w+/[^/ ]+/[^/ ]+ finalizers deleted \(dry run\)|✗ \w+/[^/ ]+/[^/ ]+ removing finalizers .*)"
    )
    assert all(shape.fullmatch(line) for line in finalized), finalized  # other tests' objects: any namespace

    assert lines[crds_at + 1 :] == [
        *(f"✔ CustomResourceDefinition/{name} deleted (dry run)" for name in sorted(flux_crds)),
        f"✔ Namespace/{namespace} deleted (dry run)",
        "✔ uninstall finished",
    ]

    # nothing changed
    left = kubectl("get", "deployments", "-n", namespace, "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    assert sorted(left) == names(objects, "Deployment")
    finalizers = kubectl("get", "kustomization", "apps", "-n", namespace, "-o", "jsonpath={.metadata.finalizers}")
    assert json.loads(finalizers.stdout) == [FINALIZER]
    assert kubectl("get", "crd", "kustomizations.kustomize.toolkit.fluxcd.io", check=False).returncode == 0
    phase = kubectl("get", "namespace", namespace, "-o", "jsonpath={.status.phase}").stdout
    assert phase == "Active"

    kept = run_flux(cluster.kubeconfig, "uninstall", "--dry-run", "--keep-namespace=true", "-n", namespace)
    assert kept.returncode == 0, kept.stderr
    assert f"Namespace/{namespace}" not in kept.stderr and kept.stderr.endswith("✔ uninstall finished\n")

    # the prompt comes first; no answer on stdin aborts before anything is deleted
    refused = run_flux(cluster.kubeconfig, "uninstall", "-n", namespace)
    assert refused.returncode == 1
    assert refused.stderr == "✗ aborting\n"
    assert kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout.strip()


APP = "uninstall-app"
FILES = {"settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  kept: 'yes'\n"}


async def apply_with_controllers(far: Client, git: GitHttpServer, tmp: Path) -> None:
    """Run the source and kustomize controllers against the remote cluster until `settings` is applied."""
    gitrepos.make_repo(git.root, "app.git", FILES)
    await far.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP}})
    repo = {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": APP},
        "spec": {"url": git.url_for("app.git"), "interval": "1h", "ref": {"branch": "main"}},
    }
    await far.create(GITREPOSITORIES, repo, APP)
    await far.create(KUSTOMIZATIONS, kustomization("app", APP, targetNamespace=APP), APP)
    manager = Manager(far, ManagerOptions(watch_namespace=APP, concurrent=2, graceful_shutdown_timeout=5.0))
    settings = Settings(storage_path=str(tmp / "storage"), storage_addr="127.0.0.1:0")
    await source_controller.register(manager, settings)
    await kustomize_controller.register(manager, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    try:

        async def applied() -> bool:
            ks = await far.get(KUSTOMIZATIONS, "app", APP)
            return conditions.is_ready(ks) and await far.get_or_none(CONFIGMAPS, "settings", APP) is not None

        await eventually(applied, 60, "the Kustomization to apply its ConfigMap")
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_uninstall_keeps_what_flux_applied(remote: ControlPlane, tmp_path: Path) -> None:
    install = await asyncio.to_thread(run_flux, remote.kubeconfig, "install", "--timeout", "90s", timeout=180)
    assert install.returncode == 0, install.stderr
    objects = install_objects("flux-system")
    (tmp_path / "git").mkdir()
    async with Client(config.load(remote.kubeconfig)) as far:
        try:
            with GitHttpServer(tmp_path / "git") as git:
                await apply_with_controllers(far, git, tmp_path)
            ks = await far.get(KUSTOMIZATIONS, "app", APP)
            assert FINALIZER in ks["metadata"]["finalizers"]  # without its removal the CRD deletion would hang

            result = await asyncio.to_thread(run_flux, remote.kubeconfig, "uninstall", "--silent")
            assert result.returncode == 0, result.stderr
            lines = result.stderr.splitlines()
            at = lines.index("► deleting toolkit.fluxcd.io finalizers in all namespaces")
            assert lines[:at] == plan_of_components(objects, "flux-system", "")
            assert lines[at + 1 :] == [
                f"✔ GitRepository/{APP}/repo finalizers deleted ",
                f"✔ Kustomization/{APP}/app finalizers deleted ",
                "► deleting toolkit.fluxcd.io custom resource definitions",
                *(f"✔ CustomResourceDefinition/{name} deleted " for name in names(objects, "CustomResourceDefinition")),
                "✔ Namespace/flux-system deleted ",
                "✔ uninstall finished",
            ]

            async def gone() -> bool:
                left = (await far.list(CRDS, label_selector=PART_OF))["items"]
                ns = await far.get_or_none(NAMESPACES, "flux-system")
                return not left and ns is None

            await eventually(gone, 90, "the CRDs and the flux-system namespace to be deleted")
            kept = await far.get(CONFIGMAPS, "settings", APP)
            assert kept["data"] == {"kept": "yes"}
            assert kept["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"] == "app"
            assert (await far.get(NAMESPACES, APP))["metadata"].get("deletionTimestamp") is None
            roles = await far.request("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                                      params={"labelSelector": PART_OF})  # fmt: skip
            assert roles["items"] == []
        finally:
            await far.delete(NAMESPACES, APP)
            await asyncio.to_thread(run_flux, remote.kubeconfig, "uninstall", "--silent")  # after a failure
