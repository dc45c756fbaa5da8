"""The flux CLI as a user runs it, for tests: a subprocess against a kubeconfig, with TZ=UTC so that times
print the same everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_flux(kubeconfig: str | Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`flux --kubeconfig KUBECONFIG ARGS…`: its exit code, stdout and stderr (never raises on failure)."""
    argv = [sys.executable, "-m", "gotk.cli.main", "--kubeconfig", str(kubeconfig), *args]
    env = {**os.environ, "TZ": "UTC"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, check=False)
