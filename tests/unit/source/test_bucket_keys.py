"""Key and endpoint safety for Bucket sources: object keys that would leave the download directory
(absolute, `..`, `.`, empty elements, NUL) or collide as file and directory are refused; endpoints
must be a bare host[:port]; certSecretRef data must form a usable TLS context; S3Config hides keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gotk.local import certs
from gotk.source.bucket import index as idx
from gotk.source.bucket import s3


@pytest.mark.parametrize(
    "key",
    ["app.yaml", "deploy/app.yaml", "a/b/c/d.yaml", ".hidden", "..dots", "x..y/z", "back\\slash", "sp ace.yaml"],
)
def test_safe_keys(key: str) -> None:
    idx.check_key(key)


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../x", "a/../../x", "a/..", "..", ".", "./a", "a/./b", "a//b", "a/", "nul\x00byte"],
)
def test_unsafe_keys(key: str) -> None:
    with pytest.raises(idx.UnsafeKeyError):
        idx.check_key(key)


def test_layout_conflicts() -> None:
    idx.check_layout(["a/b", "a/c", "ab", "a.yaml"])
    with pytest.raises(idx.UnsafeKeyError, match="'a/b/c' needs a directory where object 'a/b' is"):
        idx.check_layout(["a/b", "a/b/c"])


def test_download_target_stays_below_the_directory(tmp_path: Path) -> None:
    assert s3._target(tmp_path, "deploy/app.yaml") == tmp_path / "deploy" / "app.yaml"
    for key in ("../x", "/abs", "a/../../x"):
        with pytest.raises(idx.UnsafeKeyError):
            s3._target(tmp_path, key)
    # even a symlink planted inside the directory cannot redirect a write outside it
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(idx.UnsafeKeyError, match="leaves the download directory"):
        s3._target(tmp_path, "link/x")


@pytest.mark.parametrize("endpoint", ["s3.amazonaws.com", "127.0.0.1:9000", "minio.minio.svc.cluster.local:9000"])
def test_valid_endpoints(endpoint: str) -> None:
    s3.check_endpoint(endpoint)


@pytest.mark.parametrize(
    "endpoint", ["", "http://minio:9000", "minio:9000/path", "user:pw@minio", "minio:port", ":9000", "a b"]
)
def test_invalid_endpoints(endpoint: str) -> None:
    with pytest.raises(ValueError, match="invalid endpoint"):
        s3.check_endpoint(endpoint)


def test_tls_context_from_cert_secret() -> None:
    ca, cert, key = certs.self_signed_server(["localhost"], ["127.0.0.1"])
    assert s3.tls_context({"ca.crt": ca}) is not None
    assert s3.tls_context({"ca.crt": ca, "tls.crt": cert, "tls.key": key}) is not None
    with pytest.raises(ValueError, match="does not contain any TLS configuration"):
        s3.tls_context({"other": b"x"})
    with pytest.raises(ValueError, match="must be given together"):
        s3.tls_context({"tls.crt": cert})
    with pytest.raises(ValueError, match="invalid TLS data") as info:
        s3.tls_context({"ca.crt": b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"})
    assert "nope" not in str(info.value)


def test_config_repr_hides_credentials() -> None:
    cfg = s3.S3Config(endpoint="127.0.0.1:9000", bucket="b", access_key="AKIA-SECRET", secret_key="very-secret")
    assert "SECRET" not in repr(cfg) and "very-secret" not in repr(cfg)
    assert repr(cfg) == "S3Config(https://127.0.0.1:9000/b, region=None)"
