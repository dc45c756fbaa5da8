"""Click plumbing shared by the kind-based verbs (get, reconcile, suspend, resume).

`AliasGroup` resolves Flux's command aliases (`ks`, `hr`, `source`); `with_globals` lets the global
flags follow the sub-command (`flux get ks -n apps`), as cobra's persistent flags allow.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from gotk.cli.context import Globals
from gotk.cli.output import CommandError
from gotk.gocompat import durations

F = TypeVar("F", bound=Callable[..., Any])


class AliasGroup(click.Group):
    """A click group whose sub-commands may be reached by alias, like cobra's `Aliases`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.aliases: dict[str, str] = {}

    def add_aliased(self, command: click.Command, aliases: tuple[str, ...] = ()) -> None:
        self.add_command(command)
        for alias in aliases:
            self.aliases[alias] = str(command.name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command is not None else name), command, rest


def with_globals(f: F) -> F:
    """Accept the global flags after the sub-command too; the command receives the merged `Globals`."""

    @click.option("--kubeconfig", "g_kubeconfig", default=None, hidden=True)
    @click.option("--context", "g_context", default=None, hidden=True)
    @click.option("-n", "--namespace", "g_namespace", default=None, help="The namespace scope for this operation.")
    @click.option("--timeout", "g_timeout", default=None, help="Timeout for this operation (default 5m).")
    @click.option("--verbose", "g_verbose", is_flag=True, default=None, hidden=True)
    @click.pass_obj
    @functools.wraps(f)
    def wrapper(g: Globals, *args: Any, **kwargs: Any) -> Any:
        overrides = {
            "kubeconfig": kwargs.pop("g_kubeconfig"),
            "context": kwargs.pop("g_context"),
            "namespace": kwargs.pop("g_namespace"),
            "timeout": kwargs.pop("g_timeout"),
            "verbose": kwargs.pop("g_verbose"),
        }
        merged = dataclasses.replace(g, **{k: v for k, v in overrides.items() if v is not None})
        return f(merged, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def timeout_seconds(g: Globals) -> float:
    """The --timeout flag in seconds; a bad value is one ✗ line."""
    try:
        return durations.parse(g.timeout)
    except ValueError as exc:
        raise CommandError(f'invalid argument "{g.timeout}" for "--timeout" flag: {exc}') from exc


def request_token(now_ns: int | None = None) -> str:
    """A reconcile request token: the time as Go's time.RFC3339Nano prints it (local zone, trailing zeros cut)."""
    ns = time.time_ns() if now_ns is None else now_ns
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).astimezone()
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    if fraction:
        text += "." + fraction
    offset = stamp.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{mins:02d}"
