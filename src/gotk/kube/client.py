"""The async API client: REST verbs, server-side apply, watch streams and discovery over one aiohttp session.

Objects go in and come out as plain dicts (Kubernetes JSON); nothing is deserialized into models.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp

from gotk.kube.config import KubeConfig
from gotk.kube.errors import ApiError, ResourceNotFound, Unreachable
from gotk.kube.ratelimit import TokenBucket
from gotk.kube.resources import Resource, split_api_version

Obj = dict[str, Any]

PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


class Client:
    """One connection pool to one API server, shared by every controller in the process."""

    def __init__(
        self,
        config: KubeConfig,
        *,
        qps: float = 50.0,
        burst: int = 300,
        user_agent: str = "gotk",
        timeout: float = 30.0,
    ) -> None:
        self.config = config
        self._limiter = TokenBucket(qps, burst)
        self._user_agent = user_agent
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._discovery: dict[str, dict[str, Resource]] = {}
        self._discovery_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.config.ssl_context(), limit=200)
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            await asyncio.sleep(0)  # let the connector's transports finish closing

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def impersonating(self, user: str | None) -> Client:
        """A client sending the same requests as `user` (Impersonate-User), sharing nothing mutable."""
        return self.for_config(self.config.with_impersonation(user))

    def for_config(self, config: KubeConfig) -> Client:
        """A new client for another cluster or identity, with this one's QPS and burst."""
        return Client(config, qps=self._limiter.qps, burst=self._limiter.burst, user_agent=self._user_agent)

    def _headers(self, content_type: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self._user_agent}
        token = self.config.bearer_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.config.impersonate:
            headers["Impersonate-User"] = self.config.impersonate
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    # -- raw requests ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> Any:
        """Send one request; return the decoded JSON answer or raise `ApiError`."""
        return (
            await self.request_status(
                method, path, params=params, body=body, content_type=content_type, timeout=timeout
            )
        )[1]

    async def request_status(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int | bool] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | None = None,
    ) -> tuple[int, Any]:
        """`request`, also returning the HTTP status (201 tells that a PATCH created the object)."""
        await self._limiter.acquire()
        data = None if body is None else (body if isinstance(body, bytes | str) else json.dumps(body))
        query = _params(params)
        try:
            async with self._http().request(
                method,
                self.config.server + path,
                params=query,
                data=data,
                headers=self._headers(content_type if body is not None else None),
                timeout=aiohttp.ClientTimeout(total=timeout or self._timeout),
                auth=_basic_auth(self.config),
            ) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise _error(resp.status, text)
                if not text:
                    return resp.status, {}
                if resp.content_type == "application/json":
                    return resp.status, json.loads(text)
                return resp.status, text
        except (aiohttp.ClientConnectionError, TimeoutError, OSError) as exc:
            raise Unreachable(self.config.server, exc) from exc

    async def get_raw(self, path: str) -> Any:
        return await self.request("GET", path)

    # -- typed verbs -----------------------------------------------------------------------------

    async def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj:
        result: Obj = await self.request("GET", res.path(namespace, name))
        return result

    async def get_or_none(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return await self.get(res, name, namespace)
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    async def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
    ) -> Obj:
        """List every object (following `continue` tokens); returns {items, metadata.resourceVersion}."""
        items: list[Obj] = []
        params: dict[str, str | int | bool] = {"limit": page_size}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        while True:
            page = await self.request("GET", res.path(namespace), params=params, timeout=120)
            kind = res.kind
            for item in page.get("items") or []:
                item.setdefault("apiVersion", res.api_version)
                item.setdefault("kind", kind)
                items.append(item)
            meta = page.get("metadata") or {}
            token = meta.get("continue")
            if not token:
                return {"items": items, "metadata": {"resourceVersion": meta.get("resourceVersion", "")}}
            params["continue"] = token

    async def create(self, res: Resource, body: Obj, namespace: str | None = None, *, dry_run: bool = False) -> Obj:
        params = {"dryRun": "All"} if dry_run else None
        result: Obj = await self.request("POST", res.path(namespace), params=params, body=body)
        return result

    async def replace(
        self, res: Resource, body: Obj, namespace: str | None = None, *, subresource: str | None = None
    ) -> Obj:
        name = body["metadata"]["name"]
        result: Obj = await self.request("PUT", res.path(namespace, name, subresource), body=body)
        return result

    async def patch(
        self,
        res: Resource,
        name: str,
        patch: Any,
        namespace: str | None = None,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        field_manager: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        params: dict[str, str | int | bool] = {}
        if field_manager:
            params["fieldManager"] = field_manager
        if dry_run:
            params["dryRun"] = "All"
        result: Obj = await self.request(
            "PATCH",
            res.path(namespace, name, subresource),
            params=params,
            body=patch,
            content_type=PATCH_TYPES[patch_type],
        )
        return result

    async def apply(
        self,
        res: Resource,
        body: Obj,
        *,
        field_manager: str,
        force: bool = True,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Obj:
        """Server-side apply of a whole object (JSON is YAML, so it goes as apply-patch+yaml)."""
        return (
            await self.apply_created(
                res, body, field_manager=field_manager, force=force, dry_run=dry_run, subresource=subresource
            )
        )[0]

    async def apply_created(
        self,
        res: Resource,
        body: Obj,
        *,
        field_manager: str,
        force: bool = True,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> tuple[Obj, bool]:
        """`apply`, also telling whether the object did not exist (the API server answers 201 Created)."""
        meta = body.get("metadata") or {}
        params: dict[str, str | int | bool] = {"fieldManager": field_manager, "force": force}
        if dry_run:
            params["dryRun"] = "All"
        namespace = meta.get("namespace") if res.namespaced else None
        status, result = await self.request_status(
            "PATCH",
            res.path(namespace, meta["name"], subresource),
            params=params,
            body=body,
            content_type=PATCH_TYPES["apply"],
        )
        return result, status == 201

    async def delete(
        self,
        res: Resource,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str | None = "Background",
        uid: str | None = None,
        dry_run: bool = False,
    ) -> Obj | None:
        """Delete an object; returns None when it was already gone."""
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            body["propagationPolicy"] = propagation
        if uid:
            body["preconditions"] = {"uid": uid}
        if dry_run:
            body["dryRun"] = ["All"]
        try:
            result: Obj = await self.request("DELETE", res.path(namespace, name), body=body)
            return result
        except ApiError as exc:
            if exc.not_found:
                return None
            raise

    async def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str | None = None,
        timeout_seconds: int = 300,
    ) -> AsyncIterator[Obj]:
        """Yield watch events ({type, object}) until the server closes the stream. 410 raises ApiError."""
        params: dict[str, str | int | bool] = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": timeout_seconds,
        }
        if resource_version:
            params["resourceVersion"] = resource_version
        if label_selector:
            params["labelSelector"] = label_selector
        await self._limiter.acquire()
        try:
            async with self._http().get(
                self.config.server + res.path(namespace),
                params=_params(params),
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=timeout_seconds + 30),
                auth=_basic_auth(self.config),
            ) as resp:
                if resp.status >= 400:
                    raise _error(resp.status, await resp.text())
                while True:
                    line = await resp.content.readline()
                    if not line:
                        return
                    if not line.strip():
                        continue
                    event: Obj = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        raise ApiError(
                            int(status.get("code") or 500),
                            str(status.get("reason") or "Error"),
                            str(status.get("message") or "watch error"),
                            status,
                        )
                    yield event
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError, OSError) as exc:
            raise Unreachable(self.config.server, exc) from exc

    # -- discovery -------------------------------------------------------------------------------

    async def resource_for(self, api_version: str, kind: str) -> Resource:
        """Find the REST resource of a kind through discovery (cached; refreshed once on a miss)."""
        for refresh in (False, True):
            table = await self._group_version(api_version, refresh=refresh)
            found = table.get(kind)
            if found is not None:
                return found
        raise ResourceNotFound(api_version, kind)

    def invalidate_discovery(self, api_version: str | None = None) -> None:
        if api_version is None:
            self._discovery.clear()
        else:
            self._discovery.pop(api_version, None)

    async def _group_version(self, api_version: str, *, refresh: bool) -> dict[str, Resource]:
        async with self._discovery_lock:
            if not refresh and api_version in self._discovery:
                return self._discovery[api_version]
            group, version = split_api_version(api_version)
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            try:
                doc = await self.request("GET", path)
            except ApiError as exc:
                if exc.not_found:
                    self._discovery[api_version] = {}
                    return {}
                raise
            table: dict[str, Resource] = {}
            for item in doc.get("resources") or []:
                if "/" in item["name"]:
                    continue
                table[item["kind"]] = Resource(group, version, item["name"], item["kind"], item["namespaced"])
            self._discovery[api_version] = table
            return table


def _params(params: Mapping[str, str | int | bool] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in params.items()}


def _basic_auth(config: KubeConfig) -> aiohttp.BasicAuth | None:
    if config.username and config.password and not config.bearer_token():
        return aiohttp.BasicAuth(config.username, config.password)
    return None


def _error(status: int, text: str) -> ApiError:
    try:
        body = json.loads(text)
    except ValueError:
        return ApiError(status, "Unknown", text.strip() or f"HTTP {status}")
    if not isinstance(body, dict):
        return ApiError(status, "Unknown", text.strip())
    return ApiError(status, str(body.get("reason") or ""), str(body.get("message") or text.strip()), body)
