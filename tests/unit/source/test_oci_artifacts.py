"""OCI pieces that need no registry: the deterministic artifact tarball and its ignore rules, layer
selection, registry error formatting and plain-HTTP eligibility, certSecretRef parsing, and the
cosign payload, key and signature checks.
"""

from __future__ import annotations

import base64
import json
import os
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gotk.runtime.oci import client as oci_client
from gotk.runtime.oci import spec
from gotk.runtime.oci.model import Descriptor, Manifest, tls_from_secret
from gotk.source.oci import artifacts, cosign
from gotk.source.oci.reconciler import select_layer, settings_changed

DIGEST = "sha256:" + "cd" * 32


def tree(root: Path) -> Path:
    for rel, text in {
        "deploy/app.yaml": "kind: ConfigMap\n",
        "deploy/run.sh": "#!/bin/sh\n",
        "README.md": "# x\n",
        "logo.png": "png",
        ".git/HEAD": "ref: refs/heads/main\n",
        "dist.tar.gz": "gz",
    }.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)  # modes are archived as they are: do not depend on the umask
    (root / "deploy").chmod(0o755)
    (root / "deploy/run.sh").chmod(0o755)
    (root / "link.yaml").symlink_to("README.md")
    return root


def entries(path: Path) -> list[tuple[str, int, int, int]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(m.name, m.mode, m.mtime, m.uid) for m in tar.getmembers()]


def test_build_is_deterministic_and_applies_default_ignores(tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    first, second = tmp_path / "a.tgz", tmp_path / "b.tgz"
    diff_id = artifacts.build(src, first)
    os.utime(src / "README.md", (1, 1))
    assert artifacts.build(src, second) == diff_id
    assert first.read_bytes() == second.read_bytes()
    assert entries(first) == [
        ("README.md", 0o644, 0, 0),
        ("deploy", 0o755, 0, 0),
        ("deploy/app.yaml", 0o644, 0, 0),
        ("deploy/run.sh", 0o755, 0, 0),
    ], "VCS files, *.png and *.tar.gz are left out; symlinks are skipped"


def test_build_custom_ignore_and_single_file(tmp_path: Path) -> None:
    src = tree(tmp_path / "src")
    out = tmp_path / "a.tgz"
    artifacts.build(src, out, ["deploy/", "*.md"])
    assert [name for name, *_ in entries(out)] == [".git", ".git/HEAD", "dist.tar.gz", "logo.png"]
    artifacts.build(src / "deploy" / "app.yaml", out)
    assert [name for name, *_ in entries(out)] == ["app.yaml"]
    with pytest.raises(artifacts.ArtifactError, match="must point to an existing directory or file"):
        artifacts.build(tmp_path / "absent", out)


def test_default_ignore_paths_match_flux() -> None:
    assert artifacts.DEFAULT_IGNORE_PATHS == (
        ".git/",
        ".gitignore",
        ".gitmodules",
        ".gitattributes",
        "*.jpg",
        "*.jpeg",
        "*.gif",
        "*.png",
        "*.wmv",
        "*.flv",
        "*.tar.gz",
        "*.zip",
    )


def manifest(*layers: Descriptor) -> Manifest:
    body = {"schemaVersion": 2, "layers": [layer.to_json() for layer in layers]}
    return Manifest(digest=DIGEST, media_type=spec.OCI_MANIFEST, raw=json.dumps(body).encode(), body=body)


def test_select_layer() -> None:
    helm = Descriptor("application/vnd.cncf.helm.chart.content.v1.tar+gzip", DIGEST, 1)
    flux = Descriptor(spec.CONTENT_MEDIA_TYPE, "sha256:" + "ef" * 32, 2)
    assert select_layer(manifest(helm, flux), "") == helm
    assert select_layer(manifest(helm, flux), spec.CONTENT_MEDIA_TYPE) == flux
    with pytest.raises(ValueError, match="failed to find layer with media type 'x/y' in artifact"):
        select_layer(manifest(helm), "x/y")
    with pytest.raises(ValueError, match="no layers found in artifact"):
        select_layer(manifest(), "")


def test_settings_changed_compares_observed_fields() -> None:
    obj = {"spec": {"ignore": "a\n"}, "status": {"observedIgnore": "a\n"}}
    assert not settings_changed(obj)
    obj["spec"]["layerSelector"] = {"operation": "copy"}
    assert settings_changed(obj)


def test_registry_error_diagnostics_and_local_hosts() -> None:
    body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v9"}}]}'
    assert oci_client._diagnostic(body) == "MANIFEST_UNKNOWN: manifest unknown; Tag=v9"
    assert oci_client._diagnostic(b"<html>") == ""
    assert all(oci_client._is_local(h) for h in ("127.0.0.1:5000", "localhost:5000", "10.1.2.3", "[::1]:5000"))
    assert not any(oci_client._is_local(h) for h in ("ghcr.io", "8.8.8.8:443", "registry.example.com:5000"))


def test_tls_from_secret() -> None:
    assert tls_from_secret({"ca.crt": b"CA"}).ca_pem == b"CA"
    with pytest.raises(ValueError, match=r"both 'tls\.crt' and 'tls\.key'"):
        tls_from_secret({"tls.crt": b"cert"})
    with pytest.raises(ValueError, match="none of"):
        tls_from_secret({"other": b"x"})
    assert "very-secret" not in repr(tls_from_secret({"tls.crt": b"cert", "tls.key": b"very-secret"}))


def payload(digest: str, key_name: str = "docker-manifest-digest") -> bytes:
    doc = {"critical": {"identity": {"docker-reference": "r/a"}, "image": {key_name: digest}, "type": "cosign"}}
    return json.dumps(doc).encode()


def test_cosign_payload_and_tag() -> None:
    assert cosign.signature_tag(DIGEST) == f"sha256-{'cd' * 32}.sig"
    assert cosign.payload_matches(payload(DIGEST), DIGEST)
    assert cosign.payload_matches(payload(DIGEST, "Docker-manifest-digest"), DIGEST), (
        "Go matches keys case-insensitively"
    )
    assert not cosign.payload_matches(payload("sha256:" + "00" * 32), DIGEST)
    assert not cosign.payload_matches(b"not json", DIGEST)


def pem(key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_cosign_keys_and_signatures() -> None:
    signer = ec.generate_private_key(ec.SECP256R1())
    edkey = ed25519.Ed25519PrivateKey.generate()
    keys = cosign.public_keys({"b.pub": pem(signer.public_key()), "a.pub": pem(edkey.public_key()), "note.txt": b"x"})
    assert [name for name, _ in keys] == ["a.pub", "b.pub"]
    data = payload(DIGEST)
    signature = signer.sign(data, ec.ECDSA(hashes.SHA256()))
    assert cosign._signature_valid(keys[1][1], data, signature)
    assert not cosign._signature_valid(keys[1][1], data + b" ", signature)
    assert not cosign._signature_valid(keys[0][1], data, signature)
    assert cosign._signature_valid(keys[0][1], data, edkey.sign(data))
    with pytest.raises(cosign.VerificationError, match="no public keys"):
        cosign.public_keys({"key.pem": b"x"})
    with pytest.raises(cosign.VerificationError, match=r"'bad\.pub' is not a PEM-encoded public key"):
        cosign.public_keys({"bad.pub": base64.b64encode(b"garbage")})
