"""`flux stats [-A]`: how many Flux objects of each kind run, fail and are suspended, and the storage their
artifacts take (flux2's cmd/flux/stats.go).

One row per kind, in flux2's order: RUNNING counts the objects not suspended (spec.suspend), FAILING those
with a Ready=False condition, STORAGE sums status.artifact.size (`-` for none, else `12.3 KiB`). A kind the
server cannot list counts zero, as in flux.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from gotk.cli import goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.flags import with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import Resource, flux_resource

KINDS = (
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "Kustomization",
    "HelmRelease",
    "Alert",
    "Provider",
    "Receiver",
    "ImageUpdateAutomation",
    "ImagePolicy",
    "ImageRepository",
)
HEADER = ("Reconcilers", "Running", "Failing", "Suspended", "Storage")

HELP = """The stats command prints a report of Flux custom resources present on a cluster,
including their reconcile status and the amount of cumulative storage used for each source type

⚠️  Please note that this command is in preview and under development.
While we try our best to not introduce breaking changes, they may occur when
we adapt to new features and/or find better ways to facilitate what it does.

\b
Examples:
  # Print the stats report for a namespace
  flux stats --namespace default

\b
  #  Print the stats report for the whole cluster
  flux stats -A"""


def format_size(size: int) -> str:
    """formatSize: `-` for nothing, bytes below 1 KiB, else one decimal and a binary unit (`1.5 MiB`)."""
    if size == 0:
        return "-"
    unit = 1024
    if size < unit:
        return f"{size} B"
    div, exp = unit, 0
    n = size // unit
    while n >= unit:
        div *= unit
        exp += 1
        n //= unit
    return f"{size / div:.1f} {'KMGTPE'[exp]}iB"


def kind_row(kind: str, items: Sequence[Mapping[str, Any]]) -> list[str]:
    """The counts of one kind's objects."""
    suspended = failing = size = 0
    for item in items:
        spec = item.get("spec")
        if isinstance(spec, Mapping) and spec.get("suspend") is True:
            suspended += 1
        status = item.get("status")
        conditions = status.get("conditions") if isinstance(status, Mapping) else None
        for cond in conditions if isinstance(conditions, list) else []:
            if isinstance(cond, Mapping) and cond.get("type") == "Ready" and cond.get("status") == "False":
                failing += 1
        artifact = status.get("artifact") if isinstance(status, Mapping) else None
        value = artifact.get("size") if isinstance(artifact, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool):
            size += value
    return [kind, str(len(items) - suspended), str(failing), str(suspended), format_size(size)]


async def stats_table(client: Client, namespace: str | None) -> str:
    """The report; `namespace` None counts every namespace."""
    rows = []
    for kind in KINDS:
        res: Resource = flux_resource(kind)
        try:
            items = (await client.list(res, namespace))["items"]
        except ApiError:
            items = []
        rows.append(kind_row(kind, items))
    return output.table(list(HEADER), rows)


@click.command("stats", cls=goflags.FluxCommand, help=HELP, short_help="Stats of Flux reconciles")
@click.option("-A", "--all-namespaces", is_flag=True, help="list the statistics for objects across all namespaces")
@click.argument("args", nargs=-1)
@with_globals
def stats(g: Globals, all_namespaces: bool, args: tuple[str, ...]) -> None:
    if args:
        raise CommandError(f'unknown command "{args[0]}" for "flux stats"')

    async def body(client: Client) -> str:
        return await stats_table(client, None if all_namespaces else g.namespace)

    click.echo(kubeclient.run(g, body), nl=False)
