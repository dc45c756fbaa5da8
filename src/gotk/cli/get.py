"""`flux get <noun> [name]`: print Flux objects and their Ready status as flux2 does.

Nouns come from `kinds_cli` (`get artifacts generators` for the ArtifactGenerator, which `get all` leaves
out, as flux2 does); `get sources all`, `get images all` and `get all` print one table per kind
(names prefixed with the kind, empty kinds and missing CRDs skipped, a NAME missing from a kind is a ✗ line).
Tables go to stdout, errors to stderr.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click

from gotk.cli import kinds_cli, kubeclient, output, readiness
from gotk.cli.context import Globals
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.kinds_cli import Noun, Obj
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound


@dataclass(frozen=True)
class Query:
    """What to list and how to print it (the `flux get` flags)."""

    namespace: str
    all_namespaces: bool = False
    name: str | None = None
    label_selector: str | None = None
    status_selector: str = ""
    no_header: bool = False
    show_source: bool = False

    @property
    def scope(self) -> str:
        """How flux names the namespace in messages: `"flux-system"` or `any`."""
        return "any" if self.all_namespaces else f'"{self.namespace}"'


def selector_filter(noun: Noun, selector: str) -> Callable[[Obj], bool]:
    """--status-selector `type=status` or `type!=status` as a predicate on objects."""
    if not selector:
        return lambda obj: True
    negate = "!=" in selector
    parts = selector.split("!=" if negate else "=", 1)
    if len(parts) != 2:
        raise CommandError(f"expected status selector in type=status or type!=status format, but found: {selector}")
    ctype, cstatus = parts
    if negate:
        return lambda obj: not noun.selector_matches(obj, ctype, cstatus)
    return lambda obj: noun.selector_matches(obj, ctype, cstatus)


def rows_for(noun: Noun, items: Sequence[Obj], query: Query, *, with_kind: bool) -> list[list[str]]:
    keep = selector_filter(noun, query.status_selector)
    return [
        kinds_cli.row(
            noun, obj, all_namespaces=query.all_namespaces, with_kind=with_kind, show_source=query.show_source
        )
        for obj in items
        if keep(obj)
    ]


def header_for(noun: Noun, query: Query) -> list[str]:
    if query.no_header:
        return []
    return kinds_cli.headers(noun, all_namespaces=query.all_namespaces, show_source=query.show_source)


async def list_objects(client: Client, noun: Noun, query: Query) -> list[Obj]:
    """The noun's objects in scope; a kind the server does not serve raises ResourceNotFound."""
    namespace = None if query.all_namespaces else query.namespace
    return await readiness.list_objects(
        client, noun.resource, namespace, name=query.name, label_selector=query.label_selector
    )


async def get_one(client: Client, noun: Noun, query: Query) -> str:
    """The table of one kind; no objects is an error, as in flux."""
    items = await list_objects(client, noun, query)
    if not items:
        if query.name:
            raise CommandError(f"{noun.kind} object '{query.name}' not found in {query.scope} namespace")
        raise CommandError(f"no {noun.kind} objects found in {query.scope} namespace")
    return output.table(header_for(noun, query), rows_for(noun, items, query, with_kind=False))


async def get_many(client: Client, nouns: Sequence[Noun], query: Query) -> str:
    """`get … all`: a table per kind that has matching objects, each followed by an empty line."""
    selector_filter(nouns[0], query.status_selector)  # a malformed selector fails before listing
    out = []
    for noun in nouns:
        try:
            items = await list_objects(client, noun, query)
        except ResourceNotFound:
            continue
        except ApiError as exc:
            output.failure(str(exc))
            continue
        if not items and query.name:  # flux logs get_one's error and goes on
            output.failure(f"{noun.kind} object '{query.name}' not found in {query.scope} namespace")
            continue
        rows = rows_for(noun, items, query, with_kind=True)
        if rows:
            out.append(output.table(header_for(noun, query), rows) + "\n")
    return "".join(out)


async def watch(client: Client, noun: Noun, query: Query, deadline: float) -> None:
    """-w: print the current objects, then one row per change, until --timeout."""
    first = True
    resource_version = ""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandError("timed out waiting for the condition")
        stream = client.watch(
            noun.resource,
            None if query.all_namespaces else query.namespace,
            resource_version=resource_version,
            label_selector=query.label_selector,
            timeout_seconds=max(1, int(remaining)),
        )
        try:
            async with asyncio.timeout(remaining):
                async for event in stream:
                    obj = event.get("object") or {}
                    resource_version = kinds_cli.text(kinds_cli.dig(obj, "metadata", "resourceVersion"))
                    if event.get("type") == "BOOKMARK":
                        continue
                    if query.name and kinds_cli.dig(obj, "metadata", "name") != query.name:
                        continue
                    header = header_for(noun, query) if first else []
                    click.echo(output.table(header, rows_for(noun, [obj], query, with_kind=False)), nl=False)
                    first = False
        except TimeoutError:
            raise CommandError("timed out waiting for the condition") from None


# -- commands --------------------------------------------------------------------------------------


def _query_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(
        [
            click.option(
                "-A", "--all-namespaces", is_flag=True, help="List the requested object(s) across all namespaces."
            ),
            click.option("--no-header", is_flag=True, help="Skip the header when printing the results."),
            click.option(
                "--status-selector",
                default="",
                help="Filter by a status condition, e.g. ready=false or ready!=true.",
            ),
            click.option("-l", "--label-selector", default=None, help="Filter objects by label selector."),
        ]
    ):
        f = decorator(f)
    return f


def _leaf(noun: Noun) -> click.Command:
    @click.command(noun.get_command, help=f"Get {noun.kind} statuses.")
    @click.argument("name", required=False)
    @_query_options
    @click.option("-w", "--watch", "watch_", is_flag=True, help="After listing, watch for changes.")
    @with_globals
    def command(g: Globals, name: str | None, watch_: bool, **flags: Any) -> None:
        query = _query(g, name, flags)
        deadline = time.monotonic() + timeout_seconds(g)

        async def body(client: Client) -> None:
            if watch_:
                await watch(client, noun, query, deadline)
                return
            click.echo(await get_one(client, noun, query), nl=False)

        kubeclient.run(g, body)

    if noun.show_source is not None:
        command = click.option("--show-source", is_flag=True, help="Show the source reference of each object.")(command)
    return command


def _all(nouns: Sequence[Noun], help_text: str) -> click.Command:
    @click.command("all", help=help_text)
    @click.argument("name", required=False)
    @_query_options
    @click.option("-w", "--watch", "watch_", is_flag=True, hidden=True)
    @with_globals
    def command(g: Globals, name: str | None, watch_: bool, **flags: Any) -> None:
        if watch_:
            raise CommandError("expected a single resource type, but found all")
        query = _query(g, name, flags)

        async def body(client: Client) -> None:
            click.echo(await get_many(client, nouns, query), nl=False)

        kubeclient.run(g, body)

    return command


def _query(g: Globals, name: str | None, flags: dict[str, Any]) -> Query:
    return Query(
        namespace=g.namespace,
        all_namespaces=bool(flags["all_namespaces"]),
        name=name,
        label_selector=flags["label_selector"] or None,
        status_selector=str(flags["status_selector"] or ""),
        no_header=bool(flags["no_header"]),
        show_source=bool(flags.get("show_source")),
    )


@click.group("get", cls=AliasGroup)
def get() -> None:
    """Get the resources and their status."""


assert isinstance(get, AliasGroup)
sources = AliasGroup("sources", help="Get source statuses.")
images = AliasGroup("images", help="Get image automation object status.")
for _noun in kinds_cli.SOURCES:
    sources.add_command(_leaf(_noun))
sources.add_command(_all(kinds_cli.SOURCES, "Get all source statuses."))
for _noun in kinds_cli.IMAGES:
    images.add_command(_leaf(_noun))
images.add_command(_all(kinds_cli.IMAGES, "Get all image statuses."))
artifacts = AliasGroup("artifacts", help="Get artifact object status.")
for _noun in kinds_cli.ARTIFACTS:
    artifacts.add_aliased(_leaf(_noun), _noun.get_aliases)
get.add_aliased(sources, ("source",))
get.add_aliased(images, ("image",))
get.add_aliased(artifacts, ("artifact",))
for _noun in kinds_cli.TOP_LEVEL:
    get.add_aliased(_leaf(_noun), _noun.get_aliases)
get.add_command(_all(kinds_cli.ALL, "Get all resources and statuses."))
