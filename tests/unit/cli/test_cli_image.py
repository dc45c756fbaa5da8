"""The image nouns without a cluster: `flux export image …` against flux2's testdata/export/image-*.yaml
(the objects of its export test as the API server stores them), the `get image …` tables and the
suspend/resume/reconcile lines against flux2's testdata/image goldens (objects shaped like its
TestImageScanning ones, in its namespace `tis-2`), gotk's own `get` goldens for the other image kinds,
and `flux delete image …`. A fake client serves the objects; for resume and reconcile it plays the
controller, copying the request token to status.lastHandledReconcileAt.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gotk.cli import delete, export, get, kinds_cli, reconcile, suspend
from gotk.cli.kinds_cli import Noun
from gotk.cli.main import cli
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "image"
FLUX2 = GOLDEN / "flux2"
NS = "tis-2"
PODINFO = "ghcr.io/stefanprodan/podinfo"
DIGEST = "sha256:8704da90172710d422af855049175c1a8295731cbe2ad3b9a1c1074feecf8c10"


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


class FakeClient:
    """Objects by (kind, name); a kind without objects is not served. Patches merge; a reconcile request is
    handled at once (the status gets lastHandledReconcileAt = the request token)."""

    def __init__(self, *objects: dict[str, Any]) -> None:
        self.objects = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(o) for o in objects}
        self.deleted: list[tuple[str, str, str | None]] = []

    def _find(self, res: Resource, name: str) -> dict[str, Any]:
        found = self.objects.get((res.kind, name))
        if found is None:
            details = {"name": name, "kind": res.plural}
            raise ApiError(404, "NotFound", f'{res.plural} "{name}" not found', body={"details": details})
        return found

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> dict[str, Any]:
        return copy.deepcopy(self._find(res, name))

    async def list(self, res: Resource, namespace: str | None = None, **kw: Any) -> dict[str, Any]:
        items = [o for (kind, _), o in self.objects.items() if kind == res.kind]
        if not any(noun.kind == res.kind for noun in kinds_cli.IMAGES):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if kw.get("field_selector"):
            name = kw["field_selector"].removeprefix("metadata.name=")
            items = [o for o in items if o["metadata"]["name"] == name]
        return {"items": copy.deepcopy(items)}

    async def patch(self, res: Resource, name: str, body: dict[str, Any], namespace: str | None = None) -> Any:
        obj = self._find(res, name)
        _merge(obj, body)
        token = (obj["metadata"].get("annotations") or {}).get(kinds_cli.REQUESTED_AT)
        if token:
            obj.setdefault("status", {})["lastHandledReconcileAt"] = token
        return copy.deepcopy(obj)

    async def delete(self, res: Resource, name: str, namespace: str | None = None, **kw: Any) -> None:
        self._find(res, name)
        self.deleted.append((res.kind, name, namespace))
        del self.objects[(res.kind, name)]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times print in the local zone, as flux does: pin it to UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


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


def stored(kind: str, name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object as the API server returns it (server-set metadata, a status)."""
    return {
        "apiVersion": "image.toolkit.fluxcd.io/v1",
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": "2d1f0f36-0000-4000-8000-000000000001",
            "resourceVersion": "4242",
            "generation": 1,
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "managedFields": [{"manager": "flux", "operation": "Apply"}],
        },
        "spec": spec,
        "status": {"observedGeneration": 1, **(status or {})},
    }


# -- export ------------------------------------------------------------------------------------------


def flux2_export_objects(namespace: str) -> list[dict[str, Any]]:
    """flux2's testdata/export/objects.yaml (its image objects) as its export test renders the template:
    `{{ .fluxns }}` is the namespace, and `{{range .Updated.Images}}…` ranges over a missing key: ''."""
    text = (FLUX2 / "export-objects-image.yaml").read_text()
    text = text.replace("{{ .fluxns }}", namespace)
    text = text.replace("'{{range .Updated.Images}}{{println .}}{{end}}'", "''")
    return [doc for doc in yaml.safe_load_all(text) if doc]


# what the CRDs default (flux's and gotk's alike), as the API server applies it on create
CRD_DEFAULTS: dict[str, dict[str, Any]] = {
    "ImageRepository": {"exclusionList": [r"^.*\.sig$"], "provider": "generic"},
    "ImagePolicy": {"digestReflectionPolicy": "Never"},
    "ImageUpdateAutomation": {},
}
EXPORT_GOLDEN = {
    "ImageRepository": "export-image-repo.yaml",
    "ImagePolicy": "export-image-policy.yaml",
    "ImageUpdateAutomation": "export-image-update.yaml",
}


def as_stored(doc: dict[str, Any]) -> dict[str, Any]:
    spec = {**CRD_DEFAULTS[doc["kind"]], **doc["spec"]}
    status = {"conditions": ready("stored"), "lastHandledReconcileAt": "2026-01-02T03:04:05Z"}
    obj = stored(doc["kind"], doc["metadata"]["name"], spec, status)
    obj["metadata"]["namespace"] = doc["metadata"]["namespace"]
    return obj


def as_template(text: str, namespace: str) -> str:
    """flux2's assertGoldenTemplateFile the other way round: the namespace back to `{{ .fluxns }}`."""
    return text.replace(f"namespace: {namespace}\n", "namespace: {{ .fluxns }}\n")


@pytest.mark.parametrize("kind", sorted(EXPORT_GOLDEN))
def test_export_matches_flux2(kind: str) -> None:
    (doc,) = [d for d in flux2_export_objects("flux-system-abc") if d["kind"] == kind]
    rendered = export.render(as_stored(doc))
    assert_golden(FLUX2, EXPORT_GOLDEN[kind], as_template(rendered, "flux-system-abc"))


async def test_export_one_and_all() -> None:
    objects = [as_stored(d) for d in flux2_export_objects(NS)]
    client = FakeClient(*objects)
    second = copy.deepcopy(objects[1])
    second["metadata"]["name"] = "second"
    client.objects[("ImagePolicy", "second")] = second
    one = await export.export_objects(client, (kinds_cli.IMAGE_POLICY,), "flux-system", NS)  # type: ignore[arg-type]
    assert one == export.render(objects[1])
    both = await export.export_objects(client, (kinds_cli.IMAGE_POLICY,), None, NS)  # type: ignore[arg-type]
    assert both == export.render(objects[1]) + export.render(second)
    with pytest.raises(CommandError, match="no objects found in tis-2 namespace"):
        await export.export_objects(FakeClient(), (kinds_cli.IMAGE_UPDATE,), None, NS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        # durations in Go's form; required structs and fields printed when unset, zero values dropped
        (
            "ImageUpdateAutomation",
            {"interval": "5m", "git": {"commit": {"messageTemplateValues": {}, "author": {"name": ""}}}},
            {"git": {"commit": {"author": {"email": ""}}}, "interval": "5m0s", "sourceRef": {"kind": "", "name": ""}},
        ),
        (
            "ImagePolicy",
            {"filterTags": {"pattern": "^v"}, "policy": {"alphabetical": {}}, "suspend": False, "interval": "90s"},
            {
                "filterTags": {"pattern": "^v", "extract": ""},
                "imageRepositoryRef": {"name": ""},
                "policy": {"alphabetical": {}},
                "interval": "1m30s",
            },
        ),
        # Go maps are kept verbatim, empty strings in them too; empty lists vanish
        (
            "ImageRepository",
            {"image": "x", "interval": "1h", "exclusionList": [], "accessFrom": {"namespaceSelectors": [{}]}},
            {"image": "x", "interval": "1h0m0s", "accessFrom": {"namespaceSelectors": [{}]}},
        ),
        (
            "ImageUpdateAutomation",
            {
                "interval": "1m",
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
                "policySelector": {"matchLabels": {"a": ""}, "matchExpressions": [{"key": "k", "values": []}]},
                "git": {"commit": {"author": {"email": "e"}}, "push": {"options": {"ci.skip": ""}}},
            },
            {
                "interval": "1m0s",
                "sourceRef": {"kind": "GitRepository", "name": "repo"},
                "policySelector": {"matchLabels": {"a": ""}, "matchExpressions": [{"key": "k", "operator": ""}]},
                "git": {"commit": {"author": {"email": "e"}}, "push": {"options": {"ci.skip": ""}}},
            },
        ),
    ],
)
def test_export_spec_has_the_go_shape(kind: str, spec: dict[str, Any], expected: dict[str, Any]) -> None:
    exported = yaml.safe_load(export.render(stored(kind, "x", spec)))
    assert exported["spec"] == expected
    assert exported["metadata"] == {"name": "x", "namespace": NS}
    assert "status" not in exported


# -- get ---------------------------------------------------------------------------------------------


def repository(name: str = "podinfo", **status: Any) -> dict[str, Any]:
    return stored(
        "ImageRepository",
        name,
        {"image": PODINFO, "interval": "10m0s", "exclusionList": [r"^.*\.sig$"], "provider": "generic"},
        status,
    )


def policy(name: str, spec: dict[str, Any], tag: str, digest: str = "") -> dict[str, Any]:
    message = f"Latest image tag for {PODINFO} resolved to {tag}" + (f" with digest {digest}" if digest else "")
    latest = {"name": PODINFO, "tag": tag, **({"digest": digest} if digest else {})}
    return stored("ImagePolicy", name, {"imageRepositoryRef": {"name": "podinfo"}, **spec}, {
        "latestRef": latest,
        "conditions": ready(message),
    })  # fmt: skip


SEMVER = policy(
    "podinfo-semver",
    {"interval": "10m0s", "digestReflectionPolicy": "Always", "policy": {"semver": {"range": "5.0.x"}}},
    "5.0.3",
    DIGEST,
)
REGEX = policy(
    "podinfo-regex",
    {
        "digestReflectionPolicy": "Never",
        "filterTags": {"pattern": r"5\.0\.0", "extract": ""},
        "policy": {"semver": {"range": ">4.0.0"}},
    },
    "5.0.0",
)
SCANNED = repository(
    lastScanResult={"revision": "sha256:1", "tagCount": 42, "scanTime": "2026-01-02T03:04:05.123456Z"},
    canonicalImageName=PODINFO,
    conditions=ready("successful scan: found 42 tags with checksum 2d1f0f36"),
)
UPDATE = stored(
    "ImageUpdateAutomation",
    "flux-system",
    {
        "interval": "1m0s",
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
        "git": {"commit": {"author": {"email": "fluxcdbot@users.noreply.github.com", "name": "fluxcdbot"}}},
        "update": {"path": "./clusters/my-cluster", "strategy": "Setters"},
        "suspend": True,
    },
    {
        "lastAutomationRunTime": "2026-01-02T03:05:00Z",
        "lastPushCommit": "696f056df216eea4f9401adbee0ff744d4df390f",
        "conditions": ready("repository up-to-date"),
    },
)


@pytest.mark.parametrize(
    ("obj", "golden"),
    [(SEMVER, "get_image_policy_semver.golden"), (REGEX, "get_image_policy_regex.golden")],
)
async def test_get_image_policy_matches_flux2(obj: dict[str, Any], golden: str) -> None:
    client = FakeClient(SEMVER, REGEX)
    query = get.Query(namespace=NS, name=obj["metadata"]["name"])
    table = await get.get_one(client, kinds_cli.IMAGE_POLICY, query)  # type: ignore[arg-type]
    assert_golden(FLUX2, golden, table)


@pytest.mark.parametrize(
    ("noun", "query", "golden"),
    [
        (kinds_cli.IMAGE_REPOSITORY, get.Query(namespace=NS), "get_image_repository.golden"),
        (kinds_cli.IMAGE_UPDATE, get.Query(namespace=NS), "get_image_update.golden"),
        (kinds_cli.IMAGE_POLICY, get.Query(namespace=NS, all_namespaces=True), "get_image_policy_all_ns.golden"),
    ],
)
async def test_get_image_tables(utc: None, noun: Noun, query: get.Query, golden: str) -> None:
    never_scanned = repository("fresh")
    client = FakeClient(SCANNED, never_scanned, SEMVER, REGEX, UPDATE)
    assert_golden(GOLDEN, golden, await get.get_one(client, noun, query))  # type: ignore[arg-type]


async def test_get_images_all(utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(SCANNED, SEMVER, REGEX, UPDATE)
    table = await get.get_many(client, kinds_cli.IMAGES, get.Query(namespace=NS))  # type: ignore[arg-type]
    assert_golden(GOLDEN, "get_images_all.golden", table)
    # a name only some kinds have: the others get flux's ✗ line, on stderr
    named = await get.get_many(client, kinds_cli.IMAGES, get.Query(namespace=NS, name="podinfo"))  # type: ignore[arg-type]
    assert named == table[: table.index("\n\n") + 2]  # the ImageRepository table only
    assert capsys.readouterr().err.splitlines() == [
        "✗ ImagePolicy object 'podinfo' not found in \"tis-2\" namespace",
        "✗ ImageUpdateAutomation object 'podinfo' not found in \"tis-2\" namespace",
    ]
    with pytest.raises(CommandError, match='no ImageRepository objects found in "tis-2" namespace'):
        await get.get_one(FakeClient(UPDATE), kinds_cli.IMAGE_REPOSITORY, get.Query(namespace=NS))  # type: ignore[arg-type]


def test_last_scan_without_scan_time_is_go_zero_time() -> None:
    assert kinds_cli.IMAGE_REPOSITORY.cells(repository(lastScanResult={"tagCount": 0}))[0] == "0001-01-01T00:00:00Z"
    assert kinds_cli.IMAGE_REPOSITORY.cells(repository())[0] == ""


# -- suspend, resume, reconcile ------------------------------------------------------------------------


async def test_suspend_resume_reconcile_match_flux2(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(SEMVER)
    await suspend.suspend_objects(client, kinds_cli.IMAGE_POLICY, NS, ["podinfo-semver"])  # type: ignore[arg-type]
    assert_golden(FLUX2, "suspend_image_policy.golden", capsys.readouterr().err)
    assert client.objects[("ImagePolicy", "podinfo-semver")]["spec"]["suspend"] is True

    deadline = time.monotonic() + 5
    noun = kinds_cli.IMAGE_POLICY
    await suspend.resume_objects(client, noun, NS, ["podinfo-semver"], wait=True, deadline=deadline)  # type: ignore[arg-type]
    assert_golden(FLUX2, "resume_image_policy.golden", capsys.readouterr().err)
    assert client.objects[("ImagePolicy", "podinfo-semver")]["spec"]["suspend"] is False

    await reconcile.reconcile_object(client, noun, "podinfo-semver", NS, deadline=deadline)
    assert_golden(FLUX2, "reconcile_image_policy.golden", capsys.readouterr().err)


async def test_reconcile_image_repository_and_update(utc: None, capsys: pytest.CaptureFixture[str]) -> None:
    deadline = time.monotonic() + 5
    client = FakeClient(SCANNED, {**UPDATE, "spec": {**UPDATE["spec"], "suspend": False}})
    await reconcile.reconcile_object(client, kinds_cli.IMAGE_REPOSITORY, "podinfo", NS, deadline=deadline)  # type: ignore[arg-type]
    await reconcile.reconcile_object(client, kinds_cli.IMAGE_UPDATE, "flux-system", NS, deadline=deadline)  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        "► annotating ImageRepository podinfo in tis-2 namespace",
        "✔ ImageRepository annotated",
        "◎ waiting for ImageRepository reconciliation",
        "✔ scan fetched 42 tags",
        "► annotating ImageUpdateAutomation flux-system in tis-2 namespace",
        "✔ ImageUpdateAutomation annotated",
        "◎ waiting for ImageUpdateAutomation reconciliation",
        "✔ repository up-to-date",
    ]
    with pytest.raises(CommandError, match=r"^resource is suspended$"):
        await reconcile.reconcile_object(FakeClient(UPDATE), kinds_cli.IMAGE_UPDATE, "flux-system", NS, deadline=0)  # type: ignore[arg-type]


async def test_suspend_all_and_missing_names(capsys: pytest.CaptureFixture[str]) -> None:
    client = FakeClient(SCANNED, repository("fresh"))
    await suspend.suspend_objects(client, kinds_cli.IMAGE_REPOSITORY, NS, [])  # type: ignore[arg-type]
    await suspend.suspend_objects(client, kinds_cli.IMAGE_REPOSITORY, NS, ["gone"])  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        "► suspending image repository podinfo in tis-2 namespace",
        "✔ image repository suspended",
        "► suspending image repository fresh in tis-2 namespace",
        "✔ image repository suspended",
        "✗ ImageRepository gone not found in tis-2 namespace",
    ]


# -- delete --------------------------------------------------------------------------------------------


async def test_delete_image_objects(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = FakeClient(SCANNED, SEMVER, UPDATE)
    await delete.delete_object(client, kinds_cli.IMAGE_UPDATE, "flux-system", NS, silent=True)  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    await delete.delete_object(client, kinds_cli.IMAGE_POLICY, "podinfo-semver", NS, silent=False)  # type: ignore[arg-type]
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match=r"^aborting$"):
        await delete.delete_object(client, kinds_cli.IMAGE_REPOSITORY, "podinfo", NS, silent=False)  # type: ignore[arg-type]
    with pytest.raises(ApiError, match='imagerepositories "gone" not found'):
        await delete.delete_object(client, kinds_cli.IMAGE_REPOSITORY, "gone", NS, silent=True)  # type: ignore[arg-type]
    assert client.deleted == [("ImageUpdateAutomation", "flux-system", NS), ("ImagePolicy", "podinfo-semver", NS)]
    assert capsys.readouterr().err.splitlines() == [
        "► deleting image update automation flux-system in tis-2 namespace",
        "✔ image update automation deleted",
        "► deleting image policy podinfo-semver in tis-2 namespace",
        "✔ image policy deleted",
    ]


# -- commands ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "image", "repository", "--help"], "--all"),
        (["export", "image", "update", "--help"], "NAME"),
        (["delete", "image", "policy", "--help"], "--silent"),
        (["delete", "image", "update", "--help"], "Delete a ImageUpdateAutomation"),
        (["get", "images", "all", "--help"], "--status-selector"),
        (["reconcile", "image", "update", "--help"], "Reconcile a ImageUpdateAutomation"),
        (["suspend", "image", "repository", "--help"], "--all"),
    ],
)
def test_image_commands(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert expected in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "image", "policy"], "name is required"),
        (["delete", "image", "policy"], "image policy name is required"),
        (["delete", "image", "update"], "image update automation name is required"),
        (["suspend", "image", "update"], "image update automation name is required"),
        (["resume", "image", "repository"], "image repository name is required"),
        (["reconcile", "image", "policy"], "ImagePolicy name is required"),
    ],
)
def test_name_is_required(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == message
