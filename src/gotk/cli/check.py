"""`flux check [--pre]`: Kubernetes version, the installed gotk version, controller health and the CRDs.

Controllers are Deployments labelled app.kubernetes.io/part-of=flux (flux install), or, for `flux local up`,
a controllers process found through the local state file next to the kubeconfig (its /readyz must answer)
or fresh leader-election Leases. CRDs must match what this build's crdgen renders (`crd_problems`).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import click

from gotk.api import crdgen
from gotk.cli import goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.flags import timeout_seconds, with_globals
from gotk.cli.kinds_cli import dig, find_condition, text
from gotk.cli.output import CommandError
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, Unreachable
from gotk.kube.resources import CRDS, DEPLOYMENTS, LEASES

MIN_KUBERNETES = (1, 33, 0)
CONSTRAINT = ">=1.33.0-0"
PART_OF = "app.kubernetes.io/part-of=flux"
DEPLOYMENT_POLL = 2.0  # without --poll-interval (flux's default is 5s; readiness shows sooner here)
LEASE_SUFFIX = "-leader-election"
LOCAL_CONTROLLERS = "controllers"  # the process name `flux local up` records in state.json


# -- pure checks -----------------------------------------------------------------------------------


def parse_kubernetes_version(git_version: str) -> tuple[tuple[int, int, int], str] | None:
    """`v1.34.1+k3s1` -> ((1, 34, 1), "1.34.1+k3s1"), the way semver prints it; None when unparsable."""
    shown = git_version.strip().removeprefix("v")
    core = shown.split("+", 1)[0].split("-", 1)[0]
    parts = core.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return (int(parts[0]), int(parts[1]), int(parts[2])), shown


def _first_difference(have: Any, want: Any, path: str) -> str | None:
    """The JSON path of the first place where two JSON documents differ, or None when equal."""
    if isinstance(have, Mapping) and isinstance(want, Mapping):
        for key in sorted(set(have) | set(want)):
            if key not in have:
                return f"{path}.{key} (missing in the cluster)"
            if key not in want:
                return f"{path}.{key} (unknown to this build)"
            found = _first_difference(have[key], want[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(have, list) and isinstance(want, list):
        if len(have) != len(want):
            return f"{path} ({len(have)} items in the cluster, {len(want)} in this build)"
        for i, (a, b) in enumerate(zip(have, want, strict=True)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if have == want else path


def crd_problems(installed: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    """Why an installed CRD does not match this build's: served versions, schemas, Established."""
    problems: list[str] = []
    have_versions = {v.get("name"): v for v in dig(installed, "spec", "versions") or []}
    want_versions = {v.get("name"): v for v in dig(expected, "spec", "versions") or []}
    served = sorted(str(name) for name, v in have_versions.items() if v.get("served"))
    want_served = sorted(str(name) for name, v in want_versions.items() if v.get("served"))
    if served != want_served:
        problems.append(f"serves {','.join(served) or 'nothing'}, this build serves {','.join(want_served)}")
    for name, want in want_versions.items():
        have = have_versions.get(name)
        if have is None:
            continue
        normalised = json.loads(json.dumps(dig(want, "schema", "openAPIV3Schema")))
        diff = _first_difference(dig(have, "schema", "openAPIV3Schema"), normalised, "openAPIV3Schema")
        if diff:
            problems.append(f"{name} schema differs from this build at {diff}")
    established = find_condition(installed, "Established")
    if established is None or established.get("status") != "True":
        problems.append("not established")
    return problems


def deployment_ready(deploy: Mapping[str, Any]) -> bool:
    """kstatus Current for a Deployment: generation observed and every replica updated, ready and available."""
    generation = dig(deploy, "metadata", "generation") or 0
    if (dig(deploy, "status", "observedGeneration") or 0) < generation:
        return False
    replicas = dig(deploy, "spec", "replicas")
    replicas = 1 if replicas is None else replicas
    status = deploy.get("status") or {}
    counts = [status.get(k) or 0 for k in ("updatedReplicas", "readyReplicas", "availableReplicas")]
    return all(c >= replicas for c in counts) and (status.get("replicas") or 0) <= replicas


# -- checks against the cluster --------------------------------------------------------------------


async def kubernetes_check(client: Client) -> bool:
    try:
        info = await client.get_raw("/version")
    except Unreachable as exc:
        raise CommandError(f"Kubernetes API call failed: {exc}") from exc
    git_version = text(info.get("gitVersion")) if isinstance(info, dict) else ""
    parsed = parse_kubernetes_version(git_version)
    if parsed is None:
        output.failure("Kubernetes version can't be determined")
        return False
    version, shown = parsed
    if version < MIN_KUBERNETES:  # flux prints the version as the server sent it (semver's Original)
        output.failure(f"Kubernetes version {git_version.strip()} does not match {CONSTRAINT}")
        return False
    output.success(f"Kubernetes {shown} {CONSTRAINT}")
    return True


async def version_check(client: Client) -> bool:
    try:
        crd = await client.get(CRDS, "gitrepositories.source.toolkit.fluxcd.io")
    except ApiError as exc:
        output.failure(f"checking failed: {exc}")
        return False
    labels = dig(crd, "metadata", "labels") or {}
    version = text(labels.get("app.kubernetes.io/version"))
    part_of = text(labels.get("app.kubernetes.io/part-of"))
    distribution = f"{part_of}-{version}" if part_of and version else version
    if distribution:
        output.success(f"distribution: {distribution}")
    bootstrapped = "kustomize.toolkit.fluxcd.io/namespace" in labels
    output.success(f"bootstrapped: {str(bootstrapped).lower()}")
    return True


async def controllers_check(client: Client, g: Globals, deadline: float, *, poll: float = DEPLOYMENT_POLL) -> bool:
    listed = await client.list(DEPLOYMENTS, g.namespace, label_selector=PART_OF)
    deployments = listed["items"]
    if not deployments:
        return await out_of_cluster_check(client, g)
    pending = {text(dig(d, "metadata", "name")) for d in deployments if not deployment_ready(d)}
    while pending and time.monotonic() < deadline:
        await asyncio.sleep(min(poll, max(0.0, deadline - time.monotonic())))
        for name in sorted(pending):
            current = await client.get_or_none(DEPLOYMENTS, name, g.namespace)
            if current is not None and deployment_ready(current):
                pending.discard(name)
    for deploy in deployments:
        name = text(dig(deploy, "metadata", "name"))
        if name in pending:
            output.failure(f"{name}: deployment not ready")
        else:
            output.success(f"{name}: deployment ready")
        for container in dig(deploy, "spec", "template", "spec", "containers") or []:
            output.action(text(container.get("image")))
    return not pending


async def out_of_cluster_check(client: Client, g: Globals) -> bool:
    """No Deployments: prove controllers run elsewhere via `flux local` state or fresh Leases."""
    local = local_controllers(g)
    if local is not None:
        pid, health = local
        if await _healthy(f"http://{health}/readyz"):
            output.success(f"controllers running out of cluster (pid {pid}, {health}/readyz ok)")
            return True
        output.failure(f"controllers process {pid} does not answer on {health}/readyz")
        return False
    holders = await fresh_leases(client, g.namespace)
    if holders:
        for name, holder in holders:
            output.success(f"{name}: leader lease held by {holder}")
        output.success("controllers running out of cluster")
        return True
    output.failure(f"no controllers found in the '{g.namespace}' namespace with the label selector '{PART_OF}'")
    return False


def local_controllers(g: Globals) -> tuple[int, str] | None:
    """(pid, host:port of /readyz) of a live `flux local up` controllers process, from DIR/state.json."""
    path = Path(g.kubeconfig.split(os.pathsep)[0]) if g.kubeconfig else config.default_path()
    state_file = path.absolute().parent / "state.json"
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    for component in state.get("components") or []:
        if not isinstance(component, dict) or component.get("name") != LOCAL_CONTROLLERS:
            continue
        pid = int(component.get("pid") or 0)
        argv = [str(a) for a in component.get("argv") or []]
        health = _flag_value(argv, "--health-addr")
        if pid and health and _pid_alive(pid):
            host, _, port = health.rpartition(":")
            return pid, f"{host or '127.0.0.1'}:{port}"
    return None


def _flag_value(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _healthy(url: str) -> bool:
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp,
        ):
            return resp.status == 200
    except (aiohttp.ClientError, TimeoutError, OSError):
        return False


async def fresh_leases(client: Client, namespace: str) -> list[tuple[str, str]]:
    """Controllers whose leader-election Lease was renewed within its lease duration."""
    now = datetime.now(UTC)
    found = []
    for lease in (await client.list(LEASES, namespace))["items"]:
        name = text(dig(lease, "metadata", "name"))
        holder = text(dig(lease, "spec", "holderIdentity"))
        renewed = text(dig(lease, "spec", "renewTime"))
        duration = dig(lease, "spec", "leaseDurationSeconds") or 0
        if not name.endswith(LEASE_SUFFIX) or not holder or not renewed:
            continue
        try:
            age = (now - datetime.fromisoformat(renewed.replace("Z", "+00:00"))).total_seconds()
        except ValueError:
            continue
        if age <= duration:
            found.append((name.removesuffix(LEASE_SUFFIX), holder))
    return found


async def crds_check(client: Client) -> bool:
    expected = sorted(crdgen.render_all(), key=lambda crd: str(crd["metadata"]["name"]))
    installed = {text(dig(c, "metadata", "name")): c for c in (await client.list(CRDS))["items"]}
    if not any(crd["metadata"]["name"] in installed for crd in expected):
        output.failure("no gotk CRDs found (run flux install)")
        return False
    ok = True
    for want in expected:
        name = str(want["metadata"]["name"])
        have = installed.get(name)
        if have is None:
            output.failure(f"{name} not found")
            ok = False
            continue
        problems = crd_problems(have, want)
        if problems:
            output.failure(f"{name}: {'; '.join(problems)}")
            ok = False
            continue
        stored = dig(have, "status", "storedVersions") or [want["spec"]["versions"][0]["name"]]
        output.success(f"{name}/{stored[-1]}")
    return ok


@click.command("check", cls=goflags.FluxCommand)
@click.option("--pre", is_flag=True, help="Only run pre-installation checks.")
@click.option(
    "--components",
    multiple=True,
    help="List of components, accepts comma-separated values (accepted as flux does; controllers are found by label).",
)
@click.option(
    "--components-extra",
    multiple=True,
    help="List of components in addition to those supplied or defaulted, accepts comma-separated values.",
)
@click.option(
    "--poll-interval",
    type=goflags.Duration(),
    default=None,
    help="How often the health checker polls the cluster for the latest state of the resources.",
)
@with_globals
def check(
    g: Globals, pre: bool, components: tuple[str, ...], components_extra: tuple[str, ...], poll_interval: int | None
) -> None:
    """Check requirements and installation."""
    deadline = time.monotonic() + timeout_seconds(g)
    poll = poll_interval / 1e9 if poll_interval else DEPLOYMENT_POLL

    output.action("checking prerequisites")
    try:
        kubeclient.load_config(g)
    except CommandError as exc:
        raise CommandError(f"Kubernetes client initialization failed: {exc}") from None

    async def body(client: Client) -> bool:
        ok = await kubernetes_check(client)
        if pre:
            return ok
        output.action("checking version in cluster")
        ok = await version_check(client) and ok
        output.action("checking controllers")
        ok = await controllers_check(client, g, deadline, poll=poll) and ok
        output.action("checking crds")
        return await crds_check(client) and ok

    ok = kubeclient.run(g, body)
    if pre and ok:
        output.success("prerequisites checks passed")
    elif not ok:
        if not pre:
            output.failure("check failed")
        raise SystemExit(1)
    else:
        output.success("all checks passed")
