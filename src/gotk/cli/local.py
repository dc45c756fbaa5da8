"""`flux local up|down|status`: run a real local control plane (etcd, kube-apiserver, kcm,
kube-scheduler, kwok) and the gotk controllers on 127.0.0.1, without Docker.

The processes are supervised by `gotk.local.controlplane.ControlPlane` and recorded in
DIR/state.json, so `down` and `status` work from any other shell.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

import click

from gotk.cli import output
from gotk.cli.demo import Demo
from gotk.cli.output import CommandError
from gotk.local import processes
from gotk.local.controlplane import CORE, ControlPlane, ControlPlaneError, install_gotk

DEFAULT_DIR = Path(".local/cluster")
CONTROLLERS = "controllers"
CONTROLLERS_START_TIMEOUT = 60.0

dir_option = click.option(
    "--dir",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="Directory holding the cluster's state, logs and kubeconfig.",
)


@click.group("local")
def local() -> None:
    """Run a local Kubernetes control plane with the gotk controllers (no Docker needed)."""


@local.command("up")
@dir_option
@click.option("--nodes", default=1, show_default=True, type=click.IntRange(1, 1000), help="Number of kwok Nodes.")
@click.option("--no-controllers", is_flag=True, help="Start only the control plane, not the gotk controllers.")
@click.option("--foreground", is_flag=True, help="Stay up until Ctrl-C, then stop everything.")
@click.option(
    "--demo",
    "demo_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Commit DIR to a local Git repository and deploy it with a GitRepository and a Kustomization "
    "(needs --foreground: the Git server runs in this process).",
)
def up(state_dir: Path, nodes: int, no_controllers: bool, foreground: bool, demo_dir: Path | None) -> None:
    """Start the control plane, install the gotk CRDs and start the controllers."""
    state_dir = state_dir.absolute()
    if demo_dir is not None and (not foreground or no_controllers):
        raise CommandError("--demo needs --foreground and the controllers (no --no-controllers)")
    if foreground:  # a SIGTERM while starting must still stop what has started
        signal.signal(signal.SIGTERM, _interrupt)
    cp, started = _start_control_plane(state_dir, nodes)
    try:
        output.action("installing the gotk CRDs")
        count = install_gotk(cp)
        output.success(f"{count} CRDs established; namespace flux-system ready")
        if not no_controllers:
            _ensure_controllers(cp)
    except (ControlPlaneError, ModuleNotFoundError, subprocess.TimeoutExpired, KeyboardInterrupt) as exc:
        if started or foreground:
            cp.stop()
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise CommandError(str(exc)) from None
    click.echo(f"export KUBECONFIG={cp.kubeconfig}")
    output.success(f"ready: run `export KUBECONFIG={cp.kubeconfig}`, then kubectl or flux as usual")
    output.success(f"logs in {state_dir / 'logs'}; stop with `flux local down --dir {state_dir}`")
    if foreground:
        app = None
        if demo_dir is not None:
            app = Demo(cp, demo_dir.absolute())
            try:
                app.start()
            except (CommandError, KeyboardInterrupt):
                cp.stop()
                raise
        try:
            _serve(cp)
        finally:
            if app is not None:
                app.stop()


@local.command("down")
@dir_option
def down(state_dir: Path) -> None:
    """Stop every process of the local control plane (controllers first) and remove DIR."""
    state_dir = state_dir.absolute()
    cp = _load(state_dir)
    if cp is None:
        output.success(f"no local control plane in {state_dir}")
        return
    output.action(f"stopping the local control plane in {state_dir}")
    try:
        cp.stop(remove=True)
    except ControlPlaneError as exc:
        raise CommandError(str(exc)) from None
    if state_dir.exists():
        output.warning(f"left {state_dir} in place: it holds files gotk did not create")
    output.success(f"stopped; removed {state_dir}")


@local.command("status")
@dir_option
def status(state_dir: Path) -> None:
    """Show which processes of the local control plane run, with their pids and ports."""
    state_dir = state_dir.absolute()
    cp = _load(state_dir)
    if cp is None:
        raise CommandError(f"no local control plane in {state_dir}; start one with `flux local up --dir {state_dir}`")
    rows = [
        [s.name, str(s.pid or "-"), str(s.port or "-"), "running" if s.running else "stopped", str(s.log)]
        for s in cp.status()
    ]
    click.echo(output.table(["COMPONENT", "PID", "PORT", "STATUS", "LOG"], rows), nl=False)
    stopped = [s.name for s in cp.status() if not s.running]
    if stopped:
        raise CommandError(f"not running in {state_dir}: {', '.join(stopped)}")
    output.success(f"kube-apiserver {cp.server}; export KUBECONFIG={cp.kubeconfig}")


def _load(state_dir: Path) -> ControlPlane | None:
    if not (state_dir / "state.json").exists():
        return None
    try:
        return ControlPlane.load(state_dir)
    except ControlPlaneError as exc:
        raise CommandError(str(exc)) from None


def _start_control_plane(state_dir: Path, nodes: int) -> tuple[ControlPlane, bool]:
    """Reuse a healthy control plane recorded in `state_dir`, or start one; True when started here."""
    existing = _load(state_dir)
    if existing is not None and existing.healthy():
        output.success(f"control plane already running in {state_dir} ({existing.server})")
        return existing, False
    if existing is not None:
        output.action(f"cleaning up the stopped control plane in {state_dir} (its data is kept)")
        existing.stop()
    cp = ControlPlane(state_dir, nodes=nodes)
    output.action(f"starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok in {state_dir}")
    try:
        cp.start()
    except ControlPlaneError as exc:
        raise CommandError(str(exc)) from None
    output.success(f"control plane ready in {cp.startup_seconds or 0:.1f}s: {cp.server}, {nodes} kwok node(s)")
    return cp, True


def _ensure_controllers(cp: ControlPlane) -> None:
    current = cp.processes.get(CONTROLLERS)
    if current is not None and current.alive():
        output.success(f"gotk controllers already running (pid {current.pid})")
        return
    storage, metrics, health, events, hooks = processes.free_ports(5)
    loopback = processes.LOOPBACK
    argv = [
        sys.executable, "-m", "gotk.cli.main", "--kubeconfig", str(cp.kubeconfig), "controllers", "run",
        "--storage-path", str(cp.state_dir / "storage"),
        "--storage-addr", f"{loopback}:{storage}", "--storage-adv-addr", f"{loopback}:{storage}",
        "--metrics-addr", f"{loopback}:{metrics}", "--health-addr", f"{loopback}:{health}",
        "--notification-events-addr", f"{loopback}:{events}", "--events-addr", f"http://{loopback}:{events}/",
        "--receiver-addr", f"{loopback}:{hooks}",
    ]  # fmt: skip
    output.action("starting the gotk controllers")
    proc = cp.add_process(CONTROLLERS, argv, env={"PYTHONUNBUFFERED": "1"}, port=storage)
    deadline = time.monotonic() + CONTROLLERS_START_TIMEOUT
    while not processes.tcp_open(health):
        if not proc.alive():
            raise ControlPlaneError(
                f"gotk controllers exited during start; log: {proc.log}\n"
                f"--- last lines of {proc.log}:\n{processes.tail(proc.log)}"
            )
        if time.monotonic() > deadline:
            output.warning(f"gotk controllers have not opened {loopback}:{health} yet; log: {proc.log}")
            return
        time.sleep(processes.POLL_INTERVAL)
    output.success(f"gotk controllers running (pid {proc.pid}, artifacts on {loopback}:{storage})")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve(cp: ControlPlane) -> None:
    """Stay in the foreground until SIGINT/SIGTERM or until a component dies; then stop all."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    output.waiting("running in the foreground; press Ctrl-C to stop")
    dead: list[str] = []
    while not stop.wait(1.0):
        dead = [s.name for s in cp.status() if not s.running and (s.name in CORE or s.name == CONTROLLERS)]
        if dead:
            break
    output.action("stopping the local control plane")
    cp.stop()
    if dead:
        logs = ", ".join(str(cp.log_path(n)) for n in dead)
        raise CommandError(f"{', '.join(dead)} exited; everything is stopped (logs: {logs})")
    output.success(f"stopped; data kept in {cp.state_dir} (`flux local down --dir {cp.state_dir}` removes it)")
