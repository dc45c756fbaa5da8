"""The manager: runs a set of controllers in one process with shared client, metrics and health endpoints.

Per controller name (e.g. `source-controller`) it holds a leader-election Lease, then starts that
controller's informers and workers. On shutdown it stops taking work, lets in-flight reconciles finish
(up to the graceful timeout) and releases its Leases.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gotk.kube.client import Client
from gotk.runtime.controller import Controller
from gotk.runtime.events import EventRecorder
from gotk.runtime.informer import Informer
from gotk.runtime.leader import LeaderElector
from gotk.runtime.metrics import Metrics
from gotk.runtime.queue import WorkQueue
from gotk.runtime.reconciler import Reconciler

log = logging.getLogger("gotk.manager")


@dataclass
class ManagerOptions:
    """The process-wide flags of `flux controllers run`: leader election, watches, workers, retries, servers."""

    namespace: str = "flux-system"
    leader_election: bool = False
    lease_duration: float = 35.0
    renew_deadline: float = 30.0
    retry_period: float = 5.0
    watch_label_selector: str | None = None
    watch_namespace: str | None = None
    concurrent: int = 4
    min_retry_delay: float = 0.75
    max_retry_delay: float = 900.0
    health_addr: str | None = None
    metrics_addr: str | None = None
    events_addr: str | None = None
    graceful_shutdown_timeout: float = 600.0
    progress_delay: float = 1.0  # a step still running after this long has its progress written


class Manager:
    """Owns every controller of the process."""

    def __init__(self, client: Client, options: ManagerOptions | None = None) -> None:
        self.client = client
        self.options = options or ManagerOptions()
        self.metrics = Metrics()
        self.controllers: list[Controller] = []
        self._by_name: dict[str, list[Controller]] = defaultdict(list)
        self._electors: list[LeaderElector] = []
        self._informer_tasks: list[asyncio.Task[None]] = []
        self.ready = False
        self.extra_servers: list[web.AppRunner] = []
        self._extra_informers: dict[str, list[Informer]] = defaultdict(list)
        self.cleanups: list[Callable[[], Awaitable[None]]] = []
        # Events go through a client of their own, as client-go's broadcaster does: never in a reconcile's way
        self._events_client = client.for_config(client.config)
        self._recorders: list[EventRecorder] = []

    def add_informer(self, controller_name: str, informer: Informer) -> None:
        """Run `informer` with the named controller (after its leader election), e.g. to watch sources."""
        self._extra_informers[controller_name].append(informer)

    def add(self, reconciler: Reconciler[Any], *, concurrency: int | None = None) -> Controller:
        opts = self.options
        informer = Informer(
            self.client,
            reconciler.resource,
            namespace=opts.watch_namespace,
            label_selector=opts.watch_label_selector,
        )
        queue: WorkQueue[tuple[str, str]] = WorkQueue(
            min_retry_delay=opts.min_retry_delay, max_retry_delay=opts.max_retry_delay
        )
        recorder = EventRecorder(self._events_client, reconciler.controller_name, events_addr=opts.events_addr)
        self._recorders.append(recorder)
        controller = Controller(
            reconciler,
            self.client,
            informer,
            recorder=recorder,
            metrics=self.metrics,
            queue=queue,
            concurrency=concurrency or opts.concurrent,
            progress_delay=opts.progress_delay,
        )
        self.controllers.append(controller)
        self._by_name[reconciler.controller_name].append(controller)
        return controller

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set (or leadership is lost), then shut down gracefully."""
        runners = await self._start_servers()
        groups = [asyncio.create_task(self._run_group(name, ctrls, stop)) for name, ctrls in self._by_name.items()]
        try:
            await stop.wait()
        finally:
            log.info("shutting down, waiting for in-flight reconciles")
            for c in self.controllers:
                c.shutdown()
            _done, pending = await asyncio.wait(groups, timeout=self.options.graceful_shutdown_timeout)
            for task in pending:
                task.cancel()
            for task in self._informer_tasks:
                task.cancel()
            await asyncio.gather(*self._informer_tasks, *pending, return_exceptions=True)
            for elector in self._electors:
                await elector.release()
            for runner in runners + self.extra_servers:
                await runner.cleanup()
            for cleanup in self.cleanups:
                await cleanup()
            for recorder in self._recorders:
                await recorder.flush()
            await self._events_client.close()
            log.info("shutdown complete")

    async def _run_group(self, name: str, controllers: list[Controller], stop: asyncio.Event) -> None:
        opts = self.options
        if opts.leader_election:
            elector = LeaderElector(
                self.client,
                namespace=opts.namespace,
                name=f"{name}-leader-election",
                lease_duration=opts.lease_duration,
                renew_deadline=opts.renew_deadline,
                retry_period=opts.retry_period,
            )
            self._electors.append(elector)
            acquire = asyncio.create_task(elector.acquire())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not acquire.done():
                acquire.cancel()
                return
            stopped.cancel()
            self._informer_tasks.append(asyncio.create_task(elector.hold(stop.set)))
        informers = [c.informer for c in controllers] + self._extra_informers.get(name, [])
        for informer in informers:
            self._informer_tasks.append(asyncio.create_task(informer.run()))
        await asyncio.gather(*(i.wait_synced() for i in informers))
        self.ready = True
        log.info("controllers started", extra={"controller": name, "kinds": [c.kind for c in controllers]})
        await asyncio.gather(*(c.run() for c in controllers))

    async def _start_servers(self) -> list[web.AppRunner]:
        runners: list[web.AppRunner] = []
        opts = self.options
        if opts.health_addr:
            app = web.Application()
            app.router.add_get("/healthz", self._healthz)
            app.router.add_get("/readyz", self._readyz)
            runners.append(await serve(app, opts.health_addr))
        if opts.metrics_addr:
            app = web.Application()
            app.router.add_get("/metrics", self._metrics)
            runners.append(await serve(app, opts.metrics_addr))
        return runners

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _readyz(self, _: web.Request) -> web.Response:
        if self.ready or (self.options.leader_election and not any(e.is_leader for e in self._electors)):
            return web.Response(text="ok")
        return web.Response(status=503, text="informers not synced")

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), content_type="text/plain")


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return (host or "0.0.0.0", int(port))


async def serve(app: web.Application, addr: str) -> web.AppRunner:
    """Serve `app` on `addr` (`host:port`, `:port`); stop it with `await runner.cleanup()`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = split_addr(addr)
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
