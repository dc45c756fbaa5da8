"""The whole image automation loop on the local control plane, with the real registry and Git server: a new
tag pushed to the registry is scanned, chosen by a semver policy, committed and pushed to Git by the
automation, and applied by a Kustomization, with no hand in between."""

from __future__ import annotations

import time

from gotk.kube.resources import DEPLOYMENTS, KUSTOMIZATIONS
from gotk.testing import images

from .conftest import IMAGE_POLICIES, IMAGE_REPOSITORIES, IMAGE_UPDATES, ImageEnv

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
        - name: podinfo
          image: {IMAGE}:1.2.3 # {"$imagepolicy": "NS:podinfo"}
"""


async def test_new_tag_reaches_the_cluster(imgenv: ImageEnv) -> None:
    ns = imgenv.namespace
    image = imgenv.image("org/podinfo")
    client = imgenv.registry_client()
    images.push_tags(client, "org/podinfo", ["1.2.2", "1.2.3", "2.0.0"])
    imgenv.repo({"apps/deploy.yaml": DEPLOYMENT.replace("{IMAGE}", image).replace("NS", ns)})
    await imgenv.start(sources=True, kustomize=True)
    await imgenv.git_repository(interval="10s")
    body = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": ns},
        "spec": {
            "interval": "10s",
            "path": "./apps",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "fleet"},
            "targetNamespace": ns,
        },
    }
    await imgenv.client.create(KUSTOMIZATIONS, body, ns)
    await imgenv.image_repository("podinfo", image, interval="10s")
    await imgenv.image_policy("podinfo", "podinfo", {"semver": {"range": ">=1.0.0 <2.0.0"}})
    await imgenv.automation("podinfo", interval="10s", git={"push": {"branch": "main"}})

    await imgenv.ready(KUSTOMIZATIONS, "apps", timeout=60)
    policy = await imgenv.ready(IMAGE_POLICIES, "podinfo")
    assert policy["status"]["latestRef"] == {"name": image, "tag": "1.2.3"}
    automation = await imgenv.ready(IMAGE_UPDATES, "podinfo")
    assert "lastPushCommit" not in automation["status"]  # 1.2.3 is what Git has: nothing to push

    images.push_image(client, "org/podinfo", "1.2.4")
    pushed = time.monotonic()

    async def runs_new_image() -> bool:
        deployment = await imgenv.client.get(DEPLOYMENTS, "podinfo", ns)
        return bool(deployment["spec"]["template"]["spec"]["containers"][0]["image"] == f"{image}:1.2.4")

    await imgenv.eventually(runs_new_image, 90, "the Deployment runs 1.2.4")
    seconds = time.monotonic() - pushed
    print(f"registry push -> new image in the cluster: {seconds:.1f} s (intervals 10 s)")

    automation = await imgenv.get(IMAGE_UPDATES, "podinfo")
    status = automation["status"]
    assert status["lastPushCommit"] == imgenv.head()
    assert status["observedPolicies"] == {"podinfo": {"name": image, "tag": "1.2.4"}}
    assert status["observedSourceRevision"] == f"main@sha1:{imgenv.head()}"
    commit = imgenv.commit_of(imgenv.head())
    assert commit.message == "Update from image update automation"
    assert commit.author.name == "fluxbot" and commit.author.email == "fluxbot@example.com"
    repo = await imgenv.get(IMAGE_REPOSITORIES, "podinfo")
    assert repo["status"]["lastScanResult"]["tagCount"] == 4
    assert repo["status"]["canonicalImageName"] == image

    async def pushed_event() -> bool:  # the event follows the status patch, through its own client
        events = await imgenv.events("podinfo")
        messages = [e["message"] for e in events if e["involvedObject"]["kind"] == "ImageUpdateAutomation"]
        return any(m.startswith(f"pushed commit '{imgenv.head()[:7]}' to branch 'main'") for m in messages)

    await imgenv.eventually(pushed_event, 30, "the event naming the pushed commit")
