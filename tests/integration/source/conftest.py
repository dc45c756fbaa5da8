"""`gitenv`: the source controller running in-process against the session cluster (its storage and
artifact server on 127.0.0.1), plus the helpers the GitRepository feature tests share: Git servers,
Secrets, GitRepositories, waits on their status, reconcile requests and artifact downloads. Also the plain
`client` and `source` fixtures (an API client; the source controller's Manager) of the per-kind tests.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import EVENTS, GITREPOSITORIES, SECRETS
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing import artifacts
from gotk.testing.gitserver import GitHttpServer, SshGitServer

Obj = dict[str, Any]


async def put_secret(client: Client, namespace: str, name: str, data: Mapping[str, str | bytes]) -> None:
    """Create or replace Secret `namespace/name` with `data`."""
    encoded = {k: base64.b64encode(v if isinstance(v, bytes) else v.encode()).decode() for k, v in data.items()}
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": encoded}
    if await client.get_or_none(SECRETS, name, namespace) is not None:
        await client.delete(SECRETS, name, namespace)
    await client.create(SECRETS, body, namespace)


@dataclass
class GitEnv:
    """A running source controller watching `namespace`, and the servers a test started."""

    client: Client
    namespace: str
    tmp: Path
    manager: Manager
    servers: list[GitHttpServer | SshGitServer] = field(default_factory=list)
    _tokens: int = 0

    # -- servers and objects ---------------------------------------------------------------------

    def http_server(self, name: str = "git", **options: Any) -> GitHttpServer:
        """A started smart-HTTP server for the bare repositories under `tmp/<name>` (stopped at teardown)."""
        root = self.tmp / name
        root.mkdir(exist_ok=True)
        server = GitHttpServer(root, **options).start()
        self.servers.append(server)
        return server

    def ssh_server(self, name: str = "git-ssh") -> SshGitServer:
        root = self.tmp / name
        root.mkdir(exist_ok=True)
        server = SshGitServer(root, workdir=self.tmp / f"{name}-sshd").start()
        self.servers.append(server)
        return server

    async def secret(self, name: str, data: Mapping[str, str | bytes]) -> None:
        """Create or replace Secret `name` with `data`."""
        await put_secret(self.client, self.namespace, name, data)

    async def gitrepository(self, name: str, url: str, *, interval: str = "1h", **spec: Any) -> None:
        """Create GitRepository `name` (branch main unless `ref` is given; interval 1h: only a spec change,
        a reconcile request or a watch can explain a new artifact)."""
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name},
            "spec": {"url": url, "interval": interval, "ref": {"branch": "main"}, **spec},
        }
        await self.client.create(GITREPOSITORIES, body, self.namespace)

    async def patch_spec(self, name: str, spec: Obj) -> None:
        await self.client.patch(GITREPOSITORIES, name, {"spec": spec}, self.namespace)

    async def get(self, name: str) -> Obj:
        return await self.client.get(GITREPOSITORIES, name, self.namespace)

    async def request(self, name: str) -> str:
        """Set reconcile.fluxcd.io/requestedAt (as `flux reconcile` does); returns the token."""
        self._tokens += 1
        token = f"{time.time():.6f}-{self._tokens}"
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}
        await self.client.patch(GITREPOSITORIES, name, patch, self.namespace)
        return token

    # -- waiting -----------------------------------------------------------------------------------

    async def wait(self, name: str, check: Callable[[Obj], bool], what: str, timeout: float = 45.0) -> Obj:
        """Poll GitRepository `name` until `check` holds; return it (fail with its status otherwise)."""
        deadline = time.monotonic() + timeout
        obj: Obj = {}
        while time.monotonic() < deadline:
            obj = await self.get(name)
            if check(obj):
                return obj
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {name}: {what}; status: {obj.get('status')}")

    async def ready(self, name: str, revision: str | None = None, *, after: str | None = None) -> Obj:
        """Wait for Ready=True for the current generation (at `revision`, having handled request `after`)."""

        def check(o: Obj) -> bool:
            status = o.get("status") or {}
            return (
                conditions.is_ready(o)
                and status.get("observedGeneration") == o["metadata"]["generation"]
                and (revision is None or (status.get("artifact") or {}).get("revision") == revision)
                and (after is None or status.get("lastHandledReconcileAt") == after)
            )

        return await self.wait(name, check, f"Ready at {revision or 'any revision'}")

    async def failed(self, name: str, *, reason: str | None = None, after: str | None = None) -> Obj:
        """Wait for Ready=False (with `reason`, having handled request `after`)."""

        def check(o: Obj) -> bool:
            handled = after is None or (o.get("status") or {}).get("lastHandledReconcileAt") == after
            ready = conditions.get(o, meta.READY) or {}
            current = ready.get("observedGeneration") == o["metadata"]["generation"]
            return handled and current and ready.get("status") == "False" and reason in (None, ready.get("reason"))

        return await self.wait(name, check, f"Ready=False ({reason or 'any reason'})")

    async def events(self) -> list[Obj]:
        page = await self.client.list(EVENTS, self.namespace)
        return list(page.get("items") or [])

    # -- artifacts ---------------------------------------------------------------------------------

    @staticmethod
    async def files(obj: Obj) -> dict[str, bytes]:
        """The regular files of the object's artifact, by path."""
        return artifacts.tar_members(await artifacts.download(obj["status"]["artifact"]["url"]))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 45.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
async def gitenv(cluster: Any, namespace: str, tmp_path: Path) -> AsyncIterator[GitEnv]:
    async with Client(config.load(cluster.kubeconfig)) as client:
        options = ManagerOptions(watch_namespace=namespace, concurrent=4, graceful_shutdown_timeout=5.0)
        manager = Manager(client, options)
        settings = Settings(storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0", requeue_dependency=1.0)
        await source_controller.register(manager, settings)
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        env = GitEnv(client, namespace, tmp_path, manager)
        try:
            yield env
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            for server in env.servers:
                server.stop()


# the source controller in-process for the Bucket, GitRepository and OCIRepository end-to-end tests
@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


@pytest.fixture
async def source(client: Client, namespace: str, tmp_path: Path) -> AsyncIterator[Manager]:
    manager = Manager(client, ManagerOptions(watch_namespace=namespace, concurrent=2))
    settings = Settings(storage_path=str(tmp_path / "storage"), storage_addr="127.0.0.1:0")
    await source_controller.register(manager, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(manager.run(stop))
    yield manager
    stop.set()
    await asyncio.wait_for(task, 30)
