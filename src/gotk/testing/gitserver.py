"""Real Git servers for tests and benchmarks, bound to 127.0.0.1 only: smart HTTP(S) via
`git http-backend` behind a threaded Python server (Basic or Bearer auth, optional TLS with
a generated CA), and a real `sshd` on a free port with its own host key.

Test repositories are built with `gotk.local.gitrepos` (re-exported here).
"""

from __future__ import annotations

import getpass
import shutil
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from gotk.local.gitrepos import Gitlink, commit, make_repo, set_ref, tag
from gotk.local.gitserver import GitHttpServer
from gotk.local.processes import LOOPBACK, Process, free_ports, tail, tcp_open

__all__ = [
    "GitHttpServer",
    "Gitlink",
    "SshGitServer",
    "SshServerError",
    "commit",
    "generate_client_key",
    "make_repo",
    "set_ref",
    "tag",
]

SSHD = "/usr/sbin/sshd"


class SshServerError(RuntimeError):
    """sshd did not come up; the message carries the end of its log."""


def generate_client_key() -> tuple[bytes, str]:
    """A fresh ed25519 key pair: (OpenSSH-format private key PEM, `ssh-ed25519 AAAA...` line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


class SshGitServer:
    """The real OpenSSH daemon on a free 127.0.0.1 port serving the repositories under `root`.

    Git runs through the login shell of the current user (root in tests); only public keys
    added with `authorize()` may log in.
    """

    def __init__(self, root: Path, *, workdir: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.user = getpass.getuser()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="gotk-sshd-"))
        self.port = 0
        self.host_public = ""
        self._authorized = self.workdir / "authorized_keys"
        self._process: Process | None = None

    generate_client_key = staticmethod(generate_client_key)

    def authorize(self, public_openssh: str) -> None:
        """Allow logins with this `ssh-ed25519 AAAA...` public key (effective immediately)."""
        with self._authorized.open("a") as f:
            f.write(public_openssh.strip() + "\n")

    def known_hosts_line(self) -> str:
        return f"[{LOOPBACK}]:{self.port} {self.host_public}"

    def url_for(self, repo: str) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.port}{self.root / repo}"

    def start(self) -> Self:
        self.workdir.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        host_key = ed25519.Ed25519PrivateKey.generate()
        key_path = self.workdir / "host_ed25519"
        key_path.write_bytes(
            host_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        key_path.chmod(0o600)
        pub = host_key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        self.host_public = pub.decode()
        self._authorized.touch(mode=0o600)
        last_log = ""
        for _attempt in range(3):  # the free port can be taken between probing and binding
            self.port = free_ports(1)[0]
            config = self.workdir / "sshd_config"
            config.write_text(self._config(key_path))
            log = self.workdir / f"sshd-{self.port}.log"
            proc = Process("sshd", [SSHD, "-D", "-e", "-f", str(config)], log, port=self.port)
            proc.spawn()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.alive() and not tcp_open(self.port):
                time.sleep(0.02)
            if proc.alive() and tcp_open(self.port):
                self._process = proc
                return self
            proc.stop(grace=2)
            last_log = tail(log, 20)
        raise SshServerError(f"sshd did not start on {LOOPBACK}:{self.port}:\n{last_log}")

    def _config(self, key_path: Path) -> str:
        options = {
            "ListenAddress": f"{LOOPBACK}:{self.port}",
            "HostKey": key_path,
            "PidFile": self.workdir / "sshd.pid",
            "AuthorizedKeysFile": self._authorized,
            "PermitRootLogin": "prohibit-password",
            "PubkeyAuthentication": "yes",
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "StrictModes": "no",
            "UsePAM": "no",
            "PrintMotd": "no",
            "PermitTTY": "no",
            "AllowTcpForwarding": "no",
            "X11Forwarding": "no",
            "MaxStartups": "200:30:400",
            "LogLevel": "INFO",
        }
        return "".join(f"{k} {v}\n" for k, v in options.items())

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(grace=5)
            self._process = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
