"""Helpers of the HelmRelease integration tests: the test environment (`Env`), HelmRelease bodies from the
test chart repository, and waits on a HelmRelease's status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gotk.kube.client import Client
from gotk.kube.resources import HELMRELEASES
from gotk.runtime import conditions
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.waiting import eventually

Obj = dict[str, Any]


@dataclass
class Env:
    """The controllers' client, the test namespace and the chart repository (its files and its server)."""

    client: Client
    namespace: str
    repo: Path
    server: ChartRepoServer
    kubeconfig: Path


def helmrelease(name: str, chart: str = "podinfo", version: str = "6.0.x", **spec: Any) -> Obj:
    """A HelmRelease of `chart` from the HelmRepository `charts`, with `spec` on top."""
    template = {"spec": {"chart": chart, "version": version, "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name},
        "spec": {"interval": "1h", "chart": template, "timeout": "1m", **spec},
    }


async def wait_release(env: Env, name: str, check: Any, what: str, timeout: float = 90) -> Obj:
    """Wait until `check(helmrelease)` holds; the failure shows the last status seen."""
    found: Obj = {}

    async def done() -> bool:
        obj = await env.client.get(HELMRELEASES, name, env.namespace)
        found.clear()
        found.update(obj)
        return bool(check(obj))

    try:
        await eventually(done, timeout=timeout, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; status: {found.get('status')}") from None
    return found


def ready_at(version: int) -> Any:
    """Ready at the current generation, with release revision `version` at the head of the history."""

    def check(obj: Obj) -> bool:
        history = (obj.get("status") or {}).get("history") or []
        current = (obj.get("status") or {}).get("observedGeneration") == obj["metadata"]["generation"]
        return current and conditions.is_ready(obj) and bool(history) and history[0]["version"] == version

    return check
