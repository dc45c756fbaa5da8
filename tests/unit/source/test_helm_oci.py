"""gotk.source.helm.oci: Helm's choice of a chart version among OCI tags (`_` stands for `+`, an exact tag
first, prereleases only when asked for) and the credentials a HelmRepository secretRef gives a registry."""

from __future__ import annotations

import base64
import json

import pytest

from gotk.runtime.oci.auth import CredentialsError
from gotk.source.helm import oci
from gotk.source.helm.index import ChartNotFoundError

TAGS = ["6.0.0", "6.1.0", "6.1.1_build.7", "6.2.0-rc.1", "latest", "5.0.0"]


@pytest.mark.parametrize(
    ("constraint", "version", "tag"),
    [
        (None, "6.1.1+build.7", "6.1.1_build.7"),
        ("6.0.x", "6.0.0", "6.0.0"),
        ("<6", "5.0.0", "5.0.0"),
        (">=6.2.0-0", "6.2.0-rc.1", "6.2.0-rc.1"),
        ("latest", "latest", "latest"),
        ("6.1.1+build.7", "6.1.1+build.7", "6.1.1_build.7"),
    ],
)
def test_select_tag(constraint: str | None, version: str, tag: str) -> None:
    assert oci.select_tag(TAGS, "podinfo", constraint) == (version, tag)


def test_select_tag_errors() -> None:
    with pytest.raises(ChartNotFoundError, match=r"no 'podinfo' chart with version matching '7\.x' found"):
        oci.select_tag(TAGS, "podinfo", "7.x")
    with pytest.raises(ChartNotFoundError, match="invalid chart version constraint"):
        oci.select_tag(TAGS, "podinfo", ">>1")


def test_credentials() -> None:
    assert oci.credentials(None, "r.example") is None
    basic = oci.credentials({"username": b"u", "password": b"p"}, "r.example")
    assert basic is not None and (basic.username, basic.password) == ("u", "p")
    config = {"auths": {"r.example": {"auth": base64.b64encode(b"d:s").decode()}}}
    docker = oci.credentials({".dockerconfigjson": json.dumps(config).encode()}, "r.example")
    assert docker is not None and (docker.username, docker.password) == ("d", "s")
    with pytest.raises(CredentialsError, match="both 'username' and 'password'"):
        oci.credentials({"username": b"u"}, "r.example")
    with pytest.raises(CredentialsError, match="neither"):
        oci.credentials({"token": b"x"}, "r.example")
