"""The Helm test fixtures against the real Helm CLI: charts written by `gotk.testing.helm` render
and package, `ChartRepoServer` serves them as a chart repository that `helm pull` accepts (plain,
Basic auth, TLS), and charts pushed to the test OCI registry pull back by digest.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gotk.local.processes import LOOPBACK
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.registry import OciRegistry

USER, PASSWORD = "chart-user", "s3cret-pw"


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """A repository directory holding podinfo 0.1.0 and 0.2.0 (not yet indexed)."""
    chart = helm.write_chart(tmp_path / "src", "podinfo", values={"greeting": "hi", "replicas": 2})
    repo = tmp_path / "repo"
    helm.package(chart, repo)
    helm.package(chart, repo, version="0.2.0", app_version="2.0.0")
    return repo


@pytest.fixture
def served(repo_dir: Path) -> Iterator[ChartRepoServer]:
    with ChartRepoServer(repo_dir) as server:
        helm.repo_index(repo_dir, server.url)
        yield server


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty directory for `helm pull --destination` (which does not create it)."""
    path = tmp_path / "pulled"
    path.mkdir()
    return path


def _get(url: str, *, auth: tuple[str, str] | None = None, ctx: ssl.SSLContext | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url)
    if auth is not None:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5, context=ctx) as resp:
            return int(resp.status), resp.headers.get("Content-Type", ""), bytes(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("WWW-Authenticate", ""), b""


def test_helm_is_the_pinned_version() -> None:
    assert helm.run("version", "--template", "{{ .Version }}").stdout.strip() == "v4.3.1"


def test_written_chart_renders_one_configmap(tmp_path: Path) -> None:
    chart = helm.write_chart(tmp_path, "demo", "1.2.3", values={"greeting": "hello", "nested": {"a": 1}})
    rendered = helm.run("template", "rel", str(chart)).stdout
    (configmap,) = [d for d in yaml.safe_load_all(rendered) if d]
    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["name"] == "rel-demo"
    assert configmap["data"] == {"greeting": "hello", "nested": '{"a":1}'}
    assert helm.run("show", "chart", str(chart)).stdout.count("version: 1.2.3") == 1


def test_custom_templates_and_extra_files(tmp_path: Path) -> None:
    chart = helm.write_chart(
        tmp_path,
        "custom",
        templates={"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\n"},
        extra_files={".helmignore": "*.bak\n", "README.md": "# custom\n"},
    )
    assert not (chart / "templates" / "configmap.yaml").exists()
    (secret,) = [d for d in yaml.safe_load_all(helm.run("template", "x", str(chart)).stdout) if d]
    assert secret["kind"] == "Secret"
    assert helm.run("show", "readme", str(chart)).stdout.strip() == "# custom"


def test_repository_serves_index_and_charts(served: ChartRepoServer, repo_dir: Path) -> None:
    status, content_type, body = _get(f"{served.url}/index.yaml")
    assert (status, content_type) == (200, "application/x-yaml")
    entries = yaml.safe_load(body)["entries"]["podinfo"]
    assert sorted(e["version"] for e in entries) == ["0.1.0", "0.2.0"]
    newest = next(e for e in entries if e["version"] == "0.2.0")
    assert newest["appVersion"] == "2.0.0"
    assert newest["urls"] == [f"{served.url}/podinfo-0.2.0.tgz"]

    status, content_type, tgz = _get(newest["urls"][0])
    assert (status, content_type) == (200, "application/gzip")
    assert tgz == (repo_dir / "podinfo-0.2.0.tgz").read_bytes()
    assert hashlib.sha256(tgz).hexdigest() == newest["digest"]
    assert _get(f"{served.url}/missing-1.0.0.tgz")[0] == 404
    assert ("GET", "/index.yaml", 200) in served.requests
    assert ("GET", "/podinfo-0.2.0.tgz", 200) in served.requests


@pytest.mark.parametrize("path", ["/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "//etc/passwd", "/"])
def test_paths_outside_the_root_are_not_found(served: ChartRepoServer, path: str) -> None:
    conn = http.client.HTTPConnection(LOOPBACK, served.port, timeout=5)
    try:
        conn.request("GET", path)
        assert conn.getresponse().status == 404
    finally:
        conn.close()


def test_helm_pulls_from_the_repository(served: ChartRepoServer, out: Path) -> None:
    helm.run("pull", "--repo", served.url, "podinfo", "--version", "0.1.0", "--destination", str(out))
    assert (out / "podinfo-0.1.0.tgz").is_file()
    shown = yaml.safe_load(helm.run("show", "chart", f"{served.url}/podinfo-0.2.0.tgz").stdout)
    assert (shown["name"], shown["version"], shown["appVersion"]) == ("podinfo", "0.2.0", "2.0.0")


def test_index_merge_keeps_older_entries(served: ChartRepoServer, repo_dir: Path, tmp_path: Path) -> None:
    chart = helm.write_chart(tmp_path / "other", "other", "3.0.0")
    new_dir = tmp_path / "new"
    helm.package(chart, new_dir)
    index = helm.repo_index(new_dir, served.url, merge=repo_dir / "index.yaml")
    assert sorted(yaml.safe_load(index.read_text())["entries"]) == ["other", "podinfo"]


def test_basic_auth(repo_dir: Path, out: Path) -> None:
    with ChartRepoServer(repo_dir, username=USER, password=PASSWORD) as server:
        helm.repo_index(repo_dir, server.url)
        assert _get(f"{server.url}/index.yaml") == (401, 'Basic realm="gotk"', b"")
        assert _get(f"{server.url}/index.yaml", auth=(USER, "wrong"))[0] == 401
        assert _get(f"{server.url}/index.yaml", auth=(USER, PASSWORD))[0] == 200
        creds = ("--username", USER, "--password", PASSWORD)
        helm.run("pull", "--repo", server.url, "podinfo", "--version", "0.2.0", *creds, "--destination", str(out))
        assert (out / "podinfo-0.2.0.tgz").is_file()
        with pytest.raises(helm.HelmError, match="401"):
            helm.run("pull", "--repo", server.url, "podinfo", "--destination", str(out))
        assert ("GET", "/podinfo-0.2.0.tgz", 200) in server.requests


def test_tls(repo_dir: Path, tmp_path: Path, out: Path) -> None:
    with ChartRepoServer(repo_dir, tls=True) as server:
        assert server.url.startswith(f"https://{LOOPBACK}:")
        helm.repo_index(repo_dir, server.url)
        ctx = ssl.create_default_context(cadata=server.ca_pem.decode())
        status, _, body = _get(f"{server.url}/podinfo-0.1.0.tgz", ctx=ctx)
        assert status == 200 and body == (repo_dir / "podinfo-0.1.0.tgz").read_bytes()
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"{server.url}/index.yaml", timeout=5)
        ca = tmp_path / "ca.pem"
        ca.write_bytes(server.ca_pem)
        helm.run("pull", "--repo", server.url, "podinfo", "--ca-file", str(ca), "--destination", str(out))
        assert (out / "podinfo-0.2.0.tgz").is_file()  # the newest without --version


def test_push_to_oci_registry_and_pull_back(repo_dir: Path, tmp_path: Path, out: Path) -> None:
    with OciRegistry(tmp_path / "registry") as registry:
        digest = helm.push(repo_dir / "podinfo-0.1.0.tgz", f"oci://{registry.host}/charts")
        assert digest.startswith("sha256:")
        ref = f"oci://{registry.host}/charts/podinfo"
        pulled = helm.run("pull", ref, "--version", "0.1.0", "--plain-http", "--destination", str(out))
        assert f"Digest: {digest}" in pulled.stdout + pulled.stderr
        assert (out / "podinfo-0.1.0.tgz").read_bytes() == (repo_dir / "podinfo-0.1.0.tgz").read_bytes()


def test_push_with_credentials(repo_dir: Path, tmp_path: Path) -> None:
    with OciRegistry(tmp_path / "registry", username=USER, password=PASSWORD) as registry:
        tgz = repo_dir / "podinfo-0.2.0.tgz"
        with pytest.raises(helm.HelmError):
            helm.push(tgz, f"{registry.host}/charts")
        digest = helm.push(tgz, f"{registry.host}/charts", username=USER, password=PASSWORD)
        home = tmp_path / "helm-home"
        helm.registry_login(registry.host, USER, PASSWORD, home=home)
        shown = helm.run("show", "chart", f"oci://{registry.host}/charts/podinfo@{digest}", "--plain-http", home=home)
        assert yaml.safe_load(shown.stdout)["version"] == "0.2.0"
