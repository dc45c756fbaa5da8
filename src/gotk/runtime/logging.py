"""JSON logs, one object per line, carrying the controller and the object's kind, namespace and name.

`setup()` installs the formatter on the root logger; `object_logger()` binds an object's identity to a logger.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import MutableMapping
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# bound object fields travel under one key, since `name` and friends are LogRecord attributes
FIELDS = "gotk_fields"


class JsonFormatter(logging.Formatter):
    """Formats records like Flux's zap JSON encoder: level, ts, logger, msg, then the bound fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname.lower().replace("warning", "warn"),
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key == FIELDS and isinstance(value, dict):
                entry.update(value)
            elif key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(level: str = "info", encoding: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if encoding == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class ObjectLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger that adds the controller and object fields to every record."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        fields = dict(self.extra or {})
        fields.update(kwargs.get("extra") or {})
        kwargs["extra"] = {FIELDS: fields}
        return msg, kwargs


def object_logger(
    controller: str, group: str, kind: str, namespace: str, name: str, reconcile_id: str = ""
) -> ObjectLogger:
    fields: dict[str, Any] = {
        "controller": controller,
        "controllerGroup": group,
        "controllerKind": kind,
        kind: {"name": name, "namespace": namespace},
        "namespace": namespace,
        "name": name,
    }
    if reconcile_id:
        fields["reconcileID"] = reconcile_id
    return ObjectLogger(logging.getLogger(controller), fields)
