"""Pure trust decisions for one connection: does an SSH host key match a known_hosts file
(OpenSSH syntax: host lists, `[host]:port`, hashed `|1|` entries, `*`/`?` wildcards, `!`
negation, `@revoked`), and is a TLS server certificate issued for the host by a CA from a
Secret's `ca.crt`. `gotk.runtime.git.callbacks` calls both from libgit2's certificate check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import verification

__all__ = ["HostKeyEntry", "host_key_trusted", "key_types_for", "parse_known_hosts", "verify_server_cert"]


@dataclass(frozen=True)
class HostKeyEntry:
    """One known_hosts line: its host patterns, key type, raw key blob and marker."""

    patterns: tuple[str, ...]
    key_type: str
    blob: bytes
    marker: str = ""  # "", "@revoked" or "@cert-authority"

    def matches_host(self, names: tuple[str, ...]) -> bool:
        matched = False
        for pattern in self.patterns:
            negated = pattern.startswith("!")
            if any(_pattern_matches(pattern.removeprefix("!"), name) for name in names):
                if negated:
                    return False
                matched = True
        return matched


def _pattern_matches(pattern: str, name: str) -> bool:
    if pattern.startswith("|1|"):
        try:
            _, _, salt_b64, digest_b64 = pattern.split("|")
            salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, name.lower()) is not None


def parse_known_hosts(data: bytes) -> list[HostKeyEntry]:
    """Every well-formed entry of a known_hosts file; malformed lines are skipped."""
    entries: list[HostKeyEntry] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = fields.pop(0) if fields[0].startswith("@") else ""
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except binascii.Error:
            continue
        entries.append(HostKeyEntry(tuple(fields[0].split(",")), fields[1], blob, marker))
    return entries


def _host_names(host: str, port: int) -> tuple[str, ...]:
    bracketed = f"[{host}]:{port}"
    return (host, bracketed) if port == 22 else (bracketed,)


def host_key_trusted(known_hosts: bytes, host: str, port: int, key_blob: bytes) -> bool:
    """True when a plain entry for host:port carries exactly `key_blob` and no `@revoked`
    entry lists that key."""
    names = _host_names(host, port)
    trusted = False
    for entry in parse_known_hosts(known_hosts):
        if entry.marker == "@revoked" and entry.blob == key_blob:
            return False
        if not entry.marker and entry.blob == key_blob and entry.matches_host(names):
            trusted = True
    return trusted


def key_types_for(known_hosts: bytes, host: str, port: int) -> list[str]:
    """The key types known for host:port, in file order (what the client should negotiate)."""
    names = _host_names(host, port)
    types = [e.key_type for e in parse_known_hosts(known_hosts) if not e.marker and e.matches_host(names)]
    return list(dict.fromkeys(types))


class UntrustedCertificateError(Exception):
    """The server certificate does not chain to the given CA for this host."""


def verify_server_cert(der: bytes, host: str, ca_pem: bytes) -> None:
    """Raise `UntrustedCertificateError` unless the DER leaf `der` is valid for `host` and issued
    by (or equal to) a certificate in `ca_pem`; other certificates there serve as intermediates."""
    try:
        leaf = x509.load_der_x509_certificate(der)
        bundle = x509.load_pem_x509_certificates(ca_pem)
    except ValueError as exc:
        raise UntrustedCertificateError(f"unreadable certificate: {exc}") from None
    try:
        subject: x509.verification.Subject = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        subject = x509.DNSName(host)
    verifier = verification.PolicyBuilder().store(verification.Store(bundle)).build_server_verifier(subject)
    try:
        verifier.verify(leaf, bundle)
    except verification.VerificationError as exc:
        if any(c == leaf for c in bundle) and _names_match(leaf, subject):
            return  # the CA file pins this exact (self-signed) server certificate
        raise UntrustedCertificateError(f"certificate signed by unknown authority: {exc}") from None


def _names_match(cert: x509.Certificate, subject: x509.verification.Subject) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if isinstance(subject, x509.IPAddress):
        return subject.value in san.get_values_for_type(x509.IPAddress)
    host = subject.value.lower()
    for name in (n.lower() for n in san.get_values_for_type(x509.DNSName)):
        if name == host or (name.startswith("*.") and host.partition(".")[2] == name[2:]):
            return True
    return False
