"""Pure credential and trust logic of gotk.runtime.git: Secret keys to `GitAuth` (Flux's rules
and messages), URL validation and redaction, secret scrubbing, known_hosts matching and
verification of a server certificate against a Secret's CA.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given
from hypothesis import strategies as st

from gotk.local import certs
from gotk.runtime.git import auth, trust
from gotk.runtime.git.errors import AuthConfigError

HTTPS = "https://git.example.com/org/repo.git"
SSH = "ssh://git.example.com:2222/org/repo.git"


def test_basic_auth_from_secret() -> None:
    creds = auth.from_secret(HTTPS, {"username": b"flux", "password": b"pw-123456", "caFile": b"CA"})
    assert (creds.username, creds.password, creds.bearer_token, creds.ca_pem) == ("flux", "pw-123456", "", b"CA")
    assert creds.has_basic and "pw-123456" not in repr(creds) and "basic" in repr(creds)


def test_bearer_token_wins_over_username_and_ca_crt_over_ca_file() -> None:
    data = {"bearerToken": b"tok-123456\n", "username": b"u", "password": b"p", "ca.crt": b"A", "caFile": b"B"}
    creds = auth.from_secret(HTTPS, data)
    assert (creds.bearer_token, creds.username, creds.password, creds.ca_pem) == ("tok-123456", "", "", b"A")


def test_url_userinfo_is_the_fallback_for_basic_auth() -> None:
    creds = auth.from_secret("https://u%40corp:p%3Ass@git.example.com/r.git", None)
    assert (creds.username, creds.password) == ("u@corp", "p:ss")
    with pytest.raises(AuthConfigError, match="basic auth and bearer token cannot be set at the same time"):
        auth.from_secret("https://u:p@git.example.com/r.git", {"bearerToken": b"t"})


def test_ssh_needs_identity_and_known_hosts() -> None:
    creds = auth.from_secret(SSH, {"identity": b"KEY", "known_hosts": b"kh", "password": b"pp"})
    assert (creds.username, creds.password, creds.identity) == ("git", "pp", b"KEY")
    assert auth.from_secret("ssh://deploy@h/r", {"identity": b"K", "known_hosts": b"kh"}).username == "deploy"
    with pytest.raises(AuthConfigError, match="invalid 'ssh' auth option: 'identity' is required"):
        auth.from_secret(SSH, None)
    with pytest.raises(AuthConfigError, match="'known_hosts' is required"):
        auth.from_secret(SSH, {"identity": b"K"})


def test_password_without_username_is_refused() -> None:
    with pytest.raises(AuthConfigError, match="invalid 'https' auth option: 'password' requires 'username'"):
        auth.from_secret(HTTPS, {"password": b"p"})


@pytest.mark.parametrize("url", ["git://h/r.git", "file:///tmp/r", "h:org/r.git", "https:///nohost", "http://h:99999/"])
def test_invalid_urls(url: str) -> None:
    with pytest.raises(auth.InvalidURLError):
        auth.parse_url(url)


def test_parse_url_ports() -> None:
    assert auth.parse_url(SSH).port == 2222 and auth.parse_url("ssh://h/r").port == 22
    assert auth.parse_url("http://h/r").port == 80 and auth.parse_url(HTTPS).default_port


@given(st.text(st.characters(codec="ascii", exclude_characters="@/:?#[]%"), min_size=1, max_size=12))
def test_redact_url_drops_userinfo(secret: str) -> None:
    url = f"https://user:{secret}@git.example.com:8443/repo.git"
    assert auth.redact_url(url) == "https://git.example.com:8443/repo.git"


def test_scrub_removes_every_secret_value() -> None:
    creds = auth.from_secret("https://git.example.com/r", {"username": b"flux", "password": b"hunter2-long"})
    assert creds.scrub("bad password hunter2-long for flux") == "bad password *** for flux"


# --- known_hosts ------------------------------------------------------------------------------


def _key() -> tuple[str, bytes]:
    pub = ed25519.Ed25519PrivateKey.generate().public_key()
    line = pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return line, base64.b64decode(line.split()[1])


def _hashed(name: str) -> str:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def test_known_hosts_matching() -> None:
    line, blob = _key()
    other_line, other_blob = _key()
    assert trust.host_key_trusted(f"github.com {line}\n".encode(), "github.com", 22, blob)
    assert trust.host_key_trusted(f"GitHub.com {line}\n".encode(), "github.com", 22, blob)
    assert not trust.host_key_trusted(f"github.com {line}\n".encode(), "github.com", 22, other_blob)
    assert not trust.host_key_trusted(f"github.com {line}\n".encode(), "github.com", 2222, blob)
    assert trust.host_key_trusted(f"[github.com]:2222 {line}\n".encode(), "github.com", 2222, blob)
    assert trust.host_key_trusted(
        f"# comment\n\nbad line\ngitlab.com,github.com {line}\n".encode(), "github.com", 22, blob
    )
    assert trust.host_key_trusted(f"*.example.com {line}".encode(), "git.example.com", 22, blob)
    assert not trust.host_key_trusted(f"*.example.com,!git.example.com {line}".encode(), "git.example.com", 22, blob)
    assert trust.host_key_trusted(f"{_hashed('[10.0.0.1]:2222')} {line}".encode(), "10.0.0.1", 2222, blob)
    assert not trust.host_key_trusted(f"{_hashed('10.0.0.2')} {line}".encode(), "10.0.0.1", 22, blob)
    revoked = f"github.com {line}\n@revoked * {line}\n".encode()
    assert not trust.host_key_trusted(revoked, "github.com", 22, blob)
    assert not trust.host_key_trusted(f"@cert-authority github.com {line}".encode(), "github.com", 22, blob)
    both = f"h {other_line}\nh {line}".encode()
    assert trust.key_types_for(both, "h", 22) == ["ssh-ed25519"]


# --- server certificates ------------------------------------------------------------------------


def test_verify_server_cert_against_ca() -> None:
    ca_pem, cert_pem, _ = certs.self_signed_server(["localhost"], ["127.0.0.1"])
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    trust.verify_server_cert(der, "127.0.0.1", ca_pem)
    trust.verify_server_cert(der, "localhost", ca_pem)
    trust.verify_server_cert(der, "localhost", cert_pem + ca_pem)
    with pytest.raises(trust.UntrustedCertificateError):
        trust.verify_server_cert(der, "git.example.com", ca_pem)
    with pytest.raises(trust.UntrustedCertificateError):
        trust.verify_server_cert(der, "localhost", certs.self_signed_server(["localhost"], [])[0])
    with pytest.raises(trust.UntrustedCertificateError, match="unreadable"):
        trust.verify_server_cert(der, "localhost", b"not a pem")


def test_a_pinned_server_certificate_is_trusted_for_its_names() -> None:
    _, cert_pem, _ = certs.self_signed_server(["git.internal", "*.apps.internal"], [])
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    trust.verify_server_cert(der, "git.internal", cert_pem)
    trust.verify_server_cert(der, "a.apps.internal", cert_pem)
    with pytest.raises(trust.UntrustedCertificateError):
        trust.verify_server_cert(der, "a.b.apps.internal", cert_pem)
