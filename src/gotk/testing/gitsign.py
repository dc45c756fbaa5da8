"""Throwaway signing keys for tests, usable as `gotk.local.gitrepos.Signer`: `GpgKey` (a fresh
ed25519 OpenPGP key in its own temporary GNUPGHOME, signing with the real `gpg`) and `SshKey`
(a fresh ed25519 key, signing with `ssh-keygen -Y sign -n git`, as git does for SSH signing).
Both are context managers that remove their files (and stop gpg's agent) on exit.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

__all__ = ["GpgKey", "SshKey"]


class GpgKey:
    """An OpenPGP signing key generated with `gpg --quick-gen-key` (no passphrase, no expiry).

    `public_armor` is what a verification Secret's `*.asc` entry holds; `key_id` is the 16-digit
    id Flux reports. Calling the key signs a payload (armored, detached).
    """

    def __init__(self, uid: str = "gotk test <test@gotk.invalid>") -> None:
        self.home = Path(tempfile.mkdtemp(prefix="gotk-gpgkey-"))
        self.home.chmod(0o700)
        self._env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GNUPGHOME": str(self.home), "LC_ALL": "C"}
        self._gpg("--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
        listing = self._gpg("--with-colons", "--list-keys").stdout.decode()
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        self.public_armor = self._gpg("--armor", "--export", self.fingerprint).stdout.decode()

    @property
    def key_id(self) -> str:
        return self.fingerprint[-16:].upper()

    def _gpg(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        base = ["gpg", "--homedir", str(self.home), "--batch", "--no-tty", "--pinentry-mode", "loopback"]
        return subprocess.run([*base, *args], input=stdin, capture_output=True, env=self._env, check=True, timeout=60)

    def __call__(self, payload: bytes) -> str:
        out = self._gpg("--passphrase", "", "--local-user", self.fingerprint, "--armor", "--detach-sign", stdin=payload)
        return out.stdout.decode()

    def close(self) -> None:
        subprocess.run(
            ["gpgconf", "--homedir", str(self.home), "--kill", "all"], env=self._env, capture_output=True, check=False
        )
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class SshKey:
    """An ed25519 SSH signing key. `public_line` is an authorized_keys line (a Secret's `*.sshpub`);
    `fingerprint` is `SHA256:...` as Flux reports it. Calling the key signs a payload."""

    def __init__(self, comment: str = "gotk-test") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="gotk-sshkey-"))
        key = ed25519.Ed25519PrivateKey.generate()
        self.private_path = self.dir / "id_ed25519"
        self.private_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        self.private_path.chmod(0o600)
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        self.public_line = f"{public.decode()} {comment}\n"
        blob = base64.b64decode(public.split()[1])
        self.fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

    def __call__(self, payload: bytes) -> str:
        args = ["ssh-keygen", "-Y", "sign", "-q", "-f", str(self.private_path), "-n", "git"]
        out = subprocess.run(args, input=payload, capture_output=True, check=True, timeout=60)
        return out.stdout.decode()

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
