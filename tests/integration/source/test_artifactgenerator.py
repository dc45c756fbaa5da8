"""ArtifactGenerator on the real control plane, in the layout of Flux's reference fleet
(fluxcd/flux2-kustomize-helm-example's staging cluster): a GitRepository `flux-system`, an ArtifactGenerator
splitting `infrastructure/` and `apps/` into two ExternalArtifacts, Kustomizations on them (the apps one
installing a HelmRelease from a Helm repository on 127.0.0.1), and a commit flowing through to the cluster
while the untouched artifact keeps its revision."""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gotk.helm import controller as helm_controller
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import (
    ARTIFACTGENERATORS,
    CONFIGMAPS,
    EXTERNALARTIFACTS,
    GITREPOSITORIES,
    HELMRELEASES,
    KUSTOMIZATIONS,
    OCIREPOSITORIES,
)
from gotk.kustomize import controller as kustomize_controller
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.registry import OciRegistry
from gotk.testing.waiting import eventually

Obj = dict[str, Any]


def fleet(ns: str, chart_url: str, greeting: str = "staging") -> dict[str, str]:
    """The monorepo, in flux2-kustomize-helm-example's layout (pointed at local servers, in namespace `ns`)."""
    return {
        "apps/base/podinfo/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - repository.yaml\n  - release.yaml\n",
        "apps/base/podinfo/repository.yaml": f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        f"metadata:\n  name: podinfo\n  namespace: {ns}\nspec:\n  interval: 5m\n  url: {chart_url}\n",
        "apps/base/podinfo/release.yaml": f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        f"  name: podinfo\n  namespace: {ns}\nspec:\n  interval: 50m\n  chart:\n    spec:\n      chart: podinfo\n"
        "      version: '6.x'\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n"
        "  values:\n    greeting: base\n",
        "apps/staging/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\nresources:\n  - ../base/podinfo\n"
        "patches:\n  - path: podinfo-values.yaml\n    target:\n      kind: HelmRelease\n",
        "apps/staging/podinfo-values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
        f"  name: podinfo\n  namespace: {ns}\nspec:\n  values:\n    greeting: {greeting}\n",
        "infrastructure/controllers/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\nresources:\n  - controllers.yaml\n",
        "infrastructure/controllers/controllers.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        f"  name: infra-controllers\n  namespace: {ns}\ndata:\n  tier: controllers\n",
        "infrastructure/configs/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\nresources:\n  - configs.yaml\n",
        "infrastructure/configs/configs.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra-configs\n"
        f"  namespace: {ns}\ndata:\n  tier: configs\n",
        "README.md": "the fleet\n",
    }


def generator(ns: str) -> Obj:
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": {"name": "flux-system", "namespace": ns},
        "spec": {
            "sources": [{"alias": "monorepo", "kind": "GitRepository", "name": "flux-system"}],
            "artifacts": [
                {
                    "name": "infrastructure",
                    "originRevision": "@monorepo",
                    "copy": [{"from": "@monorepo/infrastructure/**", "to": "@artifact/"}],
                },
                {
                    "name": "apps",
                    "originRevision": "@monorepo",
                    "copy": [
                        {"from": "@monorepo/apps/base/**", "to": "@artifact/base/"},
                        {"from": "@monorepo/apps/staging/**", "to": "@artifact/staging/"},
                    ],
                },
            ],
        },
    }


def kustomization(ns: str, name: str, artifact: str, path: str, depends: str | None = None) -> Obj:
    spec: Obj = {
        "interval": "1h",
        "retryInterval": "2s",
        "timeout": "1m",
        "sourceRef": {"kind": "ExternalArtifact", "name": artifact},
        "path": path,
        "prune": True,
        "wait": True,
    }
    if depends:
        spec["dependsOn"] = [{"name": depends}]
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


async def _ready(client: Client, res: Any, name: str, ns: str, timeout: float = 90) -> Obj:
    out: Obj = {}

    async def check() -> bool:
        obj = await client.get(res, name, ns)
        current = (conditions.get(obj, "Ready") or {}).get("observedGeneration") == obj["metadata"].get("generation")
        if current and conditions.is_ready(obj):
            out.update(obj)
            return True
        return False

    try:
        await eventually(check, timeout, f"{res.kind} {name} Ready")
    except AssertionError as exc:
        obj = await client.get(res, name, ns)
        raise AssertionError(f"{exc}: {obj.get('status')}") from None
    return out


async def _settled(client: Client, res: Any, name: str, ns: str) -> Obj:
    """The object once its resourceVersion held still for two seconds (no write in flight)."""
    last = await client.get(res, name, ns)
    for _ in range(30):
        await asyncio.sleep(2)
        now = await client.get(res, name, ns)
        if now["metadata"]["resourceVersion"] == last["metadata"]["resourceVersion"]:
            return now
        last = now
    raise AssertionError(f"{res.kind} {name} kept changing: {last.get('status')}")


async def test_reference_fleet_end_to_end(client: Client, namespace: str, tmp_path: Path) -> None:
    ns = namespace
    (tmp_path / "charts").mkdir()
    chart = helm.write_chart(tmp_path / "src", "podinfo", "6.1.0", values={"greeting": "hello"})
    helm.package(chart, tmp_path / "charts")
    helm.repo_index(tmp_path / "charts")
    (tmp_path / "git").mkdir()
    with ChartRepoServer(tmp_path / "charts") as charts, GitHttpServer(tmp_path / "git") as git:
        bare = gitrepos.make_repo(git.root, "fleet.git", fleet(ns, charts.url))
        manager = Manager(client, ManagerOptions(watch_namespace=ns, concurrent=4, graceful_shutdown_timeout=5.0))
        settings = Settings(storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0", requeue_dependency=1.0)
        await source_controller.register(manager, settings)
        await kustomize_controller.register(manager, settings)
        await helm_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        try:
            repo = {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "flux-system", "namespace": ns},
                "spec": {"url": git.url_for("fleet.git"), "interval": "1m", "ref": {"branch": "main"}},
            }
            await client.create(GITREPOSITORIES, repo, ns)
            await client.create(ARTIFACTGENERATORS, generator(ns), ns)
            for body in (
                kustomization(ns, "infra-controllers", "infrastructure", "./controllers"),
                kustomization(ns, "infra-configs", "infrastructure", "./configs", depends="infra-controllers"),
                kustomization(ns, "apps", "apps", "./staging", depends="infra-configs"),
            ):
                await client.create(KUSTOMIZATIONS, body, ns)

            gen = await _ready(client, ARTIFACTGENERATORS, "flux-system", ns)
            assert (conditions.get(gen, "Ready") or {})[
                "message"
            ] == "reconciliation succeeded, generated 2 artifact(s)"
            assert [r["name"] for r in gen["status"]["inventory"]] == ["infrastructure", "apps"]
            infra = await client.get(EXTERNALARTIFACTS, "infrastructure", ns)
            head = gitrepos.head(bare) if hasattr(gitrepos, "head") else None
            artifact = infra["status"]["artifact"]
            assert artifact["revision"].startswith("latest@sha256:")
            origin = artifact["metadata"]["org.opencontainers.image.revision"]
            assert origin.startswith("main@sha1:") and (head is None or origin.endswith(head))
            assert infra["spec"]["sourceRef"] == {
                "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                "kind": "ArtifactGenerator",
                "name": "flux-system",
                "namespace": ns,
            }
            assert infra["metadata"]["labels"]["source.extensions.fluxcd.io/generator"] == gen["metadata"]["uid"]
            assert infra["metadata"]["ownerReferences"][0]["uid"] == gen["metadata"]["uid"]

            await _ready(client, KUSTOMIZATIONS, "apps", ns, timeout=120)
            release = await _ready(client, HELMRELEASES, "podinfo", ns, timeout=60)
            assert release["status"]["history"][0]["chartVersion"] == "6.1.0"
            values = await client.get(CONFIGMAPS, "podinfo-podinfo", ns)
            assert values["data"]["greeting"] == "staging"
            assert (await client.get(CONFIGMAPS, "infra-configs", ns))["data"] == {"tier": "configs"}

            # a commit under apps/ flows through the generator to the cluster; infrastructure keeps its revision
            infra_revision = artifact["revision"]
            apps_before = (await client.get(EXTERNALARTIFACTS, "apps", ns))["status"]["artifact"]["revision"]
            infra_ks_before = await _settled(client, KUSTOMIZATIONS, "infra-configs", ns)
            infra_cm_before = await client.get(CONFIGMAPS, "infra-configs", ns)
            gitrepos.commit(
                bare,
                {
                    "apps/staging/podinfo-values.yaml": fleet(ns, charts.url, "staging-2")[
                        "apps/staging/podinfo-values.yaml"
                    ]
                },
                "values",
            )
            await client.patch(
                GITREPOSITORIES,
                "flux-system",
                {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}},
                ns,
            )

            async def upgraded() -> bool:
                cm = await client.get(CONFIGMAPS, "podinfo-podinfo", ns)
                return bool(cm["data"]["greeting"] == "staging-2")

            await eventually(upgraded, 120, "the new values in the cluster")
            apps_after = (await client.get(EXTERNALARTIFACTS, "apps", ns))["status"]["artifact"]["revision"]
            assert apps_after != apps_before
            infra_after = await client.get(EXTERNALARTIFACTS, "infrastructure", ns)
            assert infra_after["status"]["artifact"]["revision"] == infra_revision
            ks = await client.get(KUSTOMIZATIONS, "infra-configs", ns)
            assert ks["status"]["lastAppliedRevision"] == infra_revision
            # the infrastructure Kustomization did not reconcile: same attempt, same objects
            assert ks["status"]["lastAttemptedRevision"] == infra_ks_before["status"]["lastAttemptedRevision"]
            assert ks["metadata"]["resourceVersion"] == infra_ks_before["metadata"]["resourceVersion"], (
                infra_ks_before["status"],
                ks["status"],
                infra_ks_before["metadata"].get("annotations"),
                ks["metadata"].get("annotations"),
                ks["metadata"].get("managedFields"),
            )
            cm = await client.get(CONFIGMAPS, "infra-configs", ns)
            assert cm["metadata"]["resourceVersion"] == infra_cm_before["metadata"]["resourceVersion"]

            # an artifact the generator no longer produces is garbage-collected
            patch = {"spec": {"artifacts": [generator(ns)["spec"]["artifacts"][1]]}}
            await client.patch(KUSTOMIZATIONS, "infra-configs", {"spec": {"suspend": True}}, ns)
            await client.patch(KUSTOMIZATIONS, "infra-controllers", {"spec": {"suspend": True}}, ns)
            await client.patch(ARTIFACTGENERATORS, "flux-system", patch, ns)

            async def collected() -> bool:
                return await client.get_or_none(EXTERNALARTIFACTS, "infrastructure", ns) is None

            await eventually(collected, 60, "ExternalArtifact infrastructure deleted")
            gen = await _ready(client, ARTIFACTGENERATORS, "flux-system", ns)
            assert [r["name"] for r in gen["status"]["inventory"]] == ["apps"]
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)


async def test_composed_chart_through_chart_ref(client: Client, namespace: str, tmp_path: Path) -> None:
    """A chart from an OCIRepository (pushed by the real `helm push`) with production values merged in from Git,
    released by a HelmRelease whose chartRef is the generated ExternalArtifact; pathPattern splits the same
    repository per app and env."""
    ns = namespace
    (tmp_path / "charts").mkdir()
    chart = helm.write_chart(tmp_path / "src", "podinfo", "6.2.0", values={"greeting": "hello", "replicas": "1"})
    helm.package(chart, tmp_path / "charts")
    helm.repo_index(tmp_path / "charts")
    (tmp_path / "git").mkdir()
    files = {
        "values-prod.yaml": "greeting: prod\n",
        "apps/Web/envs/prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-prod\n",
        "apps/Web/envs/dev/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-dev\n",
        "apps/api/envs/prod/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-prod\n",
    }
    with OciRegistry(tmp_path / "registry") as registry, GitHttpServer(tmp_path / "git") as git:
        helm.push(next((tmp_path / "charts").glob("podinfo-*.tgz")), registry.url("charts"))
        bare = gitrepos.make_repo(git.root, "values.git", files)
        manager = Manager(client, ManagerOptions(watch_namespace=ns, concurrent=4, graceful_shutdown_timeout=5.0))
        settings = Settings(storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0", requeue_dependency=1.0)
        await source_controller.register(manager, settings)
        await helm_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        try:
            oci = {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "OCIRepository",
                "metadata": {"name": "podinfo-chart"},
                "spec": {
                    "url": registry.url("charts/podinfo"),
                    "ref": {"tag": "6.2.0"},
                    "insecure": True,
                    "interval": "1h",
                    "layerSelector": {
                        "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                        "operation": "copy",
                    },
                },
            }
            await client.create(OCIREPOSITORIES, oci, ns)
            repo = {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "values"},
                "spec": {"url": git.url_for("values.git"), "interval": "1m", "ref": {"branch": "main"}},
            }
            await client.create(GITREPOSITORIES, repo, ns)
            composite = {
                "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                "kind": "ArtifactGenerator",
                "metadata": {"name": "podinfo"},
                "spec": {
                    "sources": [
                        {"alias": "chart", "kind": "OCIRepository", "name": "podinfo-chart"},
                        {"alias": "repo", "kind": "GitRepository", "name": "values"},
                    ],
                    "artifacts": [
                        {
                            "name": "podinfo-composite",
                            "originRevision": "@chart",
                            "copy": [
                                {"from": "@chart/", "to": "@artifact/"},
                                {
                                    "from": "@repo/values-prod.yaml",
                                    "to": "@artifact/podinfo/values.yaml",
                                    "strategy": "Merge",
                                },
                            ],
                        }
                    ],
                },
            }
            await client.create(ARTIFACTGENERATORS, composite, ns)
            split = {
                "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                "kind": "ArtifactGenerator",
                "metadata": {"name": "split"},
                "spec": {
                    "sources": [{"alias": "repo", "kind": "GitRepository", "name": "values"}],
                    "pathPattern": "@repo/apps/{app}/envs/{env}",
                    "artifacts": [
                        {
                            "name": "{app}-{env}",
                            "copy": [{"from": "@repo/apps/{app}/envs/{env}/**", "to": "@artifact/"}],
                        }
                    ],
                },
            }
            await client.create(ARTIFACTGENERATORS, split, ns)
            release = {
                "apiVersion": "helm.toolkit.fluxcd.io/v2",
                "kind": "HelmRelease",
                "metadata": {"name": "podinfo"},
                "spec": {"interval": "10m", "chartRef": {"kind": "ExternalArtifact", "name": "podinfo-composite"}},
            }
            await client.create(HELMRELEASES, release, ns)
            hr = await _ready(client, HELMRELEASES, "podinfo", ns, timeout=90)
            assert hr["status"]["history"][0]["chartVersion"].startswith("6.2.0")
            values = (await client.get(CONFIGMAPS, "podinfo-podinfo", ns))["data"]
            assert values["greeting"] == "prod" and values["replicas"] == "1"  # merged, not replaced
            ea = await client.get(EXTERNALARTIFACTS, "podinfo-composite", ns)
            assert ea["status"]["artifact"]["metadata"]["org.opencontainers.image.revision"].startswith("6.2.0@sha256:")

            gen = await _ready(client, ARTIFACTGENERATORS, "split", ns)
            assert sorted(r["name"] for r in gen["status"]["inventory"]) == ["api-prod", "web-dev", "web-prod"]
            web = await client.get(EXTERNALARTIFACTS, "web-prod", ns)
            assert web["metadata"]["labels"]["app"] == "web" and web["metadata"]["labels"]["env"] == "prod"

            # two directories that differ only in case collide: the generator stalls, naming both
            gitrepos.commit(bare, {"apps/web/envs/prod/cm.yaml": files["apps/Web/envs/prod/cm.yaml"]}, "collide")
            await client.patch(
                GITREPOSITORIES, "values", {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}}, ns
            )

            async def stalled() -> bool:
                obj = await client.get(ARTIFACTGENERATORS, "split", ns)
                return conditions.is_stalled(obj)

            await eventually(stalled, 60, "ArtifactGenerator split stalled")
            obj = await client.get(ARTIFACTGENERATORS, "split", ns)
            message = (conditions.get(obj, "Ready") or {})["message"]
            assert 'both resolve to artifact name "web-prod"' in message, message
            assert await client.get_or_none(EXTERNALARTIFACTS, "web-prod", ns) is not None  # nothing lost
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)


async def test_bad_input_is_refused_and_nothing_is_stored(client: Client, namespace: str, tmp_path: Path) -> None:
    ns = namespace
    (tmp_path / "git").mkdir()
    # a tarball whose member is a symlink pointing out of the artifact (what Extract would unpack)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("chart/leak.yaml")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
        tar.addfile(link)
    with GitHttpServer(tmp_path / "git") as git:
        files: dict[str, str | bytes] = {"deploy/app.yaml": "kind: ConfigMap\n", "deploy/bad.tgz": buffer.getvalue()}
        gitrepos.make_repo(git.root, "repo.git", files)
        manager = Manager(client, ManagerOptions(watch_namespace=ns, concurrent=4, graceful_shutdown_timeout=5.0))
        storage = tmp_path / "storage"
        settings = Settings(storage_path=str(storage), storage_addr="127.0.0.1:0", requeue_dependency=1.0)
        await source_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        try:
            repo = {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "repo"},
                "spec": {"url": git.url_for("repo.git"), "interval": "1m", "ref": {"branch": "main"}},
            }
            await client.create(GITREPOSITORIES, repo, ns)
            cases = {
                "escape": (
                    [{"from": "@repo/../../etc", "to": "@artifact/"}],
                    "Stalled",
                    "from: path '../../etc' leaves",
                ),
                "alias": ([{"from": "@nope/deploy/**", "to": "@artifact/"}], "Stalled", "unknown source alias '@nope'"),
                "symlink": (
                    [{"from": "@repo/deploy/bad.tgz", "to": "@artifact/", "strategy": "Extract"}],
                    "Ready",
                    "failed to extract tarball 'bad.tgz'",
                ),
                "collide": (
                    [
                        {"from": "@repo/deploy/app.yaml", "to": "@artifact/x"},
                        {"from": "@repo/deploy/", "to": "@artifact/x/"},
                    ],
                    "Ready",
                    "build failed",
                ),
            }
            for name, (copy, _, _) in cases.items():
                body = {
                    "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                    "kind": "ArtifactGenerator",
                    "metadata": {"name": name},
                    "spec": {
                        "sources": [{"alias": "repo", "kind": "GitRepository", "name": "repo"}],
                        "artifacts": [{"name": "good"}, {"name": f"out-{name}", "copy": copy}]
                        if False
                        else [
                            {"name": f"ok-{name}", "copy": [{"from": "@repo/deploy/app.yaml", "to": "@artifact/"}]},
                            {"name": f"out-{name}", "copy": copy},
                        ],
                    },
                }
                await client.create(ARTIFACTGENERATORS, body, ns)
            for name, (_, kind, words) in cases.items():

                async def refused(name: str = name, kind: str = kind, words: str = words) -> bool:
                    obj = await client.get(ARTIFACTGENERATORS, name, ns)
                    cond = conditions.get(obj, kind) or {}
                    wanted = "True" if kind == "Stalled" else "False"
                    return cond.get("status") == wanted and words in str(cond.get("message"))

                await eventually(refused, 60, f"ArtifactGenerator {name} refused")
                obj = await client.get(ARTIFACTGENERATORS, name, ns)
                message = (conditions.get(obj, "Ready") or {}).get("message", "")
                assert words in message, (name, message)
                assert await client.get_or_none(EXTERNALARTIFACTS, f"ok-{name}", ns) is None  # nothing half-published
                assert not (storage / "externalartifact" / ns / f"ok-{name}").exists()  # nothing half-stored
        finally:
            stop.set()
            await asyncio.wait_for(task, 60)
