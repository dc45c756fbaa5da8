"""`flux debug helmrelease|kustomization NAME`: what a controller sees when a reconcile fails (flux2's
cmd/flux/debug_*.go).

Exactly one of `--show-status` (the status, as Go marshals the typed status), `--show-values` (a HelmRelease's
final values, composed from its `valuesFrom` and `values` as the controller composes them, targetPath entries
through Helm's own --set parser), `--show-vars` (a Kustomization's post-build variables, in dot-env form) or
`--show-history`. Like Flux's, `--show-values` and `--show-vars` print the data of referenced Secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from gotk.cli import goflags, kubeclient
from gotk.cli.context import Globals
from gotk.cli.engines import hrdiff
from gotk.cli.flags import AliasGroup, with_globals
from gotk.cli.output import CommandError
from gotk.gocompat import yaml as goyaml
from gotk.helm import values as hv
from gotk.kube.client import Client
from gotk.kube.resources import HELMRELEASES, KUSTOMIZATIONS, Resource
from gotk.kustomize.substitute import variables

Obj = dict[str, Any]
_DOCS = "https://fluxcd.io/flux/components"
WARNING = "WARNING: This command will print sensitive information if Kubernetes Secrets are referenced in the"
PREVIEW = "\n\nThis command is currently in preview and may change in future releases."


def _one_of(flags: Mapping[str, bool]) -> str:
    chosen = [name for name, on in flags.items() if on]
    if len(chosen) != 1:
        names = [f"--{name}" for name in flags]
        raise CommandError(f"exactly one of {', '.join(names[:-1])}, or {names[-1]} must be set")
    return chosen[0]


def _status(obj: Obj, anchor: str) -> str:
    status = obj.get("status") or {}
    return f"# Status documentation: {_DOCS}/{anchor}\n" + (goyaml.dump(status) if status else "{}\n")


def _history(entries: list[Obj], anchor: str, shape: Callable[[Obj], Obj] = dict) -> str:
    body = goyaml.dump([shape(e) for e in entries]) if entries else "[]\n"
    return f"# History documentation: {_DOCS}/{anchor}\n" + body


def _release_snapshot(entry: Obj) -> Obj:
    """A HelmRelease history entry as Go marshals helmv2.Snapshot: `deleted` (a metav1.Time) is null when unset."""
    return {"deleted": None, **entry}


async def _get(client: Client, resource: Resource, name: str, namespace: str) -> Obj:
    return await client.get(resource, name, namespace)


async def _values(client: Client, hr: Obj) -> Obj:
    """The final values, as the helm controller composes them."""
    spec = hr.get("spec") or {}
    namespace = str(hr["metadata"].get("namespace") or "")
    setter = (
        hv.helm_setter(hrdiff.helm_lib()) if any(r.get("targetPath") for r in spec.get("valuesFrom") or []) else None
    )
    try:
        if setter is None:
            return await hv.resolve(client, namespace, spec)
        return await hv.resolve(client, namespace, spec, setter)
    except (hv.ValuesError, hv.UnsupportedKindError) as exc:
        raise CommandError(str(exc)) from None


@click.command(
    "helmrelease",
    cls=goflags.FluxCommand,
    help="The debug helmrelease command can be used to troubleshoot failing Helm release reconciliations.\n"
    f"{WARNING} HelmRelease .spec.valuesFrom field.{PREVIEW}",
    short_help="Debug a HelmRelease resource",
)
@click.argument("name")
@click.option("--show-status", is_flag=True, help="print the status of the Helm release")
@click.option("--show-values", is_flag=True, help="print the final values of the Helm release")
@click.option("--show-history", is_flag=True, help="print the reconciliation history of the Helm release")
@with_globals
def debug_helmrelease(g: Globals, name: str, show_status: bool, show_values: bool, show_history: bool) -> None:
    what = _one_of({"show-status": show_status, "show-values": show_values, "show-history": show_history})

    async def body(client: Client) -> str:
        hr = await _get(client, HELMRELEASES, name, g.namespace)
        if what == "show-status":
            return _status(hr, "helm/helmreleases/#helmrelease-status")
        if what == "show-values":
            found = await _values(client, hr)
            return goyaml.dump(found) if found else "{}\n"
        history = list((hr.get("status") or {}).get("history") or [])
        return _history(history, "helm/helmreleases/#history", _release_snapshot)

    click.echo(kubeclient.run(g, body), nl=False)


@click.command(
    "kustomization",
    cls=goflags.FluxCommand,
    help="The debug kustomization command can be used to troubleshoot failing Flux Kustomization reconciliations.\n"
    f"{WARNING} Kustomization .spec.postBuild.substituteFrom field.{PREVIEW}",
    short_help="Debug a Flux Kustomization resource",
)
@click.argument("name")
@click.option("--show-status", is_flag=True, help="print the status of the Flux Kustomization")
@click.option("--show-vars", is_flag=True, help="print the final vars of the Flux Kustomization in dot env format")
@click.option("--show-history", is_flag=True, help="print the reconciliation history of the Flux Kustomization")
@with_globals
def debug_kustomization(g: Globals, name: str, show_status: bool, show_vars: bool, show_history: bool) -> None:
    what = _one_of({"show-status": show_status, "show-vars": show_vars, "show-history": show_history})

    async def body(client: Client) -> str:
        ks = await _get(client, KUSTOMIZATIONS, name, g.namespace)
        if what == "show-status":
            return _status(ks, "kustomize/kustomizations/#kustomization-status")
        if what == "show-vars":
            post_build = (ks.get("spec") or {}).get("postBuild")
            if post_build is None:
                raise CommandError("no post build substitutions found")
            try:
                found = await variables.variables(client, g.namespace, post_build)
            except variables.VariablesError as exc:
                raise CommandError(str(exc)) from None
            return "".join(f"{key}={found[key]}\n" for key in sorted(found))
        history = list((ks.get("status") or {}).get("history") or [])
        return _history(history, "kustomize/kustomizations/#history")

    click.echo(kubeclient.run(g, body), nl=False)


@click.group("debug", cls=AliasGroup)
def debug() -> None:
    """Debug a flux resource"""


assert isinstance(debug, AliasGroup)
debug.add_aliased(debug_helmrelease, ("hr",))
debug.add_aliased(debug_kustomization, ("ks",))
