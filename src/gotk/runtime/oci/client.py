"""A small blocking client for the OCI distribution (registry v2) API over urllib: ping and
token/basic auth, tags, manifests (by tag or digest), blobs (download with digest check, upload).

Every method blocks; the reconciler calls them through `asyncio.to_thread`. Redirects are followed
by hand so that credentials never travel to another host, and every error message is scrubbed of
the credentials' secret values before it is raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import ipaddress
import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from email.message import Message
from pathlib import Path
from typing import IO, Any, Final

from gotk.runtime.oci import spec
from gotk.runtime.oci.auth import Challenge, Credentials, parse_challenge
from gotk.runtime.oci.model import (
    AuthenticationError,
    DigestMismatchError,
    Manifest,
    NotFoundError,
    RegistryError,
    TLSConfig,
)

__all__ = ["MANIFEST_LIMIT", "RegistryClient"]

MANIFEST_LIMIT: Final = 4 << 20
_ERROR_BODY_LIMIT: Final = 64 << 10
_CHUNK: Final = 256 << 10
_MAX_REDIRECTS: Final = 5
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _is_local(host: str) -> bool:
    """Loopback and private-network registries may be plain HTTP (go-containerregistry's rule)."""
    if host.startswith("[") and "]" in host:
        name = host[1 : host.index("]")]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost" or name.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _display(url: str) -> str:
    """A URL without its query (upload session state), for messages."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _diagnostic(body: bytes) -> str:
    """`CODE: message; detail` from a registry error body (the distribution spec's `errors` list)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    errors = doc.get("errors") if isinstance(doc, Mapping) else None
    parts: list[str] = []
    for err in errors if isinstance(errors, list) else []:
        if not isinstance(err, Mapping):
            continue
        text = f"{err.get('code', 'UNKNOWN')}: {err.get('message', '')}"
        detail = err.get("detail")
        if isinstance(detail, Mapping) and detail:
            text += "; " + ", ".join(f"{k}={v}" for k, v in detail.items() if not isinstance(v, list | dict))
        parts.append(text)
    return "; ".join(parts)


Response = tuple[int, Message, IO[bytes]]


class RegistryClient:
    """One registry host (`host[:port]`), with optional credentials, TLS settings and proxy.

    HTTPS is tried first; `insecure`, and loopback or private-network hosts, fall back to plain
    HTTP. With `insecure` and no `tls`, server certificates are not verified (Flux's exception for
    OCIRepository). `timeout` bounds each network operation.
    """

    def __init__(
        self,
        registry: str,
        *,
        credentials: Credentials | None = None,
        insecure: bool = False,
        tls: TLSConfig | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        user_agent: str = spec.USER_AGENT,
    ) -> None:
        self.registry = registry
        self.api_host = "registry-1.docker.io" if registry in ("index.docker.io", "docker.io") else registry
        self.credentials = credentials or Credentials()
        self.insecure = insecure
        self.timeout = timeout
        self.user_agent = user_agent
        if tls is None and insecure:
            tls = TLSConfig(skip_verify=True)
        handlers: list[urllib.request.BaseHandler] = [
            _NoRedirect(),
            urllib.request.HTTPSHandler(context=(tls or TLSConfig()).context()),
        ]
        if proxy:
            handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
        self._opener = urllib.request.build_opener(*handlers)
        self._scheme: str | None = None
        self._challenge: Challenge | None = None
        self._tokens: dict[str, str] = {}

    # -- plumbing ----------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self.credentials.secrets():
            text = text.replace(secret, "***")
        return text

    def _fail(self, cls: type[RegistryError], message: str, status: int | None = None) -> RegistryError:
        return cls(self._scrub(message), status=status)

    def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | IO[bytes] | None = None
    ) -> Response:
        request = urllib.request.Request(url, data=body, method=method, headers={"User-Agent": self.user_agent})
        for key, value in headers.items():
            request.add_unredirected_header(key, value)
        try:
            resp = self._opener.open(request, timeout=self.timeout)
            return resp.status, resp.headers, resp
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise self._fail(RegistryError, f"{method} {_display(url)}: {reason}") from None

    def _error(self, method: str, url: str, status: int, fp: IO[bytes]) -> RegistryError:
        with contextlib.closing(fp):
            body = b"" if method == "HEAD" else fp.read(_ERROR_BODY_LIMIT)
        diagnostic = _diagnostic(body)
        if not diagnostic:
            phrase = http.client.responses.get(status, "")
            diagnostic = f"unexpected status code {status} {phrase}".rstrip()
            if method == "HEAD":
                diagnostic += " (HEAD responses have no body, use GET for details)"
        cls = AuthenticationError if status in (401, 403) else NotFoundError if status == 404 else RegistryError
        return self._fail(cls, f"{method} {_display(url)}: {diagnostic}", status)

    def _ping(self) -> None:
        schemes = ("https", "http") if self.insecure or _is_local(self.api_host) else ("https",)
        errors: list[str] = []
        for scheme in schemes:
            url = f"{scheme}://{self.api_host}/v2/"
            try:
                status, headers, fp = self._send("GET", url, {})
            except RegistryError as exc:
                errors.append(str(exc))
                continue
            if status != 401 and not 200 <= status < 300:
                errors.append(str(self._error("GET", url, status, fp)))
                continue
            fp.close()
            if status == 401:
                self._challenge = parse_challenge(headers.get("WWW-Authenticate") or "")
            self._scheme = scheme
            return
        raise self._fail(RegistryError, "; ".join(errors))

    def _token(self, scope: str, *, refresh: bool = False) -> str:
        if not refresh and scope in self._tokens:
            return self._tokens[scope]
        assert self._challenge is not None
        params = self._challenge.params
        realm = params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise self._fail(AuthenticationError, f"invalid token realm {realm!r} in the registry's challenge")
        query = {k: v for k, v in (("service", params.get("service", "")), ("scope", scope)) if v}
        creds = self.credentials
        headers: dict[str, str] = {}
        if creds.identity_token:
            form = {**query, "grant_type": "refresh_token", "refresh_token": creds.identity_token, "client_id": "gotk"}
            body: bytes | None = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            method, url = "POST", realm
        else:
            body = None
            method, url = "GET", f"{realm}{'&' if '?' in realm else '?'}{urllib.parse.urlencode(query)}"
            if creds.username or creds.password:
                headers["Authorization"] = creds.basic()
        status, _, fp = self._send(method, url, headers, body)
        if status != 200:
            error = self._error(method, url, status, fp)
            raise self._fail(AuthenticationError, f"fetching token failed: {error}", status)
        with contextlib.closing(fp):
            raw = fp.read(_ERROR_BODY_LIMIT)
        try:
            doc = json.loads(raw)
            token = str(doc.get("token") or doc.get("access_token") or "")
        except (ValueError, UnicodeDecodeError, AttributeError):
            token = ""
        if not token:
            raise self._fail(AuthenticationError, f"{method} {_display(url)}: no token in the response")
        self._tokens[scope] = token
        return token

    def _authorization(self, scope: str, *, refresh: bool = False) -> dict[str, str]:
        challenge, creds = self._challenge, self.credentials
        if challenge is None:
            return {}
        if challenge.scheme == "basic":
            return {"Authorization": creds.basic()} if creds.username or creds.password else {}
        if challenge.scheme == "bearer":
            if creds.registry_token:
                return {"Authorization": f"Bearer {creds.registry_token}"}
            return {"Authorization": f"Bearer {self._token(scope, refresh=refresh)}"}
        return {}

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        scope: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | IO[bytes] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Response:
        """Send an authorized request, following redirects by hand; raise on a status not in `ok`."""
        if self._scheme is None:
            self._ping()
        url = path_or_url if "://" in path_or_url else f"{self._scheme}://{self.api_host}{path_or_url}"
        origin = urllib.parse.urlsplit(url).netloc
        auth = self._authorization(scope)
        retried = False
        for _ in range(_MAX_REDIRECTS + 2):
            same_host = urllib.parse.urlsplit(url).netloc == origin
            status, resp_headers, fp = self._send(method, url, {**(headers or {}), **(auth if same_host else {})}, body)
            if status == 401 and same_host and not retried and resp_headers.get("WWW-Authenticate"):
                # A challenge we did not see at ping time, or an expired token: authorize afresh once.
                retried = True
                self._challenge = parse_challenge(resp_headers["WWW-Authenticate"])
                try:
                    fresh = self._authorization(scope, refresh=True)
                except RegistryError:
                    fp.close()
                    raise
                if fresh and (fresh != auth or self._challenge.scheme == "bearer"):
                    fp.close()
                    auth = fresh
                    if body is not None and not isinstance(body, bytes):
                        body.seek(0)
                    continue
            if status in _REDIRECTS and method in ("GET", "HEAD") and resp_headers.get("Location"):
                fp.close()
                url = urllib.parse.urljoin(url, resp_headers["Location"])
                continue
            if status not in ok:
                raise self._error(method, url, status, fp)
            return status, resp_headers, fp
        raise self._fail(RegistryError, f"{method} {_display(url)}: too many redirects")

    # -- reading -----------------------------------------------------------------------------------

    def list_tags(self, repository: str) -> list[str]:
        """Every tag of `repository`, following `Link` pagination."""
        tags: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n=1000"
        while path:
            _, headers, fp = self._request("GET", path, scope=f"repository:{repository}:pull")
            with contextlib.closing(fp):
                raw = fp.read(MANIFEST_LIMIT)
            try:
                tags.extend(str(t) for t in json.loads(raw).get("tags") or [])
            except (ValueError, AttributeError, UnicodeDecodeError):
                raise self._fail(RegistryError, f"GET /v2/{repository}/tags/list: invalid JSON response") from None
            link = headers.get("Link") or ""
            path = link[link.find("<") + 1 : link.find(">")] if 'rel="next"' in link and "<" in link else None
        return tags

    def resolve(self, repository: str, reference: str) -> str:
        """The digest of the manifest `reference` (tag or digest) names: HEAD, else GET."""
        accept = {"Accept": ", ".join(spec.MANIFEST_TYPES)}
        try:
            _, headers, fp = self._request(
                "HEAD", f"/v2/{repository}/manifests/{reference}", scope=f"repository:{repository}:pull", headers=accept
            )
            fp.close()
            digest = headers.get("Docker-Content-Digest") or ""
            if digest.startswith("sha256:"):
                return digest
        except RegistryError:
            pass  # GET tells why (HEAD responses have no body)
        return self.get_manifest(repository, reference).digest

    def get_manifest(self, repository: str, reference: str, *, max_size: int = MANIFEST_LIMIT) -> Manifest:
        """Fetch a manifest or index; a digest reference is checked against the bytes received."""
        accept = {"Accept": ", ".join(spec.MANIFEST_TYPES)}
        path = f"/v2/{repository}/manifests/{reference}"
        _, headers, fp = self._request("GET", path, scope=f"repository:{repository}:pull", headers=accept)
        with contextlib.closing(fp):
            raw = fp.read(max_size + 1)
        if len(raw) > max_size:
            raise self._fail(RegistryError, f"manifest {repository}:{reference} is larger than {max_size} bytes")
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        if reference.startswith("sha256:") and reference != digest:
            raise self._fail(DigestMismatchError, f"manifest digest {digest} does not match the requested {reference}")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise self._fail(RegistryError, f"manifest {repository}:{reference} is not valid JSON") from None
        if not isinstance(body, Mapping):
            raise self._fail(RegistryError, f"manifest {repository}:{reference} is not a JSON object")
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        media_type = str(body.get("mediaType") or content_type)
        return Manifest(digest=digest, media_type=media_type, raw=raw, body=body)

    def fetch_blob(self, repository: str, digest: str, dest: Path, *, max_size: int | None = None) -> int:
        """Download blob `digest` into `dest` (replaced), verify it and return its size."""
        if not digest.startswith("sha256:"):
            raise self._fail(RegistryError, f"unsupported blob digest {digest!r}")
        _, _, fp = self._request("GET", f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull")
        hasher, size = hashlib.sha256(), 0
        with contextlib.closing(fp), dest.open("wb") as out:
            while chunk := fp.read(_CHUNK):
                size += len(chunk)
                if max_size is not None and size > max_size:
                    raise self._fail(RegistryError, f"blob {digest} is larger than {max_size} bytes")
                hasher.update(chunk)
                out.write(chunk)
        actual = "sha256:" + hasher.hexdigest()
        if actual != digest:
            raise self._fail(DigestMismatchError, f"blob digest {actual} does not match the expected {digest}")
        return size

    def read_blob(self, repository: str, digest: str, *, max_size: int = MANIFEST_LIMIT) -> bytes:
        """A small blob (config, signature payload) in memory, digest-checked."""
        with tempfile.TemporaryDirectory(prefix="gotk-blob-") as tmp:
            path = Path(tmp, "blob")
            self.fetch_blob(repository, digest, path, max_size=max_size)
            return path.read_bytes()

    # -- writing -----------------------------------------------------------------------------------

    def blob_exists(self, repository: str, digest: str) -> bool:
        scope = f"repository:{repository}:pull,push"
        status, _, fp = self._request("HEAD", f"/v2/{repository}/blobs/{digest}", scope=scope, ok=(200, 404))
        fp.close()
        return status == 200

    def push_blob(self, repository: str, content: bytes | Path, digest: str) -> None:
        """Upload a blob in one monolithic PUT, unless the registry already has it."""
        if self.blob_exists(repository, digest):
            return
        scope = f"repository:{repository}:pull,push"
        _, headers, fp = self._request("POST", f"/v2/{repository}/blobs/uploads/", scope=scope, ok=(202,))
        fp.close()
        location = headers.get("Location") or ""
        if not location:
            raise self._fail(RegistryError, f"POST /v2/{repository}/blobs/uploads/: no Location in the response")
        base = f"{self._scheme}://{self.api_host}/"
        upload = urllib.parse.urljoin(base, location)
        upload += ("&" if "?" in upload else "?") + urllib.parse.urlencode({"digest": digest})
        size = len(content) if isinstance(content, bytes) else content.stat().st_size
        put_headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        with contextlib.ExitStack() as stack:
            body = content if isinstance(content, bytes) else stack.enter_context(content.open("rb"))
            _, _, fp = self._request("PUT", upload, scope=scope, headers=put_headers, body=body, ok=(201, 204))
            fp.close()

    def push_manifest(self, repository: str, reference: str, raw: bytes, media_type: str) -> str:
        """PUT a manifest under a tag (or its digest); returns its digest."""
        scope = f"repository:{repository}:pull,push"
        headers = {"Content-Type": media_type, "Content-Length": str(len(raw))}
        path = f"/v2/{repository}/manifests/{reference}"
        _, _, fp = self._request("PUT", path, scope=scope, headers=headers, body=raw, ok=(200, 201, 204))
        fp.close()
        return "sha256:" + hashlib.sha256(raw).hexdigest()
