"""Git credentials Secrets as flux's sourcesecret generator builds them (flux2 pkg/manifestgen/sourcesecret).

Basic auth (`username`, `password`), a bearer token (`bearerToken`), a CA (`ca.crt`), or for SSH a key
pair (`identity` PKCS#8 PEM, `identity.pub`, optional `password`) plus the server's host key
(`known_hosts`) collected with `ssh-keyscan`. Used by `flux create secret git` and
`flux create source git`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from gotk.cli.engines import manifest

ALGORITHMS = ("rsa", "ecdsa", "ed25519")
CURVES: dict[str, ec.EllipticCurve] = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}
# golang.org/x/crypto/ssh's default host key algorithm preference, as key types
HOST_KEY_PREFERENCE = ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-ed25519")
SCAN_TIMEOUT = 30


class SecretError(Exception):
    """A key could not be read, generated or scanned; the message is flux's."""


@dataclass(frozen=True)
class KeyPair:
    """An SSH key pair for a Git Secret: the private key and its authorized_keys line."""

    private: str
    """The private key exactly as read, or PKCS#8 PEM when generated."""
    public: str
    """authorized_keys form with a trailing newline: `ecdsa-sha2-nistp384 AAAA…\\n`."""


@dataclass(frozen=True)
class GitSecretOptions:
    """sourcesecret.Options, the Git subset."""

    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)
    username: str = ""
    password: str = ""
    bearer_token: str = ""
    ca_crt: str = ""
    keypair: KeyPair | None = None
    ssh_hostname: str = ""
    key_algorithm: str = ""
    """Generate a key pair with this algorithm when no key pair is given (set only for ssh URLs)."""
    rsa_bits: int = 2048
    ecdsa_curve: str = "p384"


def go_open_error(path: str, exc: OSError) -> str:
    """os.ReadFile's error text: `open <path>: no such file or directory`."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    verb = "read" if exc.errno == 21 else "open"  # EISDIR surfaces on read in Go
    return f"{verb} {path}: {reason[:1].lower() + reason[1:]}"


def read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretError(go_open_error(path, exc)) from None


def _public(key: PrivateKeyTypes) -> str:
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return public.decode() + "\n"


def load_keypair(path: str, password: str) -> KeyPair | None:
    """sourcesecret.LoadKeyPairFromPath: None without a path; the public half derived from the private key."""
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SecretError(f"failed to open private key file: {go_open_error(path, exc)}") from None
    openssh = b"OPENSSH PRIVATE KEY" in data
    secret = password.encode() if password else None
    try:
        if openssh:
            key: PrivateKeyTypes = serialization.load_ssh_private_key(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
    except TypeError:  # a password for a plain key, or none for an encrypted one
        if not password:
            raise SecretError("ssh: this private key is passphrase protected") from None
        raise SecretError("ssh: key is not password protected" if openssh else "ssh: not an encrypted key") from None
    except ValueError:
        if password:
            raise SecretError("x509: decryption password incorrect") from None
        raise SecretError("ssh: no key found") from None
    except UnsupportedAlgorithm as exc:  # encrypted OpenSSH keys need the optional bcrypt module
        raise SecretError(f"ssh: cannot decrypt private key: {exc}") from None
    except Exception:  # anything else cryptography cannot read is not a key to Go either
        raise SecretError("ssh: no key found") from None
    return KeyPair(private=data.decode(), public=_public(key))


def generate_keypair(algorithm: str, *, rsa_bits: int = 2048, curve: str = "p384") -> KeyPair:
    """A new key pair as fluxcd/pkg/ssh generates it: PKCS#8 PEM private key, authorized_keys public key."""
    key: PrivateKeyTypes
    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    elif algorithm == "ecdsa":
        key = ec.generate_private_key(CURVES[curve])
    elif algorithm == "ed25519":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise SecretError(f"unsupported public key algorithm: {algorithm}")
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KeyPair(private=private.decode(), public=_public(key))


def split_host_port(host: str) -> tuple[str, str]:
    """net.SplitHostPort, with flux's default SSH port 22 when there is none."""
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1 :]
        return host[1:end], rest[1:] if rest.startswith(":") else "22"
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, port or "22"
    return host, "22"


def known_hosts_name(host: str, port: str) -> str:
    """knownhosts.Normalize: the bare host on port 22, `[host]:port` otherwise."""
    return host if port == "22" else f"[{host}]:{port}"


def scan_host_key(hostname: str) -> str:
    """The server's preferred host key as one known_hosts line (what Go's ssh client would pick)."""
    host, port = split_host_port(hostname)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:  # dial first, for Go's `dial tcp …` errors; ssh-keyscan only reports what it received
        socket.create_connection((host, int(port)), timeout=SCAN_TIMEOUT).close()
    except socket.gaierror:
        raise SecretError(
            f"SSH key scan for host {address} failed, error: dial tcp: lookup {host}: no such host"
        ) from None
    except TimeoutError:
        raise SecretError(f"SSH key scan for host {address} failed, error: dial tcp {address}: i/o timeout") from None
    except (OSError, ValueError) as exc:
        reason = os.strerror(exc.errno).lower() if isinstance(exc, OSError) and exc.errno else str(exc)
        raise SecretError(
            f"SSH key scan for host {address} failed, error: dial tcp {address}: connect: {reason}"
        ) from None
    binary = shutil.which("ssh-keyscan")
    if binary is None:
        raise SecretError(f"SSH key scan for host {address} failed, error: ssh-keyscan not found in PATH")
    try:
        done = subprocess.run(
            [binary, "-T", str(SCAN_TIMEOUT), "-p", port, host],
            capture_output=True,
            text=True,
            timeout=SCAN_TIMEOUT + 5,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SecretError(f"SSH key scan for host {address} failed, error: i/o timeout") from None
    keys: dict[str, str] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            keys.setdefault(parts[1], parts[2])
    for key_type in (*HOST_KEY_PREFERENCE, *sorted(keys)):
        if key_type in keys:
            return f"{known_hosts_name(host, port)} {key_type} {keys[key_type]}"
    reason = (done.stderr.strip().splitlines() or ["no host key received"])[-1]
    raise SecretError(f"SSH key scan for host {address} failed, error: {reason}")


def generate_git(opts: GitSecretOptions, *, scan: Callable[[str], str] = scan_host_key) -> manifest.Obj:
    """sourcesecret.GenerateGit: the Secret; a key pair is generated and the host scanned for SSH."""
    keypair = None
    if not (opts.username and opts.password):
        if opts.keypair is not None:
            keypair = opts.keypair
        elif opts.key_algorithm:
            keypair = generate_keypair(opts.key_algorithm, rsa_bits=opts.rsa_bits, curve=opts.ecdsa_curve)
    host_key = scan(opts.ssh_hostname).strip() if keypair is not None else ""

    data: dict[str, str] = {}
    if opts.username and opts.password:
        data["username"] = opts.username
        data["password"] = opts.password
    if opts.bearer_token:
        data["bearerToken"] = opts.bearer_token
    if opts.ca_crt:
        data["ca.crt"] = opts.ca_crt
    if keypair is not None and host_key:
        data["identity"] = keypair.private
        data["identity.pub"] = keypair.public
        data["known_hosts"] = host_key
        if opts.password:
            data["password"] = opts.password
    return manifest.secret(opts.name, opts.namespace, labels=opts.labels, stringData=data)


def parse_url(raw: str) -> tuple[str, str]:
    """(scheme, host[:port]) as Go's url.Parse reads a URL; ValueError carries Go's `parse "<url>": …`."""

    def fail(why: str) -> ValueError:
        return ValueError(f'parse "{raw}": {why}')

    text = raw.partition("#")[0]
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise fail("net/url: invalid control character in URL")
    scheme, rest = "", text
    for i, c in enumerate(text):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                break
            continue
        if c == ":":
            if i == 0:
                raise fail("missing protocol scheme")
            scheme, rest = text[:i].lower(), text[i + 1 :]
        break
    rest = rest.partition("?")[0]
    if not rest.startswith("/"):
        if not scheme and ":" in rest.partition("/")[0]:
            raise fail("first path segment in URL cannot contain colon")
        return scheme, ""
    if not rest.startswith("//"):
        return scheme, ""
    host = rest[2:].partition("/")[0].rpartition("@")[2]
    tail = host[host.rfind(":") :] if ":" in host else ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise fail("missing ']' in host")
        tail = host[end + 1 :]
    if tail and not (tail[0] == ":" and all(c in "0123456789" for c in tail[1:])):
        raise fail(f'invalid port "{tail}" after host')
    return scheme, host
