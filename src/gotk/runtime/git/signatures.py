"""Git object signatures: split a commit or tag into signature and signed payload, tell OpenPGP
from SSH signatures, and verify them against trusted keys with the real tools — `gpg` in a
private, throwaway GNUPGHOME per verification, and `ssh-keygen -Y verify` (namespace `git`); and sign
a commit with an OpenPGP key ring (`sign_pgp`) or an SSH key (`sign_ssh`), for the image automation's
`signingKey`.

Blocking (subprocesses); callers run `verify` in a thread. Error texts follow Flux's
fluxcd/pkg/git wording; they carry key ids and fingerprints, never key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "SSH_NAMESPACE",
    "SignedObject",
    "VerificationFailed",
    "signature_type",
    "split_signed_tag",
    "verify",
    "verify_pgp",
    "verify_ssh",
]

SSH_NAMESPACE = "git"
TOOL_TIMEOUT = 30.0
GPG = "gpg"
SSH_KEYGEN = "ssh-keygen"

_PGP_BEGIN = "-----BEGIN PGP SIGNATURE-----"
_SSH_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_X509_BEGIN = "-----BEGIN SIGNED MESSAGE-----"
# what git recognises as the start of an in-body (tag) signature
_SIGNATURE_STARTS = (_PGP_BEGIN.encode(), b"-----BEGIN PGP MESSAGE-----", _SSH_BEGIN.encode(), _X509_BEGIN.encode())
_SSH_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
# gpg status keywords that make a signature unacceptable even when gpg exits 0
_PGP_REJECT = ("BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG", "NO_PUBKEY")


class VerificationFailed(Exception):
    """The signature could not be verified; the message is safe to show (Flux's wording)."""


@dataclass(frozen=True)
class SignedObject:
    """A commit or tag: `label` is what messages call it (`commit` / `tag`), `signature` its armored
    signature ('' when unsigned) and `payload` the exact bytes that were signed."""

    label: str
    signature: str = ""
    payload: bytes = field(default=b"", repr=False)

    @property
    def signature_type(self) -> str:
        return signature_type(self.signature)


def signature_type(signature: str) -> str:
    """`openpgp`, `ssh`, `x509`, `empty` or `unknown`, from the armor header."""
    text = signature.strip()
    if text.startswith(_PGP_BEGIN):
        return "openpgp"
    if text.startswith(_SSH_BEGIN):
        return "ssh"
    if text.startswith(_X509_BEGIN):
        return "x509"
    return "empty" if not signature else "unknown"


def split_signed_tag(raw: bytes) -> tuple[bytes, str]:
    """(payload, signature) of a raw tag object: as git does, the signature starts at the last line
    that opens a signature block; ('raw', '') when there is none."""
    start = len(raw)
    offset = 0
    while offset < len(raw):
        if raw.startswith(_SIGNATURE_STARTS, offset):
            start = offset
        newline = raw.find(b"\n", offset)
        offset = len(raw) if newline < 0 else newline + 1
    return raw[:start], raw[start:].decode("utf-8", "replace")


def _run(
    args: Sequence[str], *, env: dict[str, str] | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(list(args), input=stdin, capture_output=True, timeout=TOOL_TIMEOUT, env=env, check=False)
    except FileNotFoundError:
        raise VerificationFailed(f"'{args[0]}' is not installed") from None
    except subprocess.TimeoutExpired:
        raise VerificationFailed(f"'{args[0]}' did not finish within {TOOL_TIMEOUT:.0f}s") from None


# -- OpenPGP -------------------------------------------------------------------------------------


def _key_id(fingerprint: str) -> str:
    """The 64-bit key id of a fingerprint: its last 16 digits (v4), its first 16 (v5/v6)."""
    fpr = fingerprint.upper()
    return fpr[-16:] if len(fpr) == 40 else fpr[:16]


class _GnuPG:
    """One private GNUPGHOME; every gpg call is batch, never starts an agent or touches the network."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GNUPGHOME": str(home), "LC_ALL": "C"}

    def gpg(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        base = [GPG, "--homedir", str(self.home), "--batch", "--no-tty", "--no-autostart", "--status-fd", "1"]
        return _run([*base, "--trust-model", "always", *args], env=self.env, stdin=stdin)

    def import_keys(self, keyring: str) -> bool:
        """Import the public keys of one armored key ring; False when it holds none."""
        result = self.gpg("--import-options", "import-minimal", "--import", stdin=keyring.encode())
        status = result.stdout.decode("utf-8", "replace")
        return any(line.startswith("[GNUPG:] IMPORT_OK ") for line in status.splitlines())

    def verify(self, signature: str, payload: bytes) -> str | None:
        """The signer's primary key id, or None when the signature is not good."""
        sig = self.home / "payload.sig"
        sig.write_text(signature)
        result = self.gpg("--verify", str(sig), "-", stdin=payload)
        status = [line.split()[1:] for line in result.stdout.decode("utf-8", "replace").splitlines()]
        words = [s for s in status if s and not s[0].startswith("KEY_CONSIDERED")]
        if result.returncode != 0 or any(s[0] in _PGP_REJECT for s in words):
            return None
        valid = [s for s in words if s[0] == "VALIDSIG" and len(s) >= 2]
        if not valid or not any(s[0] == "GOODSIG" for s in words):
            return None
        return _key_id(valid[0][-1] if len(valid[0]) >= 11 else valid[0][1])


def verify_pgp(signature: str, payload: bytes, keyrings: Sequence[str]) -> str:
    """Verify an armored OpenPGP detached signature over `payload`; return the primary key id
    (16 upper-case hex digits) of the key that made it."""
    if not signature.strip():
        raise VerificationFailed("unable to verify payload: signature is empty")
    if not payload:
        raise VerificationFailed("unable to verify payload: payload is empty")
    if signature_type(signature) != "openpgp":
        raise VerificationFailed(
            "unable to verify openPGP signature, detected signature format: "
            f"{signature_type(signature)}: signature format mismatch"
        )
    home = Path(tempfile.mkdtemp(prefix="gotk-gnupg-"))
    try:
        home.chmod(0o700)
        gnupg = _GnuPG(home)
        imported = [gnupg.import_keys(ring) for ring in keyrings]
        if not any(imported):
            if keyrings:
                raise VerificationFailed("unable to read armored key ring: no valid OpenPGP public key found")
        else:
            key_id = gnupg.verify(signature, payload)
            if key_id is not None:
                return key_id
        raise VerificationFailed("unable to verify payload with any of the given key rings: no matching key")
    finally:
        shutil.rmtree(home, ignore_errors=True)


# -- SSH -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SshKey:
    key_type: str
    blob: bytes = field(repr=False)

    @property
    def fingerprint(self) -> str:
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")


def _ssh_string(data: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(data):
        raise ValueError("truncated")
    (length,) = struct.unpack(">I", data[offset : offset + 4])
    end = offset + 4 + length
    if end > len(data):
        raise ValueError("truncated")
    return data[offset + 4 : end], end


def _parse_authorized_keys(text: str) -> list[_SshKey]:
    """The keys of an authorized_keys text (options before the key type are allowed)."""
    keys: list[_SshKey] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        index = next((i for i, f in enumerate(fields) if f in _SSH_KEY_TYPES), -1)
        if index < 0 or index + 1 >= len(fields):
            raise ValueError("unable to parse authorized key: ssh: no key found")
        try:
            blob = base64.b64decode(fields[index + 1], validate=True)
            embedded, _ = _ssh_string(blob, 0)
        except (binascii.Error, ValueError):
            raise ValueError("unable to parse authorized key: illegal base64 data") from None
        if embedded.decode("ascii", "replace") != fields[index]:
            raise ValueError("unable to parse authorized key: key type mismatch")
        keys.append(_SshKey(fields[index], blob))
    return keys


def _signing_key(signature: str) -> bytes:
    """The public key blob inside an armored SSHSIG signature."""
    body = "".join(line for line in signature.strip().splitlines()[1:-1])
    try:
        raw = base64.b64decode(body, validate=True)
    except binascii.Error:
        raise VerificationFailed("unable to unarmor SSH signature: illegal base64 data") from None
    if not raw.startswith(b"SSHSIG") or len(raw) < 10:
        raise VerificationFailed("unable to unarmor SSH signature: invalid magic preamble")
    try:
        blob, _ = _ssh_string(raw, 10)  # after the magic and the uint32 version
    except ValueError:
        raise VerificationFailed("unable to unarmor SSH signature: truncated signature") from None
    return blob


def verify_ssh(signature: str, payload: bytes, authorized_keys: Sequence[str]) -> str:
    """Verify an armored SSH signature (namespace `git`) over `payload` made by one of the
    authorized keys; return that key's SHA256 fingerprint."""
    if not signature.strip():
        raise VerificationFailed("unable to verify payload: signature is empty")
    if not payload:
        raise VerificationFailed("unable to verify payload: payload is empty")
    if signature_type(signature) != "ssh":
        raise VerificationFailed(
            "unable to verify SSH signature, detected signature format: "
            f"{signature_type(signature)}: signature format mismatch"
        )
    signer = _signing_key(signature)
    parsed: list[_SshKey] = []
    read_error = ""
    for text in authorized_keys:
        try:
            parsed.extend(_parse_authorized_keys(text))
        except ValueError as exc:
            read_error = read_error or f"unable to parse authorized keys: {exc}"
    if not parsed and read_error:
        raise VerificationFailed(read_error)
    key = next((k for k in parsed if k.blob == signer), None)
    if key is None or not _ssh_keygen_verify(key, signature, payload):
        raise VerificationFailed("unable to verify payload with any of the given authorized keys: no matching key")
    return key.fingerprint


def _ssh_keygen_verify(key: _SshKey, signature: str, payload: bytes) -> bool:
    workdir = Path(tempfile.mkdtemp(prefix="gotk-sshsig-"))
    try:
        signers = workdir / "allowed_signers"
        signers.write_text(f"flux {key.key_type} {base64.b64encode(key.blob).decode()}\n")
        sig = workdir / "payload.sig"
        sig.write_text(signature)
        args = [SSH_KEYGEN, "-Y", "verify", "-f", str(signers), "-I", "flux", "-n", SSH_NAMESPACE, "-s", str(sig)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "LC_ALL": "C"}
        return _run(args, env=env, stdin=payload).returncode == 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# -- dispatch ------------------------------------------------------------------------------------


def verify(obj: SignedObject, keyrings: Sequence[str], authorized_keys: Sequence[str]) -> str:
    """Verify `obj` with the key kind its signature calls for (Flux's verifyGitObject); return the
    PGP key id or the SSH fingerprint. Raise `VerificationFailed` with Flux's message."""
    kind = obj.signature_type
    if kind == "openpgp":
        if not keyrings:
            raise VerificationFailed(
                "PGP signature detected but no PGP public keys found in secret (keys with .asc suffix)"
            )
        try:
            return verify_pgp(obj.signature, obj.payload, keyrings)
        except VerificationFailed as exc:
            raise VerificationFailed(f"unable to verify Git {obj.label}: {exc}") from None
    if kind == "ssh":
        if not authorized_keys:
            raise VerificationFailed(
                "SSH signature detected but no SSH public keys found in secret (keys with .sshpub suffix)"
            )
        try:
            return verify_ssh(obj.signature, obj.payload, authorized_keys)
        except VerificationFailed as exc:
            raise VerificationFailed(f"unable to verify Git {obj.label} SSH signature: {exc}") from None
    raise VerificationFailed(f"unsupported signature type: {kind}")


class SigningFailed(Exception):
    """The commit could not be signed: the key ring holds no usable secret key, or the passphrase is wrong."""


def sign_pgp(keyring: str, passphrase: str, payload: bytes) -> str:
    """An armored OpenPGP detached signature over `payload`, made with the first secret key of `keyring`
    (Flux's image automation signs with the key ring's first entity) in a throwaway GNUPGHOME, whose
    gpg-agent (gpg reaches secret keys only through one) is stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="gotk-gpg-sign-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GNUPGHOME": home, "LC_ALL": "C"}
        base = [GPG, "--homedir", home, "--batch", "--no-tty", "--status-fd", "1", "--pinentry-mode", "loopback"]
        try:
            imported = _run([*base, "--import"], env=env, stdin=keyring.encode())
            listed = _run([*base, "--with-colons", "--list-secret-keys"], env=env)
            lines = listed.stdout.decode("utf-8", "replace").splitlines()
            fingerprints = [line.split(":")[9] for line in lines if line.startswith("fpr:")]
            if imported.returncode != 0 or not fingerprints:
                raise SigningFailed("unable to read the signing key: the key ring holds no secret key")
            if sum(line.startswith("sec:") for line in lines) > 1:
                raise SigningFailed(
                    "multiple entities read from the key ring, could not determine which signing key to use"
                )
            passphrase_file = Path(home) / "passphrase"
            passphrase_file.write_text(passphrase)
            passphrase_file.chmod(0o600)
            out = Path(home) / "signature.asc"
            signed = _run(
                [
                    *base,
                    "--passphrase-file",
                    str(passphrase_file),
                    "--local-user",
                    fingerprints[0],
                    "--armor",
                    "--detach-sign",
                    "--output",
                    str(out),
                ],
                env=env,
                stdin=payload,
            )
            armored = out.read_text() if out.exists() else ""
            start = armored.find("-----BEGIN PGP SIGNATURE-----")
            if signed.returncode != 0 or start < 0:
                words = signed.stdout.decode("utf-8", "replace")
                bad = "BAD_PASSPHRASE" in words or "MISSING_PASSPHRASE" in words
                raise SigningFailed(f"unable to sign the commit: {'bad passphrase' if bad else 'gpg failed'}")
            return armored[start:]
        finally:
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, check=False, timeout=10)


def sign_ssh(identity: bytes, password: str, payload: bytes) -> str:
    """An SSH signature (namespace `git`, as `git commit -S` with gpg.format=ssh makes) over `payload`, by
    `ssh-keygen -Y sign` with the private key `identity` (decrypted here when it has a password)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_ssh_private_key(identity, password.encode() or None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningFailed(f"unable to read the SSH signing key: {exc}") from None
    plain = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory(prefix="gotk-ssh-sign-") as home:
        key_file = Path(home) / "identity"
        key_file.write_bytes(plain)
        key_file.chmod(0o600)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LC_ALL": "C"}
        try:
            signed = subprocess.run(
                ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", str(key_file)],
                input=payload,
                capture_output=True,
                env=env,
                timeout=TOOL_TIMEOUT,
                check=False,
            )
        except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
            raise SigningFailed(f"unable to sign the commit: {type(exc).__name__}") from None
        text = signed.stdout.decode("utf-8", "replace")
        if signed.returncode != 0 or "-----BEGIN SSH SIGNATURE-----" not in text:
            raise SigningFailed("unable to sign the commit: ssh-keygen failed")
        return text
