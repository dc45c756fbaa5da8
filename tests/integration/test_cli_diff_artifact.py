"""`flux diff artifact` against a real registry (docker-registry with basic auth), run as a process, no
cluster: an artifact pushed with `flux push artifact` compares equal to its directory (exit 0, `✔ no changes
detected`, files the default ignore paths exclude not counting) and unequal (exit 1, flux2's message)
to an edited copy; `flux build artifact` writes the very layer the registry holds; a missing tag is
the registry's error; without --creds the pull is refused. Independent commands run side by side.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gotk.runtime.oci.auth import Credentials
from gotk.runtime.oci.client import RegistryClient
from gotk.testing.cli import run_flux
from gotk.testing.golden import assert_golden
from gotk.testing.registry import OciRegistry

GOLDEN = Path(__file__).parents[1] / "golden" / "cli" / "diff_artifact"
USER, PASSWORD = "flux", "diff-artifact-pa55"
DEPLOY = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  namespace: default\nspec:\n  replicas: 1\n"
)
SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\n  namespace: default\n"
_PUSHED = re.compile(r"artifact successfully pushed to (\S+)@(sha256:[0-9a-f]{64})")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[OciRegistry]:
    with OciRegistry(tmp_path / "registry", username=USER, password=PASSWORD) as reg:
        yield reg


def write_tree(root: Path) -> Path:
    (root / "deploy").mkdir(parents=True)
    (root / "deploy" / "deployment.yaml").write_text(DEPLOY)
    (root / "deploy" / "service.yaml").write_text(SERVICE)
    (root / "README.md").write_text("# podinfo\n")
    (root / "logo.png").write_text("not a png")
    return root


def push(kubeconfig: Path, url: str, path: Path, *extra: str) -> str:
    proc = run_flux(kubeconfig, "push", "artifact", url, f"--path={path}", "--source=test", "--revision=test", *extra)
    assert proc.returncode == 0, proc.stderr
    found = _PUSHED.search(proc.stderr)
    assert found, proc.stderr
    return found.group(2)


def flux_all(kubeconfig: Path, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent `flux` commands side by side (each is a process; the registry serves them all)."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: run_flux(kubeconfig, *args), commands))


def test_diff_artifact(registry: OciRegistry, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"  # never read: no command here talks to a cluster
    creds = f"--creds={USER}:{PASSWORD}"
    src = write_tree(tmp_path / "src")
    changed_src = write_tree(tmp_path / "changed")
    (changed_src / "deploy" / "deployment.yaml").write_text(DEPLOY.replace("replicas: 1", "replicas: 2"))
    (src / "banner.png").write_text("ignored by default, as when pushing")
    url = registry.url("podinfo:1.0.0")
    push(kubeconfig, url, src, creds)

    built = tmp_path / "artifact.tgz"
    same, build, changed, missing, anonymous = flux_all(
        kubeconfig,
        ("diff", "artifact", url, f"--path={src}", creds),
        ("build", "artifact", "--path", str(src), "--output", str(built)),
        ("diff", "artifact", url, "--path", str(changed_src), creds),
        ("diff", "artifact", registry.url("podinfo:9.9.9"), f"--path={src}", creds),
        ("diff", "artifact", url, f"--path={src}"),
    )
    login = "► logging in to registry with credentials\n"
    assert (same.returncode, same.stdout) == (0, ""), same.stderr
    assert same.stderr.startswith(login)
    assert_golden(GOLDEN, "success.golden", same.stderr.removeprefix(login))

    # what `flux build artifact` writes is byte for byte the layer the registry stores
    assert build.returncode == 0, build.stderr
    assert build.stderr == f"► building artifact from {src}\n✔ artifact created at {built}\n"
    client = RegistryClient(registry.host, credentials=Credentials(username=USER, password=PASSWORD))
    layer = client.get_manifest("podinfo", "1.0.0").layers[0]
    assert layer.digest == "sha256:" + hashlib.sha256(built.read_bytes()).hexdigest()
    assert layer.size == built.stat().st_size

    assert (changed.returncode, changed.stdout) == (1, "")
    assert changed.stderr.startswith(login)
    assert_golden(GOLDEN, "differs.golden", changed.stderr.removeprefix(login))

    assert missing.returncode == 1
    assert missing.stderr.startswith(login + "✗ ") and "manifest unknown" in missing.stderr.lower(), missing.stderr
    assert anonymous.returncode == 1  # without --creds the registry refuses the pull
    assert anonymous.stderr.startswith("✗ ") and "no changes" not in anonymous.stderr, anonymous.stderr
