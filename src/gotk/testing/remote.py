"""A kubeconfig for a `spec.kubeConfig` Secret in tests: the local control plane's, self-contained."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml


def embedded_kubeconfig(path: Path) -> str:
    """The kubeconfig at `path` with every certificate/key file path replaced by its inline `-data` form (a file
    path on the test machine means nothing to a controller, and gotk refuses one)."""
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    fields = (
        ("clusters", "cluster", "certificate-authority"),
        ("users", "user", "client-certificate"),
        ("users", "user", "client-key"),
    )
    for section, key, name in fields:
        for entry in doc.get(section) or []:
            body = entry.get(key) or {}
            file = body.pop(name, None)
            if file:
                target = Path(file) if Path(file).is_absolute() else path.parent / file
                body[f"{name}-data"] = base64.b64encode(target.read_bytes()).decode()
    return yaml.safe_dump(doc, sort_keys=False)
