"""The ArtifactGenerator commands of the flux CLI against the real local control plane, run as processes, without
controllers: an ArtifactGenerator (source-watcher's sample) and the two ExternalArtifacts it generated (its label
and sourceRef), their statuses written through the status subresource as source-watcher would. `get artifact
generators`, `get sources external`, `export artifact generator` (the unit test's golden, from the real API
server), `tree artifact generator` (text and json), and gotk's `suspend|resume|reconcile artifact generator`,
with the test playing the controller for the waits (copying the request token to status.lastHandledReconcileAt).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gotk.cli import kinds_cli
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import ARTIFACTGENERATORS, EXTERNALARTIFACTS
from gotk.local.controlplane import ControlPlane
from gotk.testing.cli import run_flux
from gotk.testing.golden import assert_golden

pytestmark = pytest.mark.cluster

GOLDEN = Path(__file__).parents[1] / "golden" / "cli" / "artifact_generator"
PAUSE = "source.extensions.fluxcd.io/reconcile"
DIGEST = "sha256:" + "1" * 64
READY_MESSAGE = "reconciliation succeeded, generated 2 artifact(s)"
Obj = dict[str, Any]

# source-watcher's config/samples/source_v1beta1_artifactgenerator.yaml (the unit test's `podinfo`)
SPEC = {
    "sources": [
        {"alias": "chart", "kind": "OCIRepository", "name": "podinfo-chart"},
        {"alias": "repo", "kind": "GitRepository", "name": "podinfo-values"},
    ],
    "artifacts": [
        {
            "name": "podinfo",
            "revision": "@chart",
            "copy": [
                {"from": "@chart/**", "to": "@artifact/", "exclude": ["*.md"]},
                {"from": "@repo/charts/podinfo/values-prod.yaml", "to": "@artifact/podinfo/values.yaml"},
            ],
        }
    ],
}
ARTIFACTS = ("podinfo", "podinfo-values")


def ready(message: str, generation: int = 1) -> list[Obj]:
    return [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Succeeded",
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": "2026-01-02T03:04:05Z",
        }
    ]


async def create_objects(client: Client, ns: str) -> str:
    """The generator, its two ExternalArtifacts, and the statuses source-watcher would write; the generator's uid."""
    body = {"apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator"}
    ag = await client.create(ARTIFACTGENERATORS, {**body, "metadata": {"name": "podinfo"}, "spec": SPEC}, ns)
    inventory = [{"name": a, "namespace": ns, "digest": DIGEST, "filename": f"{a}.tar.gz"} for a in ARTIFACTS]
    status = {  # no observedGeneration: source-watcher's status has none (the CRD prunes it)
        "conditions": ready(READY_MESSAGE),
        "inventory": inventory,
        "observedSourcesDigest": DIGEST,
    }
    await client.patch(ARTIFACTGENERATORS, "podinfo", {"status": status}, ns, subresource="status")
    labels = {
        "app.kubernetes.io/managed-by": "source-watcher",
        "source.extensions.fluxcd.io/generator": ag["metadata"]["uid"],
    }
    ref = {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "name": "podinfo",
        "namespace": ns,
    }
    for name in ARTIFACTS:
        ea = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "ExternalArtifact"}
        await client.create(
            EXTERNALARTIFACTS, {**ea, "metadata": {"name": name, "labels": labels}, "spec": {"sourceRef": ref}}, ns
        )
        artifact = {
            "path": f"artifactgenerator/{ns}/{name}/{name}.tar.gz",
            "url": f"http://source-watcher.flux-system.svc.cluster.local./artifactgenerator/{ns}/{name}/{name}.tar.gz",
            "revision": f"latest@{DIGEST}",
            "digest": DIGEST,
            "lastUpdateTime": "2026-01-02T03:04:05Z",
        }
        ea_status = {"artifact": artifact, "conditions": ready("Artifact is ready")}
        await client.patch(EXTERNALARTIFACTS, name, {"status": ea_status}, ns, subresource="status")
    return str(ag["metadata"]["uid"])


@contextlib.asynccontextmanager
async def controller(client: Client, ns: str) -> AsyncIterator[list[str]]:
    """Handles reconcile requests of the generator (not while it is paused); yields the tokens it handled."""
    handled: list[str] = []

    async def loop() -> None:
        while True:
            obj = await client.get(ARTIFACTGENERATORS, "podinfo", ns)
            annotations = obj["metadata"].get("annotations") or {}
            token = annotations.get(kinds_cli.REQUESTED_AT)
            paused = str(annotations.get(PAUSE, "")).lower() == "disabled"
            if token and not paused and token != (obj.get("status") or {}).get("lastHandledReconcileAt"):
                status = {"lastHandledReconcileAt": token}
                await client.patch(ARTIFACTGENERATORS, "podinfo", {"status": status}, ns, subresource="status")
                handled.append(token)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(loop())
    try:
        yield handled
    finally:
        if task.done():
            task.result()  # the loop failed: show why
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def flux(cp: ControlPlane, ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(run_flux, cp.kubeconfig, *args, "-n", ns)


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


async def test_artifact_generator_commands(cluster: ControlPlane, namespace: str) -> None:
    ns = namespace
    placeholder = "test-NNNNNNNN"  # as long as the namespace: the tables keep their widths
    async with Client(config.load(cluster.kubeconfig)) as client:
        uid = await create_objects(client, ns)

        # the read-only commands, side by side
        label = f"source.extensions.fluxcd.io/generator={uid}"  # -A sees other tests' namespaces: only ours
        get_ag, get_ea, exported, exported_all, shown, as_json, gone = await asyncio.gather(
            flux(cluster, ns, "get", "artifact", "generators"),
            flux(cluster, ns, "get", "sources", "external", "-A", "--label-selector", label),
            flux(cluster, ns, "export", "artifact", "generator", "podinfo"),
            flux(cluster, ns, "export", "artifact", "generator", "--all"),
            flux(cluster, ns, "tree", "artifact", "generator", "podinfo"),
            flux(cluster, ns, "tree", "artifact", "generator", "podinfo", "-o", "json"),
            flux(cluster, ns, "tree", "artifact", "generator", "gone"),
        )
        assert ok(get_ag).stdout.splitlines() == [
            "NAME   \tSUSPENDED\tREADY\tMESSAGE                                           ",
            f"podinfo\tFalse    \tTrue \t{READY_MESSAGE}\t",
        ]
        assert_golden(GOLDEN, "cluster_get_sources_external.golden", ok(get_ea).stdout.replace(ns, placeholder))
        # the real API server stores the sample as given: flux's export of it is the unit test's golden
        assert ok(exported).stdout == (GOLDEN / "export_artifact_generator.yaml").read_text().replace("flux-system", ns)
        assert ok(exported_all).stdout == exported.stdout
        assert_golden(GOLDEN, "cluster_tree_artifact_generator.golden", ok(shown).stdout.replace(ns, placeholder))
        assert [r["resource"]["Name"] for r in json.loads(ok(as_json).stdout)["resources"]] == list(ARTIFACTS)
        assert gone.returncode == 1
        assert 'artifactgenerators.source.extensions.fluxcd.io "gone" not found' in gone.stderr

        # gotk additions: pause through source-watcher's annotation, no spec.suspend
        result = ok(await flux(cluster, ns, "suspend", "artifact", "generator", "podinfo"))
        assert result.stderr.splitlines() == [
            f"► suspending artifactgenerator podinfo in {ns} namespace",
            "✔ artifactgenerator suspended",
        ]
        obj = await client.get(ARTIFACTGENERATORS, "podinfo", ns)
        assert obj["metadata"]["annotations"][PAUSE] == "disabled" and "suspend" not in obj["spec"]
        result = ok(await flux(cluster, ns, "get", "artifact", "generator", "podinfo", "--no-header"))
        assert result.stdout == f"podinfo\tTrue\tTrue\t{READY_MESSAGE}\t\n"
        result = await flux(cluster, ns, "reconcile", "artifact", "generator", "podinfo")
        assert (result.returncode, result.stderr) == (1, "✗ resource is suspended\n")

        async with controller(client, ns) as handled:
            result = ok(await flux(cluster, ns, "resume", "artifact", "generator", "podinfo", "--timeout", "15s"))
            assert result.stderr.splitlines() == [
                f"► resuming artifactgenerator podinfo in {ns} namespace",
                "✔ artifactgenerator resumed",
                "◎ waiting for ArtifactGenerator reconciliation",
                "✔ ArtifactGenerator podinfo reconciliation completed",
                f"✔ {READY_MESSAGE}",
            ]
            obj = await client.get(ARTIFACTGENERATORS, "podinfo", ns)
            assert PAUSE not in obj["metadata"]["annotations"]

            result = ok(await flux(cluster, ns, "reconcile", "artifact", "generator", "podinfo", "--timeout", "15s"))
            assert result.stderr.splitlines() == [
                f"► annotating ArtifactGenerator podinfo in {ns} namespace",
                "✔ ArtifactGenerator annotated",
                "◎ waiting for ArtifactGenerator reconciliation",
                f"✔ {READY_MESSAGE}",
            ]
            assert len(handled) == 2
