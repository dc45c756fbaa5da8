"""`flux reconcile <noun> <name>`: ask a controller to reconcile now and wait for the outcome.

Sets the `reconcile.fluxcd.io/requestedAt` annotation, waits until status.lastHandledReconcileAt shows
the request was handled and the object settled, then reports the Ready condition like flux2's
cmd/flux/reconcile*.go. `--with-source` first reconciles the source (Kustomization, HelmRelease, HelmChart).
`reconcile artifact generator` is a gotk addition (flux2 has none), in the same form; a generator paused by
`source.extensions.fluxcd.io/reconcile: disabled` is "resource is suspended".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import click

from gotk.cli import kinds_cli, kubeclient, output, readiness
from gotk.cli.context import Globals
from gotk.cli.flags import AliasGroup, request_token, timeout_seconds, with_globals
from gotk.cli.kinds_cli import Noun, Obj, dig, find_condition, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client

_SOURCE_NOUNS = {noun.kind: noun for noun in kinds_cli.SOURCES}
# kind of the object -> kinds of sources `--with-source` can reconcile for it
_WITH_SOURCE: dict[str, frozenset[str]] = {
    "Kustomization": frozenset({"OCIRepository", "GitRepository", "Bucket"}),
    "HelmRelease": frozenset({"HelmChart", "OCIRepository"}),
    "HelmChart": frozenset({"HelmRepository", "GitRepository", "Bucket"}),
}


@dataclass(frozen=True)
class SourceRef:
    """The source reconciled before an object (flux's reconcileWithSource.getSource)."""

    kind: str
    name: str
    namespace: str


def source_of(noun: Noun, obj: Obj) -> SourceRef:
    """The source `--with-source` reconciles first; a HelmRelease's is its HelmChart `<ns>-<name>`."""
    namespace = text(dig(obj, "metadata", "namespace"))
    if noun is kinds_cli.HELMRELEASE:
        chart_ref = dig(obj, "spec", "chartRef")
        if isinstance(chart_ref, dict):
            ns = text(chart_ref.get("namespace")) or namespace
            return SourceRef(text(chart_ref.get("kind")), text(chart_ref.get("name")), ns)
        ref = dig(obj, "spec", "chart", "spec", "sourceRef") or {}
        name = f"{namespace}-{text(dig(obj, 'metadata', 'name'))}"
        return SourceRef("HelmChart", name, text(ref.get("namespace")) or namespace)
    ref = dig(obj, "spec", "sourceRef") or {}
    ns = namespace if noun is kinds_cli.SOURCE_CHART else text(ref.get("namespace")) or namespace
    return SourceRef(text(ref.get("kind")), text(ref.get("name")), ns)


def source_noun(noun: Noun, ref: SourceRef) -> Noun:
    """The noun to reconcile for `ref`; an unsupported kind is flux's "cannot reconcile source" error."""
    if ref.kind not in _WITH_SOURCE.get(noun.kind, frozenset()):
        raise CommandError(f"cannot reconcile source of kind {ref.kind}")
    return _SOURCE_NOUNS[ref.kind]


def is_static(noun: Noun, obj: Obj) -> bool:
    """Objects no controller reconciles: Alerts, Providers and OCI HelmRepositories."""
    return noun.static or (noun is kinds_cli.SOURCE_HELM and dig(obj, "spec", "type") == "oci")


async def reconcile_object(
    client: Client,
    noun: Noun,
    name: str,
    namespace: str,
    *,
    deadline: float,
    with_source: bool = False,
    force: bool = False,
    reset: bool = False,
) -> None:
    """Annotate one object, wait for its controller, and print flux's lines; failures raise CommandError."""
    res = noun.resource
    obj = await readiness.fetch(client, res, name, namespace)
    chained = noun.kind in _WITH_SOURCE  # flux's reconcileWithSourceCommand: no static check, unquoted error
    if not chained and is_static(noun, obj):
        output.success("reconciliation not supported by the object")
        return
    if noun.is_suspended(obj):
        raise CommandError("resource is suspended")
    if with_source:
        ref = source_of(noun, obj)
        source = source_noun(noun, ref)
        # a HelmRelease's HelmChart always brings its own source along (flux: force=true)
        await reconcile_object(
            client, source, ref.name, ref.namespace, deadline=deadline, with_source=source is kinds_cli.SOURCE_CHART
        )

    output.action(f"annotating {noun.kind} {name} in {namespace} namespace")
    token = request_token()
    also = tuple(
        key
        for key, wanted in ((kinds_cli.FORCE_AT, force), (kinds_cli.RESET_AT, reset))
        if wanted and noun is kinds_cli.HELMRELEASE
    )
    await readiness.request_reconcile(client, res, name, namespace, token, also=also)
    output.success(f"{noun.kind} annotated")

    output.waiting(f"waiting for {noun.kind} reconciliation")
    handled = await readiness.poll(
        lambda: client.get(res, name, namespace),
        lambda o: readiness.request_handled(o, token) and readiness.settled(o),
        deadline=deadline,
        what=f"{noun.kind} reconciliation",
    )
    ready = find_condition(handled, "Ready")
    if ready is None:
        raise CommandError("status can't be determined")
    if ready.get("status") != "True":
        message = text(ready.get("message"))
        raise CommandError(
            f"{noun.kind} reconciliation failed: {message}"
            if chained
            else f"{noun.kind} reconciliation failed: '{message}'"
        )
    output.success(noun.success(handled))


# -- commands --------------------------------------------------------------------------------------


def _leaf(noun: Noun, *, with_source: bool = False, helm_flags: bool = False) -> click.Command:
    @click.command(noun.name, help=f"Reconcile a {noun.kind} and wait for it to finish.")
    @click.argument("name", required=False)
    @with_globals
    def command(
        g: Globals, name: str | None, with_source: bool = False, force: bool = False, reset: bool = False
    ) -> None:
        if not name:
            raise CommandError(f"{noun.kind} name is required")
        deadline = time.monotonic() + timeout_seconds(g)

        async def body(client: Client) -> None:
            await reconcile_object(
                client,
                noun,
                name,
                g.namespace,
                deadline=deadline,
                with_source=with_source,
                force=force,
                reset=reset,
            )

        kubeclient.run(g, body)

    if helm_flags:
        command = click.option("--reset", is_flag=True, help="Reset the failure count for this HelmRelease.")(command)
        command = click.option("--force", is_flag=True, help="Force a one-off install or upgrade.")(command)
    if with_source:
        command = click.option("--with-source", is_flag=True, help=f"Reconcile the {noun.kind}'s source first.")(
            command
        )
    return command


@click.group("reconcile", cls=AliasGroup)
def reconcile() -> None:
    """Reconcile sources and resources."""


assert isinstance(reconcile, AliasGroup)
_source = AliasGroup("source", help="Reconcile sources.")
for _noun in (
    kinds_cli.SOURCE_GIT,
    kinds_cli.SOURCE_OCI,
    kinds_cli.SOURCE_HELM,
    kinds_cli.SOURCE_CHART,
    kinds_cli.SOURCE_BUCKET,
):
    _source.add_command(_leaf(_noun, with_source=_noun is kinds_cli.SOURCE_CHART))
_image = AliasGroup("image", help="Reconcile image automation objects.")
for _noun in kinds_cli.IMAGES:
    _image.add_command(_leaf(_noun))
_artifact = AliasGroup("artifact", help="Reconcile artifact objects.")
for _noun in kinds_cli.ARTIFACTS:
    _artifact.add_command(_leaf(_noun))
reconcile.add_command(_source)
reconcile.add_command(_image)
reconcile.add_command(_artifact)
reconcile.add_aliased(_leaf(kinds_cli.KUSTOMIZATION, with_source=True), kinds_cli.KUSTOMIZATION.aliases)
reconcile.add_aliased(_leaf(kinds_cli.HELMRELEASE, with_source=True, helm_flags=True), kinds_cli.HELMRELEASE.aliases)
reconcile.add_command(_leaf(kinds_cli.RECEIVER))
