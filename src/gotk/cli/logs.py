"""`flux logs [--kind --name --level --since --since-time --tail --flux-namespace -A -f]`: the Flux controllers'
logs, filtered and formatted as flux2's cmd/flux/logs.go prints them.

As in flux, the logs of one pod per Deployment labelled `app.kubernetes.io/part-of=flux` in --flux-namespace
are read through the API (the `manager` container of a pod with several; `-f` follows every pod at once).
gotk's controllers may instead run as one local process (`flux local up`): when no such pod exists and the
kubeconfig belongs to a local control plane, the controllers' log file recorded in its state.json is read
(--tail, --since/--since-time and -f apply to the file). Entries print as
`<ts> <level> <Kind>/<name>.<namespace> - <msg> <error>`; see gotk.cli.engines.controllerlogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from gotk.cli import goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.engines import controllerlogs as cl
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import DEPLOYMENTS, PODS

PART_OF = "app.kubernetes.io/part-of=flux"

HELP = """The logs command displays formatted logs from various Flux components.

⚠️  Please note that this command is in preview and under development.
While we try our best to not introduce breaking changes, they may occur when
we adapt to new features and/or find better ways to facilitate what it does.

When no Flux pods run and the kubeconfig is the one of `flux local up`, the log
of the local controllers process is read instead.

\b
Examples:
  # Print the reconciliation logs of all Flux custom resources in your cluster
  flux logs --all-namespaces

\b
  # Print all logs of all Flux custom resources newer than 2 minutes
  flux logs --all-namespaces --since=2m

\b
  # Stream logs for a particular log level
  flux logs --follow --level=error --all-namespaces

\b
  # Filter logs by kind, name and namespace
  flux logs --kind=Kustomization --name=podinfo --namespace=default

\b
  # Print logs when Flux is installed in a different namespace than flux-system
  flux logs --flux-namespace=my-namespace"""


def _level(value: str) -> str:
    if not value.strip():
        raise ValueError(f"no log level given, must be one of: {', '.join(cl.LEVELS)}")
    if value not in cl.LEVELS:
        raise ValueError(f"unsupported log level '{value}', must be one of: {', '.join(cl.LEVELS)}")
    return value


def _int64(value: str) -> int:
    """strconv.ParseInt(value, 0, 64), as pflag reads an int64 flag (a leading 0 is octal)."""
    try:
        if re.fullmatch(r"[+-]?0[0-7]+", value):
            return int(value, 8)
        return int(value, 0)
    except ValueError:
        raise ValueError(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


@dataclass(frozen=True)
class Options:
    """The flags that shape what is read: PodLogOptions, and the same for the local log."""

    follow: bool = False
    tail: int = -1
    since_seconds: int | None = None
    since_time: datetime | None = None

    def not_before(self) -> datetime | None:
        if self.since_time is not None:
            return self.since_time
        if self.since_seconds is not None:
            return datetime.now(UTC) - timedelta(seconds=self.since_seconds)
        return None


def options(follow: bool, tail: int, since_ns: int, since_time: str) -> Options:
    """The log options, with flux's checks of --since and --since-time."""
    if since_time and since_ns:
        raise CommandError("at most one of `sinceTime` or `sinceDuration` may be specified")
    parsed = None
    if since_time:
        try:
            parsed = cl.parse_rfc3339(since_time)
        except ValueError:
            raise CommandError(f"{since_time} is not a valid (RFC3339) time") from None
    seconds = None
    if since_ns:  # Duration.Round(time.Second), half away from zero
        sign = -1 if since_ns < 0 else 1
        seconds = sign * ((abs(since_ns) + 500_000_000) // 1_000_000_000)
    return Options(follow=follow, tail=tail, since_seconds=seconds, since_time=parsed)


async def flux_pods(client: Client, namespace: str) -> list[Mapping[str, Any]]:
    """getPods: one pod per Flux Deployment (the one ByLogging puts first)."""
    deployments = (await client.list(DEPLOYMENTS, namespace, label_selector=PART_OF))["items"]
    pods = []
    for deploy in deployments:
        labels = (((deploy.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        listed = (await client.list(PODS, namespace, label_selector=cl.selector(labels) or None))["items"]
        pod = cl.pick_pod(listed)
        if pod is not None:
            pods.append(pod)
    return pods


def _write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def _stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


async def print_stream(lines: AsyncGenerator[str, None], flt: cl.LogFilter, not_before: datetime | None = None) -> None:
    """logRequest: format and print every line as it comes, until the stream ends or a line does not parse."""
    fmt = cl.Formatter(flt, output.failure, not_before)
    async with contextlib.aclosing(lines):
        async for line in lines:
            _write(fmt.feed(line))
            if fmt.stopped:
                break


async def pod_logs(
    client: Client, pods: list[Mapping[str, Any]], namespace: str, opts: Options, flt: cl.LogFilter, deadline: float
) -> None:
    """podLogs / parallelPodLogs: every pod in turn, or (following several) all at once."""

    async def one(pod: Mapping[str, Any]) -> bool:
        params = cl.log_params(
            pod, follow=opts.follow, tail=opts.tail, since_seconds=opts.since_seconds, since_time=opts.since_time
        )
        name = str((pod.get("metadata") or {}).get("name") or "")
        try:
            await print_stream(cl.stream_pod_log(client.config, namespace, name, params, deadline), flt)
        except ApiError as exc:
            _stderr(f"failed getting logs: {exc}\n")
            return False
        return True

    if opts.follow and len(pods) > 1:
        await asyncio.gather(*(one(pod) for pod in pods))
        return
    results = [await one(pod) for pod in pods]
    if not all(results):
        raise CommandError("failed to collect logs from all Flux pods")


async def _file_lines(path: Path, opts: Options, deadline: float) -> AsyncGenerator[str, None]:
    data = path.read_bytes()
    lines, offset = cl.tail_lines(data, opts.tail)
    for line in lines:
        yield line
    if opts.follow:
        async for line in cl.follow_file(path, offset, deadline):
            yield line


async def local_logs(path: Path, opts: Options, flt: cl.LogFilter, deadline: float) -> None:
    """The local controllers' log, as if it were their pod's."""
    try:
        await print_stream(_file_lines(path, opts, deadline), flt, opts.not_before())
    except OSError as exc:
        _stderr(f"failed getting logs: {exc}\n")
        raise CommandError("failed to collect logs from all Flux pods") from None


@click.command("logs", cls=goflags.FluxCommand, help=HELP, short_help="Display formatted logs for Flux components")
@click.argument("args", nargs=-1)
@click.option("--level", type=goflags.Checked("debug|info|error", _level), default=None, help="log level")
@click.option("--kind", default="", help="displays errors of a particular toolkit kind e.g GitRepository")
@click.option("--name", default="", help="specifies the name of the object logs to be displayed")
@click.option("-f", "--follow", is_flag=True, help="specifies if the logs should be streamed")
@click.option("--tail", type=goflags.Checked("int", _int64), default="-1", help="lines of recent log file to display")
@click.option("--flux-namespace", default="flux-system", help="the namespace where the Flux components are running")
@click.option("-A", "--all-namespaces", is_flag=True, help="displays logs for objects across all namespaces")
@click.option(
    "--since",
    type=goflags.Duration(),
    default="0s",
    help="Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all logs. "
    "Only one of since-time / since may be used.",
)
@click.option(
    "--since-time",
    default="",
    help="Only return logs after a specific date (RFC3339). Defaults to all logs. "
    "Only one of since-time / since may be used.",
)
@with_globals
def logs(
    g: Globals,
    args: tuple[str, ...],
    level: str | None,
    kind: str,
    name: str,
    follow: bool,
    tail: int,
    flux_namespace: str,
    all_namespaces: bool,
    since: int,
    since_time: str,
) -> None:
    deadline = time.monotonic() + timeout_seconds(g)
    flt = cl.LogFilter(level=level or "", kind=kind, name=name, namespace=g.namespace, all_namespaces=all_namespaces)

    async def body(client: Client) -> None:
        if args:
            raise CommandError("no argument required")
        pods = await flux_pods(client, flux_namespace)
        local = cl.local_log(g.kubeconfig) if not pods else None
        if not pods and local is None:
            raise CommandError(f'no Flux pods found in namespace "{flux_namespace}"')
        opts = options(follow, int(tail), since, since_time)
        if local is not None:
            await local_logs(local, opts, flt, deadline)
            return
        await pod_logs(client, pods, flux_namespace, opts, flt, deadline)

    kubeclient.run(g, body)
