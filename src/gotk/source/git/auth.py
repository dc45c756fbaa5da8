"""Pure credential handling for Git remotes: parse and validate a GitRepository URL, turn a
Secret's decoded data into a `GitAuth` following Flux's key rules (username/password,
bearerToken, identity + known_hosts [+ password], ca.crt/caFile), and keep secrets out of text
(`redact_url`, `GitAuth.scrub`). No I/O; `gotk.source.git.fetcher` applies the result.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from gotk.source.git.errors import AuthConfigError, GitError

__all__ = ["DEFAULT_SSH_USER", "GitAuth", "GitURL", "InvalidURLError", "from_secret", "parse_url", "redact_url"]

DEFAULT_SSH_USER = "git"
SCHEMES = ("http", "https", "ssh")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22}


class InvalidURLError(GitError):
    """The URL is not an http, https or ssh URL with a host (Flux's URLInvalid)."""


@dataclass(frozen=True)
class GitURL:
    """The parts of a remote URL that authentication and host-key checks need."""

    scheme: str
    host: str
    port: int
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)

    @property
    def default_port(self) -> bool:
        return self.port == _DEFAULT_PORTS[self.scheme]


def redact_url(url: str) -> str:
    """`url` without its userinfo (`https://user:pw@host/x` -> `https://host/x`)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def parse_url(url: str) -> GitURL:
    """Split and validate a GitRepository URL; raise `InvalidURLError` (message without userinfo)."""
    safe = redact_url(url)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"invalid URL '{safe}': {exc}") from None
    if parts.scheme not in SCHEMES:
        raise InvalidURLError(f"URL scheme '{parts.scheme}' in '{safe}' is not supported: use http, https or ssh")
    if not parts.hostname:
        raise InvalidURLError(f"URL '{safe}' has no host")
    return GitURL(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[parts.scheme],
        username=urllib.parse.unquote(parts.username or ""),
        password=urllib.parse.unquote(parts.password or ""),
    )


@dataclass(frozen=True, repr=False)
class GitAuth:
    """What to present to a remote. Its repr names only which kinds of credential it holds."""

    url: GitURL
    username: str = ""
    password: str = ""
    bearer_token: str = ""
    identity: bytes = b""
    known_hosts: bytes = b""
    ca_pem: bytes = b""
    client_cert: bytes = b""
    client_key: bytes = b""

    @property
    def transport(self) -> str:
        return self.url.scheme

    @property
    def has_basic(self) -> bool:
        return bool(self.username or self.password) and self.transport != "ssh"

    def kinds(self) -> list[str]:
        present = {
            "basic": self.has_basic,
            "bearer": bool(self.bearer_token),
            "ssh-identity": bool(self.identity),
            "known_hosts": bool(self.known_hosts),
            "ca": bool(self.ca_pem),
            "client-cert": bool(self.client_cert),
        }
        return [name for name, ok in present.items() if ok]

    def __repr__(self) -> str:
        return f"GitAuth({self.transport}://{self.url.host}:{self.url.port}, {'+'.join(self.kinds()) or 'anonymous'})"

    def secrets(self) -> list[str]:
        """Values that must never appear in a message (longest first)."""
        values = [self.password, self.bearer_token, self.url.password]
        values += [v.decode("utf-8", "replace").strip() for v in (self.identity, self.client_key)]
        return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every secret value replaced by `***`."""
        for value in self.secrets():
            text = text.replace(value, "***")
        return text


def anonymous(url: str) -> GitAuth:
    """Credentials for a public remote (userinfo in the URL still counts, as in Flux)."""
    return from_secret(url, None)


def _text(data: Mapping[str, bytes], key: str) -> str:
    return data.get(key, b"").decode("utf-8", "replace")


def from_secret(url: str, data: Mapping[str, bytes] | None) -> GitAuth:
    """Flux's `NewAuthOptions` + `Validate` over the Secret's decoded data (None: no secretRef).

    SSH takes identity, known_hosts and password (the key's passphrase) with the URL's user
    (default `git`); HTTP(S) takes bearerToken if present, else username/password, and falls
    back to the URL's userinfo. `ca.crt` wins over `caFile`.
    """
    u = parse_url(url)
    data = data or {}
    ca = data.get("ca.crt") or data.get("caFile") or b""
    if u.scheme == "ssh":
        auth = GitAuth(
            url=u,
            username=u.username or DEFAULT_SSH_USER,
            password=_text(data, "password"),
            identity=data.get("identity", b""),
            known_hosts=data.get("known_hosts", b""),
        )
        if not auth.identity.strip():
            raise AuthConfigError("invalid 'ssh' auth option: 'identity' is required")
        if not auth.known_hosts.strip():
            raise AuthConfigError("invalid 'ssh' auth option: 'known_hosts' is required")
        return auth
    tls = GitAuth(url=u, ca_pem=ca, client_cert=data.get("tls.crt", b""), client_key=data.get("tls.key", b""))
    if "bearerToken" in data:
        auth = dataclasses.replace(tls, bearer_token=_text(data, "bearerToken").strip())
    else:
        auth = dataclasses.replace(tls, username=_text(data, "username"), password=_text(data, "password"))
    if not auth.username and not auth.password and not auth.bearer_token:
        auth = dataclasses.replace(tls, username=u.username, password=u.password)
    elif auth.bearer_token and (u.username or u.password):
        raise AuthConfigError("basic auth and bearer token cannot be set at the same time")
    if not auth.username and auth.password:
        raise AuthConfigError(f"invalid '{u.scheme}' auth option: 'password' requires 'username' to be set")
    if bool(auth.client_cert) != bool(auth.client_key):
        raise AuthConfigError(f"invalid '{u.scheme}' auth option: 'tls.crt' and 'tls.key' must be set together")
    return auth
