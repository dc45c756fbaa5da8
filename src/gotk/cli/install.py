"""`flux install`: generate the installation (install_manifests) and print it or apply it to the cluster.

Applying is server-side apply with field manager `flux`: Namespace and CRDs first (waiting until the CRDs
are Established), then the rest, one `Kind/namespace/name created|configured|unchanged` line per object,
then it waits for the Deployments to become ready, as flux2's cmd/flux/install.go does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from gotk.cli import check, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.engines import install_manifests as manifests
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.kinds_cli import dig, find_condition, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ResourceNotFound
from gotk.kube.resources import CRDS, DEPLOYMENTS

FIELD_MANAGER = "flux"
FIRST_STAGE = ("Namespace", "CustomResourceDefinition")
POLL = 1.0


def object_id(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name`, or `Kind/name` for cluster-scoped objects (fluxcd/pkg/ssa's format)."""
    meta = obj["metadata"]
    ns = meta.get("namespace")
    return f"{obj['kind']}/{ns}/{meta['name']}" if ns else f"{obj['kind']}/{meta['name']}"


async def apply_objects(client: Client, objects: Sequence[dict[str, Any]]) -> list[str]:
    """Server-side apply each object; return `<id> created|configured|unchanged` per object."""
    lines = []
    for obj in objects:
        res = await client.resource_for(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        namespace = meta.get("namespace") if res.namespaced else None
        before = await client.get_or_none(res, meta["name"], namespace)
        after = await client.apply(res, obj, field_manager=FIELD_MANAGER, force=True)
        if before is None:
            action = "created"
        elif dig(before, "metadata", "resourceVersion") != dig(after, "metadata", "resourceVersion"):
            action = "configured"
        else:
            action = "unchanged"
        lines.append(f"{object_id(obj)} {action}")
    return lines


async def wait_established(client: Client, names: Sequence[str], deadline: float) -> None:
    """Wait until every named CRD reports Established=True (then its API is served)."""
    pending = set(names)
    while pending:
        for name in sorted(pending):
            crd = await client.get_or_none(CRDS, name)
            established = find_condition(crd, "Established") if crd else None
            if established is not None and established.get("status") == "True":
                pending.discard(name)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise CommandError(f"install failed: CRDs not established: {', '.join(sorted(pending))}")
        await asyncio.sleep(0.2)
    client.invalidate_discovery()


async def wait_deployments(client: Client, namespace: str, names: Sequence[str], deadline: float) -> bool:
    """Print flux's `<name>: deployment ready|not ready` lines once all are ready or the time is up."""
    pending = set(names)
    while pending and time.monotonic() < deadline:
        for name in sorted(pending):
            deploy = await client.get_or_none(DEPLOYMENTS, name, namespace)
            if deploy is not None and check.deployment_ready(deploy):
                pending.discard(name)
        if pending:
            await asyncio.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
    for name in names:
        if name in pending:
            output.failure(f"{name}: deployment not ready")
        else:
            output.success(f"{name}: deployment ready")
    return not pending


FLUX_IMAGES = "ghcr.io/fluxcd/"


async def flux_controllers(client: Client, namespace: str) -> list[str]:
    """The Deployments of `namespace` that run Flux's own controller images (a cluster Flux runs today)."""
    found = await client.list(DEPLOYMENTS, namespace)
    names = []
    for deployment in found.get("items") or []:
        containers = dig(deployment, "spec", "template", "spec", "containers") or []
        if any(text(c.get("image")).startswith(FLUX_IMAGES) for c in containers):
            names.append(text(dig(deployment, "metadata", "name")))
    return sorted(names)


async def replace_flux_controllers(client: Client, namespace: str, names: Sequence[str], deadline: float) -> None:
    """Delete the Deployments of Flux's own controllers that gotk's take the place of (--force), and wait until
    they are gone: a Deployment cannot be turned into another's shape in place (its strategy, its selector)."""
    for name in names:
        output.action(f"replacing Flux's {name} with gotk's")
        try:
            await client.delete(DEPLOYMENTS, name, namespace)
        except ResourceNotFound:
            continue
    for name in names:
        while await client.get_or_none(DEPLOYMENTS, name, namespace) is not None:
            if time.monotonic() > deadline:
                raise CommandError(f"timeout waiting for Flux's {name} to be deleted")
            await asyncio.sleep(0.5)


async def guard_existing(client: Client, force: bool, namespace: str = "flux-system") -> None:
    """Refuse to override a bootstrapped installation, one managed by another tool, or Flux's own controllers
    (without --force; with it, gotk's controllers take the place of Flux's and every object stays)."""
    crd = await client.get_or_none(CRDS, "gitrepositories.source.toolkit.fluxcd.io")
    labels = dig(crd, "metadata", "labels") or {} if crd else {}
    version = text(labels.get("app.kubernetes.io/version"))
    if "kustomize.toolkit.fluxcd.io/namespace" in labels:
        raise CommandError(
            f"this cluster has already been bootstrapped with Flux {version}! Please use 'flux bootstrap' to upgrade"
        )
    manager = text(labels.get("app.kubernetes.io/managed-by"))
    if crd and manager not in ("", "flux") and not force:
        raise CommandError(f"Flux {version} has been installed on this cluster with {manager}! Use --force to override")
    running = await flux_controllers(client, namespace)
    if running and not force:
        raise CommandError(
            f"Flux's own controllers run in the {namespace} namespace ({', '.join(running)}): use --force to "
            "replace them with gotk's; every Flux object, CRD and Helm release is kept"
        )


async def install_objects(
    client: Client, opts: manifests.Options, objects: Sequence[dict[str, Any]], *, force: bool, deadline: float
) -> None:
    await guard_existing(client, force, opts.namespace)
    ours = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    theirs = [n for n in await flux_controllers(client, opts.namespace) if n in ours]
    await replace_flux_controllers(client, opts.namespace, theirs, deadline)
    first = [o for o in objects if o["kind"] in FIRST_STAGE]
    rest = [o for o in objects if o["kind"] not in FIRST_STAGE]
    for line in await apply_objects(client, first):
        click.echo(line, err=True)
    crds = [o["metadata"]["name"] for o in first if o["kind"] == "CustomResourceDefinition"]
    await wait_established(client, crds, deadline)
    for line in await apply_objects(client, rest):
        click.echo(line, err=True)
    output.waiting("verifying installation")
    if not await wait_deployments(client, opts.namespace, opts.deployed, deadline):
        raise CommandError("install failed")
    output.success("install finished")


def _split(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _bool_flag(name: str, help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A cobra-style boolean defaulting to true: `--name`, `--name=false`."""
    return click.option(name, type=click.BOOL, default=True, flag_value=True, is_flag=False, help=help_text)


@click.command("install")
@click.option("--export", is_flag=True, help="Write the install manifests to stdout and exit.")
@click.option(
    "--components",
    multiple=True,
    default=[",".join(manifests.DEFAULT_COMPONENTS)],
    show_default=True,
    help="List of components, comma-separated.",
)
@click.option("--components-extra", multiple=True, help="Components in addition to --components, comma-separated.")
@click.option("--registry", default="ghcr.io/gotk", show_default=True, help="Registry of the gotk image.")
@_bool_flag("--watch-all-namespaces", "Watch objects in all namespaces, not only the install namespace.")
@_bool_flag("--network-policy", "Deny ingress to the controllers from other namespaces.")
@click.option("--log-level", type=click.Choice(["debug", "info", "error"]), default="info", show_default=True)
@click.option("--cluster-domain", default="cluster.local", show_default=True, help="Internal cluster domain.")
@click.option("--force", is_flag=True, help="Override an installation managed by another tool.")
@with_globals
def install(
    g: Globals,
    export: bool,
    components: Sequence[str],
    components_extra: Sequence[str],
    registry: str,
    watch_all_namespaces: bool,
    network_policy: bool,
    log_level: str,
    cluster_domain: str,
    force: bool,
) -> None:
    """Install or upgrade gotk in the --namespace (default flux-system)."""
    selected = tuple(dict.fromkeys(_split(components) + _split(components_extra)))
    problem = manifests.validate(selected)
    if problem:
        raise CommandError(problem)
    opts = manifests.Options(
        namespace=g.namespace,
        components=selected,
        registry=registry,
        watch_all_namespaces=watch_all_namespaces,
        network_policy=network_policy,
        log_level=log_level,
        cluster_domain=cluster_domain,
    )
    if not export:
        output.generate("generating manifests")
    objects = manifests.generate(opts)
    rendered = manifests.render(opts, objects)
    if export:
        click.echo(rendered, nl=False)
        return
    if g.verbose:
        click.echo(rendered, nl=False)
    output.success("manifests build completed")
    output.action(f"installing components in {g.namespace} namespace")
    deadline = time.monotonic() + timeout_seconds(g)
    kubeclient.run(g, lambda client: install_objects(client, opts, objects, force=force, deadline=deadline))
