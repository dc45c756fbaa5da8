"""`flux diff helmrelease` on the real control plane: a release in sync diffs clean (exit 0); a HelmRelease
changed in a local manifest (`--file`) shows the drifted object and exits 1; a local chart (`--chart-path`)
that renders other objects shows them created and the release's old ones deleted (from status.inventory)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from gotk.kube.resources import HELMRELEASES
from gotk.testing import helm
from gotk.testing.cli import run_flux
from gotk.testing.helmreleases import Env, helmrelease, ready_at, wait_release

pytestmark = pytest.mark.cluster
CHANGED = "identified at least one change, exiting with non-zero exit code"


async def test_diff_helmrelease(env: Env, tmp_path: Path) -> None:
    c, ns = env.client, env.namespace
    await c.create(HELMRELEASES, helmrelease("previewed", values={"greeting": "hi"}), ns)
    installed = await wait_release(env, "previewed", ready_at(1), "installed")
    assert installed["status"]["inventory"]["entries"] == [{"id": f"{ns}_previewed-podinfo__ConfigMap", "v": "v1"}]

    async def diff(*args: str) -> tuple[int, str, str]:
        # in a thread: the controllers (and the artifact server the CLI downloads the chart from) run on this loop
        argv = ("diff", "helmrelease", "previewed", f"-n={ns}", "--progress-bar=false", *args)
        result = await asyncio.to_thread(run_flux, env.kubeconfig, *argv)
        return result.returncode, result.stdout, result.stderr

    code, out, err = await diff()
    assert (code, out) == (0, ""), err

    local = helmrelease("previewed", values={"greeting": "bonjour", "extra": "new"})
    manifest = tmp_path / "hr.yaml"
    manifest.write_text(yaml.safe_dump(local))
    code, out, err = await diff("--file", str(manifest))
    assert code == 1, err
    assert out.startswith(f"► ConfigMap/{ns}/previewed-podinfo drifted\n"), out
    assert "bonjour" in out and "extra" in out and CHANGED in err
    assert (await c.get(HELMRELEASES, "previewed", ns))["status"]["history"][0]["version"] == 1, "nothing applied"

    other = helm.write_chart(
        tmp_path / "charts",
        "podinfo",
        "6.1.0",
        templates={"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-other\n"},
    )
    code, out, err = await diff("--chart-path", str(other))
    assert code == 1, err
    assert f"► ConfigMap/{ns}/previewed-other created\n" in out
    assert f"► ConfigMap/{ns}/previewed-podinfo deleted\n" in out

    missing = await asyncio.to_thread(run_flux, env.kubeconfig, "diff", "hr", "missing", f"-n={ns}")
    assert missing.returncode == 2 and "HelmRelease" in missing.stderr and "not found" in missing.stderr
