"""A registry token server for tests (the distribution "token" auth flow that ghcr.io, Docker Hub
and Harbor use): basic credentials in, an ES256 JWT granting the requested repository actions out,
on 127.0.0.1. `gotk.testing.registry.OciRegistry(token_auth=True)` runs one beside the registry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from gotk.local.processes import LOOPBACK

__all__ = ["TokenServer", "libtrust_key_id"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def libtrust_key_id(key: ec.EllipticCurvePublicKey) -> str:
    """The `kid` docker/libtrust derives from a public key (what the registry looks tokens up by)."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i : i + 4] for i in range(0, len(text), 4))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        tokens = self.server.tokens
        header = self.headers.get("Authorization") or ""
        expected = "Basic " + base64.b64encode(f"{tokens.username}:{tokens.password}".encode()).decode()
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        tokens.requests.append(query.get("scope", [""])[0])
        if not hmac.compare_digest(header, expected):
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"details":"incorrect username or password"}')
            return
        body = json.dumps({"token": tokens.issue(query.get("scope", []))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tokens: TokenServer


class TokenServer:
    """Issues tokens for `username`/`password`; `realm` is its URL, `bundle` the registry's trust root."""

    def __init__(self, root: Path, *, username: str, password: str, service: str = "gotk-registry") -> None:
        self.username, self.password, self.service = username, password, service
        self.issuer = "gotk-test-token-issuer"
        self.requests: list[str] = []
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.bundle = root / "token-ca.pem"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def realm(self) -> str:
        if self._server is None:
            raise RuntimeError("token server not started")
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/token"

    def _write_bundle(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gotk token signer")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.bundle.parent.mkdir(parents=True, exist_ok=True)
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, scopes: list[str]) -> str:
        """An ES256 JWT granting every requested `repository:<name>:<actions>` scope."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name:
                access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": libtrust_key_id(self._key.public_key())}
        claims = {
            "iss": self.issuer,
            "sub": self.username,
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def start(self) -> None:
        self._write_bundle()
        server = _Server((LOOPBACK, 0), _Handler)
        server.tokens = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="registry-token-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def registry_config(self) -> list[str]:
        """The `auth.token` section of the registry's config."""
        return [
            "auth:",
            "  token:",
            f"    realm: {self.realm}",
            f"    service: {self.service}",
            f"    issuer: {self.issuer}",
            f"    rootcertbundle: {self.bundle}",
        ]
