"""The request `flux trigger receiver` sends to a Receiver's incoming webhook (flux2's trigger_receiver.go).

The webhook path is the Receiver's `/hook/sha256(token + name + namespace)` (salted with an empty token for
generic-oidc), appended to the base URL. The payload is POSTed as JSON; generic-hmac signs it with the token
(`X-Signature: sha256=<hex>`), generic-oidc sends `Authorization: Bearer <OIDC token>`, the token coming from
the GitHub/Forgejo Actions token endpoint (fluxcd/pkg auth/actionsoidc), --oidc-token or an environment
variable. Connection errors and 404, 408, 429, 500, 502, 503 and 504 answers are retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp

from gotk.cli import goflags

GENERIC = "generic"
GENERIC_HMAC = "generic-hmac"
GENERIC_OIDC = "generic-oidc"
TYPES = (GENERIC, GENERIC_HMAC, GENERIC_OIDC)
DEFAULT_OIDC_AUDIENCE = "notification-controller"
DEFAULT_OIDC_TOKEN_ENV = "FLUX_TRIGGER_RECEIVER_OIDC_TOKEN"
OIDC_PROVIDERS = ("github", "forgejo")
ENV_REQUEST_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
ENV_REQUEST_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
RETRYABLE = frozenset({404, 408, 429, 500, 502, 503, 504})
DEADLINE_EXCEEDED = "context deadline exceeded"


class TriggerError(Exception):
    """A failure `flux trigger receiver` reports as its error."""


@dataclass(frozen=True)
class Options:
    """The command's flags."""

    url: str = ""
    token: str = ""
    receiver_type: str = GENERIC
    oidc_provider: str = ""
    oidc_token: str = ""
    oidc_audience: str = ""
    payload: str = "{}"
    retries: int = 10
    retry_delay_ns: int = 10 * 1_000_000_000


def webhook_path(token: str, name: str, namespace: str) -> str:
    """notification-controller's Receiver.GetWebhookPath."""
    return "/hook/" + hashlib.sha256(f"{token}{name}{namespace}".encode()).hexdigest()


def validate(opts: Options) -> None:
    """The receiver type and the combination of the token and OIDC flags (validateTriggerReceiverArgs)."""
    if opts.receiver_type not in TYPES:
        raise TriggerError(f'invalid --type "{opts.receiver_type}", must be one of: {", ".join(TYPES)}')
    if opts.receiver_type != GENERIC_OIDC:
        if not opts.token:
            raise TriggerError(f"--token is required for --type={opts.receiver_type}")
        if opts.oidc_provider or opts.oidc_token or opts.oidc_audience:
            raise TriggerError(
                f"--oidc-provider, --oidc-token and --oidc-audience can only be set for --type={GENERIC_OIDC}"
            )
        return
    if opts.token:
        raise TriggerError(
            f"--token must not be set for --type={GENERIC_OIDC}, the Receiver of this type has no secret"
        )
    if opts.oidc_provider and opts.oidc_token:
        raise TriggerError("--oidc-provider and --oidc-token are mutually exclusive")
    if opts.oidc_provider and opts.oidc_provider not in OIDC_PROVIDERS:
        raise TriggerError(
            f'invalid --oidc-provider "{opts.oidc_provider}", must be one of: {", ".join(OIDC_PROVIDERS)}'
        )
    if opts.oidc_audience and not opts.oidc_provider:
        raise TriggerError("--oidc-audience can only be set together with --oidc-provider")


def webhook_url(opts: Options, name: str, namespace: str) -> str:
    token = "" if opts.receiver_type == GENERIC_OIDC else opts.token
    return opts.url.rstrip("/") + webhook_path(token, name, namespace)


def signature(token: str, payload: bytes) -> str:
    return "sha256=" + hmac.new(token.encode(), payload, hashlib.sha256).hexdigest()


def _status(resp: aiohttp.ClientResponse) -> str:
    """Go's resp.Status: `404 Not Found`."""
    return f"{resp.status} {resp.reason}" if resp.reason else str(resp.status)


async def fetch_actions_token(session: aiohttp.ClientSession, audience: str, timeout: float) -> str:
    """actionsoidc.FetchToken: GET the Actions token endpoint with `audience` set, return the `value`."""
    request_url = os.environ.get(ENV_REQUEST_URL, "")
    request_token = os.environ.get(ENV_REQUEST_TOKEN, "")
    if not request_url or not request_token:
        raise TriggerError(
            f"{ENV_REQUEST_URL} and {ENV_REQUEST_TOKEN} must be set in the environment; "
            "ensure the Actions job has the 'id-token: write' permission"
        )
    parts = urllib.parse.urlsplit(request_url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query["audience"] = audience
    url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(sorted(query.items()))))
    try:
        async with session.get(
            url,
            headers={"Authorization": "bearer " + request_token},
            timeout=aiohttp.ClientTimeout(total=max(timeout, 0.001)),
        ) as resp:
            body = await resp.read()
            if resp.status != 200:
                message = body.decode(errors="replace").strip()
                raise TriggerError(f"OIDC token request failed with status {_status(resp)}: {message}")
    except (aiohttp.ClientError, OSError) as exc:
        raise TriggerError(f'OIDC token request failed: Get "{url}": {go_error(exc)}') from None
    except TimeoutError:
        raise TriggerError(f'OIDC token request failed: Get "{url}": {DEADLINE_EXCEEDED}') from None
    try:
        value = json.loads(body).get("value")
    except (ValueError, AttributeError) as exc:
        raise TriggerError(f"failed to decode OIDC token response: {exc}") from None
    if not value:
        raise TriggerError("the OIDC token response did not contain a token")
    return str(value)


async def resolve_oidc_token(session: aiohttp.ClientSession, opts: Options, timeout: float) -> str:
    if opts.oidc_provider:
        return await fetch_actions_token(session, opts.oidc_audience or DEFAULT_OIDC_AUDIENCE, timeout)
    if opts.oidc_token:
        return opts.oidc_token
    token = os.environ.get(DEFAULT_OIDC_TOKEN_ENV, "")
    if not token:
        raise TriggerError(
            f"no OIDC token provided: set --oidc-provider, --oidc-token or the {DEFAULT_OIDC_TOKEN_ENV} "
            "environment variable"
        )
    return token


async def trigger(
    opts: Options,
    name: str,
    namespace: str,
    *,
    timeout: float,
    user_agent: str,
    waiting: Callable[[str], None],
) -> None:
    """POST the payload to the Receiver's webhook, retrying transient failures; raise TriggerError on failure."""
    deadline = time.monotonic() + timeout
    url = webhook_url(opts, name, namespace)
    payload = opts.payload.encode()
    headers: dict[str, str] = {"Content-Type": "application/json", "User-Agent": user_agent}
    async with aiohttp.ClientSession() as session:
        if opts.receiver_type == GENERIC_HMAC:
            headers["X-Signature"] = signature(opts.token, payload)
        elif opts.receiver_type == GENERIC_OIDC:
            token = await resolve_oidc_token(session, opts, deadline - time.monotonic())
            headers["Authorization"] = "Bearer " + token
        attempt = 0
        while True:
            retryable, error = await _send(session, url, payload, headers, deadline)
            if error is None:
                return
            if not retryable or attempt >= opts.retries:
                raise TriggerError(error)
            delay = opts.retry_delay_ns / 1e9
            waiting(
                f"{error}; retrying in {goflags.format_duration(opts.retry_delay_ns)} ({attempt + 1}/{opts.retries})"
            )
            remaining = deadline - time.monotonic()
            if remaining < delay:
                await asyncio.sleep(max(remaining, 0.0))
                raise TriggerError(DEADLINE_EXCEEDED)
            await asyncio.sleep(delay)
            attempt += 1


async def _send(
    session: aiohttp.ClientSession, url: str, payload: bytes, headers: Mapping[str, str], deadline: float
) -> tuple[bool, str | None]:
    """One attempt: (retryable, error message or None)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return True, f'request to {url} failed: Post "{url}": {DEADLINE_EXCEEDED}'
    try:
        async with session.post(
            url, data=payload, headers=dict(headers), timeout=aiohttp.ClientTimeout(total=remaining)
        ) as resp:
            body = await resp.read()
            if 200 <= resp.status < 300:
                return False, None
            error = f"request to {url} failed with status {_status(resp)}"
            message = body.decode(errors="replace").strip()
            if message:
                error += f": {message}"
            return resp.status in RETRYABLE, error
    except TimeoutError:
        return True, f'request to {url} failed: Post "{url}": {DEADLINE_EXCEEDED}'
    except (aiohttp.ClientError, OSError) as exc:
        return True, f'request to {url} failed: Post "{url}": {go_error(exc)}'


def go_error(exc: BaseException) -> str:
    """A connection failure the way Go's net/http words it (`dial tcp 127.0.0.1:1: connect: connection refused`)."""
    if isinstance(exc, aiohttp.ClientConnectorError) and exc.os_error.errno:
        return f"dial tcp {exc.host}:{exc.port}: connect: {os.strerror(exc.os_error.errno).lower()}"
    return str(exc)
