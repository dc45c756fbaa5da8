"""`flux create image repository|policy` without --export, on the real control plane with the image
controllers running: flux2's lines, the stored objects, and the wait for Ready."""

from __future__ import annotations

import asyncio

from gotk.testing import images
from gotk.testing.cli import run_flux

from .conftest import IMAGE_POLICIES, IMAGE_REPOSITORIES, ImageEnv


async def test_create_image_repository_and_policy_apply_and_wait(imgenv: ImageEnv, cluster: object) -> None:
    images.push_tags(imgenv.registry_client(), "org/cli", ["1.0.0", "1.1.0"])
    await imgenv.start()
    kubeconfig = cluster.kubeconfig  # type: ignore[attr-defined]
    ns = imgenv.namespace
    repo = await asyncio.to_thread(
        run_flux, kubeconfig, "create", "image", "repository", "cli", f"--image={imgenv.image('org/cli')}",
        "--interval=10m", "-n", ns,
    )  # fmt: skip
    assert repo.returncode == 0, repo.stderr
    assert "✚ generating ImageRepository" in repo.stderr and "✔ ImageRepository reconciliation completed" in repo.stderr
    stored = await imgenv.get(IMAGE_REPOSITORIES, "cli")
    assert stored["spec"]["image"] == imgenv.image("org/cli") and stored["spec"]["interval"] == "10m0s"
    policy = await asyncio.to_thread(
        run_flux, kubeconfig, "create", "image", "policy", "cli", "--image-ref=cli", "--select-semver=1.x", "-n", ns,
    )  # fmt: skip
    assert policy.returncode == 0, policy.stderr
    assert "✔ ImagePolicy reconciliation completed" in policy.stderr
    assert (await imgenv.get(IMAGE_POLICIES, "cli"))["status"]["latestRef"]["tag"] == "1.1.0"
