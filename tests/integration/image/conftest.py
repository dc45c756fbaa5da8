"""Fixtures for the image automation tests: a real registry (Debian's docker-registry), a Git server that
takes pushes, and `imgenv`, which runs the image controllers in-process (with the source and kustomize
controllers when a test asks) and carries the helpers the tests share."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gotk.api import meta
from gotk.image import controller as image_controller
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import EVENTS, GITREPOSITORIES, SECRETS, flux_resource
from gotk.kustomize import controller as kustomize_controller
from gotk.local import gitrepos
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.gitserver import GitHttpServer
from gotk.testing.registry import OciRegistry
from gotk.testing.waiting import eventually

Obj = dict[str, Any]
IMAGE_REPOSITORIES = flux_resource("ImageRepository")
IMAGE_POLICIES = flux_resource("ImagePolicy")
IMAGE_UPDATES = flux_resource("ImageUpdateAutomation")
GROUP = "image.toolkit.fluxcd.io/v1"


@dataclass
class ImageEnv:
    """Controllers under test plus helpers; every object lives in `namespace`."""

    client: Client
    namespace: str
    git: GitHttpServer
    registry: OciRegistry
    tmp: Path
    managers: list[tuple[Manager, asyncio.Event, asyncio.Task[None]]] = field(default_factory=list)
    repos: dict[str, Path] = field(default_factory=dict)

    eventually = staticmethod(eventually)

    async def start(
        self, *, sources: bool = False, kustomize: bool = False, watch_all: bool = False, **overrides: Any
    ) -> Manager:
        """Start the image controllers (and the source/kustomize ones when asked) with Settings(**overrides),
        watching the test's namespace (every namespace with `watch_all`)."""
        watch = None if watch_all else self.namespace
        options = ManagerOptions(watch_namespace=watch, concurrent=4, graceful_shutdown_timeout=5.0)
        manager = Manager(self.client, options)
        values: dict[str, Any] = {
            "storage_path": str(self.tmp / "storage"),
            "storage_addr": "127.0.0.1:0",
            "requeue_dependency": 1.0,
        }
        values.update(overrides)
        settings = Settings(**values)
        if sources:
            await source_controller.register(manager, settings)
        if kustomize:
            await kustomize_controller.register(manager, settings)
        await image_controller.register(manager, settings)
        stop = asyncio.Event()
        self.managers.append((manager, stop, asyncio.create_task(manager.run(stop))))
        return manager

    async def stop(self) -> None:
        while self.managers:
            _, stop, task = self.managers.pop()
            stop.set()
            await asyncio.wait_for(task, 60)

    # -- registry ---------------------------------------------------------------------------------

    def registry_client(self) -> RegistryClient:
        return RegistryClient(self.registry.host, insecure=True)

    def image(self, repo: str) -> str:
        return f"{self.registry.host}/{repo}"

    # -- git --------------------------------------------------------------------------------------

    def repo(self, files: Mapping[str, gitrepos.FileContent], name: str = "fleet") -> Path:
        path = gitrepos.make_repo(self.git.root, f"{name}.git", files)
        self.repos[name] = path
        return path

    def head(self, name: str = "fleet", branch: str = "main") -> str:
        repo = pygit2.Repository(str(self.repos[name]))
        ref = f"refs/heads/{branch}"
        return str(repo.references[ref].target) if ref in repo.references else ""

    def read(self, path: str, name: str = "fleet", branch: str = "main") -> str:
        repo = pygit2.Repository(str(self.repos[name]))
        commit = repo.get(self.head(name, branch))
        assert isinstance(commit, pygit2.Commit)
        blob = commit.tree[path]
        assert isinstance(blob, pygit2.Blob)
        return blob.data.decode()

    def commit_of(self, sha: str, name: str = "fleet") -> pygit2.Commit:
        commit = pygit2.Repository(str(self.repos[name])).get(sha)
        assert isinstance(commit, pygit2.Commit)
        return commit

    async def git_repository(self, repo: str = "fleet", name: str = "fleet", **spec: Any) -> Obj:
        body = {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"url": self.git.url_for(f"{repo}.git"), "interval": "10s", "ref": {"branch": "main"}, **spec},
        }
        return await self.client.create(GITREPOSITORIES, body, self.namespace)

    # -- image objects ----------------------------------------------------------------------------

    async def image_repository(self, name: str, image: str, **spec: Any) -> Obj:
        body = {
            "apiVersion": GROUP,
            "kind": "ImageRepository",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"image": image, "interval": "10s", "insecure": True, **spec},
        }
        return await self.client.create(IMAGE_REPOSITORIES, body, self.namespace)

    async def image_policy(self, name: str, repository: str, policy: Obj, **spec: Any) -> Obj:
        body = {
            "apiVersion": GROUP,
            "kind": "ImagePolicy",
            "metadata": {"name": name, "namespace": self.namespace, "labels": spec.pop("labels", {})},
            "spec": {"imageRepositoryRef": {"name": repository}, "policy": policy, **spec},
        }
        return await self.client.create(IMAGE_POLICIES, body, self.namespace)

    async def automation(self, name: str, source: str = "fleet", **spec: Any) -> Obj:
        git = spec.pop("git", {})
        body = {
            "apiVersion": GROUP,
            "kind": "ImageUpdateAutomation",
            "metadata": {"name": name, "namespace": self.namespace},
            "spec": {
                "interval": "10s",
                "sourceRef": {"kind": "GitRepository", "name": source},
                "git": {"commit": {"author": {"name": "fluxbot", "email": "fluxbot@example.com"}}, **git},
                "update": {"strategy": "Setters", "path": "./"},
                **spec,
            },
        }
        return await self.client.create(IMAGE_UPDATES, body, self.namespace)

    async def get(self, resource: Any, name: str) -> Obj:
        return await self.client.get(resource, name, self.namespace)

    async def wait(self, resource: Any, name: str, check: Any, timeout: float = 45, what: str = "") -> Obj:
        """The object once `check(obj)` holds; the failure names the last status."""
        out: Obj = {}

        async def probe() -> bool:
            obj = await self.get(resource, name)
            if check(obj):
                out.update(obj)
                return True
            return False

        try:
            await eventually(probe, timeout, what or f"{resource.kind} {name}")
        except AssertionError as exc:
            obj = await self.get(resource, name)
            raise AssertionError(f"{exc}; status {obj.get('status')}") from None
        return out

    async def ready(self, resource: Any, name: str, timeout: float = 45) -> Obj:
        def check(obj: Obj) -> bool:
            current = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"].get("generation")
            return current and conditions.is_ready(obj)

        return await self.wait(resource, name, check, timeout, f"{resource.kind} {name} Ready")

    async def condition(
        self, resource: Any, name: str, type_: str, status: str, reason: str, timeout: float = 45
    ) -> Obj:
        def check(obj: Obj) -> bool:
            found = conditions.get(obj, type_) or {}
            return found.get("status") == status and found.get("reason") == reason

        return await self.wait(resource, name, check, timeout, f"{resource.kind} {name} {type_}={status}/{reason}")

    async def request(self, resource: Any, name: str, token: str) -> None:
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}}
        await self.client.patch(resource, name, patch, self.namespace)

    async def pull_secret(self, name: str, host: str, username: str, password: str) -> None:
        auth = base64.b64encode(f"{username}:{password}".encode()).decode()
        config_json = json.dumps({"auths": {host: {"username": username, "password": password, "auth": auth}}})
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name},
            "stringData": {".dockerconfigjson": config_json},
        }
        await self.client.create(SECRETS, body, self.namespace)

    async def events(self, name: str) -> list[Obj]:
        items = (await self.client.list(EVENTS, self.namespace))["items"]
        return [e for e in items if (e.get("involvedObject") or {}).get("name") == name]


@pytest.fixture
async def client(cluster: Any) -> AsyncIterator[Client]:
    async with Client(config.load(cluster.kubeconfig)) as c:
        yield c


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    (tmp_path / "git").mkdir()
    with GitHttpServer(tmp_path / "git", allow_anonymous_push=True) as server:
        yield server


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[OciRegistry]:
    with OciRegistry(tmp_path / "registry") as reg:
        yield reg


@pytest.fixture
async def imgenv(
    client: Client, namespace: str, git_server: GitHttpServer, registry: OciRegistry, tmp_path: Path
) -> AsyncIterator[ImageEnv]:
    env = ImageEnv(client, namespace, git_server, registry, tmp_path)
    try:
        yield env
    finally:
        await env.stop()
