"""A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on a free
127.0.0.1 port, with filesystem storage under `root`, optional htpasswd (bcrypt) basic auth and
optional TLS with a generated CA. Start/stop it directly or use it as a context manager.
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import importlib
import json
import secrets
import shutil
import ssl
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from gotk.local import certs
from gotk.local.processes import LOOPBACK, Process, free_ports, tail
from gotk.runtime.oci import spec
from gotk.runtime.oci.client import RegistryClient
from gotk.source.oci import cosign
from gotk.testing.registrytoken import TokenServer

__all__ = ["REGISTRY_BIN", "OciRegistry", "OciRegistryError", "bcrypt_hash", "cosign_sign"]

REGISTRY_BIN = "/usr/bin/docker-registry"
START_TIMEOUT = 20.0
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_crypt_lock = threading.Lock()


class OciRegistryError(RuntimeError):
    """The registry binary is missing, or the registry did not come up (the log tail is included)."""


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file: the `bcrypt` package if installed, else libcrypt."""
    try:
        bcrypt = importlib.import_module("bcrypt")
    except ImportError:
        pass
    else:
        hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5))
        return hashed.decode()
    try:
        lib = ctypes.CDLL("libcrypt.so.1")
    except OSError as exc:
        raise OciRegistryError(f"no bcrypt implementation (pip install bcrypt, or libcrypt.so.1): {exc}") from None
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    with _crypt_lock:  # crypt() returns a static buffer
        salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
        result = lib.crypt(password.encode(), salt) if salt else None
    if not result or not result.startswith(b"$2"):
        raise OciRegistryError("libcrypt cannot produce bcrypt hashes; pip install bcrypt")
    return bytes(result).decode()


class OciRegistry:
    """`docker-registry serve` on 127.0.0.1:<free port>, storing blobs under `root/data`.

    With `username`/`password` every request needs basic auth (htpasswd), or, with `token_auth`,
    a bearer token from a `TokenServer` that checks those credentials. With `tls=True` it serves
    HTTPS with a fresh CA whose PEM is `ca_pem`. `host` is `127.0.0.1:PORT`.
    """

    def __init__(
        self,
        root: Path,
        *,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        token_auth: bool = False,
    ) -> None:
        if (username is None) != (password is None) or (token_auth and username is None):
            raise ValueError("username and password go together, and token_auth needs them")
        self.token_server: TokenServer | None = None
        if token_auth and username is not None and password is not None:
            self.token_server = TokenServer(Path(root), username=username, password=password)
        self.root = Path(root)
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_pem = b""
        self.port = 0
        self._proc: Process | None = None

    @property
    def host(self) -> str:
        if not self.port:
            raise OciRegistryError("registry not started")
        return f"{LOOPBACK}:{self.port}"

    def url(self, repo: str) -> str:
        """`oci://127.0.0.1:PORT/<repo>`."""
        return f"oci://{self.host}/{repo.lstrip('/')}"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    def _config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        lines = [
            "version: 0.1",
            "log:",
            "  level: info",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self.root / 'data'}",
            "  delete:",
            "    enabled: true",
            "http:",
            f"  addr: {LOOPBACK}:{self.port}",
            f"  secret: {secrets.token_hex(16)}",
        ]
        if self.tls:
            ca, cert, key = certs.self_signed_server(["localhost"], [LOOPBACK])
            self.ca_pem = ca
            (self.root / "ca.crt").write_bytes(ca)
            (self.root / "tls.crt").write_bytes(cert)
            (self.root / "tls.key").write_bytes(key)
            (self.root / "tls.key").chmod(0o600)
            lines += ["  tls:", f"    certificate: {self.root / 'tls.crt'}", f"    key: {self.root / 'tls.key'}"]
        if self.token_server is not None:
            lines += self.token_server.registry_config()
        elif self.username is not None and self.password is not None:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(f"{self.username}:{bcrypt_hash(self.password)}\n")
            lines += ["auth:", "  htpasswd:", "    realm: gotk-test", f"    path: {htpasswd}"]
        config = self.root / "config.yml"
        config.write_text("\n".join(lines) + "\n")
        return config

    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request the registry answered so far, from its log."""
        found: list[tuple[str, str]] = []
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return found
        for line in text.splitlines():
            if "response completed" not in line:
                continue
            method, uri = _field(line, "http.request.method"), _field(line, "http.request.uri")
            if method and uri:
                found.append((method, uri))
        return found

    def _answers(self) -> bool:
        scheme = "https" if self.tls else "http"
        ctx = ssl.create_default_context(cadata=self.ca_pem.decode()) if self.tls else None
        try:
            with urllib.request.urlopen(f"{scheme}://{self.host}/v2/", timeout=2, context=ctx) as resp:
                return 200 <= int(resp.status) < 300
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        except OSError:
            return False

    def start(self) -> None:
        """Start the registry and wait until `GET /v2/` answers (200, or 401 with auth)."""
        if not Path(REGISTRY_BIN).exists() and shutil.which("docker-registry") is None:
            raise OciRegistryError(f"{REGISTRY_BIN} not found (apt-get install docker-registry)")
        binary = REGISTRY_BIN if Path(REGISTRY_BIN).exists() else str(shutil.which("docker-registry"))
        self.port = free_ports(1)[0]
        if self.token_server is not None:
            self.token_server.start()
        config = self._config()
        proc = Process("docker-registry", [binary, "serve", str(config)], self.log, port=self.port)
        proc.spawn()
        self._proc = proc
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not proc.alive():
                self.stop()
                raise OciRegistryError(f"docker-registry exited during start; log {self.log}:\n{tail(self.log)}")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise OciRegistryError(
            f"docker-registry did not answer within {START_TIMEOUT}s; log {self.log}:\n{tail(self.log)}"
        )

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop(grace=5.0)
            self._proc = None
        if self.token_server is not None:
            self.token_server.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _field(line: str, key: str) -> str:
    start = line.find(f" {key}=")
    if start < 0:
        return ""
    value = line[start + len(key) + 2 :]
    if value.startswith('"'):
        return value[1:].split('"', 1)[0]
    return value.split(" ", 1)[0]


def cosign_sign(client: RegistryClient, repository: str, digest: str, key: ec.EllipticCurvePrivateKey) -> str:
    """Sign `digest` the way `cosign sign --key` (tag-based layout) does; returns the signature tag."""
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": f"{client.registry}/{repository}"},
                "image": {"docker-manifest-digest": digest},
                "type": "cosign container image signature",
            },
            "optional": None,
        },
        separators=(",", ":"),
    ).encode()
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    payload_digest = "sha256:" + hashlib.sha256(payload).hexdigest()
    config = json.dumps({"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": [payload_digest]}})
    config_raw = config.encode()
    config_digest = "sha256:" + hashlib.sha256(config_raw).hexdigest()
    client.push_blob(repository, payload, payload_digest)
    client.push_blob(repository, config_raw, config_digest)
    manifest = {
        "schemaVersion": 2,
        "mediaType": spec.OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": len(config_raw),
            "digest": config_digest,
        },
        "layers": [
            {
                "mediaType": spec.COSIGN_SIMPLESIGNING,
                "size": len(payload),
                "digest": payload_digest,
                "annotations": {spec.COSIGN_SIGNATURE_ANNOTATION: signature},
            }
        ],
    }
    tag = cosign.signature_tag(digest)
    client.push_manifest(repository, tag, json.dumps(manifest).encode(), spec.OCI_MANIFEST)
    return tag
