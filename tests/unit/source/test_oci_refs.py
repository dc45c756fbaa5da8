"""Pure OCI references (gotk.runtime.oci.refs): parsing as go-containerregistry does, OCIRepository
URL validation, and Flux's ref precedence digest > semver (+ semverFilter) > tag > latest.
"""

from __future__ import annotations

import pytest

from gotk.runtime.oci import refs

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("127.0.0.1:5000/app/manifests:v1.0.0", "127.0.0.1:5000", "app/manifests", "v1.0.0", ""),
        ("ghcr.io/org/app", "ghcr.io", "org/app", "", ""),
        (f"ghcr.io/org/app@{DIGEST}", "ghcr.io", "org/app", "", DIGEST),
        (f"ghcr.io/org/app:v1@{DIGEST}", "ghcr.io", "org/app", "v1", DIGEST),
        ("localhost/app:latest", "localhost", "app", "latest", ""),
        ("nginx", "index.docker.io", "library/nginx", "", ""),
        ("stefanprodan/podinfo:6.5.0", "index.docker.io", "stefanprodan/podinfo", "6.5.0", ""),
    ],
)
def test_parse(text: str, registry: str, repository: str, tag: str, digest: str) -> None:
    ref = refs.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


def test_reference_strings() -> None:
    ref = refs.parse("127.0.0.1:5000/app")
    assert str(ref) == "127.0.0.1:5000/app:latest"
    assert ref.identifier == "latest"
    assert ref.name == "127.0.0.1:5000/app"
    assert str(ref.with_digest(DIGEST)) == f"127.0.0.1:5000/app@{DIGEST}"
    assert ref.with_digest(DIGEST).identifier == DIGEST
    assert str(ref.with_tag("v2")) == "127.0.0.1:5000/app:v2"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("ghcr.io/Org/app", "can only contain"),
        ("ghcr.io/org/app:bad tag", "invalid tag"),
        ("ghcr.io/org/app@sha256:1234", "invalid digest"),
        ("ghcr.io/org//app", "empty path component"),
        ("GHCR.io/org/app", "lowercase"),
    ],
)
def test_parse_errors(text: str, fragment: str) -> None:
    with pytest.raises(refs.ReferenceError, match=fragment):
        refs.parse(text)


def test_repository_url_validation() -> None:
    assert refs.parse_repository_url("oci://127.0.0.1:5000/app").name == "127.0.0.1:5000/app"
    with pytest.raises(refs.ReferenceError, match=r"URL must be in format 'oci://<domain>/<org>/<repo>'"):
        refs.parse_repository_url("https://ghcr.io/org/app")
    with pytest.raises(refs.ReferenceError, match=r"URL must not contain a tag; remove ':v1'"):
        refs.parse_repository_url("oci://ghcr.io/org/app:v1")
    with pytest.raises(refs.ReferenceError, match="must not contain a digest"):
        refs.parse_repository_url(f"oci://ghcr.io/org/app@{DIGEST}")


def test_artifact_url() -> None:
    assert refs.parse_artifact_url("oci://ghcr.io/org/app:v1").tag == "v1"
    with pytest.raises(refs.ReferenceError, match="invalid URL"):
        refs.parse_artifact_url("oci://ghcr.io/org/app:$$")


def _no_listing() -> list[str]:
    raise AssertionError("tags must not be listed for this ref")


REPO = refs.parse("ghcr.io/org/app")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (None, "ghcr.io/org/app:latest"),
        ({}, "ghcr.io/org/app:latest"),
        ({"tag": "v1"}, "ghcr.io/org/app:v1"),
        ({"tag": "v1", "digest": DIGEST}, f"ghcr.io/org/app@{DIGEST}"),
    ],
)
def test_select_reference_without_listing(ref: dict[str, str] | None, expected: str) -> None:
    assert str(refs.select_reference(REPO, ref, _no_listing)) == expected


def test_select_reference_precedence_semver_over_tag_digest_over_semver() -> None:
    tags = ["v1.0.0", "v1.1.0", "latest"]
    assert refs.select_reference(REPO, {"tag": "latest", "semver": "1.x"}, lambda: tags).tag == "v1.1.0"
    chosen = refs.select_reference(REPO, {"semver": "1.x", "digest": DIGEST}, _no_listing)
    assert chosen.digest == DIGEST and not chosen.tag


def test_select_reference_rejects_bad_values() -> None:
    with pytest.raises(refs.ReferenceError, match="invalid digest"):
        refs.select_reference(REPO, {"digest": "sha256:nothex"}, _no_listing)
    with pytest.raises(refs.ReferenceError, match="invalid tag"):
        refs.select_reference(REPO, {"tag": "a/b"}, _no_listing)


def test_select_semver() -> None:
    tags = ["v1.0.0", "1.2.0", "v1.10.0", "v2.0.0-rc.1", "2.0.0-rc.2", "not-semver", "1.5", "latest"]
    assert refs.select_semver(tags, ">=1.0.0 <2.0.0") == "v1.10.0", "numeric, not lexical, order; 1.5 is no tag"
    assert refs.select_semver(tags, ">=1.0.0") == "v1.10.0", "prereleases need a prerelease in the range"
    assert refs.select_semver(tags, ">=1.0.0-0") == "2.0.0-rc.2"
    assert refs.select_semver(tags, ">=1.0.0-0", ".*-rc.1") == "v2.0.0-rc.1"
    assert refs.select_semver(tags, "*", "^1\\.") == "1.2.0", "the filter is an unanchored regex on the tag"


def test_select_semver_helm_tags() -> None:
    tags = ["1.0.0_build.1", "0.9.0", "2.0.0_x"]
    assert refs.select_semver(tags, "<2.0.0", helm=True) == "1.0.0_build.1", "'_' reads as '+' and is written back"
    with pytest.raises(refs.ReferenceError, match="no match"):
        refs.select_semver(["1.0.0_build.1"], "*")
    helm_layer = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
    assert refs.select_reference(REPO, {"semver": "1.x"}, lambda: tags, media_type=helm_layer).tag == "1.0.0_build.1"


@pytest.mark.parametrize(
    ("constraint", "tag_filter", "fragment"),
    [
        (">=5.0.0", "", "no match found for semver: >=5.0.0"),
        ("not a range", "", "semver 'not a range' parse error"),
        ("*", "(", "error parsing regexp"),
        ("*", "x" * 2000, "longer than"),
    ],
)
def test_select_semver_errors(constraint: str, tag_filter: str, fragment: str) -> None:
    with pytest.raises(refs.ReferenceError, match=fragment):
        refs.select_semver(["v1.0.0"], constraint, tag_filter)


def test_cosign_tags() -> None:
    assert refs.is_cosign_tag("sha256-" + "a" * 64 + ".sig")
    assert refs.is_cosign_tag("sha256-abc.att") and refs.is_cosign_tag("sha256-abc.sbom")
    assert not refs.is_cosign_tag("v1.0.0")
