"""Receivers: incoming webhooks that make Flux objects reconcile now.

The reconciler reads the Secret's `token` and publishes `status.webhookPath` = `/hook/sha256(token + name +
namespace)`. The hook server answers POSTs on that path: it checks the request as the Receiver `type` says
(generic: nothing; generic-hmac: `X-Signature`; github: `X-Hub-Signature-256`/`X-Hub-Signature`; gitlab:
`X-Gitlab-Token`; bitbucket: `X-Hub-Signature`; harbor: `Authorization`), filters on `spec.events`, then sets
`reconcile.fluxcd.io/requestedAt` on every listed resource (`*` with `matchLabels` selects by label).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gotk.api import defaults, kinds, meta, notification_v1
from gotk.kube.client import Client
from gotk.kube.errors import ApiError
from gotk.kube.resources import RECEIVERS, Resource
from gotk.runtime import conditions
from gotk.runtime.informer import Informer
from gotk.runtime.reconciler import NamedStep, Request
from gotk.runtime.results import GenericError, Result, StallingError
from gotk.runtime.secrets import SecretError, secret_data

Obj = dict[str, Any]
SUPPORTED = ("generic", "generic-hmac", "github", "gitlab", "bitbucket", "harbor")
TOKEN_NOT_FOUND = "TokenNotFound"
MAX_BODY = 4 << 20
log = logging.getLogger("gotk.notification.receiver")


def webhook_path(token: str, name: str, namespace: str) -> str:
    return "/hook/" + hashlib.sha256(f"{token}{name}{namespace}".encode()).hexdigest()


def initialised(obj: Mapping[str, Any]) -> tuple[str, str]:
    """Ready's reason and message once the webhook path is published."""
    path = (obj.get("status") or {}).get("webhookPath")
    return meta.SUCCEEDED, f"Receiver initialised for path: {path}"


CONDITIONS = conditions.ConditionTable(owned=(meta.READY, meta.RECONCILING, meta.STALLED), success=initialised)


class ReceiverReconciler:
    """Publishes each Receiver's webhook path."""

    controller_name = "notification-controller"
    resource = RECEIVERS
    condition_table = CONDITIONS

    def new_state(self) -> None:
        """A Receiver's one step hands nothing on."""
        return None

    def steps(self) -> Sequence[NamedStep[None]]:
        return (NamedStep("token", self.reconcile_token),)

    def interval(self, obj: Obj) -> float:
        return defaults.duration(obj, notification_v1.ReceiverSpec, "interval")

    def retry_interval(self, obj: Obj) -> float | None:
        return None

    async def finalize(self, req: Request[None]) -> Result | None:
        return None

    async def reconcile_token(self, req: Request[None]) -> Result | None:
        """Read the token from spec.secretRef and publish the webhook path derived from it."""
        kind = str(req.spec.get("type") or "")
        if kind not in SUPPORTED:
            message = f"receiver type '{kind}' is not supported by gotk yet (supported: {', '.join(SUPPORTED)})"
            raise StallingError(meta.FAILED, message)
        name = (req.spec.get("secretRef") or {}).get("name", "")
        try:
            data = await secret_data(req.client, req.namespace, name, field="spec.secretRef")
        except SecretError as exc:
            raise GenericError(TOKEN_NOT_FOUND, f"unable to read token from secret: {exc}") from None
        token = data.get("token", b"").decode(errors="replace")
        if not token:
            raise GenericError(TOKEN_NOT_FOUND, f"invalid '{name}' secret data: required field 'token'")
        req.status["webhookPath"] = webhook_path(token, req.name, req.namespace)
        return None


class HookError(Exception):
    """A webhook call refused, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _hmac_ok(header: str, body: bytes, token: str, allowed: Sequence[str]) -> bool:
    algo, _, signature = header.partition("=")
    if algo not in allowed or not signature:
        return False
    expected = hmac.new(token.encode(), body, getattr(hashlib, algo)).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def validate(kind: str, events: Sequence[str], headers: Mapping[str, str], body: bytes, token: str) -> None:
    """Raise HookError unless the request is authentic for the Receiver type and its event is allowed."""
    event = ""
    if kind == "generic-hmac":
        if not _hmac_ok(headers.get("X-Signature", ""), body, token, ("sha1", "sha256", "sha512")):
            raise HookError(401, "the X-Signature HMAC does not match")
    elif kind == "github":
        signed = headers.get("X-Hub-Signature-256") or headers.get("X-Hub-Signature", "")
        if not _hmac_ok(signed, body, token, ("sha256", "sha1")):
            raise HookError(401, "the GitHub payload signature does not match")
        event = headers.get("X-GitHub-Event", "")
    elif kind == "gitlab":
        if not hmac.compare_digest(headers.get("X-Gitlab-Token", ""), token):
            raise HookError(401, "the X-Gitlab-Token does not match")
        event = headers.get("X-Gitlab-Event", "")
    elif kind == "bitbucket":
        event = headers.get("X-Event-Key", "")
        if event != "diagnostics:ping" and not _hmac_ok(headers.get("X-Hub-Signature", ""), body, token, ("sha256",)):
            raise HookError(401, "the Bitbucket payload signature does not match")
    elif kind == "harbor":
        if not hmac.compare_digest(headers.get("Authorization", ""), token):
            raise HookError(401, "the Authorization header does not match")
    if events and event and not any(e.lower() == event.lower() for e in events):
        raise HookError(400, f"the {kind} event '{event}' is not authorised")


class HookServer:
    """Serves `/hook/<digest>` for the Receivers in `receivers` (a watch cache)."""

    def __init__(self, client: Client, receivers: Informer, *, no_cross_namespace_refs: bool = False) -> None:
        self.client = client
        self.receivers = receivers
        self.no_cross_namespace_refs = no_cross_namespace_refs
        self.handled = 0

    def _find(self, path: str) -> Obj | None:
        for obj in self.receivers.list():
            if (obj.get("status") or {}).get("webhookPath") == path:
                return obj
        return None

    async def handle(self, request: web.Request) -> web.Response:
        receiver = self._find(request.path)
        if receiver is None:
            return web.Response(status=404, text="no receiver for this path")
        spec, ns = receiver.get("spec") or {}, receiver["metadata"]["namespace"]
        if spec.get("suspend"):
            return web.Response(status=503, text="receiver is suspended")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return web.Response(status=413, text="payload too large")
        try:
            data = await secret_data(self.client, ns, (spec.get("secretRef") or {}).get("name", ""))
            token = data.get("token", b"").decode(errors="replace")
            if webhook_path(token, receiver["metadata"]["name"], ns) != request.path:
                raise HookError(404, "the receiver's token changed")
            validate(str(spec.get("type")), spec.get("events") or [], request.headers, body, token)
            count = await self._request_reconcile(ns, spec.get("resources") or [])
        except SecretError:
            return web.Response(status=500, text="unable to read the receiver's token")
        except HookError as exc:
            log.info("webhook for receiver %s/%s refused: %s", ns, receiver["metadata"]["name"], exc)
            return web.Response(status=exc.status, text=str(exc))
        self.handled += 1
        return web.Response(status=200, text=f"requested the reconciliation of {count} object(s)")

    async def _request_reconcile(self, receiver_ns: str, resources: Sequence[Mapping[str, Any]]) -> int:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        patch = {"metadata": {"annotations": {meta.RECONCILE_REQUEST_ANNOTATION: now}}}
        count = 0
        for ref in resources:
            ns = ref.get("namespace") or receiver_ns
            if self.no_cross_namespace_refs and ns != receiver_ns:
                raise HookError(400, f"cross-namespace reference to {ref.get('kind')} in '{ns}' is not allowed")
            res = await self._resource(ref)
            names = [str(ref.get("name"))]
            if ref.get("name") == "*":
                selector = ",".join(f"{k}={v}" for k, v in sorted((ref.get("matchLabels") or {}).items()))
                page = await self.client.list(res, ns, label_selector=selector or None)
                names = [o["metadata"]["name"] for o in page.get("items") or []]
            for name in names:
                try:
                    await self.client.patch(res, name, patch, ns)
                    count += 1
                except ApiError as exc:
                    raise HookError(400, f"unable to annotate {ref.get('kind')} '{ns}/{name}': {exc.reason}") from None
        return count

    async def _resource(self, ref: Mapping[str, Any]) -> Resource:
        kind = str(ref.get("kind") or "")
        api_version = str(ref.get("apiVersion") or "")
        if not api_version:
            try:
                api_version = kinds.api_version(kinds.by_kind(kind))
            except LookupError:
                raise HookError(400, f"unknown resource kind '{kind}'") from None
        try:
            return await self.client.resource_for(api_version, kind)
        except (ApiError, LookupError) as exc:
            raise HookError(400, f"unknown resource {api_version}/{kind}: {exc}") from None
