"""`flux events [--for Kind[/name]] [-A] [-w] [--types Normal,Warning]`: the Kubernetes Events of Flux objects,
as flux2's cmd/flux/events.go lists them.

Events are listed (field selectors on involvedObject.kind/name), sorted by time (series, last, event time) and
shown as LAST SEEN / TYPE / REASON / OBJECT / MESSAGE, with a NAMESPACE column across namespaces or when a
referenced object lives elsewhere. `--for Kind/name` adds the events of what the object references (a
Kustomization's source, a HelmRelease's chart source and HelmChart, an Alert's Provider, an ImagePolicy's
ImageRepository). Events of kinds that are not Flux's are left out. `-w` prints each event as it comes,
until --timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from gotk.cli import goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import EVENTS, Resource, flux_resource

Obj = Mapping[str, Any]
ZERO = datetime(1, 1, 1, tzinfo=UTC)
HEADERS = ("Last seen", "Type", "Reason", "Object", "Message")

HELP = """The events sub-command shows Kubernetes events from Flux resources

⚠️  Please note that this command is in preview and under development.
While we try our best to not introduce breaking changes, they may occur when
we adapt to new features and/or find better ways to facilitate what it does.

\b
Examples:
 # Display events for flux resources in default namespace
 flux events -n default

\b
 # Display events for flux resources in all namespaces
 flux events -A

\b
 # Display events for a Kustomization named podinfo
 flux events --for Kustomization/podinfo

\b
 # Display events for all Kustomizations in default namespace
 flux events --for Kustomization -n default

\b
 # Display warning events for alert resources
 flux events --for Alert/podinfo --types warning"""


@dataclass(frozen=True)
class RefInfo:
    """What an object of a Flux kind references (flux2's refInfo)."""

    kind: str
    ref_kind: str = ""
    """The referenced kind when the reference field has none (an Alert's providerRef is a Provider)."""
    cross_namespaced: bool = False
    field: tuple[str, ...] = ()
    other_refs: Callable[[str, str], list[str]] | None = None

    @property
    def resource(self) -> Resource:
        return flux_resource(self.kind)


FLUX_KINDS: tuple[RefInfo, ...] = (
    RefInfo("Kustomization", cross_namespaced=True, field=("spec", "sourceRef")),
    RefInfo(
        "HelmRelease",
        cross_namespaced=True,
        field=("spec", "chart", "spec", "sourceRef"),
        other_refs=lambda namespace, name: [f"HelmChart/{namespace}-{name}"],
    ),
    RefInfo("Alert", ref_kind="Provider", field=("spec", "providerRef")),
    RefInfo("Receiver"),
    RefInfo("Provider"),
    RefInfo("ImagePolicy", ref_kind="ImageRepository", cross_namespaced=True, field=("spec", "imageRepositoryRef")),
    RefInfo("HelmChart", cross_namespaced=True, field=("spec", "sourceRef")),
    RefInfo("GitRepository"),
    RefInfo("OCIRepository"),
    RefInfo("Bucket"),
    RefInfo("HelmRepository"),
    RefInfo("ImageUpdateAutomation"),
    RefInfo("ImageRepository"),
    RefInfo("ArtifactGenerator"),
)


def ref_info(kind: str) -> RefInfo:
    """refMap.getRefInfo: the Flux kind, in any case."""
    for info in FLUX_KINDS:
        if info.kind.lower() == kind.lower():
            return info
    raise CommandError(f"'{kind}' is not a recognized Flux kind")


def is_flux_kind(kind: str) -> bool:
    return any(info.kind.lower() == kind.lower() for info in FLUX_KINDS)


def validate_types(types: Sequence[str]) -> None:
    for t in types:
        if t.lower() not in ("warning", "normal"):
            raise CommandError(f"type '{t}' not supported. Supported types are Normal, Warning")


def kind_name_from_selector(selector: str) -> tuple[str, str]:
    """getKindNameFromSelector: `Kind/name` -> (Kind, name); a bare `Kind` -> (Kind, '')."""
    kind, name = "", selector
    parts = selector.split("/")
    if len(parts) == 2:
        kind, name = parts
    if not kind and name:
        return name, ""
    return kind, name


def parse_kind_name_namespace(text: str) -> tuple[str, str, str]:
    """utils.ParseObjectKindNameNamespace: `Kind/name.namespace`."""
    kind, name = "", text
    parts = text.split("/")
    if len(parts) == 2:
        kind, name = parts
    namespace = ""
    dotted = name.split(".")
    if len(dotted) > 1:
        name, namespace = ".".join(dotted[:-1]), dotted[-1]
    return kind, name, namespace


# -- unstructured.NestedString ---------------------------------------------------------------------


def _go_type(value: Any) -> str:
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    return "[]interface {}"


def nested_string(obj: Obj, path: Sequence[str]) -> tuple[str, bool]:
    """unstructured.NestedString: (value, found); a value that is no string raises the accessor error."""
    node: Any = obj
    for i, key in enumerate(path):
        if node is None:
            return "", False
        if not isinstance(node, Mapping):
            where = "." + ".".join(path[: i + 1])
            raise CommandError(
                f"{where} accessor error: {node} is of the type {_go_type(node)}, expected map[string]interface{{}}"
            )
        if key not in node:
            return "", False
        node = node[key]
    if not isinstance(node, str):
        shown = "<nil>" if node is None else node
        raise CommandError(
            f".{'.'.join(path)} accessor error: {shown} is of the type {_go_type(node)}, expected string"
        )
    return node, True


async def object_refs(client: Client, info: RefInfo, name: str, namespace: str) -> list[str]:
    """getObjectRef: what `Kind/name` references, as `Kind/name.namespace` strings."""
    if not info.field:
        return []
    obj = await client.get(info.resource, name, namespace)
    key = f"{namespace}/{name}"
    ref_kind = info.ref_kind
    if not ref_kind:
        kind_field = (*info.field, "kind")
        ref_kind, found = nested_string(obj, kind_field)
        if not found:
            raise CommandError(f"field '{'.'.join(kind_field)}' for '{key}' not found")
    name_field = (*info.field, "name")
    ref_name, found = nested_string(obj, name_field)
    if not found:
        raise CommandError(f"field '{'.'.join(name_field)}' for '{key}' not found")
    ref_namespace = namespace
    if info.cross_namespaced:
        value, found = nested_string(obj, (*info.field, "namespace"))
        if found:
            ref_namespace = value
    refs = [f"{ref_kind}/{ref_name}.{ref_namespace}"]
    if info.other_refs is not None:
        refs.extend(f"{other}.{ref_namespace}" for other in info.other_refs(namespace, name))
    return refs


# -- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """One list of events: a namespace (None: all) and the involvedObject kind and name to match."""

    namespace: str | None
    kind: str = ""
    name: str = ""

    @property
    def field_selector(self) -> str | None:
        terms = []
        if self.kind:
            terms.append(f"involvedObject.kind={self.kind}")
        if self.name:
            terms.append(f"involvedObject.name={self.name}")
        return ",".join(terms) or None

    def matches(self, event: Obj) -> bool:
        involved = event.get("involvedObject") or {}
        if self.namespace is not None and (event.get("metadata") or {}).get("namespace") != self.namespace:
            return False
        if self.kind and involved.get("kind") != self.kind:
            return False
        return not (self.name and involved.get("name") != self.name)


def _time(value: Any) -> datetime:
    if not value:
        return ZERO
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ZERO
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def event_time(event: Obj) -> datetime:
    """The time events sort by: the series' last observation, else lastTimestamp, else eventTime."""
    series = event.get("series")
    if isinstance(series, Mapping):
        return _time(series.get("lastObservedTime"))
    last = _time(event.get("lastTimestamp"))
    if last != ZERO:
        return last
    return _time(event.get("eventTime"))


def human_duration(seconds_total: float) -> str:
    """k8s.io/apimachinery's duration.HumanDuration (~2-3 significant figures)."""
    seconds = int(seconds_total)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def _since(value: Any, now: datetime) -> str:
    moment = _time(value)
    if moment == ZERO:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())


def last_seen(event: Obj, now: datetime) -> str:
    """getLastSeen: `5m`, or `5m (x3 over 20m)` for repeated events."""
    first = _since(event.get("eventTime"), now)
    if _time(event.get("eventTime")) == ZERO:
        first = _since(event.get("firstTimestamp"), now)
    series = event.get("series")
    if isinstance(series, Mapping):
        return f"{_since(series.get('lastObservedTime'), now)} (x{int(series.get('count') or 0)} over {first})"
    count = int(event.get("count") or 0)
    if count > 1:
        return f"{_since(event.get('lastTimestamp'), now)} (x{count} over {first})"
    return first


def ignored(event: Obj, types: Sequence[str]) -> bool:
    """ignoreEvent: not a Flux kind's event, or not of the --types asked for."""
    kind = str((event.get("involvedObject") or {}).get("kind") or "")
    if not is_flux_kind(kind):
        return True
    return bool(types) and not any(t.lower() == str(event.get("type") or "").lower() for t in types)


def event_row(event: Obj, show_namespace: bool, now: datetime) -> list[str]:
    involved = event.get("involvedObject") or {}
    row = [str((event.get("metadata") or {}).get("namespace") or "")] if show_namespace else []
    row += [
        last_seen(event, now),
        str(event.get("type") or ""),
        str(event.get("reason") or ""),
        f"{involved.get('kind') or ''}/{involved.get('name') or ''}",
        str(event.get("message") or ""),
    ]
    return row


def _now() -> datetime:
    return datetime.now(UTC)


def headers(show_namespace: bool) -> list[str]:
    return ["Namespace", *HEADERS] if show_namespace else list(HEADERS)


@dataclass
class Query:
    """What `flux events` lists: the base scope, the scopes of referenced objects and the filters."""

    scope: Scope
    refs: list[Scope] = field(default_factory=list)
    show_namespace: bool = False
    types: tuple[str, ...] = ()


async def build_query(
    client: Client, namespace: str, *, all_namespaces: bool, for_selector: str, types: Sequence[str]
) -> Query:
    """The scopes of eventsCmdRun: --for narrows the base scope and adds one per referenced object."""
    scope_ns = None if all_namespaces else namespace
    listed_ns = "" if all_namespaces else namespace
    query = Query(Scope(scope_ns), types=tuple(types))
    different = False
    if for_selector:
        kind, name = kind_name_from_selector(for_selector)
        if not kind:
            raise CommandError("--for selector must be of format <kind>[/<name>]")
        info = ref_info(kind)
        query.scope = Scope(scope_ns, info.kind, name)
        if name:
            for ref in await object_refs(client, info, name, namespace):
                ref_kind, ref_name, ref_ns = parse_kind_name_namespace(ref)
                if ref_ns != listed_ns:
                    different = True
                query.refs.append(Scope(ref_ns, ref_kind, ref_name))
    query.show_namespace = all_namespaces or different
    return query


async def list_events(client: Client, scope: Scope) -> list[Obj]:
    try:
        listed = await client.list(EVENTS, scope.namespace, field_selector=scope.field_selector)
    except ApiError as exc:
        raise CommandError(f"error getting events: {exc}") from None
    items: list[Obj] = listed["items"]
    return items


async def rows(client: Client, query: Query, now: datetime | None = None) -> list[list[str]]:
    """getRows: the events of every scope, sorted by time, without the ignored ones."""
    now = now or _now()
    events: list[Obj] = []
    for scope in (query.scope, *query.refs):
        events.extend(await list_events(client, scope))
    events.sort(key=event_time)
    return [event_row(e, query.show_namespace, now) for e in events if not ignored(e, query.types)]


async def show(client: Client, query: Query, namespace: str, *, all_namespaces: bool) -> None:
    found = await rows(client, query)
    if not found:
        output.failure("No events found." if all_namespaces else f"No events found in {namespace} namespace.")
        return
    click.echo(output.table(headers(query.show_namespace), found), nl=False)


async def watch(client: Client, query: Query, deadline: float) -> None:
    """eventsCmdWatchRun: a table row per event as it is added or changed, the header once, until the deadline."""
    first = True

    def emit(event: Obj) -> None:
        nonlocal first
        header = headers(query.show_namespace) if first else []
        first = False
        click.echo(output.table(header, [event_row(event, query.show_namespace, _now())]), nl=False)

    async def follow(scope: Scope) -> None:
        remaining = deadline - time.monotonic()
        stream = client.watch(EVENTS, scope.namespace, timeout_seconds=max(1, int(remaining)))
        async for change in stream:
            if change.get("type") in ("DELETED", "BOOKMARK"):
                continue
            event = change.get("object") or {}
            if scope.matches(event) and not ignored(event, query.types):
                emit(event)

    async def follow_ref(scope: Scope) -> None:
        try:
            await follow(scope)
        except ApiError as exc:
            output.failure(f"error watching events: {exc}")

    tasks = [asyncio.create_task(follow_ref(ref)) for ref in query.refs]
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            await follow(query.scope)
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@click.command("events", cls=goflags.FluxCommand, help=HELP, short_help="Display Kubernetes events for Flux resources")
@click.option("-A", "--all-namespaces", is_flag=True, help="display events from Flux resources across all namespaces")
@click.option("-w", "--watch", "watch_", is_flag=True, help="indicate if the events should be streamed")
@click.option("--for", "for_selector", default="", help="get events for a particular object")
@click.option(
    "--types",
    multiple=True,
    help="filter events for certain types (valid types are: Normal, Warning)",
)
@click.argument("args", nargs=-1)
@with_globals
def events(
    g: Globals, all_namespaces: bool, watch_: bool, for_selector: str, types: tuple[str, ...], args: tuple[str, ...]
) -> None:
    # cobra lets a command without an Args check take (and ignore) positional arguments: so does this one
    deadline = time.monotonic() + timeout_seconds(g)
    event_types = goflags.string_slice(types)
    validate_types(event_types)

    async def body(client: Client) -> None:
        query = await build_query(
            client, g.namespace, all_namespaces=all_namespaces, for_selector=for_selector, types=event_types
        )
        if watch_:
            await watch(client, query, deadline)
            return
        await show(client, query, g.namespace, all_namespaces=all_namespaces)

    kubeclient.run(g, body)
