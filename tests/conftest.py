"""Shared fixtures: `cluster` (one real local control plane for the whole session, with the
gotk CRDs and the flux-system namespace), `namespace` (a fresh namespace per test) and
`kubectl` (kubectl bound to the cluster's kubeconfig), `remote` (a second control plane, for kubeConfig);
and the hypothesis profile (no per-example deadline).
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import FrameType

import pytest
from hypothesis import HealthCheck, settings

from gotk.local.controlplane import DEFAULT_BIN_DIR, ControlPlane, ControlPlaneError, install_gotk

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

# property tests run beside a control plane on a small machine: time per example is no property
settings.register_profile("gotk", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gotk")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """One local control plane (etcd, kube-apiserver, kcm, scheduler, kwok) shared by the session."""
    cp = ControlPlane(tmp_path_factory.mktemp("cluster"), bin_dir=DEFAULT_BIN_DIR)
    atexit.register(cp.stop)  # also when the session dies before the fixture's teardown
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)  # a cancelled CI job still runs the teardown
    try:
        cp.start()
        install_gotk(cp)
    except ControlPlaneError as exc:
        cp.stop()
        where = "in CI" if os.environ.get("CI") == "true" else "locally"
        pytest.fail(f"the local control plane did not start ({where}): {exc}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop()
        atexit.unregister(cp.stop)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A second, independent control plane for spec.kubeConfig tests, started on first use, stopped at the end."""
    cp = ControlPlane(tmp_path_factory.mktemp("remote-cluster"), bin_dir=DEFAULT_BIN_DIR)
    atexit.register(cp.stop)
    try:
        cp.start()
    except ControlPlaneError as exc:
        cp.stop()
        pytest.fail(f"the second control plane did not start: {exc}", pytrace=False)
    try:
        yield cp
    finally:
        cp.stop(remove=True)
        atexit.unregister(cp.stop)


@pytest.fixture
def kubectl(cluster: ControlPlane) -> Kubectl:
    """`kubectl(*args, input=None, check=True)` against the session cluster; check=True raises on failure."""

    def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cluster.kubectl(*args, input=input, check=check)

    return run


@pytest.fixture
def namespace(cluster: ControlPlane) -> Iterator[str]:
    """A fresh namespace whose default ServiceAccount exists; deleted (without waiting) afterwards."""
    name = f"test-{secrets.token_hex(4)}"
    cluster.ensure_namespace(name)
    cluster.kubectl("wait", "--for=create", "--timeout=30s", "-n", name, "serviceaccount/default")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
