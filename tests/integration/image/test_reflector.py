"""ImageRepository and ImagePolicy against the real registry: scanning (pagination, exclusion list,
credentials), the tag store surviving a restart while the registry is down, Flux's policies and tag filters,
digest reflection, and the bad inputs (unreachable registry, invalid range, missing repository, ACL)."""

from __future__ import annotations

from gotk.kube.resources import NAMESPACES, SECRETS
from gotk.runtime import conditions
from gotk.testing import images
from gotk.testing.registry import OciRegistry

from .conftest import IMAGE_POLICIES, IMAGE_REPOSITORIES, ImageEnv

USER, PASSWORD = "flux", "s3cr3t-pw"


async def test_scan_paginates_excludes_and_keeps_flux_status(imgenv: ImageEnv) -> None:
    client = imgenv.registry_client()
    tags = [f"1.0.{i}" for i in range(1100)] + ["1.0.0.sig", "latest"]
    images.push_tags(client, "org/many", tags)
    await imgenv.start()
    image = imgenv.image("org/many")
    await imgenv.image_repository("many", image)
    repo = await imgenv.ready(IMAGE_REPOSITORIES, "many", timeout=90)
    status = repo["status"]
    assert status["lastScanResult"]["tagCount"] == 1101  # the .sig tag is excluded by default
    assert status["lastScanResult"]["latestTags"] == sorted(set(tags) - {"1.0.0.sig"}, reverse=True)[:10]
    assert status["canonicalImageName"] == image
    assert status["observedExclusionList"] == [r"^.*\.sig$"]
    ready = conditions.get(repo, "Ready") or {}
    assert ready["reason"] == "Succeeded"
    assert ready["message"] == f"successful scan: found 1101 tags with checksum {status['lastScanResult']['revision']}"

    await imgenv.client.patch(
        IMAGE_REPOSITORIES, "many", {"spec": {"exclusionList": ["^1\\.0\\.[0-9]+$"]}}, imgenv.namespace
    )
    repo = await imgenv.ready(IMAGE_REPOSITORIES, "many")
    assert repo["status"]["lastScanResult"]["tagCount"] == 2
    assert repo["status"]["observedExclusionList"] == ["^1\\.0\\.[0-9]+$"]


async def test_policies_filters_and_digests(imgenv: ImageEnv) -> None:
    client = imgenv.registry_client()
    digests = images.push_tags(
        client,
        "org/app",
        [
            "1.0.0",
            "1.1.0",
            "2.0.0-rc.1",
            "main-abc1234-1700000000",
            "main-def5678-1700000100",
            "main-0a1b2c3-1699999999",
            "10",
            "9",
        ],
    )
    await imgenv.start()
    image = imgenv.image("org/app")
    await imgenv.image_repository("app", image)
    await imgenv.image_policy("semver", "app", {"semver": {"range": "1.x"}}, digestReflectionPolicy="IfNotPresent")
    await imgenv.image_policy(
        "ts",
        "app",
        {"numerical": {"order": "asc"}},
        filterTags={"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"},
    )
    await imgenv.image_policy("alpha", "app", {"alphabetical": {"order": "asc"}})
    await imgenv.image_policy("numeric", "app", {"numerical": {"order": "desc"}}, filterTags={"pattern": "^[0-9]+$"})
    semver = await imgenv.ready(IMAGE_POLICIES, "semver")
    assert semver["status"]["latestRef"] == {"name": image, "tag": "1.1.0", "digest": digests["1.1.0"]}
    message = (conditions.get(semver, "Ready") or {})["message"]
    assert message == f"Latest image tag for {image} resolved to 1.1.0 with digest {digests['1.1.0']}"
    assert (await imgenv.ready(IMAGE_POLICIES, "ts"))["status"]["latestRef"]["tag"] == "main-def5678-1700000100"
    assert (await imgenv.ready(IMAGE_POLICIES, "alpha"))["status"]["latestRef"]["tag"] == "main-def5678-1700000100"
    assert (await imgenv.ready(IMAGE_POLICIES, "numeric"))["status"]["latestRef"]["tag"] == "9"

    images.push_image(client, "org/app", "1.2.0")
    await imgenv.request(IMAGE_REPOSITORIES, "app", "rescan")

    def moved(obj: dict) -> bool:  # type: ignore[type-arg]
        return ((obj.get("status") or {}).get("latestRef") or {}).get("tag") == "1.2.0"

    semver = await imgenv.wait(IMAGE_POLICIES, "semver", moved)
    assert semver["status"]["observedPreviousRef"] == {"name": image, "tag": "1.1.0", "digest": digests["1.1.0"]}

    async def announced() -> bool:  # the event follows the status patch, through its own client
        events = [e for e in await imgenv.events("semver") if e["reason"] == "Succeeded"]
        return any("resolved to 1.2.0" in e["message"] and "(previously" in e["message"] for e in events)

    await imgenv.eventually(announced, 30, "the event naming the new image")


async def test_bad_inputs(imgenv: ImageEnv) -> None:
    images.push_tags(imgenv.registry_client(), "org/bad", ["1.0.0"])
    await imgenv.start()
    await imgenv.image_repository("bad-url", "https://example.com/org/app")
    stalled = await imgenv.condition(IMAGE_REPOSITORIES, "bad-url", "Stalled", "True", "ImageURLInvalid")
    assert "should not include URL scheme" in (conditions.get(stalled, "Ready") or {})["message"]

    await imgenv.image_repository("bad", imgenv.image("org/bad"))
    await imgenv.ready(IMAGE_REPOSITORIES, "bad")
    await imgenv.image_policy("range", "bad", {"semver": {"range": "not-a-range"}})
    policy = await imgenv.condition(IMAGE_POLICIES, "range", "Stalled", "True", "InvalidPolicy")
    assert "spec.policy.semver.range 'not-a-range'" in (conditions.get(policy, "Ready") or {})["message"]

    await imgenv.image_policy("orphan", "nowhere", {"semver": {"range": "*"}})
    orphan = await imgenv.condition(IMAGE_POLICIES, "orphan", "Ready", "False", "DependencyNotReady")
    assert "referenced ImageRepository does not exist" in (conditions.get(orphan, "Ready") or {})["message"]

    await imgenv.image_policy("none", "bad", {"semver": {"range": ">=5"}})
    none = await imgenv.condition(IMAGE_POLICIES, "none", "Ready", "False", "Failed")
    assert "unable to determine latest version" in (conditions.get(none, "Ready") or {})["message"]


async def test_cross_namespace_needs_access_from(imgenv: ImageEnv, namespace: str) -> None:
    images.push_tags(imgenv.registry_client(), "org/shared", ["1.0.0"])
    other = f"{namespace}-shared"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other}}
    await imgenv.client.create(NAMESPACES, body)
    try:
        await imgenv.client.patch(NAMESPACES, namespace, {"metadata": {"labels": {"team": "apps"}}})
        await imgenv.start(watch_all=True)
        imgenv.namespace = other
        await imgenv.image_repository("shared", imgenv.image("org/shared"))
        await imgenv.ready(IMAGE_REPOSITORIES, "shared")
        imgenv.namespace = namespace
        await imgenv.image_policy(
            "shared", "shared", {"semver": {"range": "*"}}, imageRepositoryRef={"name": "shared", "namespace": other}
        )
        denied = await imgenv.condition(IMAGE_POLICIES, "shared", "Ready", "False", "AccessDenied")
        assert "missing ACL labels on 'accessFrom'" in (conditions.get(denied, "Ready") or {})["message"]
        access = {"accessFrom": {"namespaceSelectors": [{"matchLabels": {"team": "apps"}}]}}
        await imgenv.client.patch(IMAGE_REPOSITORIES, "shared", {"spec": access}, other)
        await imgenv.request(IMAGE_POLICIES, "shared", "now")
        policy = await imgenv.ready(IMAGE_POLICIES, "shared")
        assert policy["status"]["latestRef"]["tag"] == "1.0.0"
    finally:
        imgenv.namespace = namespace
        await imgenv.client.delete(NAMESPACES, other)


async def test_tags_survive_a_restart_while_the_registry_is_down(imgenv: ImageEnv) -> None:
    images.push_tags(imgenv.registry_client(), "org/keep", ["1.0.0", "1.1.0"])
    await imgenv.start()
    image = imgenv.image("org/keep")
    await imgenv.image_repository("keep", image)
    repo = await imgenv.ready(IMAGE_REPOSITORIES, "keep")
    scan = repo["status"]["lastScanResult"]
    await imgenv.stop()
    imgenv.registry.stop()
    await imgenv.start()
    await imgenv.request(IMAGE_REPOSITORIES, "keep", "while-down")
    failed = await imgenv.condition(IMAGE_REPOSITORIES, "keep", "Ready", "False", "ReadOperationFailed")
    assert failed["status"]["lastScanResult"] == scan  # the last scan is kept
    await imgenv.image_policy("keep", "keep", {"semver": {"range": "1.x"}})
    policy = await imgenv.ready(IMAGE_POLICIES, "keep")  # chosen from the stored tags
    assert policy["status"]["latestRef"] == {"name": image, "tag": "1.1.0"}


async def test_pull_secret_credentials(imgenv: ImageEnv) -> None:
    with OciRegistry(imgenv.tmp / "auth-registry", username=USER, password=PASSWORD, token_auth=True) as reg:
        from gotk.runtime.oci.auth import Credentials
        from gotk.runtime.oci.client import RegistryClient

        client = RegistryClient(reg.host, insecure=True, credentials=Credentials(username=USER, password=PASSWORD))
        images.push_tags(client, "org/private", ["3.0.0"])
        await imgenv.start()
        image = f"{reg.host}/org/private"
        await imgenv.image_repository("anon", image)
        denied = await imgenv.condition(IMAGE_REPOSITORIES, "anon", "Ready", "False", "ReadOperationFailed")
        assert PASSWORD not in str(denied)
        await imgenv.pull_secret("regcred", reg.host, USER, PASSWORD)
        await imgenv.image_repository("private", image, secretRef={"name": "regcred"})
        repo = await imgenv.ready(IMAGE_REPOSITORIES, "private")
        assert repo["status"]["lastScanResult"]["latestTags"] == ["3.0.0"]
        await imgenv.image_policy(
            "private", "private", {"semver": {"range": "*"}}, digestReflectionPolicy="Always", interval="1m"
        )
        policy = await imgenv.ready(IMAGE_POLICIES, "private")
        assert policy["status"]["latestRef"]["digest"].startswith("sha256:")


async def test_tls_registry_through_cert_secret_ref(imgenv: ImageEnv) -> None:
    with OciRegistry(imgenv.tmp / "tls-registry", tls=True) as reg:
        from gotk.runtime.oci.client import RegistryClient
        from gotk.runtime.oci.model import TLSConfig

        client = RegistryClient(reg.host, tls=TLSConfig(ca_pem=reg.ca_pem))
        images.push_tags(client, "org/tls", ["1.0.0"])
        await imgenv.start()
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "ca"},
            "stringData": {"ca.crt": reg.ca_pem.decode()},
        }
        await imgenv.client.create(SECRETS, body, imgenv.namespace)
        image = f"{reg.host}/org/tls"
        await imgenv.image_repository("untrusted", image, insecure=False)
        await imgenv.condition(IMAGE_REPOSITORIES, "untrusted", "Ready", "False", "ReadOperationFailed")
        await imgenv.image_repository("tls", image, insecure=False, certSecretRef={"name": "ca"})
        repo = await imgenv.ready(IMAGE_REPOSITORIES, "tls")
        assert repo["status"]["lastScanResult"]["tagCount"] == 1
