#!/usr/bin/env python3
"""Source-controller benchmarks on a fresh local control plane and a real smart-HTTP git server.

  bench/source_git.py noop [--runs 50]       time of a no-change GitRepository reconcile (target <= 0.1 s)
  bench/source_git.py scale N [--concurrent C]
                                             N GitRepositories (one repo each, one git server) from creation
                                             to all Ready, with the source controller as its own process;
                                             prints the time and the controller's peak RSS
Run with the project's venv: .venv/bin/python bench/source_git.py ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from gotk.kube import config
from gotk.kube.client import Client
from gotk.kube.resources import GITREPOSITORIES
from gotk.local import gitrepos
from gotk.local.controlplane import ControlPlane, install_gotk
from gotk.local.processes import free_ports
from gotk.runtime import conditions
from gotk.runtime.manager import Manager, ManagerOptions
from gotk.runtime.settings import Settings
from gotk.source import controller as source_controller
from gotk.testing.gitserver import GitHttpServer


def free_port() -> int:
    return free_ports(1)[0]


FILES = {f"app/{n}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}\n" for n in ("a", "b", "c", "d")}


def gitrepository(name: str, url: str) -> dict[str, Any]:
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"url": url, "interval": "60m", "ref": {"branch": "main"}},
    }


async def noop(cp: ControlPlane, server: GitHttpServer, runs: int, work: Path) -> None:
    gitrepos.make_repo(server.root, "noop.git", FILES)
    async with Client(config.load(cp.kubeconfig)) as client:
        manager = Manager(client, ManagerOptions(watch_namespace="default"))
        await source_controller.register(
            manager, Settings(storage_path=str(work / "storage"), storage_addr="127.0.0.1:0")
        )
        stop = asyncio.Event()
        task = asyncio.create_task(manager.run(stop))
        await client.create(GITREPOSITORIES, gitrepository("noop", server.url_for("noop.git")), "default")
        while True:
            obj = await client.get(GITREPOSITORIES, "noop", "default")
            if conditions.is_ready(obj):
                break
            await asyncio.sleep(0.05)
        ctrl = manager.controllers[0]
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            await ctrl.reconcile_key(("default", "noop"))
            times.append(time.perf_counter() - start)
        stop.set()
        await task
    print(
        f"no-change GitRepository reconcile over {runs} runs: median {statistics.median(times) * 1000:.1f} ms, "
        f"p90 {sorted(times)[int(runs * 0.9) - 1] * 1000:.1f} ms, max {max(times) * 1000:.1f} ms (target <= 100 ms)"
    )


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return 0


async def scale(cp: ControlPlane, server: GitHttpServer, n: int, concurrent: int, work: Path) -> None:
    template = gitrepos.make_repo(server.root, "template.git", FILES)
    for i in range(n):
        shutil.copytree(template, server.root / f"repo-{i}.git")
    log = open(work / "controller.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gotk.cli.main",
            "--kubeconfig",
            str(cp.kubeconfig),
            "controllers",
            "run",
            "--controllers",
            "source",
            "--concurrent",
            str(concurrent),
            "--kube-api-qps",
            "500",
            "--kube-api-burst",
            "1000",
            "--storage-path",
            str(work / "storage"),
            "--storage-addr",
            f"127.0.0.1:{free_port()}",
            "--health-addr",
            f"127.0.0.1:{free_port()}",
            "--metrics-addr",
            f"127.0.0.1:{free_port()}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(proc.pid))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    try:
        async with Client(config.load(cp.kubeconfig), qps=1000, burst=2000) as client:
            await asyncio.sleep(2)  # let the controller start and sync
            start = time.perf_counter()
            sem = asyncio.Semaphore(32)

            async def create(i: int) -> None:
                async with sem:
                    await client.create(
                        GITREPOSITORIES, gitrepository(f"repo-{i}", server.url_for(f"repo-{i}.git")), "default"
                    )

            await asyncio.gather(*(create(i) for i in range(n)))
            created = time.perf_counter() - start
            while True:
                items = (await client.list(GITREPOSITORIES, "default"))["items"]
                ready = sum(1 for o in items if conditions.is_ready(o))
                if ready >= n:
                    break
                if proc.poll() is not None:
                    raise SystemExit(f"controller exited with {proc.returncode}; see {work / 'controller.log'}")
                await asyncio.sleep(0.25)
            elapsed = time.perf_counter() - start
    finally:
        done.set()
        proc.terminate()
        proc.wait(30)
    print(
        f"{n} GitRepositories created in {created:.1f} s, all Ready after {elapsed:.1f} s "
        f"(concurrent={concurrent}); source controller peak RSS {peak / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("noop")
    p.add_argument("--runs", type=int, default=50)
    p = sub.add_parser("scale")
    p.add_argument("n", type=int)
    p.add_argument("--concurrent", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gotk-bench-"))
    cp = ControlPlane(work / "cluster")
    try:
        cp.start()
        install_gotk(cp)
        (work / "git").mkdir()
        with GitHttpServer(work / "git") as server:
            if args.cmd == "noop":
                asyncio.run(noop(cp, server, args.runs, work))
            else:
                asyncio.run(scale(cp, server, args.n, args.concurrent, work))
    finally:
        cp.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
