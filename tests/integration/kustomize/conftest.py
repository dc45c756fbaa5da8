"""Fixtures for the Kustomization feature tests: `client` (bound to the session cluster) and `harness`,
which runs the source and kustomize controllers in-process (started by the test, so it can pick the
Settings) and carries the helpers the tests share: git repositories, sources, Kustomizations, waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import EVENTS, GITREPOSITORIES, KUSTOMIZATIONS
from gotk.kustomize import controller as kustomize_controller
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.waiting import eventually

Obj = dict[str, Any]


@dataclass
class Harness:
    """The controllers under test plus helpers; every object lives in `namespace`."""

    client: Client
    namespace: str
    git: GitHttpServer
    tmp: Path
    manager: Manager | None = None
    settings: Settings | None = None
    repos: dict[str, Path] = field(default_factory=dict)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    eventually = staticmethod(eventually)

    async def start(self, **overrides: Any) -> Manager:
        """Start the source and kustomize controllers with Settings(**overrides) (fast dependency requeue)."""
        assert self.manager is None, "started twice"
        options = ManagerOptions(watch_namespace=self.namespace, concurrent=4, graceful_shutdown_timeout=5.0)
        manager = Manager(self.client, options)
        values: dict[str, Any] = {
            "storage_path": str(self.tmp / "storage"),
            "storage_addr": "127.0.0.1:0",
            "requeue_dependency": 1.0,
        }
        values.update(overrides)
        self.settings = Settings(**values)
        await source_controller.register(manager, self.settings)
        await kustomize_controller.register(manager, self.settings)
        self._task = asyncio.create_task(manager.run(self._stop))
        self.manager = manager
        return manager

    async def stop(self) -> None:
        if self._task is not None:
            self._stop.set()
            await asyncio.wait_for(self._task, 60)
            self._task = None

    # -- git and sources --------------------------------------------------------------------------

    def repo(self, files: Mapping[str, gitrepos.FileContent], name: str = "app") -> str:
        """A new bare repository `name.git` holding `files`; returns the GitRepository revision."""
        path = gitrepos.make_repo(self.git.root, f"{name}.git", files)
        self.repos[name] = path
        return self.revision(name)

    def revision(self, name: str = "app") -> str:
        import pygit2

        head = pygit2.Repository(str(self.repos[name])).references["refs/heads/main"].target
        return f"main@sha1:{head}"

    def commit(self, files: Mapping[str, gitrepos.FileContent], name: str = "app", message: str = "change") -> str:
        return f"main@sha1:{gitrepos.commit(self.repos[name], files, message)}"

    async def source(self, repo: str = "app", name: str = "repo", namespace: str | None = None) -> None:
        ns = namespace or self.namespace
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"url": self.git.url_for(f"{repo}.git"), "interval": "2s", "ref": {"branch": "main"}},
        }
        await self.client.create(GITREPOSITORIES, body, ns)

        async def has_artifact() -> bool:  # so that a Kustomization created next finds it at once
            obj = await self.client.get(GITREPOSITORIES, name, ns)
            return bool(((obj.get("status") or {}).get("artifact") or {}).get("revision"))

        await eventually(has_artifact, 30, f"GitRepository {name} artifact")

    # -- Kustomizations ---------------------------------------------------------------------------

    def kustomization(self, name: str, path: str = "./", **spec: Any) -> Obj:
        body: Obj = {
            "interval": "3s",
            "path": path,
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "targetNamespace": self.namespace,
            "timeout": "30s",
        }
        body.update(spec)
        body = {k: v for k, v in body.items() if v is not None}  # None drops a default
        return {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": body,
        }

    async def create_ks(self, name: str, path: str = "./", **spec: Any) -> Obj:
        return await self.client.create(KUSTOMIZATIONS, self.kustomization(name, path, **spec), self.namespace)

    async def patch_ks(self, name: str, patch: Obj) -> Obj:
        return await self.client.patch(KUSTOMIZATIONS, name, patch, self.namespace)

    async def get_ks(self, name: str) -> Obj:
        return await self.client.get(KUSTOMIZATIONS, name, self.namespace)

    async def applied(self, name: str, revision: str | None = None, timeout: float = 45) -> Obj:
        """The Kustomization once Ready=True at `revision` (default: the head of the `app` repository)."""
        want = revision or self.revision()
        out: Obj = {}

        async def check() -> bool:
            obj = await self.get_ks(name)
            status = obj.get("status") or {}
            current = status.get("observedGeneration") == obj["metadata"].get("generation")
            if current and status.get("lastAppliedRevision") == want and conditions.is_ready(obj):
                out.update(obj)
                return True
            return False

        await self._wait(name, check, timeout, f"Kustomization {name} applied at {want}")
        return out

    async def not_ready(
        self, name: str, reason: str, *, revision: str | None = None, timeout: float = 45, cond: str = meta.READY
    ) -> Obj:
        """The Kustomization once condition `cond` is False with `reason` (at `revision` when given)."""
        out: Obj = {}

        async def check() -> bool:
            obj = await self.get_ks(name)
            status = obj.get("status") or {}
            if revision is not None and status.get("lastAttemptedRevision") != revision:
                return False
            condition = conditions.get(obj, cond) or {}
            if condition.get("observedGeneration") != obj["metadata"].get("generation"):
                return False  # Flux sets status.observedGeneration on success only; conditions carry their own
            if condition.get("status") == "False" and condition.get("reason") == reason:
                out.update(obj)
                return True
            return False

        await self._wait(name, check, timeout, f"Kustomization {name} {cond}=False/{reason}")
        return out

    async def _wait(self, name: str, check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
        try:
            await eventually(check, timeout, what)
        except AssertionError as exc:
            obj = await self.get_ks(name)
            status = {k: v for k, v in (obj.get("status") or {}).items() if k not in ("inventory", "history")}
            raise AssertionError(f"{exc}; generation {obj['metadata'].get('generation')}, status {status}") from None

    async def events(self) -> list[Obj]:
        return list((await self.client.list(EVENTS, self.namespace))["items"])


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    (tmp_path / "git").mkdir()
    with GitHttpServer(tmp_path / "git") as server:
        yield server


@pytest.fixture
async def harness(client: Client, namespace: str, git_server: GitHttpServer, tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(client, namespace, git_server, tmp_path)
    try:
        yield h
    finally:
        await h.stop()
