"""How CLI commands reach the cluster: load the kubeconfig from the global flags and run async code.

Every expected failure (no kubeconfig, unreachable server, missing CRD) becomes one `CommandError` line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gotk.cli.context import Globals
from gotk.cli.output import CommandError
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.errors import ApiError, ResourceNotFound, Unreachable

T = TypeVar("T")


def load_config(g: Globals) -> config.KubeConfig:
    try:
        return config.load(g.kubeconfig, g.context)
    except config.ConfigError as exc:
        raise CommandError(str(exc)) from exc


def run(g: Globals, body: Callable[[Client], Awaitable[T]], *, qps: float = 50, burst: int = 300) -> T:
    """Run `body` with a client for the selected cluster, translating API failures into CommandError."""
    cfg = load_config(g)

    async def main() -> T:
        async with Client(cfg, qps=qps, burst=burst, user_agent="flux-cli") as client:
            return await body(client)

    try:
        return asyncio.run(main())
    except Unreachable as exc:
        raise CommandError(str(exc)) from exc
    except ResourceNotFound as exc:
        raise CommandError(f"{exc}: are the gotk CRDs installed? (flux install)") from exc
    except ApiError as exc:
        raise CommandError(str(exc)) from exc
