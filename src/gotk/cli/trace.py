"""`flux trace <resource> <name>` / `flux trace NAME --kind K --api-version V`: which Kustomization or
HelmRelease manages an object, from which source and revision (flux2's cmd/flux/trace.go).

The object is found either from `--kind`/`--api-version` (both or neither; the kind matched in any case and
printed as given) or from kubectl-style arguments (`deployment podinfo`, `pod/a cm/b`, resolved through
discovery by plural, singular, short name or kind, optionally `.group`). Its manager is read from the
`kustomize.toolkit.fluxcd.io/name|namespace` labels (then `helm.toolkit.fluxcd.io/…`), on the object or,
walking ownerReferences, on an owner. Reports go to stdout with `---` between objects; an object that cannot be
traced is one line on stderr (no newline, as flux prints it) and does not fail the command.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from gotk.cli import kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines.tracereport import helm_report, kustomization_report
from gotk.cli.flags import with_globals
from gotk.cli.goflags import FluxCommand
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import (
    EXTERNALARTIFACTS,
    GITREPOSITORIES,
    HELMCHARTS,
    HELMRELEASES,
    HELMREPOSITORIES,
    KUSTOMIZATIONS,
    OCIREPOSITORIES,
    Resource,
)

Obj = dict[str, Any]
KS_GROUP = "kustomize.toolkit.fluxcd.io"
HELM_GROUP = "helm.toolkit.fluxcd.io"
USAGE = "either `<resource>/<name>` or `<resource> <name>` is required as an argument"
_SOURCES = {"GitRepository": GITREPOSITORIES, "OCIRepository": OCIREPOSITORIES, "ExternalArtifact": EXTERNALARTIFACTS}

HELP = """The trace command shows how one or more objects are managed by Flux,
from which source and revision they come, and what the latest reconciliation status is.

You can also trace multiple objects with different resource kinds using <resource>/<name> multiple times.

⚠️  Please note that this command is in preview and under development.
While we try our best to not introduce breaking changes, they may occur when
we adapt to new features and/or find better ways to facilitate what it does.

\b
Examples:
  # Trace a Kubernetes Deployment
  flux trace -n apps deployment my-app

\b
  # Trace a Kubernetes Pod and a config map
  flux trace -n redis pod/redis-master-0 cm/redis

\b
  # Trace a Kubernetes global object
  flux trace namespace redis

\b
  # Trace a Kubernetes custom resource
  flux trace -n redis helmrelease redis

\b
  # API Version and Kind can also be specified explicitly
  # Note that either both, kind and api-version, or neither have to be specified.
  flux trace redis --kind=helmrelease --api-version=helm.toolkit.fluxcd.io/v2 -n redis"""


class TraceError(Exception):
    """Why one object could not be traced (printed, then the next object is traced)."""


def _dig(obj: Any, *path: str) -> Any:
    node = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# -- discovery -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiResource:
    """One entry of an APIResourceList, with the names kubectl resolves."""

    resource: Resource
    singular: str
    short_names: tuple[str, ...]

    def answers_to(self, name: str) -> bool:
        lowered = name.lower()
        res = self.resource
        return lowered in (res.plural, self.singular or res.kind.lower(), res.kind.lower(), *self.short_names)


async def group_version_resources(client: Client, api_version: str) -> list[ApiResource]:
    """The resources of one group/version (`v1`, `apps/v1`); none when the server does not serve it."""
    group, _, version = api_version.rpartition("/")
    path = f"/apis/{api_version}" if group else f"/api/{version}"
    try:
        doc = await client.get_raw(path)
    except ApiError as exc:
        if exc.not_found:
            return []
        raise
    out = []
    for item in (doc or {}).get("resources") or []:
        name = _text(item.get("name"))
        if not name or "/" in name:
            continue
        res = Resource(group, version, name, _text(item.get("kind")), bool(item.get("namespaced")))
        shorts = tuple(_text(s).lower() for s in item.get("shortNames") or [])
        out.append(ApiResource(res, _text(item.get("singularName")).lower(), shorts))
    return out


async def served_group_versions(client: Client) -> list[str]:
    """Every group/version the server serves, core first, then each group's preferred version first."""
    out: list[str] = []
    core = await client.get_raw("/api")
    out.extend(_text(v) for v in (core or {}).get("versions") or [])
    groups = await client.get_raw("/apis")
    for group in (groups or {}).get("groups") or []:
        preferred = _text(_dig(group, "preferredVersion", "groupVersion"))
        if preferred:
            out.append(preferred)
        out.extend(
            _text(v.get("groupVersion")) for v in group.get("versions") or [] if v.get("groupVersion") != preferred
        )
    return out


class Discovery:
    """The server's resources, read once, resolving kubectl resource arguments (builder.mappingFor)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._all: list[ApiResource] | None = None

    async def all(self) -> list[ApiResource]:
        if self._all is None:
            versions = await served_group_versions(self.client)
            tables = await asyncio.gather(*(group_version_resources(self.client, gv) for gv in versions))
            self._all = [r for table in tables for r in table]
        return self._all

    async def resolve(self, arg: str) -> Resource:
        """`deployments`, `deploy`, `Deployment`, `deployments.apps`, `deployments.v1.apps` -> the resource."""
        everything = await self.all()
        resource, _, group = arg.partition(".")
        parts = arg.split(".")
        if len(parts) >= 3:  # resource.version.group, fully specified
            version, full_group = parts[1], ".".join(parts[2:])
            for api in everything:
                res = api.resource
                if res.group == full_group and res.version == version and api.answers_to(parts[0]):
                    return res
        candidates = [
            api for api in everything if api.answers_to(resource) and (not group or api.resource.group == group)
        ]
        if not candidates and group:
            candidates = [api for api in everything if api.answers_to(arg)]
        if candidates:
            return candidates[0].resource
        raise TraceError(f'the server doesn\'t have a resource type "{resource}"')


# -- finding the objects ---------------------------------------------------------------------------


def parse_group_version(text: str) -> tuple[str, str]:
    """schema.ParseGroupVersion: `v1`, `apps/v1`, '' or `/` (empty); more slashes are an error."""
    if text in ("", "/"):
        return "", ""
    if text.count("/") == 0:
        return "", text
    if text.count("/") == 1:
        group, version = text.split("/")
        return group, version
    raise ValueError(f"unexpected GroupVersion string: {text}")


async def get_object_static(client: Client, args: Sequence[str], kind: str, api_version: str, namespace: str) -> Obj:
    """getObjectStatic: the object NAME of --kind/--api-version in the namespace; the kind stays as typed."""
    if not args:
        raise CommandError("object name is required")
    if not kind:
        raise CommandError("object kind is required (--kind)")
    if not api_version:
        raise CommandError("object apiVersion is required (--api-version)")
    try:
        group, version = parse_group_version(api_version)
    except ValueError as exc:
        raise CommandError(f"invaild apiVersion: {exc}") from None
    gv = f"{group}/{version}" if group else version
    found = [
        api.resource for api in await group_version_resources(client, gv) if api.resource.kind.lower() == kind.lower()
    ]
    if not found:
        raise CommandError(f'failed to find object: no matches for kind "{kind}" in version "{gv}"')
    res = found[0]
    try:
        obj = await client.get(res, args[0], namespace if res.namespaced else None)
    except ApiError as exc:
        raise CommandError(f"failed to find object: {exc}") from None
    return {**obj, "apiVersion": res.api_version, "kind": kind}


def _split_types(arg: str) -> list[str]:
    """SplitResourceArgument: comma separated types, each once."""
    out: list[str] = []
    for item in arg.split(","):
        if item not in out:
            out.append(item)
    return out


def _aggregate(errors: Sequence[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


async def get_objects_dynamic(client: Client, args: Sequence[str], namespace: str) -> list[Obj]:
    """getObjectDynamic: kubectl's `(<type> <name>...|<type>/<name>...)` arguments, read as cli-runtime's builder
    reads them; a failed get is `x: <error>`, as flux words it."""
    args = list(args)
    if len(args) >= 2 and len(_split_types(args[0])) > 1:  # a,b name -> a/name b/name
        args = [f"{t}/{n}" for t in _split_types(args[0]) for n in args[1:]]
    tuples: list[tuple[str, str]] = []
    slashed = sum(1 for a in args if "/" in a)
    if slashed and slashed != len(args):
        raise CommandError(
            "there is no need to specify a resource type as a separate argument when passing arguments in "
            "resource/name form (e.g. 'flux get resource/<resource_name>' instead of 'flux get resource "
            "resource/<resource_name>'"
        )
    if slashed:
        for arg in args:
            seg = arg.split("/")
            if len(seg) != 2:
                raise CommandError("arguments in resource/name form may not have more than one slash")
            if not seg[0] or not seg[1] or len(_split_types(seg[0])) != 1:
                raise CommandError("arguments in resource/name form must have a single resource and name")
            tuples.append((seg[0], seg[1]))
    elif not args:
        raise CommandError(USAGE)
    discovery = Discovery(client)
    try:
        if not tuples:
            types = _split_types(args[0])
            for t in types:
                await discovery.resolve(t)
            if len(args) == 1:
                raise CommandError("resource(s) were provided, but no name was specified")
            if len(types) > 1:
                raise CommandError("you must specify only one resource")
            tuples = [(args[0], name) for name in args[1:]]
        resolved = {t: await discovery.resolve(t) for t, _ in tuples}
    except TraceError as exc:
        raise CommandError(str(exc)) from None
    objects: list[Obj] = []
    errors: list[str] = []
    for type_arg, name in tuples:
        res = resolved[type_arg]
        try:
            objects.append(await client.get(res, name, namespace if res.namespaced else None))
        except ApiError as exc:
            errors.append(str(exc))
    if errors:
        raise CommandError(f"x: {_aggregate(errors)}")
    return objects


# -- tracing ---------------------------------------------------------------------------------------


def managed_by(obj: Obj, group: str) -> tuple[str, str] | None:
    """isManagedByFlux: (namespace, name) from the `<group>/name` and `<group>/namespace` labels."""
    labels = _dig(obj, "metadata", "labels") or {}
    name = _text(labels.get(f"{group}/name"))
    if not name:
        return None
    return _text(labels.get(f"{group}/namespace")), name


async def owner_managed_by(client: Client, obj: Obj, group: str) -> tuple[str, str] | None:
    """isOwnerManagedByFlux: the object's labels, else its owners' (recursively), as flux walks them."""
    found = managed_by(obj, group)
    if found is not None:
        return found
    namespace = _text(_dig(obj, "metadata", "namespace"))
    for ref in _dig(obj, "metadata", "ownerReferences") or []:
        try:
            parse_group_version(_text(ref.get("apiVersion")))
            res = await client.resource_for(_text(ref.get("apiVersion")), _text(ref.get("kind")))
            owner = await client.get(res, _text(ref.get("name")), namespace if res.namespaced else None)
        except (ValueError, ApiError):
            return None
        found = managed_by(owner, group)
        if found is not None:
            return found
        if _dig(owner, "metadata", "ownerReferences"):
            return await owner_managed_by(client, owner, group)
    return None


async def _get(client: Client, res: Resource, namespace: str, name: str, what: str) -> Obj:
    try:
        return await client.get(res, name, namespace or None)
    except ApiError as exc:
        raise TraceError(f"failed to find {what}: {exc}") from None


def _object_name(obj: Obj) -> tuple[str, str]:
    name = f"{_text(obj.get('kind'))}/{_text(_dig(obj, 'metadata', 'name'))}"
    return name, _text(_dig(obj, "metadata", "namespace"))


async def trace_kustomization(client: Client, ks_ref: tuple[str, str], obj: Obj) -> str:
    ks = await _get(client, KUSTOMIZATIONS, *ks_ref, "kustomization")
    ref = _dig(ks, "spec", "sourceRef") or {}
    kind = _text(ref.get("kind"))
    source = None
    if kind in _SOURCES:
        namespace = _text(ref.get("namespace")) or _text(_dig(ks, "metadata", "namespace"))
        source = await _get(client, _SOURCES[kind], namespace, _text(ref.get("name")), kind)
        source.setdefault("kind", kind)
        _check_external(source)
    return kustomization_report(*_object_name(obj), ks, source)


def _check_external(source: Obj) -> None:
    if source.get("kind") == "ExternalArtifact" and _dig(source, "spec", "sourceRef") is None:
        md = source.get("metadata") or {}
        raise TraceError(
            f"ExternalArtifact {_text(md.get('namespace'))}/{_text(md.get('name'))} is missing spec.sourceRef"
        )


async def trace_helm(client: Client, hr_ref: tuple[str, str], obj: Obj) -> str:
    hr = await _get(client, HELMRELEASES, *hr_ref, "HelmRelease")
    hr_namespace = _text(_dig(hr, "metadata", "namespace"))
    chart = None
    chart_name = _text(_dig(hr, "status", "helmChart"))
    if chart_name:
        parts = chart_name.split("/")
        namespace, name = (parts[0], parts[1]) if len(parts) == 2 else ("", chart_name)
        chart = await _get(client, HELMCHARTS, namespace, name, "HelmChart")
    source = None
    spec_chart = _dig(hr, "spec", "chart")
    if spec_chart is None:
        ref = _dig(hr, "spec", "chartRef")
        kind = _text(_dig(ref, "kind"))
        if isinstance(ref, Mapping) and kind in ("OCIRepository", "ExternalArtifact"):
            namespace = _text(ref.get("namespace")) or hr_namespace
            source = await _get(client, _SOURCES[kind], namespace, _text(ref.get("name")), kind)
    else:
        ref = _dig(spec_chart, "spec", "sourceRef") or {}
        kind = _text(ref.get("kind"))
        sources = {"GitRepository": GITREPOSITORIES, "HelmRepository": HELMREPOSITORIES}
        if kind in sources:
            namespace = _text(ref.get("namespace")) or hr_namespace
            source = await _get(client, sources[kind], namespace, _text(ref.get("name")), kind)
    if source is not None:
        source.setdefault("kind", kind)
        _check_external(source)
    return helm_report(*_object_name(obj), hr, chart, source)


async def trace_object(client: Client, obj: Obj) -> str:
    """traceObject: the report of the Kustomization managing the object, else of its HelmRelease."""
    ks = await owner_managed_by(client, obj, KS_GROUP)
    if ks is not None:
        return await trace_kustomization(client, ks, obj)
    hr = await owner_managed_by(client, obj, HELM_GROUP)
    if hr is not None:
        return await trace_helm(client, hr, obj)
    raise TraceError("object not managed by Flux")


async def trace_objects(client: Client, objects: Sequence[Obj]) -> None:
    """Print each object's report (stdout), `---` between them, and a failure as flux does (stderr, no newline)."""
    for i, obj in enumerate(objects):
        try:
            click.echo(await trace_object(client, obj), nl=False)
        except TraceError as exc:
            md = obj.get("metadata") or {}
            sys.stderr.write(
                f"failed to trace {_text(obj.get('kind'))}/{_text(md.get('name'))} in namespace "
                f"{_text(md.get('namespace'))}: {exc}"
            )
            sys.stderr.flush()
        if i < len(objects) - 1:
            click.echo("---")


@click.command(
    "trace", cls=FluxCommand, help=HELP, short_help="Trace in-cluster objects throughout the GitOps delivery pipeline"
)
@click.argument("args", nargs=-1, metavar="<resource> <name> [<name> ...]")
@click.option("--kind", default="", help="the Kubernetes object kind, e.g. Deployment'")
@click.option("--api-version", default="", help="the Kubernetes object API version, e.g. 'apps/v1'")
@with_globals
def trace(g: Globals, args: tuple[str, ...], kind: str, api_version: str) -> None:
    async def body(client: Client) -> None:
        if kind or api_version:
            objects = [await get_object_static(client, args, kind, api_version, g.namespace)]
        else:
            objects = await get_objects_dynamic(client, args, g.namespace)
        await trace_objects(client, objects)

    kubeclient.run(g, body)
