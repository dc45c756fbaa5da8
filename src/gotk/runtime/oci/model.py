"""Plain data and errors of the OCI layer: registry errors, TLS settings from a certSecretRef,
content descriptors and fetched manifests. No I/O beyond building an `ssl.SSLContext`.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gotk.runtime.oci import spec

__all__ = [
    "AuthenticationError",
    "Descriptor",
    "DigestMismatchError",
    "Manifest",
    "NotFoundError",
    "RegistryError",
    "TLSConfig",
    "tls_from_secret",
]


class RegistryError(Exception):
    """A failed registry operation; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(RegistryError):
    """The registry refused the credentials (401/403) or the token exchange failed."""


class NotFoundError(RegistryError):
    """No such repository, tag, manifest or blob (404)."""


class DigestMismatchError(RegistryError):
    """Downloaded content does not hash to the digest it was requested by."""


@dataclass(frozen=True)
class TLSConfig:
    """HTTPS settings from a `certSecretRef`: extra CA (on top of the system pool) and client cert."""

    ca_pem: bytes = b""
    cert_pem: bytes = field(default=b"", repr=False)
    key_pem: bytes = field(default=b"", repr=False)
    skip_verify: bool = False

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)  # Go does not apply these checks
        if self.ca_pem:
            ctx.load_verify_locations(cadata=self.ca_pem.decode("ascii", "replace"))
        if self.cert_pem:
            with tempfile.TemporaryDirectory(prefix="gotk-tls-") as tmp:
                cert, key = Path(tmp, "tls.crt"), Path(tmp, "tls.key")
                for path, data in ((cert, self.cert_pem), (key, self.key_pem)):
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(data)
                ctx.load_cert_chain(cert, key)
        if self.skip_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


def tls_from_secret(data: Mapping[str, bytes]) -> TLSConfig:
    """`ca.crt`, `tls.crt` and `tls.key` of a certSecretRef Secret; the client pair goes together."""
    cert, key = data.get("tls.crt", b""), data.get("tls.key", b"")
    if bool(cert) != bool(key):
        raise ValueError("secret must contain both 'tls.crt' and 'tls.key', or neither")
    ca = data.get("ca.crt", b"")
    if not (ca or cert):
        raise ValueError("secret contains none of 'ca.crt', 'tls.crt' and 'tls.key'")
    return TLSConfig(ca_pem=ca, cert_pem=cert, key_pem=key)


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Descriptor:
        annotations = data.get("annotations") or {}
        return cls(
            media_type=str(data.get("mediaType") or ""),
            digest=str(data.get("digest") or ""),
            size=int(data.get("size") or 0),
            annotations={str(k): str(v) for k, v in annotations.items()},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "size": self.size, "digest": self.digest}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True)
class Manifest:
    """A fetched manifest (or index): its digest, media type, exact bytes and parsed body."""

    digest: str
    media_type: str
    raw: bytes
    body: Mapping[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in spec.INDEX_TYPES or "manifests" in self.body

    @property
    def annotations(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.body.get("annotations") or {}).items()}

    @property
    def config(self) -> Descriptor | None:
        config = self.body.get("config")
        return Descriptor.from_json(config) if isinstance(config, Mapping) else None

    @property
    def layers(self) -> list[Descriptor]:
        return [Descriptor.from_json(d) for d in self.body.get("layers") or [] if isinstance(d, Mapping)]
