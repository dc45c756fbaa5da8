"""`flux create secret helm` with certificates, and the Go tls.X509KeyPair checks behind it: which
Secret type each mix of credentials gives (golden files, from a deterministic Ed25519 certificate), and
the errors for missing halves, unreadable files and mismatched or malformed pairs.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from gotk.cli import create_common
from gotk.cli.engines import helmsecret
from gotk.cli.engines.gitsecret import SecretError
from gotk.cli.main import cli
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "create"

CA = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
SECRET = ["create", "secret", "helm", "repo-auth", "--namespace=my-namespace"]


def _pem_key(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> str:
    fmt = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


def _pem_cert(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> str:
    """A self-signed certificate; with an Ed25519 key the bytes are the same on every run."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "charts.example.com")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def export(args: list[str]) -> str:
    result = CliRunner().invoke(cli, [*SECRET, *args, "--export"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def error(*args: str) -> str:
    """stderr of a failing `flux create secret helm … --export` process."""
    argv = [sys.executable, "-m", "gotk.cli.main", *SECRET, *args, "--export"]
    env = {**os.environ, "KUBECONFIG": "/nonexistent"}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    return result.stderr


KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {"cert": tmp_path / "tls.crt", "key": tmp_path / "tls.key", "ca": tmp_path / "ca.crt"}
    paths["cert"].write_text(_pem_cert(KEY))
    paths["key"].write_text(_pem_key(KEY))
    paths["ca"].write_text(CA)
    return paths


def test_export_secret_helm_tls(files: dict[str, Path]) -> None:
    tls = [f"--tls-crt-file={files['cert']}", f"--tls-key-file={files['key']}", f"--ca-crt-file={files['ca']}"]
    assert_golden(GOLDEN, "secret_helm_tls.golden", export([*tls, "-u", "ignored", "-p", "ignored"]))


def test_secret_type_follows_the_credentials(files: dict[str, Path]) -> None:
    ca = f"--ca-crt-file={files['ca']}"
    doc = yaml.safe_load(export([ca, "-u", "user", "-p", "pass"]))
    assert doc["type"] == "kubernetes.io/basic-auth"
    assert doc["stringData"] == {"username": "user", "password": "pass", "ca.crt": CA}
    doc = yaml.safe_load(export([ca]))
    assert (doc["type"], doc["stringData"]) == ("Opaque", {"ca.crt": CA})


def test_tls_halves_and_pair_errors(files: dict[str, Path], tmp_path: Path) -> None:
    assert error(f"--tls-crt-file={files['cert']}") == "✗ found certificate but missing private key\n"
    assert error(f"--tls-key-file={files['key']}") == "✗ found private key but missing certificate\n"
    other = tmp_path / "other.key"
    other.write_text(_pem_key(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))))
    assert error(f"--tls-crt-file={files['cert']}", f"--tls-key-file={other}") == (
        "✗ invalid TLS certificate and key pair: tls: private key does not match public key\n"
    )


def test_check_key_pair_messages() -> None:
    cert, key = _pem_cert(KEY), _pem_key(KEY)
    helmsecret.check_key_pair(cert, key)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    helmsecret.check_key_pair(_pem_cert(ec_key), _pem_key(ec_key))
    cases = {
        ("", key): "tls: failed to find any PEM data in certificate input",
        (key, key): "tls: failed to find certificate PEM data in certificate input, but did find a private key; "
        "PEM inputs may have been switched",
        (CA.replace("CERTIFICATE", "PUBLIC KEY"), key): 'tls: failed to find "CERTIFICATE" PEM block in '
        "certificate input after skipping PEM blocks of the following types: [PUBLIC KEY]",
        (cert, "junk"): "tls: failed to find any PEM data in key input",
        (cert, cert): "tls: found a certificate rather than a key in the PEM for the private key",
        (cert, CA + CA): 'tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after '
        "skipping PEM blocks of the following types: [CERTIFICATE CERTIFICATE]",
        (CA, key): "x509: malformed certificate",
        (cert, CA.replace("CERTIFICATE", "PRIVATE KEY")): "tls: failed to parse private key",
        (cert, _pem_key(ec_key)): "tls: private key type does not match public key type",
    }
    for (cert_pem, key_pem), message in cases.items():
        with pytest.raises(SecretError) as exc:
            helmsecret.check_key_pair(cert_pem, key_pem)
        assert str(exc.value) == message


def test_static_objects_are_ready_without_an_observed_generation() -> None:
    """An OCI HelmRepository keeps the CRD default `observedGeneration: -1`; a dynamic object must not."""
    obj = {"kind": "HelmRepository", "metadata": {"generation": 1}, "status": {"observedGeneration": -1}}
    assert create_common.is_ready(obj, static=True)
    assert not create_common.is_ready(obj)
    assert not create_common.is_ready({**obj, "status": {"observedGeneration": 0}}, static=True)
