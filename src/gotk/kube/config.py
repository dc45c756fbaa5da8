"""Kubeconfig loading: a file (KUBECONFIG, --kubeconfig, ~/.kube/config) or the in-cluster service account.

Produces a `KubeConfig` with the server URL, TLS material and credentials; `ConfigError` names what is missing.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ConfigError(Exception):
    """The kubeconfig is missing or unusable; the message says which file and which entry."""


@dataclass(frozen=True)
class KubeConfig:
    """Where the API server is and how to authenticate to it."""

    server: str
    namespace: str = "default"
    token: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    ca_data: bytes | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    username: str | None = None
    password: str | None = None
    impersonate: str | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def bearer_token(self) -> str | None:
        if self.token:
            return self.token
        if self.token_file:
            return Path(self.token_file).read_text().strip()
        return None

    def ssl_context(self) -> ssl.SSLContext | bool:
        """An SSL context for aiohttp, or False for plain HTTP / insecure-skip-tls-verify."""
        if not self.server.startswith("https://"):
            return False
        ctx = ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
        elif self.ca_data:
            ctx.load_verify_locations(cadata=self.ca_data.decode())
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def with_impersonation(self, user: str | None) -> KubeConfig:
        return KubeConfig(**{**self.__dict__, "impersonate": user})


def default_path() -> Path:
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path.home() / ".kube" / "config"


def load(path: str | os.PathLike[str] | None = None, context: str | None = None) -> KubeConfig:
    """Load a kubeconfig file, or the in-cluster config when no file exists and we run in a pod."""
    explicit = path is not None or "KUBECONFIG" in os.environ
    file = Path(path) if path is not None else default_path()
    if not file.exists():
        if not explicit and in_cluster_available():
            return load_in_cluster()
        raise ConfigError(f"kubeconfig not found: {file} (set --kubeconfig or KUBECONFIG)")
    try:
        doc = yaml.load(file.read_text(), Loader=yaml.CSafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"kubeconfig {file} is not readable YAML: {exc}") from exc
    return from_dict(doc, context=context, base_dir=file.parent, source=str(file))


def from_dict(
    doc: dict[str, Any], *, context: str | None = None, base_dir: Path | None = None, source: str = "<memory>"
) -> KubeConfig:
    """Resolve one context of a parsed kubeconfig (also used for kubeConfig Secrets)."""
    base = base_dir or Path.cwd()
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        raise ConfigError(f"kubeconfig {source} has no current-context and no --context was given")
    ctx = _named(doc.get("contexts"), ctx_name, "context", source)
    cluster = _named(doc.get("clusters"), ctx.get("cluster", ""), "cluster", source)
    user = _named(doc.get("users"), ctx.get("user", ""), "user", source) if ctx.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise ConfigError(f"kubeconfig {source}: cluster {ctx.get('cluster')!r} has no server")

    def path_of(value: str | None) -> str | None:
        if not value:
            return None
        p = Path(value)
        return str(p if p.is_absolute() else base / p)

    ca_data = cluster.get("certificate-authority-data")
    cert_file = path_of(user.get("client-certificate"))
    key_file = path_of(user.get("client-key"))
    if user.get("client-certificate-data") and user.get("client-key-data"):
        cert_file = _temp_file(base64.b64decode(user["client-certificate-data"]))
        key_file = _temp_file(base64.b64decode(user["client-key-data"]))
    return KubeConfig(
        server=server.rstrip("/"),
        namespace=ctx.get("namespace") or "default",
        token=user.get("token"),
        token_file=path_of(user.get("tokenFile")),
        ca_file=path_of(cluster.get("certificate-authority")),
        ca_data=base64.b64decode(ca_data) if ca_data else None,
        cert_file=cert_file,
        key_file=key_file,
        insecure=bool(cluster.get("insecure-skip-tls-verify")),
        username=user.get("username"),
        password=user.get("password"),
        source=source,
    )


def in_cluster_available() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SA_DIR / "token").exists()


def load_in_cluster() -> KubeConfig:
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if ":" in host:
        host = f"[{host}]"
    ns_file = SA_DIR / "namespace"
    return KubeConfig(
        server=f"https://{host}:{port}",
        namespace=ns_file.read_text().strip() if ns_file.exists() else "default",
        token_file=str(SA_DIR / "token"),
        ca_file=str(SA_DIR / "ca.crt"),
        source="in-cluster",
    )


def _named(items: Any, name: str, what: str, source: str) -> dict[str, Any]:
    for item in items or []:
        if item.get("name") == name:
            value = item.get(what) or {}
            return dict(value)
    raise ConfigError(f"kubeconfig {source}: {what} {name!r} not found")


def _temp_file(data: bytes) -> str:
    fd, name = tempfile.mkstemp(prefix="gotk-kube-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return name
