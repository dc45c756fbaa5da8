"""`flux suspend <noun> [names…] [--all]` and `flux resume <noun> [names…] [--all] [--wait]`.

Both set spec.suspend with a merge patch and print flux2's lines (cmd/flux/suspend.go, resume.go).
Resume also sets reconcile.fluxcd.io/requestedAt in the same patch and, for one object or with
--wait, waits until the controller handled it and reports the Ready condition.
`suspend|resume artifact generator` are gotk additions (flux2 has neither): they set and remove the
annotation `source.extensions.fluxcd.io/reconcile: disabled`, source-watcher's pause switch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import click

from gotk.cli import kinds_cli, kubeclient, output, readiness
from gotk.cli.context import Globals
from gotk.cli.flags import AliasGroup, request_token, timeout_seconds, with_globals
from gotk.cli.kinds_cli import Noun, Obj, dig, find_condition, text
from gotk.cli.output import CommandError
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, Unreachable


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


async def _list(client: Client, noun: Noun, namespace: str, name: str | None) -> list[Obj]:
    return await readiness.list_objects(client, noun.resource, namespace, name=name)


async def suspend_objects(client: Client, noun: Noun, namespace: str, names: Sequence[str]) -> None:
    """Suspend the named objects (all in the namespace when `names` is empty)."""
    res = noun.resource

    async def patch(items: list[Obj]) -> None:
        for obj in items:
            name = text(dig(obj, "metadata", "name"))
            output.action(f"suspending {noun.human} {name} in {namespace} namespace")
            await client.patch(res, name, noun.suspend_patch(True), namespace)
            output.success(f"{noun.human} suspended")

    if not names:
        items = await _list(client, noun, namespace, None)
        if not items:
            raise CommandError("no objects found")
        await patch(items)
        return
    for name in _unique(names):
        try:
            items = await _list(client, noun, namespace, name)
            if not items:
                output.failure(f"{noun.kind} {name} not found in {namespace} namespace")
                continue
            await patch(items)
        except Unreachable:
            raise
        except ApiError as exc:
            output.failure(f"failed suspending {noun.kind} {name} in {namespace} namespace: {exc}")


async def resume_objects(
    client: Client, noun: Noun, namespace: str, names: Sequence[str], *, wait: bool, deadline: float
) -> None:
    """Resume the named objects (all when `names` is empty); with `wait`, wait for each to reconcile."""
    res = noun.resource
    token = request_token()
    resumed: list[Obj] = []
    targets: list[str | None] = [*_unique(names)] or [None]
    for name in targets:
        items = await _list(client, noun, namespace, name)
        if not items:
            if name is None:
                output.failure(f"no {noun.kind} objects found in {namespace} namespace")
            else:
                output.failure(f"{noun.kind} object '{name}' not found in {namespace} namespace")
            continue
        for obj in items:
            obj_name = text(dig(obj, "metadata", "name"))
            output.action(f"resuming {noun.human} {obj_name} in {namespace} namespace")
            patch: dict[str, Any] = noun.suspend_patch(False)
            if not noun.static:
                patch.setdefault("metadata", {}).setdefault("annotations", {})[kinds_cli.REQUESTED_AT] = token
            resumed.append(await client.patch(res, obj_name, patch, namespace))
            output.success(f"{noun.human} resumed")
    if not wait or not resumed:
        return

    async def settle(obj: Obj) -> tuple[Obj, str | None]:
        name = text(dig(obj, "metadata", "name"))
        output.waiting(f"waiting for {noun.kind} reconciliation")
        try:
            done = await readiness.poll(
                lambda: client.get(res, name, namespace),
                _resumed_check(noun, token),
                deadline=deadline,
                what=f"{noun.kind} reconciliation",
            )
        except CommandError as exc:
            return obj, str(exc)
        ready = find_condition(done, "Ready")
        if not noun.static and ready is not None and ready.get("status") != "True":
            return done, text(ready.get("message"))
        return done, None

    results = await asyncio.gather(*(settle(obj) for obj in resumed))
    failed = 0
    for obj, error in sorted(results, key=lambda r: text(dig(r[0], "metadata", "name"))):
        name = text(dig(obj, "metadata", "name"))
        if error is not None:
            failed += 1
            output.failure(f"{noun.kind} {name} reconciliation failed: {error}")
            continue
        output.success(f"{noun.kind} {name} reconciliation completed")
        output.success(noun.success(obj))
    if failed:
        raise CommandError(f"reconciliation failed for {failed} {noun.kind}(s)")


def _resumed_check(noun: Noun, token: str) -> Callable[[Obj], bool]:
    """Static kinds need only settle; others must have handled our request and report a current Ready."""
    if noun.static:
        return readiness.settled

    def check(obj: Obj) -> bool:
        return (
            readiness.request_handled(obj, token)
            and readiness.generation_ready(obj, status_generation=noun.status_generation)
            and readiness.settled(obj)
        )

    return check


# -- commands --------------------------------------------------------------------------------------


def _suspend_leaf(noun: Noun) -> click.Command:
    @click.command(noun.name, help=f"Suspend reconciliation of {noun.kind} objects.")
    @click.argument("names", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Suspend all resources in that namespace.")
    @with_globals
    def command(g: Globals, names: tuple[str, ...], all_: bool) -> None:
        if not names and not all_:
            raise CommandError(f"{noun.human} name is required")
        kubeclient.run(g, lambda client: suspend_objects(client, noun, g.namespace, names))

    return command


def _resume_leaf(noun: Noun) -> click.Command:
    @click.command(noun.name, help=f"Resume suspended {noun.kind} objects.")
    @click.argument("names", nargs=-1)
    @click.option("--all", "all_", is_flag=True, help="Resume all resources in that namespace.")
    @click.option(
        "--wait/--no-wait",
        default=None,
        help="Wait for each resource to reconcile (default: only when one name is given).",
    )
    @with_globals
    def command(g: Globals, names: tuple[str, ...], all_: bool, wait: bool | None) -> None:
        if not names and not all_:
            raise CommandError(f"{noun.human} name is required")
        should_wait = wait if wait is not None else len(names) == 1
        deadline = time.monotonic() + timeout_seconds(g)
        kubeclient.run(
            g,
            lambda client: resume_objects(client, noun, g.namespace, names, wait=should_wait, deadline=deadline),
        )

    return command


def _tree(name: str, help_text: str, leaf: Callable[[Noun], click.Command]) -> click.Group:
    group = AliasGroup(name, help=help_text)
    source = AliasGroup("source", help="Sources.")
    image = AliasGroup("image", help="Image automation objects.")
    artifact = AliasGroup("artifact", help="Artifact objects.")
    for noun in kinds_cli.NOUNS:
        if not noun.suspendable:
            continue
        target = {"source": source, "image": image, "artifact": artifact}.get(noun.parent or "", group)
        target.add_aliased(leaf(noun), noun.aliases)
    group.add_command(source)
    group.add_command(image)
    group.add_command(artifact)
    return group


suspend = _tree("suspend", "Suspend resources.", _suspend_leaf)
resume = _tree("resume", "Resume suspended resources.", _resume_leaf)
