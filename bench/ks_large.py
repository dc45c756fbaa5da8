#!/usr/bin/env python3
"""One Kustomization of many objects (default 1,500 NetworkPolicies, after Flux's kustomize-controller#1428).

  .venv/bin/python bench/ks_large.py [--objects 1500] [--qps 500] [--burst 1000]

On a fresh local control plane with gotk's source and kustomize controllers as their own process, prints the
time from creating the Kustomization to Ready (first apply; target <= 25 s) and the time of a no-change
reconcile requested with reconcile.fluxcd.io/requestedAt (target <= 5 s), with the controller's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from gotk.api import meta
from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES, KUSTOMIZATIONS
from gotk.local import gitrepos
from gotk.local.controlplane import ControlPlane, install_gotk
from gotk.runtime import conditions
from gotk.testing.controllersproc import ControllersProcess
from gotk.testing.gitserver import GitHttpServer

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np-{i}
spec:
  podSelector:
    matchLabels:
      app: app-{i}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: {port}
"""


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


async def measure(cp: ControlPlane, url: str) -> tuple[float, float]:
    async with Client(config.load(cp.kubeconfig)) as client:
        await client.create(
            GITREPOSITORIES,
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "large", "namespace": "default"},
                "spec": {"url": url, "interval": "60m", "ref": {"branch": "main"}},
            },
            "default",
        )
        while not conditions.is_ready(await client.get(GITREPOSITORIES, "large", "default")):
            await asyncio.sleep(0.1)
        ks: dict[str, Any] = {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "large", "namespace": "default"},
            "spec": {
                "interval": "60m",
                "path": "./policies",
                "prune": True,
                "targetNamespace": "default",
                "timeout": "5m",
                "sourceRef": {"kind": "GitRepository", "name": "large"},
            },
        }
        start = time.perf_counter()
        await client.create(KUSTOMIZATIONS, ks, "default")
        while True:
            obj = await client.get(KUSTOMIZATIONS, "large", "default")
            if conditions.is_ready(obj):
                break
            if conditions.is_false(obj, meta.READY):
                raise SystemExit(f"Kustomization failed: {conditions.get_message(obj, meta.READY)}")
            await asyncio.sleep(0.1)
        first = time.perf_counter() - start
        token = str(time.time())
        start = time.perf_counter()
        await client.patch(
            KUSTOMIZATIONS,
            "large",
            {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: token}}},
            "default",
        )
        while (await client.get(KUSTOMIZATIONS, "large", "default"))["status"].get("lastHandledReconcileAt") != token:
            await asyncio.sleep(0.05)
        return first, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objects", type=int, default=1500)
    parser.add_argument("--qps", type=float, default=500)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gotk-kslarge-"))
    cp = ControlPlane(work / "cluster")
    try:
        cp.start()
        install_gotk(cp)
        (work / "git").mkdir()
        files = {f"policies/np-{i}.yaml": POLICY.format(i=i, port=1000 + i % 60000) for i in range(args.objects)}
        gitrepos.make_repo(work / "git", "large.git", files)
        with (
            GitHttpServer(work / "git") as server,
            ControllersProcess(cp, work, "source,kustomize", qps=args.qps, burst=args.burst) as controllers,
        ):
            peak = 0
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.wait(0.2):
                    peak = max(peak, rss_kib(controllers.pid))

            threading.Thread(target=sample, daemon=True).start()
            first, noop = asyncio.run(measure(cp, server.url_for("large.git")))
            done.set()
        print(
            f"{args.objects} objects: first apply {first:.1f} s (target <= 25 s), "
            f"no-change reconcile {noop:.2f} s (target <= 5 s); controller peak RSS {peak / 1024:.0f} MiB"
        )
    finally:
        cp.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
