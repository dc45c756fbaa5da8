"""Flux's own controllers as processes against a local control plane, for the tests that switch a cluster
between Flux and gotk. They are never part of the project: built by hand from Flux's repositories into a
directory named by $GOTK_FLUX_BIN (see the README's "Switching from Flux"), and the tests skip without them.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from gotk.local.controlplane import ControlPlane
from gotk.local.processes import free_ports

ENV = "GOTK_FLUX_BIN"


def flux_bin(*names: str) -> Path | None:
    """The directory of $GOTK_FLUX_BIN when it holds every one of `names`, else None."""
    where = os.environ.get(ENV)
    if not where or not all((Path(where) / name).is_file() for name in names):
        return None
    return Path(where)


class FluxControllers:
    """Flux's source-controller (storage on `storage_port`) and helm-controller, out of cluster, all namespaces."""

    def __init__(self, cp: ControlPlane, work: Path, bin_dir: Path, *, storage_port: int) -> None:
        self.cp, self.work, self.bin_dir, self.storage_port = cp, work, bin_dir, storage_port
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 60.0) -> Self:
        (self.work / "storage").mkdir(parents=True, exist_ok=True)
        source_metrics, source_health, helm_metrics, helm_health = free_ports(4)
        env = {**os.environ, "KUBECONFIG": str(self.cp.kubeconfig), "RUNTIME_NAMESPACE": "flux-system"}
        common = ["--enable-leader-election=false", "--log-level=info", "--watch-all-namespaces=true"]
        addr = f"127.0.0.1:{self.storage_port}"
        commands = {
            "source-controller": [
                f"--storage-path={self.work / 'storage'}",
                f"--storage-addr={addr}",
                f"--storage-adv-addr={addr}",
                f"--metrics-addr=127.0.0.1:{source_metrics}",
                f"--health-addr=127.0.0.1:{source_health}",
            ],
            "helm-controller": [f"--metrics-addr=127.0.0.1:{helm_metrics}", f"--health-addr=127.0.0.1:{helm_health}"],
        }
        for name, flags in commands.items():
            log = (self.work / f"{name}.log").open("ab")
            self.procs.append(subprocess.Popen([str(self.bin_dir / name), *common, *flags], env=env, stdout=log,
                                               stderr=subprocess.STDOUT))  # fmt: skip
        for port in (source_health, helm_health):
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1)
                    break
                except OSError:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                        self.stop()
                        raise RuntimeError(f"Flux's controllers did not start; see the logs in {self.work}") from None
                    time.sleep(0.2)
        return self

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
