"""Helm repository credentials Secrets as flux's sourcesecret.GenerateHelm builds them (flux2
pkg/manifestgen/sourcesecret over fluxcd/pkg runtime/secrets).

A client certificate pair wins (`kubernetes.io/tls`: `tls.crt`, `tls.key`, optional `ca.crt`; the pair
must be what Go's tls.X509KeyPair accepts), then basic auth (`kubernetes.io/basic-auth`: `username`,
`password`, optional `ca.crt`; both required), then a CA alone (`Opaque`: `ca.crt`), else an empty
Secret. Used by `flux create secret helm` and `flux create source helm`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gotk.cli.engines import gitsecret, manifest
from gotk.cli.engines.gitsecret import SecretError

_PEM = re.compile(r"-----BEGIN ([^\r\n-]*)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


@dataclass(frozen=True)
class HelmSecretOptions:
    """sourcesecret.Options, the Helm subset (file contents already read)."""

    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    username: str = ""
    password: str = ""
    ca_crt: str = ""
    tls_crt: str = ""
    tls_key: str = ""


def read_ca(path: str) -> str:
    """--ca-file / --ca-crt-file contents, with flux's error."""
    return _read(path, "unable to read TLS CA file")


def read_cert(path: str) -> str:
    return _read(path, "failed to read cert file")


def read_key(path: str) -> str:
    return _read(path, "failed to read key file")


def _read(path: str, what: str) -> str:
    if not path:
        return ""
    try:
        return gitsecret.read_file(path)
    except SecretError as exc:
        raise SecretError(f"{what}: {exc}") from None


def _blocks(data: str) -> list[tuple[str, bytes | None]]:
    """(type, DER) of every PEM block, in order; DER is None when the body is not valid base64."""
    out: list[tuple[str, bytes | None]] = []
    for match in _PEM.finditer(data):
        body = "".join(line for line in match.group(2).splitlines() if ":" not in line)
        try:
            der: bytes | None = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            der = None
        out.append((match.group(1), der))
    return out


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


def check_key_pair(cert_pem: str, key_pem: str) -> None:
    """Go's tls.X509KeyPair checks: PEM blocks found, both parse, and the key is the certificate's."""
    blocks = _blocks(cert_pem)
    certs = [der for kind, der in blocks if kind == "CERTIFICATE"]
    if not certs:
        skipped = [kind for kind, _ in blocks]
        if not skipped:
            raise SecretError("tls: failed to find any PEM data in certificate input")
        if len(skipped) == 1 and skipped[0].endswith("PRIVATE KEY"):
            raise SecretError(
                "tls: failed to find certificate PEM data in certificate input, but did find a private key; "
                "PEM inputs may have been switched"
            )
        raise SecretError(
            'tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of '
            f"the following types: {_go_list(skipped)}"
        )
    key_der: bytes | None = None
    skipped = []
    for kind, der in _blocks(key_pem):
        if kind == "PRIVATE KEY" or kind.endswith(" PRIVATE KEY"):
            key_der = der or b""
            break
        skipped.append(kind)
    else:
        if not skipped:
            raise SecretError("tls: failed to find any PEM data in key input")
        if skipped == ["CERTIFICATE"]:
            raise SecretError("tls: found a certificate rather than a key in the PEM for the private key")
        raise SecretError(
            'tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM '
            f"blocks of the following types: {_go_list(skipped)}"
        )
    try:
        public = x509.load_der_x509_certificate(certs[0] or b"").public_key()
    except ValueError:
        raise SecretError("x509: malformed certificate") from None
    try:
        private = serialization.load_der_private_key(key_der, password=None)
    except (TypeError, ValueError):
        raise SecretError("tls: failed to parse private key") from None
    if type(private.public_key()) is not type(public):
        raise SecretError("tls: private key type does not match public key type")
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if private.public_key().public_bytes(*spki) != public.public_bytes(*spki):
        raise SecretError("tls: private key does not match public key")


def generate_helm(opts: HelmSecretOptions) -> manifest.Obj:
    """sourcesecret.GenerateHelm: the Secret for the first kind of credentials given."""
    data: dict[str, str] = {}
    secret_type = ""
    if opts.tls_crt or opts.tls_key:
        if not opts.tls_key:
            raise SecretError("found certificate but missing private key")
        if not opts.tls_crt:
            raise SecretError("found private key but missing certificate")
        try:
            check_key_pair(opts.tls_crt, opts.tls_key)
        except SecretError as exc:
            raise SecretError(f"invalid TLS certificate and key pair: {exc}") from None
        data = {"tls.crt": opts.tls_crt, "tls.key": opts.tls_key}
        secret_type = "kubernetes.io/tls"
    elif opts.username or opts.password:
        if not opts.username:
            raise SecretError("username is required")
        if not opts.password:
            raise SecretError("password is required")
        data = {"username": opts.username, "password": opts.password}
        secret_type = "kubernetes.io/basic-auth"
    elif opts.ca_crt:
        secret_type = "Opaque"
    if opts.ca_crt:
        data["ca.crt"] = opts.ca_crt
    return manifest.secret(opts.name, opts.namespace, labels=opts.labels, stringData=data, type=secret_type)
