"""Downloads from Helm HTTP/S repositories: the index and chart archives, with basic auth, TLS from a
certSecretRef (or the legacy TLS keys of secretRef), a timeout and a size limit.

Credentials go only to the repository's own host unless `pass_credentials` is set, as Helm does; they never
reach an error message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from gotk.runtime.oci.model import TLSConfig, tls_from_secret
from gotk.source.helm.index import same_host

USERNAME, PASSWORD = "username", "password"
_CHUNK = 64 * 1024


class HelmFetchError(Exception):
    """A download failed: unreachable, refused, too large or not found (no credentials in the message)."""


class HelmAuthError(ValueError):
    """The referenced Secrets hold incomplete or invalid data."""


@dataclass(frozen=True)
class HelmHTTPOptions:
    """How to reach one Helm HTTP/S repository."""

    url: str
    username: str = ""
    password: str = field(default="", repr=False)
    tls: TLSConfig | None = None
    pass_credentials: bool = False
    timeout: float = 60.0


def options_from_secrets(
    url: str,
    auth: Mapping[str, bytes] | None,
    certs: Mapping[str, bytes] | None,
    *,
    secret_name: str = "",
    pass_credentials: bool = False,
    timeout: float = 60.0,
) -> HelmHTTPOptions:
    """Options from the data of `spec.secretRef` (username/password, legacy TLS keys) and `spec.certSecretRef`."""
    username = password = ""
    if auth is not None:
        user, pwd = auth.get(USERNAME, b""), auth.get(PASSWORD, b"")
        if bool(user) != bool(pwd) or (not user and not _has_tls(auth)):
            raise HelmAuthError(f"invalid '{secret_name}' secret data: required fields 'username' and 'password'")
        username, password = user.decode(errors="replace"), pwd.decode(errors="replace")
    tls: TLSConfig | None = None
    try:
        if certs is not None:
            tls = tls_from_secret(certs)
        elif auth is not None and _has_tls(auth):  # deprecated: TLS data in secretRef
            tls = tls_from_secret(auth)
    except ValueError as exc:
        raise HelmAuthError(str(exc)) from None
    return HelmHTTPOptions(
        url=url, username=username, password=password, tls=tls, pass_credentials=pass_credentials, timeout=timeout
    )


def _has_tls(data: Mapping[str, bytes]) -> bool:
    return any(data.get(k) for k in ("ca.crt", "tls.crt", "tls.key"))


def redact(url: str) -> str:
    """`url` without user info or query (what goes into messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def index_url(repository_url: str) -> str:
    return repository_url.rstrip("/") + "/index.yaml"


async def download(opts: HelmHTTPOptions, url: str, *, max_size: int) -> bytes:
    """GET `url` (the index or a chart of the repository `opts.url`) and return its body."""
    headers = {"User-Agent": "gotk-source-controller"}
    if opts.username and (opts.pass_credentials or same_host(opts.url, url)):
        token = base64.b64encode(f"{opts.username}:{opts.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    ssl_ctx = opts.tls.context() if opts.tls is not None else None
    timeout = aiohttp.ClientTimeout(total=opts.timeout)
    shown = redact(url)
    try:
        connector = aiohttp.TCPConnector(ssl=ssl_ctx if ssl_ctx is not None else True)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            async with session.get(url, headers=headers) as resp:
                if resp.status != 200:
                    raise HelmFetchError(f"failed to fetch {shown} : {resp.status} {resp.reason or ''}".rstrip())
                if resp.content_length is not None and resp.content_length > max_size:
                    raise HelmFetchError(f"{shown} is larger than the limit of {max_size} bytes")
                body = bytearray()
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    body.extend(chunk)
                    if len(body) > max_size:
                        raise HelmFetchError(f"{shown} is larger than the limit of {max_size} bytes")
                return bytes(body)
    except TimeoutError:
        raise HelmFetchError(f"failed to fetch {shown} : timeout after {opts.timeout:g}s") from None
    except aiohttp.ClientError as exc:
        raise HelmFetchError(f"failed to fetch {shown} : {_describe(exc)}") from None


def _describe(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate verification failed: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connection failed: {exc.os_error.strerror or exc.os_error}"
    return type(exc).__name__
