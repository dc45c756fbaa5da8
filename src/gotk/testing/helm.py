"""The real Helm CLI (v4.3.1, built by `make setup` into `~/.cache/gotk/bin/helm`) for tests: run
it with an isolated configuration, write chart directories, package and index them into a chart
repository (served with `gotk.testing.chartrepo.ChartRepoServer`) and push charts to an OCI
registry (`gotk.testing.registry.OciRegistry`). Helm is the oracle that the fixtures are real.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from gotk.local.controlplane import DEFAULT_BIN_DIR

__all__ = [
    "DEFAULT_TEMPLATE",
    "DEPLOYMENT_TEMPLATE",
    "HelmError",
    "helm_binary",
    "package",
    "push",
    "registry_login",
    "repo_index",
    "run",
    "write_chart",
]

# One ConfigMap whose data are the top-level values (strings as they are, anything else as JSON).
DEFAULT_TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  labels:
    app.kubernetes.io/name: {{ .Chart.Name }}
    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
    helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
data:
  {{- range $key, $value := .Values }}
  {{ $key }}: {{ if kindIs "string" $value }}{{ $value | quote }}{{ else }}{{ $value | toJson | quote }}{{ end }}
  {{- end }}
"""
# One Deployment named after the release (kwok runs its pod), one replica of podinfo 6.0.0; `.Values.rev` labels
# its pods and `.Values.nodeSelector` places them (one that matches no node keeps a waiting upgrade waiting).
DEPLOYMENT_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels: {app: "{{ .Release.Name }}"}
  template:
    metadata:
      labels: {app: "{{ .Release.Name }}"{{ with .Values.rev }}, rev: "{{ . }}"{{ end }}}
    spec:
      {{- with .Values.nodeSelector }}
      nodeSelector: {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: app
          image: ghcr.io/stefanprodan/podinfo:6.0.0
"""
_HELM_DIRS = ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME")
_DIGEST = re.compile(r"^Digest:\s*(sha256:[0-9a-f]{64})\s*$", re.MULTILINE)
_SAVED = re.compile(r"saved it to:\s*(\S+\.tgz)\s*$", re.MULTILINE)


class HelmError(RuntimeError):
    """helm exited non-zero; the message has the command, exit code and helm's stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(f"`helm {' '.join(args)}` exited {returncode}:\n{stderr.strip() or stdout.strip()}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def helm_binary() -> Path:
    """`<GOTK_CACHE or ~/.cache/gotk>/bin/helm`; RuntimeError when it has not been built."""
    path = DEFAULT_BIN_DIR / "helm"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise RuntimeError(f"helm not found at {path}: run `make setup` (scripts/build-controlplane.sh) to build it")
    return path


def _environ(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    for var, sub in zip(_HELM_DIRS, ("config", "cache", "data"), strict=True):
        env[var] = str(home / sub)
    env["HELM_REGISTRY_CONFIG"] = str(home / "registry" / "config.json")
    env["HELM_REPOSITORY_CONFIG"] = str(home / "config" / "repositories.yaml")
    env["HELM_REPOSITORY_CACHE"] = str(home / "cache" / "repository")
    return env


@contextlib.contextmanager
def _home(home: Path | None) -> Iterator[Path]:
    """`home` (created), or a fresh temporary directory removed on exit."""
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        yield home
        return
    with tempfile.TemporaryDirectory(prefix="gotk-helm-") as tmp:
        yield Path(tmp)


def run(
    *args: str, home: Path | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `helm ARGS` with its config, cache, data and registry credentials under `home` (a fresh
    temporary directory, removed afterwards, when None); HelmError with helm's stderr on failure."""
    binary = str(helm_binary())
    with _home(home) as where:
        env = _environ(where)
        proc = subprocess.run([binary, *args], input=input, capture_output=True, text=True, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise HelmError(args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)


def write_chart(
    root: Path,
    name: str,
    version: str = "0.1.0",
    *,
    app_version: str = "1.0.0",
    values: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
    dependencies: Sequence[Mapping[str, Any]] | None = None,
    extra_files: Mapping[str, str] | None = None,
) -> Path:
    """Write the chart directory `root/name` and return it.

    Chart.yaml is apiVersion v2 (type application) with `dependencies` when given; values.yaml
    holds `values` (default `{"greeting": "hello"}`); `templates` (file name -> text) replaces
    the default `templates/configmap.yaml` (`DEFAULT_TEMPLATE`); `extra_files` (path relative
    to the chart -> text) adds anything else, e.g. `.helmignore`, `README.md` or `charts/...`.
    """
    chart = Path(root) / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "apiVersion": "v2",
        "name": name,
        "description": f"A gotk test chart ({name})",
        "type": "application",
        "version": version,
        "appVersion": app_version,
    }
    if dependencies:
        meta["dependencies"] = [dict(d) for d in dependencies]
    (chart / "Chart.yaml").write_text(_dump(meta))
    (chart / "values.yaml").write_text(_dump(values if values is not None else {"greeting": "hello"}))
    for file_name, text in (templates if templates is not None else {"configmap.yaml": DEFAULT_TEMPLATE}).items():
        (chart / "templates" / file_name).write_text(text)
    for rel, text in (extra_files or {}).items():
        path = chart / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return chart


def package(
    chart_dir: Path,
    dest: Path,
    *,
    version: str | None = None,
    app_version: str | None = None,
    dependency_update: bool = False,
    home: Path | None = None,
) -> Path:
    """`helm package CHART -d DEST` (overriding the version and appVersion when given, running
    `--dependency-update` when asked); returns the path of the `.tgz`."""
    dest.mkdir(parents=True, exist_ok=True)
    args = ["package", str(chart_dir), "--destination", str(dest)]
    if version is not None:
        args += ["--version", version]
    if app_version is not None:
        args += ["--app-version", app_version]
    if dependency_update:
        args.append("--dependency-update")
    proc = run(*args, home=home)
    found = _SAVED.search(proc.stdout)
    if found is None:
        raise HelmError(args, 0, proc.stdout, f"no 'saved it to:' line in helm's output\n{proc.stderr}")
    return Path(found.group(1))


def repo_index(repo_dir: Path, url: str | None = None, *, merge: Path | None = None) -> Path:
    """`helm repo index REPO_DIR [--url URL] [--merge INDEX]`; returns `REPO_DIR/index.yaml`."""
    args = ["repo", "index", str(repo_dir)]
    if url is not None:
        args += ["--url", url]
    if merge is not None:
        args += ["--merge", str(merge)]
    run(*args)
    return Path(repo_dir) / "index.yaml"


def _tls_args(plain_http: bool, ca_file: Path | None) -> list[str]:
    args = ["--plain-http"] if plain_http else []
    return args + (["--ca-file", str(ca_file)] if ca_file is not None else [])


def registry_login(
    host: str, username: str, password: str, *, home: Path, plain_http: bool = True, ca_file: Path | None = None
) -> None:
    """`helm registry login HOST` (password on stdin); the credentials land under `home`."""
    args = ["registry", "login", host, "--username", username, "--password-stdin", *_tls_args(plain_http, ca_file)]
    run(*args, home=home, input=password)


def push(
    tgz: Path,
    oci_repo: str,
    *,
    plain_http: bool = True,
    username: str | None = None,
    password: str | None = None,
    home: Path | None = None,
    ca_file: Path | None = None,
) -> str:
    """`helm push TGZ oci://HOST/PATH` (after `helm registry login` when credentials are given);
    returns the pushed manifest digest (`sha256:...`). The chart lands at `PATH/<chart name>`."""
    url = oci_repo if oci_repo.startswith("oci://") else f"oci://{oci_repo}"
    with _home(home) as where:
        if username is not None:
            host = url.removeprefix("oci://").split("/", 1)[0]
            registry_login(host, username, password or "", home=where, plain_http=plain_http, ca_file=ca_file)
        proc = run("push", str(tgz), url, *_tls_args(plain_http, ca_file), home=where)
    found = _DIGEST.search(proc.stdout + "\n" + proc.stderr)
    if found is None:
        raise HelmError(["push", str(tgz), url], 0, proc.stdout, f"no 'Digest:' line in helm's output\n{proc.stderr}")
    return found.group(1)
