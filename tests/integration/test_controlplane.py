"""The local control plane itself: workloads behave like on a real cluster (Deployments become
Available, Jobs complete, namespaces are deleted), the supervisor fails clearly and leaves
nothing running on bad input, and `flux local up/status/down` work end to end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gotk.local.controlplane import DEFAULT_BIN_DIR, ControlPlane, ControlPlaneError
from gotk.local.processes import pid_alive

pytestmark = pytest.mark.cluster

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: registry.invalid/web:1}]
"""

JOB = """
apiVersion: batch/v1
kind: Job
metadata: {name: once}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: once, image: registry.invalid/once:1}]
"""


def processes_mentioning(path: Path) -> list[int]:
    """Pids of live processes whose command line mentions `path` (the state dir of a test)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline and pid_alive(int(proc.name)):
            pids.append(int(proc.name))
    return pids


def assert_nothing_running(cp: ControlPlane) -> None:
    assert [p.name for p in cp.processes.values() if pid_alive(p.pid)] == []
    assert processes_mentioning(cp.state_dir) == []


def test_deployment_becomes_available(namespace: str, kubectl: Kubectl) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=DEPLOYMENT)
    kubectl("wait", "-n", namespace, "--for=condition=Available", "--timeout=60s", "deployment/web")
    kubectl("wait", "-n", namespace, "--for=condition=Ready", "--timeout=60s", "pod", "-l", "app=web")
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-l", "app=web", "-o", "json").stdout)["items"]
    assert len(pods) == 2
    assert all(p["status"]["phase"] == "Running" for p in pods)


def test_job_completes(namespace: str, kubectl: Kubectl) -> None:
    kubectl("apply", "-n", namespace, "-f", "-", input=JOB)
    kubectl("wait", "-n", namespace, "--for=condition=Complete", "--timeout=60s", "job/once")


def test_namespace_with_objects_is_deleted(cluster: ControlPlane, kubectl: Kubectl) -> None:
    name = "doomed-ns"
    cluster.ensure_namespace(name)
    kubectl("wait", "--for=create", "--timeout=30s", "-n", name, "serviceaccount/default")
    kubectl("apply", "-n", name, "-f", "-", input=DEPLOYMENT)
    kubectl("create", "configmap", "settings", "-n", name, "--from-literal=a=b")
    kubectl("create", "secret", "generic", "creds", "-n", name, "--from-literal=password=x")
    kubectl("wait", "-n", name, "--for=condition=Available", "--timeout=60s", "deployment/web")
    kubectl("delete", "namespace", name, "--wait=false")
    kubectl("wait", "--for=delete", "--timeout=60s", f"namespace/{name}")
    assert kubectl("get", "namespace", name, check=False).returncode != 0


def test_status_and_load_see_the_running_cluster(cluster: ControlPlane) -> None:
    loaded = ControlPlane.load(cluster.state_dir)
    status = {s.name: s for s in loaded.status()}
    assert list(status) == ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]
    assert all(s.running for s in status.values())
    assert status["kube-apiserver"].port == cluster.ports["kube-apiserver"]
    assert loaded.healthy()


def test_restart_apiserver_keeps_port_and_data(cluster: ControlPlane, namespace: str, kubectl: Kubectl) -> None:
    kubectl("create", "configmap", "survivor", "-n", namespace)
    old_pid = cluster.processes["kube-apiserver"].pid
    cluster.restart_apiserver()
    assert cluster.processes["kube-apiserver"].pid != old_pid
    assert cluster.healthy()
    kubectl("get", "configmap", "survivor", "-n", namespace)


def test_missing_binary_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    cp = ControlPlane(tmp_path / "state", bin_dir=empty)
    with pytest.raises(ControlPlaneError) as err:
        cp.start()
    message = str(err.value)
    assert "etcd" in message
    assert str(empty / "etcd") in message
    assert "make setup" in message
    assert_nothing_running(cp)


@pytest.mark.parametrize("component", ["etcd", "kube-apiserver"])
def test_busy_port_is_reported_and_nothing_left_running(tmp_path: Path, component: str) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        cp = ControlPlane(tmp_path / "state", ports={component: port}, timeout=30)
        with pytest.raises(ControlPlaneError) as err:
            cp.start()
    message = str(err.value)
    assert message.startswith(f"{component}:")
    assert f"127.0.0.1:{port}" in message
    assert "already in use" in message
    assert str(cp.log_path(component)) in message
    assert_nothing_running(cp)


def test_process_dying_during_start_is_reported(tmp_path: Path) -> None:
    cp = ControlPlane(tmp_path / "state", extra_args={"kube-apiserver": ["--bogus-flag"]}, timeout=30)
    with pytest.raises(ControlPlaneError) as err:
        cp.start()
    message = str(err.value)
    assert message.startswith("kube-apiserver exited during start")
    assert str(cp.log_path("kube-apiserver")) in message
    assert "bogus-flag" in message  # the log's last lines are included
    assert_nothing_running(cp)


def flux(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gotk.cli.main", *args], capture_output=True, text=True, timeout=180, check=False
    )


def test_flux_local_up_status_down(tmp_path: Path) -> None:
    if not (DEFAULT_BIN_DIR / "kube-apiserver").exists():
        pytest.fail(f"control plane binaries missing in {DEFAULT_BIN_DIR}; run `make setup`")
    d = tmp_path / "local"
    try:
        t0 = time.monotonic()
        up = flux("local", "up", "--no-controllers", "--dir", str(d))
        assert up.returncode == 0, up.stderr
        assert f"export KUBECONFIG={d / 'kubeconfig'}" in up.stdout
        assert time.monotonic() - t0 < 60

        again = flux("local", "up", "--no-controllers", "--dir", str(d))
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr

        status = flux("local", "status", "--dir", str(d))
        assert status.returncode == 0, status.stderr
        lines = status.stdout.splitlines()
        assert lines[0].split()[:4] == ["COMPONENT", "PID", "PORT", "STATUS"]
        assert {line.split()[0]: line.split()[3] for line in lines[1:]} == dict.fromkeys(
            ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"], "running"
        )
        cp = ControlPlane.load(d)
    finally:
        down = flux("local", "down", "--dir", str(d))
    assert down.returncode == 0, down.stderr
    assert not d.exists()
    assert_nothing_running(cp)

    gone = flux("local", "status", "--dir", str(d))
    assert gone.returncode == 1
    assert gone.stderr.startswith("✗ no local control plane in")
