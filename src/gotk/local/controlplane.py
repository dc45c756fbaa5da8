"""`ControlPlane`: a real local Kubernetes control plane (etcd, kube-apiserver, kcm, scheduler
and kwok with fake Nodes) on 127.0.0.1, supervised from Python, recorded in `state.json` so
another process can find, inspect and stop it. Used by the test fixtures and `flux local`.
Process plumbing lives in `gotk.local.processes`, API access in `gotk.local.kubeaccess`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from gotk.local import processes
from gotk.local.kubeaccess import ControlPlaneError, KubeAccess, install_gotk, kubectl_binary
from gotk.local.processes import LOOPBACK, Process

__all__ = [
    "DEFAULT_BIN_DIR",
    "ComponentStatus",
    "ControlPlane",
    "ControlPlaneError",
    "install_gotk",
    "kubectl_binary",
]

DEFAULT_BIN_DIR = Path(os.environ.get("GOTK_CACHE", Path.home() / ".cache" / "gotk")) / "bin"
CORE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
BINARIES = (*CORE, "kwok-stages.yaml")
# port name -> component that listens on it
PORTS = {"etcd": "etcd", "etcd-peer": "etcd", "etcd-metrics": "etcd", "kube-apiserver": "kube-apiserver"}
PORT_ROLES = {"etcd": "client", "etcd-peer": "peer", "etcd-metrics": "metrics", "kube-apiserver": "secure"}
# what stop(remove=True) deletes: the layout of a state dir, nothing else
LAYOUT = ("etcd", "certs", "logs", "storage", "kubeconfig", "tokens.csv", "sa.key", "state.json")
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


@dataclass(frozen=True)
class ComponentStatus:
    """One recorded process: its pid and main port (None when it serves none) and whether it runs."""

    name: str
    pid: int
    port: int | None
    running: bool
    log: Path


class ControlPlane(KubeAccess):
    """Start, stop and inspect one local control plane kept in `state_dir`.

    `ports` pre-chooses ports (keys of PORTS) and `extra_args` appends flags per component;
    both exist mainly so tests can provoke failures.
    """

    def __init__(
        self,
        state_dir: Path,
        bin_dir: Path = DEFAULT_BIN_DIR,
        nodes: int = 1,
        *,
        ports: Mapping[str, int] | None = None,
        extra_args: Mapping[str, Sequence[str]] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.bin_dir = Path(bin_dir).expanduser().absolute()
        self.nodes = nodes
        self.ports: dict[str, int] = dict(ports or {})
        self.extra_args = {k: list(v) for k, v in (extra_args or {}).items()}
        self.timeout = timeout
        self.processes: dict[str, Process] = {}
        self.started_at: float | None = None
        self.startup_seconds: float | None = None
        self._token = ""
        self._ctx: ssl.SSLContext | None = None
        self._lock = threading.RLock()

    # --- paths (kubeconfig, ca_file and server come from KubeAccess) --------------------------
    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    def log_path(self, component: str) -> Path:
        return self.state_dir / "logs" / f"{component}.log"

    # --- start -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start every component and wait until Nodes are Ready; on failure stop what started."""
        with self._lock:
            if any(p.alive() for p in self.processes.values()):
                raise ControlPlaneError(f"control plane in {self.state_dir} is already running")
            self._check_binaries()
            t0 = time.monotonic()
            try:
                self._prepare()
                self._start_etcd()
                self._start_apiserver()
                kubeconfig = f"--kubeconfig={self.kubeconfig}"
                self._spawn(
                    "kube-controller-manager",
                    [kubeconfig, "--leader-elect=false", "--secure-port=0",
                     f"--service-account-private-key-file={self.state_dir / 'sa.key'}",
                     f"--root-ca-file={self.ca_file}", "--use-service-account-credentials=false",
                     "--controllers=*,-nodeipam"],
                )  # fmt: skip
                self._spawn("kube-scheduler", [kubeconfig, "--leader-elect=false", "--secure-port=0"])
                self._spawn(
                    "kwok",
                    [kubeconfig, f"--config={self.bin_dir / 'kwok-stages.yaml'}", "--manage-all-nodes=true",
                     "--node-lease-duration-seconds=40", f"--cidr={POD_CIDR}", "--node-ip=10.244.0.1",
                     f"--server-address={LOOPBACK}:0"],
                )  # fmt: skip
                self._create_nodes()
                self._wait("kwok", "Nodes Ready", self._nodes_ready)
                self._wait("kube-controller-manager", "the default ServiceAccount", self._default_sa)
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - t0

    def _check_binaries(self) -> None:
        for name in BINARIES:
            path = self.bin_dir / name
            ok = path.is_file() and (name.endswith(".yaml") or os.access(path, os.X_OK))
            if not ok:
                raise ControlPlaneError(
                    f"{name}: {path} not found; build the control plane with `make setup` "
                    "(scripts/build-controlplane.sh)"
                )

    def _prepare(self) -> None:
        for sub in ("logs", "certs", "etcd"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir / "etcd", 0o700)
        tokens = self.state_dir / "tokens.csv"
        if tokens.exists():
            self._token = tokens.read_text().split(",", 1)[0].strip()
        else:
            self._token = secrets.token_hex(24)
            tokens.write_text(f'{self._token},admin,admin,"system:masters"\n')
            tokens.chmod(0o600)
        sa_key = self.state_dir / "sa.key"
        if not sa_key.exists():
            if shutil.which("openssl") is None:
                raise ControlPlaneError("openssl not found (needed for sa.key); install it with `make setup`")
            subprocess.run(["openssl", "genrsa", "-out", str(sa_key), "2048"], check=True, capture_output=True)
        missing = [k for k in PORTS if k not in self.ports]
        self.ports.update(zip(missing, processes.free_ports(len(missing)), strict=True))
        self._write_kubeconfig()
        self.started_at = time.time()
        self._save()

    def _write_kubeconfig(self) -> None:
        ca = str(self.ca_file)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "gotk-local", "cluster": {"server": self.server, "certificate-authority": ca}}],
            "users": [{"name": "admin", "user": {"token": self._token}}],
            "contexts": [{"name": "gotk-local", "context": {"cluster": "gotk-local", "user": "admin"}}],
            "current-context": "gotk-local",
        }  # fmt: skip
        self.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))
        self.kubeconfig.chmod(0o600)

    def _start_etcd(self) -> None:
        p, url = self.ports, f"http://{LOOPBACK}"
        self._spawn(
            "etcd",
            [f"--data-dir={self.state_dir / 'etcd'}", f"--listen-client-urls={url}:{p['etcd']}",
             f"--advertise-client-urls={url}:{p['etcd']}", f"--listen-peer-urls={url}:{p['etcd-peer']}",
             f"--initial-advertise-peer-urls={url}:{p['etcd-peer']}",
             f"--initial-cluster=default={url}:{p['etcd-peer']}",
             f"--listen-metrics-urls={url}:{p['etcd-metrics']}",
             "--unsafe-no-fsync=true", "--quota-backend-bytes=8589934592"],
        )  # fmt: skip
        health = f"{url}:{p['etcd']}/health"
        self._wait("etcd", "/health", lambda: '"health":"true"' in processes.http_get(health))

    def _start_apiserver(self) -> None:
        d, port = self.state_dir, self.ports["kube-apiserver"]
        self._spawn(
            "kube-apiserver",
            [f"--etcd-servers=http://{LOOPBACK}:{self.ports['etcd']}", f"--cert-dir={d / 'certs'}",
             f"--secure-port={port}", f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}",
             f"--service-cluster-ip-range={SERVICE_CIDR}", "--allow-privileged=true",
             "--authorization-mode=RBAC", f"--token-auth-file={d / 'tokens.csv'}",
             "--endpoint-reconciler-type=none", f"--service-account-issuer=https://{LOOPBACK}:{port}/",
             f"--service-account-key-file={d / 'sa.key'}",
             f"--service-account-signing-key-file={d / 'sa.key'}",
             # without it SIGTERM waits the full 60 s request timeout on open watches; with it ~1 s
             "--shutdown-watch-termination-grace-period=2s"],
        )  # fmt: skip
        self._wait_apiserver()

    def _wait_apiserver(self) -> None:
        self._ctx = None
        self._wait("kube-apiserver", "/readyz", lambda: self._get_raw("/readyz") == "ok")

    def restart_apiserver(self) -> None:
        """Stop kube-apiserver and start it again with the same port and flags."""
        with self._lock:
            old = self.processes["kube-apiserver"]
            old.stop()
            self.processes["kube-apiserver"] = new = Process(old.name, old.argv, old.log, port=old.port)
            self._launch(new)
            self._wait_apiserver()

    # --- extra processes (the gotk controllers of `flux local up`) ---------------------------
    def add_process(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None, port: int | None = None
    ) -> Process:
        """Start a further process that `stop()` stops before the control plane itself."""
        with self._lock:
            proc = Process(name, list(argv), self.log_path(name), env=dict(env) if env else None, port=port)
            self.processes[name] = proc
            self._launch(proc)
            return proc

    # --- stop and inspect --------------------------------------------------------------------
    def stop(self, *, remove: bool = False) -> None:
        """Stop extra processes (last started first), then kwok, scheduler, kcm, apiserver, etcd."""
        with self._lock:
            extras = [n for n in self.processes if n not in CORE]
            for name in [*reversed(extras), *reversed(CORE)]:
                if name in self.processes:
                    self.processes[name].stop()
            if self.state_file.exists():
                self._save()
            if remove:
                self.remove()

    def remove(self) -> None:
        """Delete the state dir's own entries (LAYOUT), then the dir itself if that left it empty."""
        if any(p.alive() for p in self.processes.values()):
            raise ControlPlaneError(f"refusing to remove {self.state_dir}: processes still run")
        for name in LAYOUT:
            path = self.state_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.state_dir.rmdir()

    def status(self) -> list[ComponentStatus]:
        """Every recorded component in start order, with its pid, port and whether it runs."""
        return [ComponentStatus(p.name, p.pid, p.port, p.alive(), p.log) for p in self.processes.values()]

    def running(self) -> bool:
        """True when every core component runs."""
        return all(n in self.processes and self.processes[n].alive() for n in CORE)

    def healthy(self) -> bool:
        """True when every core component runs and kube-apiserver answers /readyz."""
        try:
            return self.running() and self._get_raw("/readyz") == "ok"
        except OSError:
            return False

    @classmethod
    def load(cls, state_dir: Path) -> ControlPlane:
        """Find the control plane recorded in `state_dir/state.json` (running or not)."""
        state_file = Path(state_dir).absolute() / "state.json"
        try:
            state = json.loads(state_file.read_text())
            cp = cls(state_dir, Path(state["bin_dir"]), int(state["nodes"]), ports=state["ports"])
            cp.started_at = state.get("started_at")
            cp.processes = {c["name"]: Process.from_json(c) for c in state["components"]}
        except FileNotFoundError:
            raise ControlPlaneError(f"no control plane recorded in {state_file}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ControlPlaneError(f"unreadable state file {state_file}: {exc}") from None
        tokens = cp.state_dir / "tokens.csv"
        if tokens.exists():
            cp._token = tokens.read_text().split(",", 1)[0].strip()
        return cp

    def _create_nodes(self) -> None:
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            resources = {"cpu": "32", "memory": "256Gi", "pods": "110"}
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
                },
                "status": {"allocatable": resources, "capacity": resources},
            }
            self.api("POST", "/api/v1/nodes", node, ok_conflict=True)

    def _nodes_ready(self) -> bool:
        for i in range(self.nodes):
            node = self.api("GET", f"/api/v1/nodes/kwok-node-{i}")
            conditions = node.get("status", {}).get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                return False
        return True

    def _default_sa(self) -> bool:
        return self.api("GET", "/api/v1/namespaces/default/serviceaccounts/default") is not None

    # --- internals -------------------------------------------------------------------------------
    def _spawn(self, name: str, args: Sequence[str]) -> None:
        argv = [str(self.bin_dir / name), *args, *self.extra_args.get(name, ())]
        proc = Process(name, argv, self.log_path(name), port=self.ports.get(name))
        self.processes[name] = proc
        self._launch(proc)

    def _launch(self, proc: Process) -> None:
        for key, owner in PORTS.items():
            if owner == proc.name and key in self.ports and processes.port_in_use(self.ports[key]):
                raise ControlPlaneError(
                    f"{proc.name}: {PORT_ROLES[key]} port {LOOPBACK}:{self.ports[key]} is already in use; "
                    f"{proc.name} was not started (log: {proc.log})"
                )
        try:
            proc.spawn()
        except OSError as exc:
            raise ControlPlaneError(f"{proc.name}: cannot start {proc.argv[0]}: {exc} (log: {proc.log})") from None
        self._save()

    def _wait(self, component: str, what: str, check: Callable[[], bool]) -> None:
        watch = list(self.processes.values())
        log = self.log_path(component)
        processes.wait_until(
            component, what, check, timeout=self.timeout, watch=watch, error=ControlPlaneError, log=log
        )

    def _save(self) -> None:
        state = {
            "version": 1,
            "bin_dir": str(self.bin_dir),
            "nodes": self.nodes,
            "ports": self.ports,
            "started_at": self.started_at,
            "supervisor_pid": os.getpid(),
            "kubeconfig": str(self.kubeconfig),
            "components": [p.to_json() for p in self.processes.values()],
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)
