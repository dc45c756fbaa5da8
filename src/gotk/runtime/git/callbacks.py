"""pygit2 glue for one remote operation: credentials (basic, SSH key from memory), the bearer
header, a deadline checked from every libgit2 callback, and per-operation trust decisions.

pygit2 hands certificate callbacks no certificate, so this module re-binds pygit2's cffi
`_certificate_check_cb` once: for `OperationCallbacks` payloads it reads the DER leaf (HTTPS)
or the raw host key (SSH) and asks `gotk.runtime.git.trust`; any other payload goes to pygit2's
own handler unchanged. Nothing process-global is trusted: a Secret's `ca.crt` or known_hosts
applies to its own connection only. The one global knob is libgit2's home directory, which
libssh2 reads to choose the host-key type to negotiate: `ssh_home()` points it at a private
known_hosts under a lock until the host key has been checked, then restores it.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cffi  # type: ignore[import-untyped]  # no stubs; only its FFI() is used
import pygit2
import pygit2.callbacks
from pygit2.enums import CredentialType, Option
from pygit2.ffi import C, ffi

from gotk.runtime.git import trust
from gotk.runtime.git.auth import GitAuth

__all__ = [
    "AuthRejected",
    "DeadlineExceeded",
    "OperationCallbacks",
    "TrustRejected",
    "ensure_socket_timeouts",
    "ssh_home",
]


class DeadlineExceeded(Exception):
    """The operation's timeout passed (raised inside a libgit2 callback to abort it)."""


class AuthRejected(Exception):
    """The remote refused our credentials, or wants credentials we do not have."""


class TrustRejected(Exception):
    """The server's certificate or host key is not trusted for this operation."""


# libgit2 1.9's git_cert_hostkey; pygit2 declares only its first fields. Laid out by cffi (ABI mode).
_HOSTKEY = cffi.FFI()
_HOSTKEY.cdef(
    "typedef struct { int cert_type; int type; unsigned char md5[16]; unsigned char sha1[20];"
    " unsigned char sha256[32]; int raw_type; const char *hostkey; size_t hostkey_len; } hostkey_t;"
)
_SSH_RAW = 1 << 3
_SSH_SHA256 = 1 << 2


def _raw_host_key(cert: Any) -> bytes:
    """The server's host key blob, cross-checked against libgit2's SHA-256 of it."""
    if not pygit2.LIBGIT2_VERSION.startswith("1.9."):
        raise TrustRejected(f"host key check not supported with libgit2 {pygit2.LIBGIT2_VERSION}")
    hk = _HOSTKEY.cast("hostkey_t *", int(ffi.cast("uintptr_t", cert)))
    if not (hk.type & _SSH_RAW and hk.type & _SSH_SHA256) or not 0 < hk.hostkey_len < 65536:
        raise TrustRejected("the SSH transport did not expose the server's host key")
    blob = bytes(_HOSTKEY.buffer(hk.hostkey, hk.hostkey_len))
    if hashlib.sha256(blob).digest() != bytes(hk.sha256):
        raise TrustRejected("inconsistent host key data from the SSH transport")
    return blob


_pygit2_certificate_check = pygit2.callbacks._certificate_check_cb


def _certificate_check(cert: Any, valid: int, host: Any, payload: Any) -> int:
    data = ffi.from_handle(payload)
    if not isinstance(data, OperationCallbacks):
        result: int = _pygit2_certificate_check(cert, valid, host, payload)
        return result
    try:
        hostname = ffi.string(host).decode()
        if cert.cert_type == C.GIT_CERT_X509:
            x = ffi.cast("git_cert_x509 *", cert)
            data.check_tls(bool(valid), hostname, bytes(ffi.buffer(x.data, x.len)))
        elif cert.cert_type == C.GIT_CERT_HOSTKEY_LIBSSH2:
            data.check_host_key(hostname, _raw_host_key(cert))
        else:
            raise TrustRejected("unsupported certificate type")
    except BaseException as exc:
        data._stored_exception = exc  # type: ignore[assignment]  # pygit2 re-raises it
        return int(C.GIT_EUSER)
    return 0


ffi.def_extern(name="_certificate_check_cb", error=C.GIT_ECERTIFICATE)(_certificate_check)


class OperationCallbacks(pygit2.RemoteCallbacks):
    """Callbacks for one network operation with `auth`, aborted once `deadline` (monotonic) passes."""

    def __init__(self, auth: GitAuth, deadline: float) -> None:
        super().__init__()
        self.auth = auth
        self.deadline = deadline
        self.attempts = 0
        self.on_host_verified: list[Callable[[], None]] = []

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise DeadlineExceeded("context deadline exceeded")

    def credentials(self, url: str, username_from_url: str | None, allowed_types: CredentialType) -> Any:
        self.check_deadline()
        self.attempts += 1
        if self.attempts > 1:
            raise AuthRejected("authentication failed: the remote rejected the credentials")
        auth = self.auth
        if auth.identity and allowed_types & (CredentialType.SSH_MEMORY | CredentialType.SSH_KEY):
            user = username_from_url or auth.username
            return pygit2.KeypairFromMemory(user, None, auth.identity.decode(), auth.password)
        if auth.has_basic and allowed_types & CredentialType.USERPASS_PLAINTEXT:
            return pygit2.UserPass(auth.username, auth.password)
        raise AuthRejected("authentication required")

    def custom_headers(self) -> list[str] | None:
        if self.auth.bearer_token:
            return [f"Authorization: Bearer {self.auth.bearer_token}"]
        return None

    def check_tls(self, valid: bool, host: str, der: bytes) -> None:
        self.check_deadline()
        if valid:
            return
        if not self.auth.ca_pem:
            raise TrustRejected("x509: certificate signed by unknown authority")
        try:
            trust.verify_server_cert(der, host, self.auth.ca_pem)
        except trust.UntrustedCertificateError as exc:
            raise TrustRejected(f"x509: {exc}") from None

    def check_host_key(self, host: str, key_blob: bytes) -> None:
        self.check_deadline()
        for release in self.on_host_verified:
            release()
        if not trust.host_key_trusted(self.auth.known_hosts, host, self.auth.url.port, key_blob):
            raise TrustRejected("ssh: handshake failed: knownhosts: key is unknown or mismatched")

    def transfer_progress(self, stats: Any) -> None:
        self.check_deadline()

    def sideband_progress(self, string: str) -> None:
        self.check_deadline()

    def update_tips(self, refname: str, old: pygit2.Oid, new: pygit2.Oid) -> None:
        self.check_deadline()


_HOME_LOCK = threading.Lock()
HOME_LOCK_WAIT = 5.0
"""Longest wait for the home-directory lock; past it the connection goes ahead with libssh2's
default host-key preference (the host key is still checked against the Secret's known_hosts)."""


@contextmanager
def ssh_home(callbacks: OperationCallbacks) -> Iterator[None]:
    """While libssh2 sets up the session, point libgit2's home at a private known_hosts so it
    negotiates a host-key type the Secret knows; released as soon as the key has been checked.

    The home only steers negotiation: trust is decided by `check_host_key`, so a stalled
    session holding the lock delays other SSH connections by at most `HOME_LOCK_WAIT`.
    """
    remaining = callbacks.deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("context deadline exceeded")
    if not _HOME_LOCK.acquire(timeout=min(remaining, HOME_LOCK_WAIT)):
        yield
        return
    held = True
    original = pygit2.option(Option.GET_HOMEDIR) or None

    def release() -> None:
        nonlocal held
        if held:
            held = False
            pygit2.option(Option.SET_HOMEDIR, original)  # None: libgit2 guesses from $HOME again
            _HOME_LOCK.release()

    home = ""
    try:
        home = tempfile.mkdtemp(prefix="gotk-ssh-")
        (Path(home) / ".ssh").mkdir(mode=0o700)
        (Path(home) / ".ssh" / "known_hosts").write_bytes(callbacks.auth.known_hosts)
        pygit2.option(Option.SET_HOMEDIR, home)
        callbacks.on_host_verified.append(release)
        yield
    finally:
        release()
        callbacks.on_host_verified.clear()
        if home:
            shutil.rmtree(home, ignore_errors=True)


_timeout_lock = threading.Lock()
_socket_timeout_ms = 0
MIN_SOCKET_TIMEOUT = 60.0


def ensure_socket_timeouts(seconds: float) -> None:
    """Make libgit2's process-wide connect and read timeouts at least max(`seconds`, 60 s).

    They only bound a socket that stalls without any callback firing; the per-operation
    deadline is enforced from the callbacks, so a short timeout must not lower them for others.
    """
    global _socket_timeout_ms
    ms = int(max(seconds, MIN_SOCKET_TIMEOUT) * 1000)
    with _timeout_lock:
        if ms > _socket_timeout_ms:
            pygit2.option(Option.SET_SERVER_CONNECT_TIMEOUT, ms)
            pygit2.option(Option.SET_SERVER_TIMEOUT, ms)
            _socket_timeout_ms = ms
