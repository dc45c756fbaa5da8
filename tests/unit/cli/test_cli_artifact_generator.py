"""The ArtifactGenerator nouns without a cluster: `flux get artifact generators`, `flux export artifact generator`,
`flux tree artifact generator` (flux2's cmd/flux/{get,export,tree}_artifact_generator.go), `flux get sources
external` and `flux export source external` for the ExternalArtifacts it generates (the latter against flux2's
testdata/export/external-artifact.yaml), and gotk's own `reconcile|suspend|resume artifact generator`.

flux2 has no ArtifactGenerator test objects: the generators are source-watcher's config/samples (`podinfo`) and
config/testdata/decomposition (`app-gen`) ones, with the status its controller writes. A fake client serves them;
for resume and reconcile it plays the controller, copying the request token to status.lastHandledReconcileAt.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gotk.cli import export, get, kinds_cli, readiness, reconcile, suspend, tree
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "artifact_generator"
FLUX2 = GOLDEN / "flux2"
NS = "flux-system"
AG = kinds_cli.ARTIFACT_GENERATOR
EA = kinds_cli.SOURCE_EXTERNAL
PAUSE = "source.extensions.fluxcd.io/reconcile"
UID = "6b1ae3a1-0000-4000-8000-00000000a9e1"


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    """A JSON merge patch: null removes the key."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class FakeClient:
    """Objects by (kind, name), the ArtifactGenerator and ExternalArtifact kinds served. Patches merge; a
    reconcile request is handled at once (the status gets lastHandledReconcileAt = the request token)."""

    SERVED = frozenset({"ArtifactGenerator", "ExternalArtifact"})

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(o) for o in objects}
        self.patches: list[tuple[str, dict[str, Any]]] = []

    def _find(self, res: Resource, name: str) -> dict[str, Any]:
        found = self.objects.get((res.kind, name))
        if found is None:
            details = {"name": name, "kind": res.plural}
            raise ApiError(404, "NotFound", f'{res.plural}.{res.group} "{name}" not found', body={"details": details})
        return found

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
        return copy.deepcopy(self._find(res, name))

    async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        if res.kind not in self.SERVED:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        items = [o for (kind, _), o in self.objects.items() if kind == res.kind]
        if namespace is not None:
            items = [o for o in items if o["metadata"]["namespace"] == namespace]
        if kw.get("field_selector"):
            name = kw["field_selector"].removeprefix("metadata.name=")
            items = [o for o in items if o["metadata"]["name"] == name]
        return {"items": copy.deepcopy(items)}

    async def patch(self, res: Resource, name: str, body: dict[str, Any], namespace: str | None = None) -> Any:
        obj = self._find(res, name)
        self.patches.append((name, copy.deepcopy(body)))
        _merge(obj, body)
        token = (obj["metadata"].get("annotations") or {}).get(kinds_cli.REQUESTED_AT)
        if token:
            obj.setdefault("status", {})["lastHandledReconcileAt"] = token
        return copy.deepcopy(obj)


def ready(message: str, status: str = "True", reason: str = "Succeeded") -> list[dict[str, Any]]:
    return [
        {
            "type": "Ready",
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": 1,
            "lastTransitionTime": "2026-01-02T03:04:05Z",
        }
    ]


def metadata(name: str, namespace: str = NS, **extra: Any) -> dict[str, Any]:
    """Metadata as the API server returns it."""
    return {
        "name": name,
        "namespace": namespace,
        "uid": UID,
        "resourceVersion": "4242",
        "generation": 1,
        "creationTimestamp": "2026-01-02T03:04:05Z",
        "managedFields": [{"manager": "kubectl", "operation": "Update"}],
        **extra,
    }


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}" * 64


def generator(name: str, spec: dict[str, Any], inventory: list[str], **meta: Any) -> dict[str, Any]:
    """An ArtifactGenerator its controller reconciled: one inventory entry per generated artifact."""
    refs = [
        {"name": a, "namespace": NS, "digest": digest(i + 1), "filename": f"{digest(i + 1)[7:19]}.tar.gz"}
        for i, a in enumerate(inventory)
    ]
    status = {  # source-watcher's status has no observedGeneration, only its conditions do
        "lastHandledReconcileAt": "2026-01-02T03:04:05Z",
        "conditions": ready(f"reconciliation succeeded, generated {len(refs)} artifact(s)"),
        "inventory": refs,
        "observedSourcesDigest": digest(9),
    }
    return {
        "apiVersion": "source.extensions.fluxcd.io/v1beta1",
        "kind": "ArtifactGenerator",
        "metadata": metadata(name, **meta),
        "spec": spec,
        "status": status,
    }


# source-watcher's config/samples/source_v1beta1_artifactgenerator.yaml
PODINFO = generator(
    "podinfo",
    {
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
    },
    ["podinfo"],
)
# source-watcher's config/testdata/decomposition/generators.yaml, paused
APP_GEN = generator(
    "app-gen",
    {
        "sources": [{"alias": "git", "kind": "GitRepository", "name": "podinfo-repo"}],
        "artifacts": [
            {"name": "podinfo-frontend", "copy": [{"from": "@git/deploy/bases/frontend/", "to": "@artifact/"}]},
            {"name": "podinfo-backend", "copy": [{"from": "@git/deploy/bases/backend/*.yaml", "to": "@artifact/"}]},
            {"name": "podinfo-cache", "copy": [{"from": "@git/deploy/bases/cache/**", "to": "@artifact/"}]},
        ],
    },
    ["podinfo-frontend", "podinfo-backend", "podinfo-cache"],
    annotations={PAUSE: "Disabled"},
    labels={"app.kubernetes.io/part-of": "podinfo"},
)
# applied, never reconciled
FRESH = {
    "apiVersion": "source.extensions.fluxcd.io/v1beta1",
    "kind": "ArtifactGenerator",
    "metadata": metadata("fresh", "apps"),
    "spec": {
        "sources": [{"alias": "git", "kind": "GitRepository", "name": "flux-system", "namespace": NS}],
        "artifacts": [{"name": "fresh", "copy": [{"from": "@git/**", "to": "@artifact/"}]}],
    },
}


def external(name: str, revision: str, gen: str = "podinfo") -> dict[str, Any]:
    """An ExternalArtifact as the generator publishes it (its label, sourceRef and status.artifact)."""
    artifact = {
        "path": f"artifactgenerator/{NS}/{name}/{digest(1)[7:19]}.tar.gz",
        "url": f"http://source-watcher.flux-system.svc.cluster.local./artifactgenerator/{NS}/{name}/"
        f"{digest(1)[7:19]}.tar.gz",
        "revision": revision,
        "digest": digest(1),
        "lastUpdateTime": "2026-01-02T03:04:05Z",
        "size": 1024,
    }
    labels = {"app.kubernetes.io/managed-by": "source-watcher", "source.extensions.fluxcd.io/generator": UID}
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "ExternalArtifact",
        "metadata": metadata(name, labels=labels),
        "spec": {
            "sourceRef": {
                "apiVersion": "source.extensions.fluxcd.io/v1beta1",
                "kind": "ArtifactGenerator",
                "name": gen,
                "namespace": NS,
            }
        },
        "status": {"artifact": artifact, "conditions": ready("Artifact is ready")},
    }


# -- get -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "golden"),
    [
        (get.Query(namespace=NS), "get_artifact_generators.golden"),
        (get.Query(namespace=NS, all_namespaces=True), "get_artifact_generators_all_ns.golden"),
        (get.Query(namespace=NS, name="app-gen", no_header=True), "get_artifact_generator_app_gen.golden"),
        (
            get.Query(namespace=NS, all_namespaces=True, status_selector="ready!=true"),
            "get_artifact_generators_not_ready.golden",
        ),
    ],
)
async def test_get_artifact_generators(query: get.Query, golden: str) -> None:
    client = FakeClient(PODINFO, APP_GEN, FRESH)
    assert_golden(GOLDEN, golden, await get.get_one(client, AG, query))  # type: ignore[arg-type]


async def test_get_artifact_generator_cells() -> None:
    # IsDisabled title-cased; the message is printed as is (no hex shortening), unlike the sources'
    failed = copy.deepcopy(PODINFO)
    failed["status"]["conditions"] = ready(f"source 'chart' not ready: digest {digest(3)}", "False", "BuildFailed")
    assert AG.cells(failed) == ["False", "False", f"source 'chart' not ready: digest {digest(3)}"]
    assert AG.cells(APP_GEN)[0] == "True"
    assert AG.cells(FRESH) == ["False", "False", "waiting to be reconciled"]
    assert AG.is_suspended(APP_GEN) and not AG.is_suspended(PODINFO)
    suspend_by_spec = {**PODINFO, "spec": {**PODINFO["spec"], "suspend": True}}
    assert not AG.is_suspended(suspend_by_spec)  # source-watcher has no spec.suspend


async def test_get_artifact_generator_errors() -> None:
    # flux2's get_test.go "no artifact generators found in namespace"
    with pytest.raises(CommandError, match=r'^no ArtifactGenerator objects found in "flux-system" namespace$'):
        await get.get_one(FakeClient(FRESH), AG, get.Query(namespace=NS))  # type: ignore[arg-type]
    with pytest.raises(CommandError, match=r"^ArtifactGenerator object 'gone' not found in any namespace$"):
        query = get.Query(namespace=NS, name="gone", all_namespaces=True)
        await get.get_one(FakeClient(PODINFO), AG, query)  # type: ignore[arg-type]


async def test_get_artifact_generators_is_not_in_get_all() -> None:
    # flux2's `get all` lists sources, images and the top-level kinds, never the artifact ones
    assert AG not in kinds_cli.ALL and kinds_cli.by_kind("ArtifactGenerator") is AG
    client = FakeClient(PODINFO, external("podinfo", "sha256:" + "c" * 64))
    table = await get.get_many(client, kinds_cli.ALL, get.Query(namespace=NS))  # type: ignore[arg-type]
    assert "artifactgenerator/" not in table and "externalartifact/podinfo" in table


async def test_get_sources_external() -> None:
    frontend = external("podinfo-frontend", "latest@" + digest(10), "app-gen")
    backend = external("podinfo-backend", "latest@" + digest(11), "app-gen")
    backend["status"]["conditions"] = ready(f"artifact {digest(11)} not found in storage", "False", "Missing")
    unreconciled = external("podinfo", "")
    del unreconciled["status"]
    client = FakeClient(frontend, backend, unreconciled)
    assert_golden(GOLDEN, "get_sources_external.golden", await get.get_one(client, EA, get.Query(namespace=NS)))  # type: ignore[arg-type]
    query = get.Query(namespace=NS, all_namespaces=True, status_selector="ready!=true")
    assert_golden(GOLDEN, "get_sources_external_not_ready.golden", await get.get_one(client, EA, query))  # type: ignore[arg-type]


# -- export --------------------------------------------------------------------------------------------


def as_template(text: str, namespace: str) -> str:
    """flux2's assertGoldenTemplateFile the other way round: the namespace back to `{{ .fluxns }}`."""
    return text.replace(f"namespace: {namespace}\n", "namespace: {{ .fluxns }}\n")


async def test_export_source_external_matches_flux2() -> None:
    # flux2's export test object, as the API server returns it
    doc = yaml.safe_load((FLUX2 / "export-external-artifact.yaml").read_text().replace("{{ .fluxns }}", "ns-1"))
    stored = {**doc, "metadata": metadata("flux-system", "ns-1"), "status": {"conditions": ready("Artifact is ready")}}
    client = FakeClient(stored)
    rendered = await export.export_objects(client, (EA,), "flux-system", "ns-1")  # type: ignore[arg-type]
    assert_golden(FLUX2, "export-external-artifact.yaml", as_template(rendered, "ns-1"))


async def test_export_artifact_generator() -> None:
    client = FakeClient(PODINFO, APP_GEN, FRESH)
    one = await export.export_objects(client, (AG,), "podinfo", NS)  # type: ignore[arg-type]
    assert_golden(GOLDEN, "export_artifact_generator.yaml", one)
    every = await export.export_objects(client, (AG,), None, NS)  # type: ignore[arg-type]
    assert_golden(GOLDEN, "export_artifact_generator_all.yaml", every)
    with pytest.raises(CommandError, match=r"^no objects found in apps namespace$"):
        await export.export_objects(FakeClient(PODINFO), (AG,), None, "apps")  # type: ignore[arg-type]
    with pytest.raises(ApiError, match=r'artifactgenerators.source.extensions.fluxcd.io "gone" not found'):
        await export.export_objects(client, (AG,), "gone", NS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # omitempty fields vanish when zero; commonMetadata is a pointer (`{}` kept), its maps are omitempty
        (
            {
                "commonMetadata": {"labels": {}, "annotations": {"a": ""}},
                "pathPattern": "",
                "sources": [{"alias": "a", "kind": "Bucket", "name": "b", "namespace": ""}],
                "artifacts": [
                    {"name": "x", "revision": "", "copy": [{"from": "@a/**", "to": "@artifact/", "exclude": []}]}
                ],
            },
            {
                "commonMetadata": {"annotations": {"a": ""}},
                "sources": [{"alias": "a", "kind": "Bucket", "name": "b"}],
                "artifacts": [{"name": "x", "copy": [{"from": "@a/**", "to": "@artifact/"}]}],
            },
        ),
        # fields without omitempty are printed even when unset: strings empty, slices null
        (
            {"commonMetadata": {"labels": {}}, "sources": [{}], "artifacts": [{"copy": [{}]}, {}]},
            {
                "commonMetadata": {},
                "sources": [{"alias": "", "kind": "", "name": ""}],
                "artifacts": [{"name": "", "copy": [{"from": "", "to": ""}]}, {"name": "", "copy": None}],
            },
        ),
        ({}, {"sources": None, "artifacts": None}),
    ],
)
def test_export_artifact_generator_spec_has_the_go_shape(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    obj = {**FRESH, "spec": spec}
    exported = yaml.safe_load(export.render(obj))
    assert exported["spec"] == expected
    assert exported["metadata"] == {"name": "fresh", "namespace": "apps"}
    assert exported["apiVersion"] == "source.extensions.fluxcd.io/v1beta1"


# -- tree ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "fmt", "golden"),
    [
        (APP_GEN, "", "tree_artifact_generator.golden"),
        (APP_GEN, "json", "tree_artifact_generator.json.golden"),
        (APP_GEN, "yaml", "tree_artifact_generator.yaml.golden"),
        (PODINFO, "", "tree_artifact_generator_one.golden"),
        (FRESH, "", "tree_artifact_generator_empty.golden"),
        (FRESH, "json", "tree_artifact_generator_empty.json.golden"),
    ],
)
def test_tree_artifact_generator(obj: dict[str, Any], fmt: str, golden: str) -> None:
    assert_golden(GOLDEN, golden, tree.print_tree(tree.generator_tree(obj), fmt))


def test_tree_json_is_flux2s_shape() -> None:
    shown = json.loads(tree.print_tree(tree.generator_tree(PODINFO), "json"))
    assert shown == {
        "resource": {
            "Namespace": NS,
            "Name": "podinfo",
            "GroupKind": {"Group": "source.extensions.fluxcd.io", "Kind": "ArtifactGenerator"},
        },
        "resources": [
            {
                "resource": {
                    "Namespace": NS,
                    "Name": "podinfo",
                    "GroupKind": {"Group": "source.toolkit.fluxcd.io", "Kind": "ExternalArtifact"},
                }
            }
        ],
    }


# -- suspend, resume, reconcile (gotk additions) -------------------------------------------------------


async def test_suspend_resume_reconcile(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(PODINFO, APP_GEN)
    await suspend.suspend_objects(client, AG, NS, ["podinfo"])  # type: ignore[arg-type]
    assert client.patches == [("podinfo", {"metadata": {"annotations": {PAUSE: "disabled"}}})]
    assert client.objects[("ArtifactGenerator", "podinfo")]["metadata"]["annotations"] == {PAUSE: "disabled"}
    assert "suspend" not in client.objects[("ArtifactGenerator", "podinfo")]["spec"]
    deadline = time.monotonic() + 5
    with pytest.raises(CommandError, match=r"^resource is suspended$"):
        await reconcile.reconcile_object(client, AG, "podinfo", NS, deadline=deadline)  # type: ignore[arg-type]

    await suspend.resume_objects(client, AG, NS, ["podinfo"], wait=True, deadline=deadline)  # type: ignore[arg-type]
    name, patch = client.patches[-1]
    assert name == "podinfo" and patch["metadata"]["annotations"][PAUSE] is None
    assert set(patch) == {"metadata"}  # no spec.suspend
    assert client.objects[("ArtifactGenerator", "podinfo")]["metadata"]["annotations"] == {
        kinds_cli.REQUESTED_AT: patch["metadata"]["annotations"][kinds_cli.REQUESTED_AT]
    }

    await reconcile.reconcile_object(client, AG, "podinfo", NS, deadline=deadline)  # type: ignore[arg-type]
    assert_golden(GOLDEN, "suspend_resume_reconcile.golden", capsys.readouterr().err)


async def test_suspend_all_resume_all_and_missing(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(PODINFO, APP_GEN)
    await suspend.suspend_objects(client, AG, NS, [])  # type: ignore[arg-type]
    await suspend.suspend_objects(client, AG, NS, ["gone"])  # type: ignore[arg-type]
    await suspend.resume_objects(client, AG, NS, [], wait=False, deadline=0)  # type: ignore[arg-type]
    await suspend.resume_objects(client, AG, NS, ["gone"], wait=True, deadline=0)  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        "► suspending artifactgenerator podinfo in flux-system namespace",
        "✔ artifactgenerator suspended",
        "► suspending artifactgenerator app-gen in flux-system namespace",
        "✔ artifactgenerator suspended",
        "✗ ArtifactGenerator gone not found in flux-system namespace",
        "► resuming artifactgenerator podinfo in flux-system namespace",
        "✔ artifactgenerator resumed",
        "► resuming artifactgenerator app-gen in flux-system namespace",
        "✔ artifactgenerator resumed",
        "✗ ArtifactGenerator object 'gone' not found in flux-system namespace",
    ]
    for gen in ("podinfo", "app-gen"):
        assert PAUSE not in client.objects[("ArtifactGenerator", gen)]["metadata"]["annotations"]


def test_resume_waits_for_the_ready_condition_of_the_generation() -> None:
    # no status.observedGeneration: the Ready condition's observedGeneration tells whether it is current
    assert readiness.generation_ready(PODINFO, status_generation=AG.status_generation)
    newer = {**PODINFO, "metadata": {**PODINFO["metadata"], "generation": 2}}
    assert not readiness.generation_ready(newer, status_generation=AG.status_generation)
    assert not readiness.generation_ready(FRESH, status_generation=AG.status_generation)
    assert not readiness.generation_ready(PODINFO)  # what the other kinds need


async def test_reconcile_failure(capsys: pytest.CaptureFixture[str]) -> None:
    failed = copy.deepcopy(PODINFO)
    failed["status"]["conditions"] = ready("source 'chart' not found", "False", "SourceFetchFailed")
    with pytest.raises(CommandError, match=r"^ArtifactGenerator reconciliation failed: 'source 'chart' not found'$"):
        await reconcile.reconcile_object(FakeClient(failed), AG, "podinfo", NS, deadline=time.monotonic() + 5)  # type: ignore[arg-type]


# -- commands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["get", "artifacts", "generators", "--help"], "--all-namespaces"),
        (["get", "artifact", "generator", "--help"], "--status-selector"),
        (["get", "sources", "external", "--help"], "--watch"),
        (["export", "artifact", "generator", "--help"], "--all"),
        (["export", "source", "external", "--help"], "--with-credentials"),
        (["tree", "artifact", "generator", "--help"], "'json' or 'yaml'"),
        (["reconcile", "artifact", "generator", "--help"], "Reconcile a ArtifactGenerator"),
        (["suspend", "artifact", "generator", "--help"], "--all"),
        (["resume", "artifact", "generator", "--help"], "--wait"),
    ],
)
def test_artifact_generator_commands(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "artifact", "generator"], "name is required"),
        (["tree", "artifact", "generator"], "accepts 1 arg(s), received 0"),
        (["tree", "artifact", "generator", "a", "b"], "accepts 1 arg(s), received 2"),
        (["reconcile", "artifact", "generator"], "ArtifactGenerator name is required"),
        (["suspend", "artifact", "generator"], "artifactgenerator name is required"),
        (["resume", "artifact", "generator"], "artifactgenerator name is required"),
    ],
)
def test_name_is_required(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == message
