"""The global flags every `flux` command shares."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Globals:
    """Values of the global flags: --kubeconfig, --context, -n, --timeout, --verbose."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    timeout: str
    verbose: bool
