"""`ControllersProcess`: gotk's controllers as their own process (`flux controllers run`) against a local
control plane, on loopback ports, for benchmarks: started, waited for (/readyz), then stopped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from gotk.local.controlplane import ControlPlane
from gotk.local.processes import free_ports


class ControllersProcess:
    """`flux controllers run --controllers NAMES` with its storage and log under `work`."""

    def __init__(
        self,
        cp: ControlPlane,
        work: Path,
        controllers: str,
        *,
        qps: float = 50,
        burst: int = 300,
        concurrent: int = 20,
        log_level: str | None = None,
        storage_port: int | None = None,
        watch_namespace: str | None = None,
    ) -> None:
        self.cp, self.work, self.controllers = cp, work, controllers
        self.qps, self.burst, self.concurrent = qps, burst, concurrent
        self.log_level = log_level or os.environ.get("GOTK_LOG_LEVEL", "error")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = work / "controllers.log"
        self.storage_port = storage_port  # a fixed artifact address, e.g. the one Flux's source-controller used
        self.watch_namespace = watch_namespace  # only this namespace (a test's), not every one

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> Self:
        storage, health, metrics, events, hooks = free_ports(5)
        storage = self.storage_port or storage
        argv = [
            sys.executable,
            "-m",
            "gotk.cli.main",
            "--kubeconfig",
            str(self.cp.kubeconfig),
            "controllers",
            "run",
            "--controllers",
            self.controllers,
            "--concurrent",
            str(self.concurrent),
            "--kube-api-qps",
            str(self.qps),
            "--kube-api-burst",
            str(self.burst),
            "--storage-path",
            str(self.work / "storage"),
            "--storage-addr",
            f"127.0.0.1:{storage}",
            "--health-addr",
            f"127.0.0.1:{health}",
            "--metrics-addr",
            f"127.0.0.1:{metrics}",
            "--notification-events-addr",
            f"127.0.0.1:{events}",
            "--receiver-addr",
            f"127.0.0.1:{hooks}",
            "--log-level",
            self.log_level,
        ]
        if self.watch_namespace:
            argv += ["--no-watch-all-namespaces", "--runtime-namespace", self.watch_namespace]
        self.proc = subprocess.Popen(argv, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{health}/readyz", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"controllers did not start; see {self.log}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
