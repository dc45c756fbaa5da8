"""What `flux logs` does with controller logs: read the JSON entries, filter and format them as flux2's
cmd/flux/logs.go does, pick the pod to read per Deployment, and read gotk's local controllers log.

An entry is decoded as Go's encoding/json decodes flux2's ControllerLogEntry (keys matched exactly, else in
any case; a non-string value is an UnmarshalTypeError), kept when it matches --level, --kind (its
`reconciler kind` or `controllerKind`), --name and the namespace, and printed as
`<ts> <level> <Kind>[/<name>.<namespace>] - <msg> <error>`. Lines not starting with `{` are skipped; a line
that is not JSON ends the stream with a `parse error` line, as in flux. gotk's controllers log the same
fields (gotk.runtime.logging): `controllerKind`, `name`, `namespace`, `msg`, `ts`, `level`, `error`.

When the controllers run as a process (`flux local up`), there are no pods: `local_log` finds the log file
the local control plane records for its `controllers` process in DIR/state.json, next to the kubeconfig.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from gotk.kube import config as kubeconfig
from gotk.kube.errors import ApiError, Unreachable

Obj = Mapping[str, Any]
LEVELS = ("debug", "info", "error")
CONTROLLER_CONTAINER = "manager"
LOCAL_CONTROLLERS = "controllers"
"""The process name `flux local up` records in state.json."""
MAX_LINE = 64 * 1024
"""bufio.Scanner's default token limit: a longer line ends the stream."""

# json key -> (ControllerLogEntry attribute, Go type)
FIELDS: dict[str, tuple[str, str]] = {
    "ts": ("ts", "string"),
    "level": ("level", "flags.LogLevel"),
    "msg": ("msg", "string"),
    "error": ("error", "string"),
    "logger": ("logger", "string"),
    "reconciler kind": ("kind", "string"),
    "controllerKind": ("controller_kind", "string"),
    "name": ("name", "string"),
    "namespace": ("namespace", "string"),
}
_FOLDED = {key.lower(): key for key in FIELDS}


@dataclass
class Entry:
    """flux2's ControllerLogEntry."""

    ts: str = ""
    level: str = ""
    msg: str = ""
    error: str = ""
    logger: str = ""
    kind: str = ""
    controller_kind: str = ""
    name: str = ""
    namespace: str = ""


class ParseError(ValueError):
    """A line encoding/json would not decode (the message is Go's)."""


class _Pairs(list[tuple[str, Any]]):
    """A decoded JSON object, its keys in order (duplicates kept, as Go's decoder sees them)."""


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, _Pairs):
        return "object"
    return "array"


def _go_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    quoted = json.dumps(c, ensure_ascii=False)[1:-1]
    return f"'{quoted}'"


_SYNTAX = {
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Expecting value": "looking for beginning of value",
    "Extra data": "after top-level value",
    "Invalid control character at": "in string literal",
}


def _syntax_error(line: str, exc: json.JSONDecodeError) -> ParseError:
    if exc.pos >= len(line):
        return ParseError("unexpected end of JSON input")
    where = next((v for k, v in _SYNTAX.items() if exc.msg.startswith(k)), "looking for beginning of value")
    return ParseError(f"invalid character {_go_char(line[exc.pos])} {where}")


def parse_entry(line: str) -> Entry:
    """json.Unmarshal(line, &ControllerLogEntry{}): unknown keys ignored, null leaves a field empty."""
    try:
        pairs = json.loads(line, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise _syntax_error(line, exc) from None
    if not isinstance(pairs, _Pairs):
        raise ParseError(f"json: cannot unmarshal {_json_type(pairs)} into Go value of type main.ControllerLogEntry")
    entry = Entry()
    first_error: ParseError | None = None
    for key, value in pairs:
        field = key if key in FIELDS else _FOLDED.get(key.lower())
        if field is None or value is None:
            continue
        attr, go_type = FIELDS[field]
        if isinstance(value, str):
            setattr(entry, attr, value)
        elif first_error is None:
            where = f"Go struct field ControllerLogEntry.{field} of type {go_type}"
            first_error = ParseError(f"json: cannot unmarshal {_json_type(value)} into {where}")
    if first_error is not None:
        raise first_error
    return entry


@dataclass(frozen=True)
class LogFilter:
    """The flags filterPrintLog applies."""

    level: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = "flux-system"
    all_namespaces: bool = False

    def keep(self, entry: Entry) -> bool:
        def same(a: str, b: str) -> bool:
            return a.casefold() == b.casefold()

        return (
            (not self.level or self.level == entry.level)
            and (not self.kind or same(self.kind, entry.kind) or same(self.kind, entry.controller_kind))
            and (not self.name or same(self.name, entry.name))
            and (self.all_namespaces or same(self.namespace, entry.namespace))
        )


def render(entry: Entry) -> str:
    """logTmpl: `{{.Timestamp}} {{.Level}} {{or .Kind .ControllerKind}}{{if .Name}}/{{.Name}}.{{.Namespace}}{{end}}
    - {{.Message}} {{.Error}}`."""
    obj = entry.kind or entry.controller_kind
    if entry.name:
        obj += f"/{entry.name}.{entry.namespace}"
    return f"{entry.ts} {entry.level} {obj} - {entry.msg} {entry.error}\n"


def parse_ts(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class Formatter:
    """logRequest's loop over one stream: `feed` each line, print what it returns; once `stopped`, stop reading.

    `not_before` drops entries older than --since/--since-time (for the local log, which no kubelet filters).
    `fail` reports a parse error (flux: `✗ parse error: …`).
    """

    def __init__(self, flt: LogFilter, fail: Callable[[str], None], not_before: datetime | None = None) -> None:
        self.filter = flt
        self.fail = fail
        self.not_before = not_before
        self.stopped = False

    def feed(self, line: str) -> str:
        if self.stopped:
            return ""
        line = line.rstrip("\n").removesuffix("\r")
        if len(line.encode("utf-8", "surrogateescape")) >= MAX_LINE:  # bufio.ErrTooLong: the scan ends quietly
            self.stopped = True
            return ""
        if not line.startswith("{"):
            return ""
        try:
            entry = parse_entry(line)
        except ParseError as exc:
            self.fail(f"parse error: {exc}")
            self.stopped = True
            return ""
        if self.not_before is not None:
            moment = parse_ts(entry.ts)
            if moment is not None and moment < self.not_before:
                return ""
        return render(entry) if self.filter.keep(entry) else ""

    def feed_all(self, lines: Iterable[str]) -> str:
        out = []
        for line in lines:
            out.append(self.feed(line))
            if self.stopped:
                break
        return "".join(out)


# -- pods ------------------------------------------------------------------------------------------


def _ready(pod: Obj) -> Obj | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            return dict(cond)
    return None


def _stamp(value: Any) -> datetime | None:
    return parse_ts(str(value)) if value else None


def _after_or_zero(t1: datetime | None, t2: datetime | None) -> bool:
    if t1 is None or t2 is None:
        return t1 is None
    return t1 > t2


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(s.get("restartCount") or 0) for s in statuses), default=0)


_PHASE = {"Running": 0, "Unknown": 1, "Pending": 2}


def _by_logging(a: Obj, b: Obj) -> int:
    """kubectl's podutils.ByLogging: the pod whose logs are most worth reading first."""

    def less(i: Obj, j: Obj) -> bool:
        ni, nj = (i.get("spec") or {}).get("nodeName") or "", (j.get("spec") or {}).get("nodeName") or ""
        if ni != nj and (not ni or not nj):
            return bool(ni)
        pi = _PHASE.get((i.get("status") or {}).get("phase") or "", 0)
        pj = _PHASE.get((j.get("status") or {}).get("phase") or "", 0)
        if pi != pj:
            return pi < pj
        ri, rj = _ready(i), _ready(j)
        if (ri is None) != (rj is None):
            return ri is not None
        if ri is not None and rj is not None:
            ti, tj = _stamp(ri.get("lastTransitionTime")), _stamp(rj.get("lastTransitionTime"))
            if ti != tj:
                return _after_or_zero(tj, ti)
        if _restarts(i) != _restarts(j):
            return _restarts(i) > _restarts(j)
        ci = _stamp((i.get("metadata") or {}).get("creationTimestamp"))
        cj = _stamp((j.get("metadata") or {}).get("creationTimestamp"))
        if ci != cj:
            return _after_or_zero(cj, ci)
        return False

    return -1 if less(a, b) else 1 if less(b, a) else 0


def pick_pod(pods: Sequence[Obj]) -> Obj | None:
    """The pod of a Deployment whose logs flux reads: running, ready the longest, most restarted, oldest."""
    if not pods:
        return None
    return sorted(pods, key=functools.cmp_to_key(_by_logging))[0]


def selector(labels: Mapping[str, Any]) -> str:
    """createLabelStringFromMap."""
    return ",".join(f"{k}={v}" for k, v in labels.items())


def log_params(
    pod: Obj, *, follow: bool, tail: int, since_seconds: int | None, since_time: datetime | None
) -> dict[str, str]:
    """The PodLogOptions of one pod as query parameters (the `manager` container when it has several)."""
    params: dict[str, str] = {}
    if follow:
        params["follow"] = "true"
    if tail > -1:
        params["tailLines"] = str(tail)
    if since_seconds is not None:
        params["sinceSeconds"] = str(since_seconds)
    if since_time is not None:
        params["sinceTime"] = since_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if len((pod.get("spec") or {}).get("containers") or []) > 1:
        params["container"] = CONTROLLER_CONTAINER
    return params


async def stream_pod_log(
    cfg: kubeconfig.KubeConfig, namespace: str, pod: str, params: Mapping[str, str], deadline: float
) -> AsyncGenerator[str, None]:
    """The lines of GET …/pods/POD/log as they arrive, until the stream ends or the deadline passes."""
    headers = {"Accept": "*/*", "User-Agent": "flux-cli"}
    token = cfg.bearer_token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cfg.impersonate:
        headers["Impersonate-User"] = cfg.impersonate
    auth = aiohttp.BasicAuth(cfg.username, cfg.password) if cfg.username and cfg.password and not token else None
    url = f"{cfg.server}/api/v1/namespaces/{namespace}/pods/{pod}/log"
    timeout = aiohttp.ClientTimeout(total=max(0.001, deadline - time.monotonic()), sock_connect=30)
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=cfg.ssl_context())) as session,
            session.get(url, params=dict(params), headers=headers, auth=auth, timeout=timeout) as resp,
        ):
            if resp.status >= 400:
                text = await resp.text()
                try:
                    message = str(json.loads(text).get("message") or text)
                except (ValueError, AttributeError):
                    message = text.strip() or f"HTTP {resp.status}"
                raise ApiError(resp.status, resp.reason or "", message)
            while True:
                raw = await resp.content.readline()
                if not raw:
                    return
                yield raw.decode("utf-8", "replace")
    except TimeoutError:
        return
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError) as exc:
        raise Unreachable(cfg.server, exc) from exc


# -- the local controllers' log --------------------------------------------------------------------


def local_log(kubeconfig_path: str | None) -> Path | None:
    """The log of the `controllers` process `flux local up` recorded in DIR/state.json, DIR holding the kubeconfig."""
    path = Path(kubeconfig_path.split(os.pathsep)[0]) if kubeconfig_path else kubeconfig.default_path()
    try:
        state = json.loads((path.absolute().parent / "state.json").read_text())
    except (OSError, ValueError):
        return None
    for component in state.get("components") or [] if isinstance(state, dict) else []:
        if isinstance(component, dict) and component.get("name") == LOCAL_CONTROLLERS and component.get("log"):
            log = Path(str(component["log"]))
            return log if log.is_file() else None
    return None


def tail_lines(data: bytes, tail: int) -> tuple[list[str], int]:
    """The complete lines of `data` (the last `tail` of them when tail > -1) and the offset after the last one."""
    end = data.rfind(b"\n") + 1
    lines = data[:end].decode("utf-8", "replace").splitlines(keepends=True)
    if tail > -1:
        lines = lines[len(lines) - tail :] if tail else []
    return lines, end


async def follow_file(path: Path, offset: int, deadline: float, interval: float = 0.2) -> AsyncGenerator[str, None]:
    """Lines appended to `path` after `offset`, until the deadline; a truncated file is read again from its start."""
    pending = b""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        await asyncio.sleep(min(interval, remaining))
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size < offset:
            offset, pending = 0, b""
        if size == offset:
            continue
        with path.open("rb") as f:
            f.seek(offset)
            chunk = f.read(size - offset)
        offset += len(chunk)
        pending += chunk
        end = pending.rfind(b"\n") + 1
        if not end:
            continue
        complete, pending = pending[:end], pending[end:]
        for line in complete.decode("utf-8", "replace").splitlines(keepends=True):
            yield line


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_rfc3339(text: str) -> datetime:
    """util.ParseRFC3339 (RFC 3339, with or without fractional seconds); ValueError otherwise."""
    if not _RFC3339.match(text):
        raise ValueError(text)
    head, _, rest = text.partition(".")
    if rest:  # Python keeps microseconds only
        digits = re.match(r"\d+", rest)
        assert digits is not None
        frac = digits.group(0)
        text = f"{head}.{(frac + '000000')[:6]}{rest[len(frac) :]}"
    moment = parse_ts(text)
    if moment is None:
        raise ValueError(text)
    return moment
