"""The engine of `flux diff helmrelease`: render a HelmRelease's next release locally and compare it with the
cluster — something Flux's CLI cannot do (flux2#2808).

The chart is the artifact of the HelmRelease's source (its HelmChart, or the `chartRef`), or a local chart;
the values are composed as the helm controller composes them (`gotk.helm.values`, targetPath entries through
Helm's --set parser); the manifest is rendered by Helm's own code in libgotkhelm with the HelmRelease's
post-renderers, commonMetadata and Flux's origin labels, the CRDs included as the next action's `crds` policy
says and the hooks left out (they are not part of the release's objects). Each object then gets a server-side
dry-run apply as `helm-controller` (kdiff, with the driftDetection ignore rules and opt-out annotation), and the
objects of `status.inventory` the render no longer has are reported as deleted (CRDs never are: Helm keeps
them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gotk.api import meta
from gotk.cli.engines import kdiff
from gotk.cli.output import CommandError
from gotk.helm import drift, postrender
from gotk.helm import values as hv
from gotk.helm.actions import options
from gotk.helm.lib import HelmActionError, HelmLib, HelmLibNotFoundError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import EXTERNALARTIFACTS, HELMCHARTS, OCIREPOSITORIES, Resource
from gotk.runtime import artifacts, conditions

Obj = dict[str, Any]
MAX_CHART = 50 << 20
SOURCES: dict[str, Resource] = {
    "HelmChart": HELMCHARTS,
    "OCIRepository": OCIREPOSITORIES,
    "ExternalArtifact": EXTERNALARTIFACTS,
}
HELM = kdiff.Policy(field_manager="helm-controller", exclusions=drift.EXCLUSIONS, if_not_present={}, force={})
CRD_GROUP_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")


class DiffError(Exception):
    """The release cannot be rendered: no chart yet, values that do not resolve, a template error."""


@dataclass(frozen=True)
class Rendered:
    """What the next release would apply, and under which name and namespace."""

    release_name: str
    namespace: str
    objects: list[Obj]


def helm_lib() -> HelmLib:
    """libgotkhelm, or one line saying how to build it."""
    try:
        return HelmLib()
    except HelmLibNotFoundError as exc:
        raise CommandError(str(exc)) from None


def chart_source(hr: Mapping[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of the object whose artifact is the chart."""
    spec, ns = hr.get("spec") or {}, str(hr["metadata"].get("namespace") or "")
    ref = spec.get("chartRef")
    if ref:
        return str(ref.get("kind")), str(ref.get("namespace") or ns), str(ref.get("name"))
    if not spec.get("chart"):
        raise DiffError("one of spec.chart or spec.chartRef is required")
    made = str((hr.get("status") or {}).get("helmChart") or "")
    if "/" in made:
        chart_ns, name = made.split("/", 1)
        return "HelmChart", chart_ns, name
    source_ns = ((spec["chart"].get("spec") or {}).get("sourceRef") or {}).get("namespace") or ns
    return "HelmChart", str(source_ns), hv.chart_object_name(hr)


async def fetch_chart(client: Client, hr: Mapping[str, Any], workdir: Path) -> Path:
    """Download the chart artifact of the HelmRelease's source into `workdir` (its digest checked)."""
    kind, ns, name = chart_source(hr)
    resource = SOURCES.get(kind)
    if resource is None:
        raise DiffError(f"unsupported chartRef kind '{kind}'")
    source = await client.get_or_none(resource, name, ns)
    if source is None:
        raise DiffError(f"{kind} '{ns}/{name}' not found")
    artifact = (source.get("status") or {}).get("artifact")
    if not artifact:
        ready = (conditions.get(source, meta.READY) or {}).get("message") or "no artifact yet"
        raise DiffError(f"{kind} '{ns}/{name}' is not ready: {ready}")
    path = workdir / "chart.tgz"
    try:
        await artifacts.download(str(artifact["url"]), str(artifact["digest"]), path, max_size=MAX_CHART, retries=1)
    except (OSError, artifacts.ArtifactError) as exc:
        raise DiffError(f"failed to fetch the chart of {kind} '{ns}/{name}': {exc}") from None
    return path


def crds_policy(hr: Mapping[str, Any]) -> str:
    """The `crds` policy of the next action: the upgrade's when a release exists, else the install's."""
    released = bool((hr.get("status") or {}).get("history"))
    return str((options.upgrade(hr) if released else options.install(hr))["crds"])


async def render(client: Client, lib: HelmLib, hr: Mapping[str, Any], chart: Path) -> Rendered:
    """The objects the next release would apply, post-rendered, with the ownership metadata Helm adds."""
    spec, ns = hr.get("spec") or {}, str(hr["metadata"].get("namespace") or "")
    try:
        values = await hv.resolve(client, ns, spec, hv.helm_setter(lib))
    except (hv.ValuesError, hv.UnsupportedKindError) as exc:
        raise DiffError(f"could not resolve chart values: {exc}") from None
    name, target_ns = hv.release_name(hr), str(spec.get("targetNamespace") or ns)
    skip_schema = bool((spec.get("upgrade") or spec.get("install") or {}).get("disableSchemaValidation"))
    try:
        manifest = await asyncio.to_thread(
            lib.template,
            chart,
            values,
            release_name=name,
            namespace=target_ns,
            disable_hooks=True,
            skip_crds=crds_policy(hr) == "Skip",
            skip_schema_validation=skip_schema,
            post_rendering=postrender.request(hr),
            post_render_strategy=str(spec.get("postRenderStrategy") or ""),
        )
    except HelmActionError as exc:
        raise DiffError(f"failed to render the chart: {exc.message}") from None
    return Rendered(name, target_ns, drift.release_objects(manifest, name, target_ns))


async def diff(client: Client, hr: Mapping[str, Any], rendered: Rendered) -> kdiff.Result:
    """Dry-run every rendered object as `helm-controller`; what the inventory has and the render lacks goes."""
    spec = hr.get("spec") or {}
    rules = (spec.get("driftDetection") or {}).get("ignore") or []
    objects = []
    for obj in rendered.objects:
        if await _cluster_scoped(client, obj):
            obj["metadata"].pop("namespace", None)
        objects.append(obj)
    result, seen = await kdiff.diff_objects(client, objects, rules, HELM)
    entries = ((hr.get("status") or {}).get("inventory") or {}).get("entries")
    if entries and not result.errors:
        kdiff.stale(result, entries, seen, keep=lambda m: (m[2], m[3]) == CRD_GROUP_KIND)
    return result


async def _cluster_scoped(client: Client, obj: Obj) -> bool:
    try:
        res = await client.resource_for(str(obj.get("apiVersion")), str(obj.get("kind")))
    except ApiError:  # an unknown kind: the dry run reports it
        return False
    return not res.namespaced
