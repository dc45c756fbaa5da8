"""`flux trace`, `flux events`, `flux logs` and `flux stats` without a cluster.

A fake read-only client serves objects, events, pods and discovery. `trace` is checked against flux2's own
testdata/trace (the objects of its trace_test.go and its golden outputs, namespaces and times templated as its
test does, in TZ=UTC); `logs` against flux2's testdata/logs (the pod log lines of its logs_unit_test.go);
`events` against the objects and expected rows of flux2's events_test.go; `stats` and the rest against gotk's
goldens under tests/golden/cli/{events,stats,logs}.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gotk.api import kinds
from gotk.cli import events, kubeclient, logs, stats, trace
from gotk.cli.context import Globals
from gotk.cli.engines import controllerlogs as cl
from gotk.cli.engines import tracereport
from gotk.cli.main import main
from gotk.cli.output import CommandError
from gotk.kube.errors import ApiError, ResourceNotFound
from gotk.kube.resources import Resource
from gotk.runtime import logging as gotk_logging
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli"
TRACE = GOLDEN / "trace" / "flux2"
LOGS = GOLDEN / "logs" / "flux2"
Obj = dict[str, Any]

# -- a fake read-only API server -------------------------------------------------------------------

CORE = [
    ("", "v1", "namespaces", "Namespace", False, ("ns",)),
    ("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ("", "v1", "pods", "Pod", True, ("po",)),
    ("", "v1", "events", "Event", True, ("ev",)),
    ("apps", "v1", "deployments", "Deployment", True, ("deploy",)),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",)),
]


def _table() -> list[tuple[str, str, str, str, bool, tuple[str, ...]]]:
    flux = [(k.group, k.version, k.plural, k.kind, k.namespaced, k.short_names) for k in kinds.all_kinds()]
    return [*CORE, *flux]


class FakeClient:
    """Objects keyed by (group, kind, namespace, name); discovery from the table above; Events listed with
    involvedObject field selectors; a watch replays `watched`."""

    def __init__(self, objects: list[Obj] = (), *, served: set[str] | None = None) -> None:  # type: ignore[assignment]
        self.objects: dict[tuple[str, str, str, str], Obj] = {}
        for obj in objects:
            self.add(obj)
        self.served = served
        self.watched: list[Obj] = []
        self.config: Any = None

    def add(self, obj: Obj) -> None:
        group = obj["apiVersion"].rpartition("/")[0]
        md = obj["metadata"]
        self.objects[(group, obj["kind"], md.get("namespace") or "", md["name"])] = copy.deepcopy(obj)

    def _serves(self, res: Resource) -> bool:
        return self.served is None or res.kind in self.served

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        found = self.objects.get((res.group, res.kind, namespace or "", name)) if self._serves(res) else None
        if found is None:
            plural = f"{res.plural}.{res.group}" if res.group else res.plural
            raise ApiError(404, "NotFound", f'{plural} "{name}" not found', {"details": {"name": name}})
        return copy.deepcopy(found)

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        **_: Any,
    ) -> Obj:
        if not self._serves(res):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        terms = dict(t.split("=", 1) for t in (field_selector or "").split(",") if t)
        labels = dict(t.split("=", 1) for t in (label_selector or "").split(",") if t)
        items = []
        for (group, kind, ns, _name), obj in self.objects.items():
            if (group, kind) != (res.group, res.kind) or (namespace and ns != namespace):
                continue
            involved = obj.get("involvedObject") or {}
            if any(involved.get(k.removeprefix("involvedObject.")) != v for k, v in terms.items()):
                continue
            own = obj["metadata"].get("labels") or {}
            if any(own.get(k) != v for k, v in labels.items()):
                continue
            items.append(copy.deepcopy(obj))
        return {"items": items, "metadata": {"resourceVersion": "1"}}

    async def get_raw(self, path: str) -> Any:
        if path == "/api":
            return {"versions": ["v1"]}
        if path == "/apis":
            gvs = sorted({f"{g}/{v}" for g, v, *_ in _table() if g})
            return {"groups": [{"name": gv.split("/")[0], "preferredVersion": {"groupVersion": gv}} for gv in gvs]}
        gv = path.removeprefix("/apis/").removeprefix("/api/")
        resources = [
            {
                "name": plural,
                "singularName": kind.lower(),
                "kind": kind,
                "namespaced": namespaced,
                "shortNames": list(s),
            }
            for g, v, plural, kind, namespaced, s in _table()
            if (f"{g}/{v}" if g else v) == gv
        ]
        if not resources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return {"groupVersion": gv, "resources": resources}

    async def resource_for(self, api_version: str, kind: str) -> Resource:
        for g, v, plural, k, namespaced, _ in _table():
            if (f"{g}/{v}" if g else v) == api_version and k == kind:
                return Resource(g, v, plural, k, namespaced)
        raise ResourceNotFound(api_version, kind)

    async def watch(self, res: Resource, namespace: str | None = None, **_: Any) -> AsyncIterator[Obj]:
        for change in self.watched:
            yield copy.deepcopy(change)
        await asyncio.sleep(3600)


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times print in the local zone, as flux does: pin it to UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def use(monkeypatch: pytest.MonkeyPatch, client: FakeClient) -> None:
    def run(g: Globals, body: Callable[[Any], Coroutine[Any, Any, Any]], **_: Any) -> Any:
        try:
            return asyncio.run(body(client))
        except ApiError as exc:  # as kubeclient.run words it
            raise CommandError(str(exc)) from exc

    monkeypatch.setattr(kubeclient, "run", run)


def flux(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`flux ARGS` through `main()`, as the installed command runs: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["flux", *args])
        mp.setattr(sys, "stdin", io.StringIO(""))
        try:
            main()
            code = 0
        except SystemExit as exited:
            code = int(exited.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def docs(text: str) -> list[Obj]:
    return [d for d in yaml.safe_load_all(text) if d]


# -- trace: flux2's testdata/trace -----------------------------------------------------------------


def go_local_time(rfc3339: str) -> str:
    """toLocalTime of flux2's trace_test.go: time.Parse(RFC3339).Local().String(), in TZ=UTC."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def template(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{ ." + key + " }}", value)
    return text


TRACE_CASES = [
    (
        "trace podinfo --kind deployment --api-version=apps/v1",
        "deployment",
        {
            "helmReleaseLastReconcile": "2021-07-16T15:42:20Z",
            "helmChartLastReconcile": "2021-07-16T15:32:09Z",
            "helmRepositoryLastReconcile": "2021-07-11T00:25:46Z",
        },
    ),
    (
        "trace podinfo --kind HelmRelease --api-version=helm.toolkit.fluxcd.io/v2",
        "helmrelease",
        {"kustomizationLastReconcile": "2021-08-01T04:52:56Z", "gitRepositoryLastReconcile": "2021-07-20T00:48:16Z"},
    ),
    (
        "trace podinfo --kind HelmRelease --api-version=helm.toolkit.fluxcd.io/v2",
        "helmrelease-oci",
        {"kustomizationLastReconcile": "2021-08-01T04:52:56Z", "ociRepositoryLastReconcile": "2021-07-20T00:48:16Z"},
    ),
    (
        "trace podinfo --kind deployment --api-version=apps/v1",
        "deployment-hr-ocirepo",
        {"helmReleaseLastReconcile": "2021-07-16T15:42:20Z", "ociRepositoryLastReconcile": "2021-07-20T00:48:16Z"},
    ),
]


@pytest.mark.parametrize(("args", "case", "times"), TRACE_CASES, ids=[c[1] for c in TRACE_CASES])
def test_trace_flux2_goldens(
    utc: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: str,
    case: str,
    times: dict[str, str],
) -> None:
    values = {"ns": "podinfo-trace", "fluxns": "flux-system-trace"}
    use(monkeypatch, FakeClient(docs(template((TRACE / f"{case}.yaml").read_text(), values))))
    code, out, err = flux(capsys, *args.split(), f"-n={values['ns']}")
    assert (code, err) == (0, "")
    expected = template(
        (TRACE / f"{case}.golden").read_text(), {**values, **{k: go_local_time(v) for k, v in times.items()}}
    )
    assert out == expected


def _deployment_objects() -> list[Obj]:
    return docs(template((TRACE / "deployment.yaml").read_text(), {"ns": "apps", "fluxns": "flux-system"}))


def test_trace_resource_arguments_and_owners(
    utc: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`deployment podinfo` and `pod/…` resolve through discovery; the kind printed is the server's. A Pod
    reaches its HelmRelease through its ReplicaSet and Deployment; an object nobody manages is one stderr line."""
    objects = _deployment_objects()
    rs_ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo", "uid": "1"}
    pod_ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "podinfo-abc", "uid": "2"}
    objects += [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "podinfo-abc", "namespace": "apps", "ownerReferences": [rs_ref]},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "podinfo-abc-x", "namespace": "apps", "ownerReferences": [pod_ref]},
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "lonely", "namespace": "apps"}},
    ]
    use(monkeypatch, FakeClient(objects))
    code, out, err = flux(capsys, "trace", "deployment", "podinfo", "-n", "apps")
    assert (code, err) == (0, "")
    assert out.startswith(
        "\nObject:         Deployment/podinfo\nNamespace:      apps\nStatus:         Managed by Flux\n"
        "---\nHelmRelease:    podinfo\n"
    )
    code, out2, err = flux(capsys, "trace", "po/podinfo-abc-x", "cm/lonely", "-n", "apps")
    assert code == 0
    assert out2 == out.replace("Deployment/podinfo", "Pod/podinfo-abc-x") + "---\n"
    assert err == "failed to trace ConfigMap/lonely in namespace apps: object not managed by Flux"
    code, out3, _ = flux(capsys, "trace", "Deployments.apps", "podinfo", "-n", "apps")
    assert out3 == out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace"], "either `<resource>/<name>` or `<resource> <name>` is required as an argument"),
        (["trace", "deployment"], "resource(s) were provided, but no name was specified"),
        (["trace", "gizmo", "x"], 'the server doesn\'t have a resource type "gizmo"'),
        (["trace", "deployment/a/b"], "arguments in resource/name form may not have more than one slash"),
        (["trace", "deployment", "gone"], 'x: deployments.apps "gone" not found'),
        (["trace", "deploy/gone", "cm/nope"], 'x: [deployments.apps "gone" not found, configmaps "nope" not found]'),
        (["trace", "--kind", "Deployment"], "object name is required"),
        (["trace", "x", "--api-version", "apps/v1"], "object kind is required (--kind)"),
        (["trace", "x", "--kind", "Deployment"], "object apiVersion is required (--api-version)"),
        (
            ["trace", "x", "--kind", "Deployment", "--api-version", "a/b/c"],
            "invaild apiVersion: unexpected GroupVersion string: a/b/c",
        ),
        (
            ["trace", "x", "--kind", "Gizmo", "--api-version", "apps/v1"],
            'failed to find object: no matches for kind "Gizmo" in version "apps/v1"',
        ),
        (
            ["trace", "x", "--kind", "Deployment", "--api-version", "apps/v1"],
            'failed to find object: deployments.apps "x" not found',
        ),
    ],
)
def test_trace_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    use(monkeypatch, FakeClient(_deployment_objects()))
    assert flux(capsys, *args, "-n", "apps") == (1, "", f"✗ {message}\n")


def _ready(message: str, status: str = "True", when: str = "2026-03-04T05:06:07Z") -> list[Obj]:
    return [{"type": "Ready", "status": status, "message": message, "lastTransitionTime": when}]


def test_trace_kustomization_sources(utc: None) -> None:
    """The Kustomization report's other branches: target namespace, a failing GitRepository with a tag, an unknown
    status, an ExternalArtifact with origin annotations (one missing prints an empty line, as Go's template does)."""
    ks = {
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"targetNamespace": "prod", "path": "./apps"},
        "status": {"lastAppliedRevision": "v1@sha1:abc"},
    }
    git = {
        "kind": "GitRepository",
        "metadata": {"name": "repo", "namespace": "flux-system"},
        "spec": {"url": "https://example.com/repo", "ref": {"tag": "v1", "branch": "main"}},
        "status": {"conditions": _ready("auth failed", "False")},
    }
    external = {
        "kind": "ExternalArtifact",
        "metadata": {"name": "gen", "namespace": "flux-system"},
        "spec": {"sourceRef": {"kind": "ArtifactGenerator", "name": "g", "namespace": "flux-system"}},
        "status": {"artifact": {"revision": "latest@sha256:1", "metadata": {cl_src(): "https://x"}}},
    }
    report = tracereport.kustomization_report("ConfigMap/a", "prod", ks, git)
    assert report == (
        "\nObject:          ConfigMap/a\nNamespace:       prod\nStatus:          Managed by Flux\n---\n"
        "Kustomization:   apps\nNamespace:       flux-system\nTarget:          prod\nPath:            ./apps\n"
        "Revision:        v1@sha1:abc\nStatus:          Unknown\n---\nGitRepository:   repo\n"
        "Namespace:       flux-system\nURL:             https://example.com/repo\nTag:             v1\n"
        "Status:          Last reconciliation failed at 2026-03-04 05:06:07 +0000 UTC\nMessage:         auth failed\n"
    )
    tail = tracereport.kustomization_report("Namespace/a", "", ks, external).split("---\n")[-1]
    assert tail == (
        "ExternalArtifact:gen\nNamespace:       flux-system\nSource:          ArtifactGenerator/flux-system/g\n"
        "Revision:        latest@sha256:1\n\nOrigin Source:   https://x\nStatus:          Unknown\n"
    )


def cl_src() -> str:
    return tracereport.OCI_SOURCE


async def test_trace_missing_external_source_ref() -> None:
    client = FakeClient(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "a",
                    "namespace": "ns",
                    "labels": {"kustomize.toolkit.fluxcd.io/name": "ks", "kustomize.toolkit.fluxcd.io/namespace": "ns"},
                },
            },
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {"name": "ks", "namespace": "ns"},
                "spec": {"sourceRef": {"kind": "ExternalArtifact", "name": "e"}},
            },
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "ExternalArtifact",
                "metadata": {"name": "e", "namespace": "ns"},
                "spec": {},
            },
        ]
    )
    obj = await client.get(Resource("", "v1", "configmaps", "ConfigMap"), "a", "ns")
    with pytest.raises(trace.TraceError, match=r"^ExternalArtifact ns/e is missing spec\.sourceRef$"):
        await trace.trace_object(client, obj)  # type: ignore[arg-type]
    del client.objects[("kustomize.toolkit.fluxcd.io", "Kustomization", "ns", "ks")]
    with pytest.raises(
        trace.TraceError,
        match=r'^failed to find kustomization: kustomizations\.kustomize\.toolkit\.fluxcd\.io "ks" not found$',
    ):
        await trace.trace_object(client, obj)  # type: ignore[arg-type]


# -- events: flux2's events_test.go ----------------------------------------------------------------


def flux2_event_objects() -> list[Obj]:
    return docs((GOLDEN / "events" / "flux2-objects.yaml").read_text())


def flux2_event(obj: Obj, event_type: str, message: str, reason: str) -> Obj:
    """createEvent of flux2's events_test.go."""
    ns = obj["metadata"].get("namespace") or ""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"namespace": ns, "name": f"{ns}{obj['kind']}{obj['metadata']['name']}{event_type}"},
        "reason": reason,
        "message": message,
        "type": event_type,
        "involvedObject": {"kind": obj["kind"], "namespace": ns, "name": obj["metadata"]["name"]},
    }


def events_client() -> FakeClient:
    objects = flux2_event_objects()
    client = FakeClient(objects)
    for obj in objects:
        client.add(flux2_event(obj, "info", "Info Message", "Info Reason"))
        client.add(flux2_event(obj, "error", "Error Message", "Error Reason"))
    return client


@pytest.mark.parametrize(
    ("selector", "namespace", "want"),
    [
        ("Kustomization/flux-system", "flux-system", ["GitRepository/flux-system.flux-system"]),
        ("Kustomization/podinfo", "default", ["GitRepository/flux-system.flux-system"]),
        (
            "HelmRelease/podinfo",
            "default",
            ["HelmRepository/podinfo.flux-system", "HelmChart/default-podinfo.flux-system"],
        ),
        ("Alert/webapp", "flux-system", ["Provider/slack.flux-system"]),
        ("ImagePolicy/podinfo", "default", ["ImageRepository/acr-podinfo.flux-system"]),
        ("imagepolicy/podinfo", "default", ["ImageRepository/acr-podinfo.flux-system"]),
        ("Provider/slack", "flux-system", []),
    ],
)
async def test_event_object_refs(selector: str, namespace: str, want: list[str]) -> None:
    kind, name = events.kind_name_from_selector(selector)
    assert await events.object_refs(events_client(), events.ref_info(kind), name, namespace) == want  # type: ignore[arg-type]


def test_event_kinds() -> None:
    with pytest.raises(CommandError, match=r"^'Namespace' is not a recognized Flux kind$"):
        events.ref_info("Namespace")
    assert events.kind_name_from_selector("Kustomization") == ("Kustomization", "")
    assert events.kind_name_from_selector("/x") == ("x", "")
    assert events.parse_kind_name_namespace("HelmChart/default-podinfo.flux-system") == (
        "HelmChart",
        "default-podinfo",
        "flux-system",
    )
    assert events.parse_kind_name_namespace("a/b.c.d") == ("a", "b.c", "d")


def _r(ns: str | None, severity: str, kind_name: str) -> list[str]:
    word = severity.capitalize()
    row = ["<unknown>", severity, f"{word} Reason", kind_name, f"{word} Message"]
    return [ns, *row] if ns is not None else row


def _both(ns: str | None, *kind_names: str) -> list[list[str]]:
    return [_r(ns, sev, kn) for kn in kind_names for sev in ("error", "info")]


DEFAULT = ("HelmRelease/podinfo", "ImagePolicy/podinfo", "Kustomization/podinfo")
FLUX_SYSTEM = (
    "Alert/webapp",
    "GitRepository/flux-system",
    "HelmChart/default-podinfo",
    "HelmRepository/podinfo",
    "Kustomization/flux-system",
    "Provider/slack",
)
HR_ROWS = [
    *_both("default", "HelmRelease/podinfo"),
    *_both("flux-system", "HelmRepository/podinfo", "HelmChart/default-podinfo"),
]


@pytest.mark.parametrize(
    ("selector", "namespace", "expected"),
    [
        ("", "", [*_both("default", *DEFAULT), *_both("flux-system", *FLUX_SYSTEM)]),
        ("", "default", _both(None, *DEFAULT)),
        (
            "Kustomization/podinfo",
            "default",
            [*_both("default", "Kustomization/podinfo"), *_both("flux-system", "GitRepository/flux-system")],
        ),
        (
            "kustomization",
            "",
            [*_both("default", "Kustomization/podinfo"), *_both("flux-system", "Kustomization/flux-system")],
        ),
        ("HelmRelease/podinfo", "default", HR_ROWS),
        ("helmrelease/podinfo", "default", HR_ROWS),
    ],
)
async def test_event_rows_flux2(selector: str, namespace: str, expected: list[list[str]]) -> None:
    """Test_getRows of flux2 (ConsistOf: any order)."""
    client = events_client()
    query = await events.build_query(
        client,  # type: ignore[arg-type]
        namespace or "flux-system",
        all_namespaces=not namespace,
        for_selector=selector,
        types=(),
    )
    got = await events.rows(client, query)  # type: ignore[arg-type]
    assert sorted(got) == sorted(expected)


NOW = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)


def _at(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def timed_events() -> list[Obj]:
    base = {"apiVersion": "v1", "kind": "Event"}
    return [
        {
            **base,
            "metadata": {"name": "e1", "namespace": "apps"},
            "type": "Normal",
            "reason": "ReconciliationSucceeded",
            "message": "Reconciliation finished in 1.2s, next run in 10m0s",
            "involvedObject": {"kind": "Kustomization", "name": "apps"},
            "firstTimestamp": _at(timedelta(days=2, hours=1)),
            "lastTimestamp": _at(timedelta(minutes=20)),
            "count": 3,
        },
        {
            **base,
            "metadata": {"name": "e2", "namespace": "apps"},
            "type": "Warning",
            "reason": "BuildFailed",
            "message": "kustomize build failed:\naccumulating resources",
            "involvedObject": {"kind": "Kustomization", "name": "apps"},
            "eventTime": _at(timedelta(seconds=42)).replace("Z", ".123456Z"),
        },
        {
            **base,
            "metadata": {"name": "e3", "namespace": "apps"},
            "type": "Normal",
            "reason": "NewArtifact",
            "message": "stored artifact for commit 'init'",
            "involvedObject": {"kind": "GitRepository", "name": "apps"},
            "series": {"count": 4, "lastObservedTime": _at(timedelta(minutes=5, seconds=7)).replace("Z", ".000001Z")},
            "eventTime": _at(timedelta(hours=5, minutes=3)).replace("Z", ".000001Z"),
        },
        {
            **base,
            "metadata": {"name": "e4", "namespace": "apps"},
            "type": "Normal",
            "reason": "Scheduled",
            "message": "not Flux's",
            "involvedObject": {"kind": "Pod", "name": "x"},
            "lastTimestamp": _at(timedelta(minutes=1)),
        },
        {
            **base,
            "metadata": {"name": "e5", "namespace": "other"},
            "type": "Warning",
            "reason": "Failed",
            "message": "elsewhere",
            "involvedObject": {"kind": "HelmRelease", "name": "web"},
            "lastTimestamp": _at(timedelta(days=400)),
        },
    ]


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (["events", "-n", "apps"], "events_apps.golden"),
        (["events", "-A"], "events_all_namespaces.golden"),
        (["events", "-n", "apps", "--types=warning"], "events_warning.golden"),
        (["events", "-n", "apps", "--for", "GitRepository/apps"], "events_for_gitrepository.golden"),
    ],
)
def test_events_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], golden: str
) -> None:
    client = FakeClient(
        [
            *timed_events(),
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "apps", "namespace": "apps"},
            },
        ]
    )
    use(monkeypatch, client)
    monkeypatch.setattr(events, "_now", lambda: NOW)
    code, out, err = flux(capsys, *args)
    assert (code, err) == (0, "")
    assert_golden(GOLDEN / "events", golden, out)


def test_events_none_found(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    use(monkeypatch, FakeClient([]))
    assert flux(capsys, "events") == (0, "", "✗ No events found in flux-system namespace.\n")
    assert flux(capsys, "events", "-A") == (0, "", "✗ No events found.\n")
    assert flux(capsys, "events", "--for", "Gizmo/x") == (1, "", "✗ 'Gizmo' is not a recognized Flux kind\n")
    assert flux(capsys, "events", "--types", "Normal,Fatal") == (
        1,
        "",
        "✗ type 'Fatal' not supported. Supported types are Normal, Warning\n",
    )
    code, _, err = flux(capsys, "events", "--for", "Kustomization/missing")
    assert (code, err) == (1, '✗ kustomizations.kustomize.toolkit.fluxcd.io "missing" not found\n')


def test_events_helmrelease_with_chart_ref(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """flux2 reads spec.chart.spec.sourceRef only: a HelmRelease with a chartRef fails as flux's does."""
    hr = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"chartRef": {"kind": "OCIRepository", "name": "web"}},
    }
    use(monkeypatch, FakeClient([hr]))
    assert flux(capsys, "events", "-n", "apps", "--for", "HelmRelease/web") == (
        1,
        "",
        "✗ field 'spec.chart.spec.sourceRef.kind' for 'apps/web' not found\n",
    )


def test_events_watch(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """-w: one table per event (the header on the first only), deletions and other kinds left out, until --timeout."""
    client = FakeClient([])
    added = timed_events()
    client.watched = [{"type": "ADDED", "object": e} for e in added] + [{"type": "DELETED", "object": added[0]}]
    use(monkeypatch, client)
    monkeypatch.setattr(events, "_now", lambda: NOW)
    code, out, err = flux(capsys, "events", "-w", "-n", "apps", "--timeout", "1s")
    assert (code, err) == (0, "")
    assert_golden(GOLDEN / "events", "events_watch.golden", out)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 120, "3h2m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (49 * 3600, "2d1h"),
        (8 * 86400, "8d"),
        (2 * 365 * 86400, "2y"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert events.human_duration(seconds) == text


# -- logs: flux2's testdata/logs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flt", "golden"),
    [
        (cl.LogFilter(all_namespaces=True), "all-logs.txt"),
        (cl.LogFilter(namespace="default"), "namespace.txt"),
        (cl.LogFilter(kind="Kustomization"), "kind.txt"),
        (cl.LogFilter(level="error", all_namespaces=True), "log-level.txt"),
        (
            cl.LogFilter(namespace="flux-system", level="error", kind="Kustomization", name="podinfo"),
            "multiple-filters.txt",
        ),
    ],
)
def test_log_lines_flux2(flt: cl.LogFilter, golden: str) -> None:
    """TestLogRequest of flux2: its pod log lines through each filter."""
    lines = (LOGS / "pod-logs.jsonl").read_text().splitlines(keepends=True)
    assert cl.Formatter(flt, pytest.fail).feed_all(lines) == (LOGS / golden).read_text()


def gotk_log_lines() -> list[str]:
    """Lines as gotk's controllers write them (gotk.runtime.logging's JSON formatter and object logger)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(gotk_logging.JsonFormatter())
    logger = logging.getLogger("kustomization")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        log = gotk_logging.object_logger(
            "kustomization", "kustomize.toolkit.fluxcd.io", "Kustomization", "apps", "podinfo", "id-1"
        )
        log.info("Reconciliation finished in 1s, next run in 10m0s")
        log.debug("health check")
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.error("Reconciliation failed", exc_info=True)
        logging.getLogger("kustomization").warning("no object fields")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue().splitlines(keepends=True)


def test_gotk_log_lines() -> None:
    """gotk's JSON fields map onto flux's: controllerKind, name, namespace, msg, error."""
    lines = gotk_log_lines()
    out = cl.Formatter(cl.LogFilter(all_namespaces=True), pytest.fail).feed_all(lines)
    got = out.splitlines()
    stamps = [json.loads(line)["ts"] for line in lines]
    assert got[0] == f"{stamps[0]} info Kustomization/podinfo.apps - Reconciliation finished in 1s, next run in 10m0s "
    assert got[1] == f"{stamps[1]} debug Kustomization/podinfo.apps - health check "
    assert (
        got[2]
        == f"{stamps[2]} error Kustomization/podinfo.apps - Reconciliation failed Traceback (most recent call last):"
    )
    assert got[-2:] == ["RuntimeError: boom", f"{stamps[3]} warn  - no object fields "]
    only = cl.Formatter(cl.LogFilter(namespace="apps", level="error", kind="kustomization"), pytest.fail).feed_all(
        lines
    )
    assert only.startswith(f"{stamps[2]} error Kustomization/podinfo.apps - Reconciliation failed Traceback")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"ts": 5}', "json: cannot unmarshal number into Go struct field ControllerLogEntry.ts of type string"),
        (
            '{"LEVEL": true}',
            "json: cannot unmarshal bool into Go struct field ControllerLogEntry.level of type flags.LogLevel",
        ),
        (
            '{"msg": {"a": 1}}',
            "json: cannot unmarshal object into Go struct field ControllerLogEntry.msg of type string",
        ),
        ("{not json", "invalid character 'n' looking for beginning of object key string"),
        ('{"a": 1', "unexpected end of JSON input"),
        ('{"a": 1} x', "invalid character 'x' after top-level value"),
    ],
)
def test_log_parse_errors(line: str, message: str) -> None:
    """A line encoding/json rejects ends the stream with flux's `parse error:` line."""
    failures: list[str] = []
    fmt = cl.Formatter(cl.LogFilter(all_namespaces=True), failures.append)
    assert fmt.feed_all([line + "\n", '{"msg": "after"}\n']) == ""
    assert failures == [f"parse error: {message}"]
    assert fmt.stopped


def test_log_entry_fields() -> None:
    entry = cl.parse_entry(
        '{"Ts": "t", "ts": "u", "reconciler kind": "K", "controllerKind": "C", "name": null, "extra": [1]}'
    )
    assert (entry.ts, entry.kind, entry.controller_kind, entry.name) == ("u", "K", "C", "")
    assert cl.render(entry) == "u  K -  \n"
    fmt = cl.Formatter(cl.LogFilter(all_namespaces=True), pytest.fail)
    assert fmt.feed("plain text line\n") == ""
    assert fmt.feed("{" + "x" * cl.MAX_LINE + "\n") == "" and fmt.stopped


def test_pick_pod() -> None:
    def pod(
        name: str,
        phase: str,
        *,
        ready: str | None = None,
        node: str = "n",
        restarts: int = 0,
        created: str = "2026-01-01T00:00:00Z",
    ) -> Obj:
        conds = [{"type": "Ready", "status": "True", "lastTransitionTime": ready}] if ready else []
        return {
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conds, "containerStatuses": [{"restartCount": restarts}]},
        }

    pending, unassigned = pod("pending", "Pending"), pod("unassigned", "Running", node="")
    older_ready, newer_ready = (
        pod("old", "Running", ready="2026-01-01T00:00:00Z"),
        pod("new", "Running", ready="2026-02-01T00:00:00Z"),
    )
    assert cl.pick_pod([pending, unassigned, newer_ready, older_ready]) == older_ready
    assert cl.pick_pod([pending, pod("running", "Running")])["metadata"]["name"] == "running"  # type: ignore[index]
    assert cl.pick_pod([pod("a", "Running", restarts=1), pod("b", "Running", restarts=3)])["metadata"]["name"] == "b"  # type: ignore[index]
    assert cl.pick_pod([]) is None


def flux_deployment(name: str, containers: int = 1) -> list[Obj]:
    labels = {"app": name}
    deploy = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "flux-system", "labels": {"app.kubernetes.io/part-of": "flux"}},
        "spec": {"template": {"metadata": {"labels": labels}}},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{name}-0", "namespace": "flux-system", "labels": labels},
        "spec": {"nodeName": "n", "containers": [{"name": f"c{i}"} for i in range(containers)]},
        "status": {"phase": "Running"},
    }
    return [deploy, pod]


def test_logs_from_pods(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """One pod per Deployment, read in turn through the pod log API; one that fails is reported, then the command
    fails."""
    requests: list[tuple[str, dict[str, str]]] = []
    lines = (LOGS / "pod-logs.jsonl").read_text().splitlines(keepends=True)

    async def stream(cfg: Any, namespace: str, pod: str, params: dict[str, str], deadline: float) -> AsyncIterator[str]:
        requests.append((pod, dict(params)))
        if pod == "broken-0":
            raise ApiError(400, "BadRequest", 'container "manager" in pod "broken-0" is waiting to start')
        for line in lines:
            yield line

    monkeypatch.setattr(cl, "stream_pod_log", stream)
    use(
        monkeypatch,
        FakeClient([*flux_deployment("source-controller"), *flux_deployment("helm-controller", containers=2)]),
    )
    code, out, err = flux(capsys, "logs", "-A", "--tail", "10", "--since", "90s")
    assert (code, err) == (0, "")
    assert out == (LOGS / "all-logs.txt").read_text() * 2
    assert sorted(requests) == [
        ("helm-controller-0", {"container": "manager", "sinceSeconds": "90", "tailLines": "10"}),
        ("source-controller-0", {"sinceSeconds": "90", "tailLines": "10"}),
    ]
    use(monkeypatch, FakeClient([*flux_deployment("source-controller"), *flux_deployment("broken")]))
    code, out, err = flux(capsys, "logs", "--kind=kustomization")
    assert code == 1
    assert out == (LOGS / "kind.txt").read_text()
    assert err == (
        'failed getting logs: container "manager" in pod "broken-0" is waiting to start\n'
        "✗ failed to collect logs from all Flux pods\n"
    )


def local_state(tmp_path: Path, log_lines: list[str]) -> Path:
    """A `flux local up` state dir: kubeconfig, state.json recording the controllers process and its log."""
    log = tmp_path / "logs" / "controllers.log"
    log.parent.mkdir()
    log.write_text("".join(log_lines))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    state = {
        "version": 1,
        "components": [
            {"name": "etcd", "log": str(tmp_path / "logs" / "etcd.log")},
            {"name": "controllers", "pid": 1, "log": str(log)},
        ],
    }
    (tmp_path / "state.json").write_text(json.dumps(state))
    return kubeconfig


def test_logs_local_controllers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No Flux pods, but a local control plane's kubeconfig: its controllers' log file is read, filtered alike."""
    flux2_lines = (LOGS / "pod-logs.jsonl").read_text().splitlines(keepends=True)
    kubeconfig = local_state(tmp_path, ["starting the controllers\n", *flux2_lines])
    use(monkeypatch, FakeClient([]))
    code, out, err = flux(capsys, "--kubeconfig", str(kubeconfig), "logs", "--all-namespaces")
    assert (code, out, err) == (0, (LOGS / "all-logs.txt").read_text(), "")
    code, out, _ = flux(capsys, "logs", "--kubeconfig", str(kubeconfig), "--level=error", "-A", "--tail=2")
    assert out == "".join((LOGS / "log-level.txt").read_text().splitlines(keepends=True)[-1:])
    code, out, _ = flux(capsys, "logs", "--kubeconfig", str(kubeconfig), "-A", "--since-time", "2022-08-02T12:56:00Z")
    assert out == "".join((LOGS / "all-logs.txt").read_text().splitlines(keepends=True)[1:])
    code, out, _ = flux(capsys, "logs", "--kubeconfig", str(kubeconfig), "-A", "--since", "1h")
    assert (code, out) == (0, "")
    assert flux(
        capsys, "logs", "--kubeconfig", str(kubeconfig), "--since", "1h", "--since-time", "2022-08-02T12:56:00Z"
    ) == (1, "", "✗ at most one of `sinceTime` or `sinceDuration` may be specified\n")
    assert flux(capsys, "logs", "--kubeconfig", str(kubeconfig), "--since-time", "yesterday") == (
        1,
        "",
        "✗ yesterday is not a valid (RFC3339) time\n",
    )
    assert flux(capsys, "logs", "--kubeconfig", str(tmp_path / "elsewhere" / "kubeconfig"), "-A") == (
        1,
        "",
        '✗ no Flux pods found in namespace "flux-system"\n',
    )
    assert flux(capsys, "logs", "extra") == (1, "", "✗ no argument required\n")


async def test_follow_local_log(tmp_path: Path) -> None:
    """-f on the local log: lines appended later (a partial line once complete), a truncated file from its start."""
    path = tmp_path / "controllers.log"
    path.write_text("old\n")
    got: list[str] = []

    async def collect() -> None:
        async for line in cl.follow_file(path, path.stat().st_size, time.monotonic() + 1.5, interval=0.05):
            got.append(line)

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.2)
    with path.open("a") as f:
        f.write("one\ntw")
    await asyncio.sleep(0.2)
    with path.open("a") as f:
        f.write("o\n")
    await asyncio.sleep(0.2)
    path.write_text("new\n")
    await task
    assert got == ["one\n", "two\n", "new\n"]


def test_tail_lines() -> None:
    assert cl.tail_lines(b"a\nb\nc\npartial", 2) == (["b\n", "c\n"], 6)
    assert cl.tail_lines(b"a\nb\n", 0) == ([], 4)
    assert cl.tail_lines(b"a\nb\n", -1) == (["a\n", "b\n"], 4)
    assert cl.parse_rfc3339("2022-08-02T12:56:00.123456789+02:00") == datetime(
        2022, 8, 2, 10, 56, 0, 123456, tzinfo=UTC
    )


# -- stats -----------------------------------------------------------------------------------------


def stats_objects() -> list[Obj]:
    def obj(api: str, kind: str, name: str, ns: str = "flux-system", **rest: Any) -> Obj:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns}, **rest}

    src = "source.toolkit.fluxcd.io/v1"
    ready_false = {"conditions": [{"type": "Ready", "status": "False"}]}
    return [
        obj(src, "GitRepository", "a", status={"artifact": {"size": 1000}}),
        obj(src, "GitRepository", "b", status={"artifact": {"size": 536}, **ready_false}),
        obj(src, "GitRepository", "c", spec={"suspend": True}, status={"artifact": {"size": 5 * 1024 * 1024}}),
        obj(src, "GitRepository", "d", ns="apps", status={"artifact": {"size": 3 * 1024**3}}),
        obj(src, "OCIRepository", "o", status={"artifact": {"size": 512}}),
        obj(src, "HelmChart", "h", status=ready_false),
        obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "k", spec={"suspend": True}, status=ready_false),
        obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "k2", ns="apps"),
        obj("notification.toolkit.fluxcd.io/v1beta3", "Alert", "al"),
    ]


@pytest.mark.parametrize(
    ("args", "golden"), [(["stats"], "stats.golden"), (["stats", "-A"], "stats_all_namespaces.golden")]
)
def test_stats_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], golden: str
) -> None:
    kinds_served = set(stats.KINDS) - {"ImagePolicy"}  # a kind the server does not serve counts zero
    use(monkeypatch, FakeClient(stats_objects(), served=kinds_served))
    code, out, err = flux(capsys, *args)
    assert (code, err) == (0, "")
    assert_golden(GOLDEN / "stats", golden, out)
    assert flux(capsys, "stats", "x") == (1, "", '✗ unknown command "x" for "flux stats"\n')


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "-"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 * 5 + 1, "5.0 MiB"),
        (1024**5 * 2, "2.0 PiB"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert stats.format_size(size) == text


def test_logs_options() -> None:
    assert logs.options(False, -1, 1_500_000_000, "").since_seconds == 2
    assert logs.options(False, -1, 0, "").since_seconds is None
    with pytest.raises(CommandError):
        logs.options(False, -1, 1, "2022-08-02T12:56:00Z")
