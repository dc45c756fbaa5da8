"""Pure credential handling for Git remotes: parse and validate a GitRepository URL, turn a
Secret's decoded data into a `GitAuth` following Flux's key rules (username/password,
bearerToken, identity + known_hosts [+ password], ca.crt/caFile), read a proxySecretRef's
`address`/`username`/`password` (`proxy_from_secret`), and keep secrets out of text
(`redact_url`, `GitAuth.scrub`). No I/O; `gotk.runtime.git.fetcher` applies the result.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from gotk.runtime.git.errors import AuthConfigError, GitError

__all__ = [
    "DEFAULT_SSH_USER",
    "GitAuth",
    "GitURL",
    "InvalidURLError",
    "ProxyConfigError",
    "from_secret",
    "parse_url",
    "proxy_from_secret",
    "redact_url",
]

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
    proxy: str = ""  # proxy URL, possibly with userinfo (see `proxy_from_secret`)

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
            "proxy": bool(self.proxy),
        }
        return [name for name, ok in present.items() if ok]

    def __repr__(self) -> str:
        return f"GitAuth({self.transport}://{self.url.host}:{self.url.port}, {'+'.join(self.kinds()) or 'anonymous'})"

    def secrets(self) -> list[str]:
        """Values that must never appear in a message (longest first)."""
        proxy_password = ""
        if self.proxy:
            try:
                proxy_password = urllib.parse.unquote(urllib.parse.urlsplit(self.proxy).password or "")
            except ValueError:
                proxy_password = self.proxy  # unparseable: treat the whole value as secret
        values = [self.password, self.bearer_token, self.url.password, proxy_password]
        values += [v.decode("utf-8", "replace").strip() for v in (self.identity, self.client_key)]
        return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every secret value replaced by `***`."""
        if self.proxy:
            text = text.replace(self.proxy, redact_url(self.proxy))
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


PROXY_SCHEMES = ("http", "https", "socks5")
MAX_PROXY_URL_LENGTH = 2048


class ProxyConfigError(GitError):
    """A proxySecretRef's data is not a usable proxy (Flux's `failed to configure proxy options`)."""


def proxy_from_secret(secret: str, data: Mapping[str, bytes]) -> str:
    """The proxy URL of a proxySecretRef (`secret` is `namespace/name`, for messages): `address`
    is required and must be an http, https or socks5 URL; `username` (and `password`) become its
    userinfo. The result holds the password: keep it out of messages (`GitAuth.scrub`)."""
    if "address" not in data:
        raise ProxyConfigError(f"secret '{secret}': key 'address' not found")
    address = _text(data, "address").strip()
    if not address:
        raise ProxyConfigError(f"secret '{secret}': proxy address is empty")
    if len(address) > MAX_PROXY_URL_LENGTH:
        raise ProxyConfigError(
            f"secret '{secret}': proxy URL exceeds maximum length of {MAX_PROXY_URL_LENGTH} characters"
        )
    try:
        parts = urllib.parse.urlsplit(address)
        _ = parts.port
    except ValueError:
        raise ProxyConfigError(f"secret '{secret}': failed to parse proxy address '{redact_url(address)}'") from None
    if parts.scheme not in PROXY_SCHEMES:
        raise ProxyConfigError(
            f"secret '{secret}': proxy URL must use one of the supported schemes "
            f"({', '.join(PROXY_SCHEMES)}), got '{parts.scheme}'"
        )
    if "username" not in data:
        return address
    userinfo = urllib.parse.quote(_text(data, "username"), safe="")
    if "password" in data:
        userinfo += ":" + urllib.parse.quote(_text(data, "password"), safe="")
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc}"))
