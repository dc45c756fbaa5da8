"""`flux build artifact` and `flux diff artifact` without a registry: the tarball (entries, default and
custom ignore paths, a single file, stdin, mode 0640, the same bytes `flux push artifact` uploads),
--resolve-symlinks (links to files and directories, cycles, one target linked twice), flux2's flag
errors and messages, and the diff's comparison of the built tar.gz with the remote first layer,
against a stub registry client.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from gotk.cli import diff as diff_cli
from gotk.cli.engines import ociartifact
from gotk.cli.main import main
from gotk.runtime.oci import refs
from gotk.runtime.oci.model import Manifest, NotFoundError
from gotk.source.oci import artifacts
from gotk.testing.golden import assert_golden

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "diff_artifact"
DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n"
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  k: v\n"


def flux(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes = b""
) -> tuple[int, str, str]:
    """Run `flux ARGS…` in-process as the console script does: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["flux", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def members(path: Path) -> list[str]:
    with tarfile.open(path, "r:gz") as tar:
        return [m.name + ("/" if m.isdir() else "") for m in tar.getmembers()]


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return tree(
        tmp_path / "manifests",
        {
            "apps/deploy.yaml": DEPLOY,
            "apps/config.yaml": CONFIG,
            "logo.png": "png",
            "bundle.tar.gz": "tgz",
            ".gitignore": "*.bak\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "notes.txt": "hi\n",
        },
    )


# -- build artifact ------------------------------------------------------------------------------


def test_build_directory_default_ignores(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    out = tmp_path / "artifact.tgz"
    code, stdout, stderr = flux(monkeypatch, capsys, "build", "artifact", "--path", str(manifests), "-o", str(out))
    assert (code, stdout) == (0, "")
    assert stderr == f"► building artifact from {manifests}\n✔ artifact created at {out}\n"
    assert members(out) == ["apps/", "apps/config.yaml", "apps/deploy.yaml", "notes.txt"]
    assert out.stat().st_mode & 0o777 == 0o640
    with tarfile.open(out, "r:gz") as tar:
        for m in tar.getmembers():
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")


def test_build_same_bytes_as_push(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a.tgz"
    assert flux(monkeypatch, capsys, "build", "artifact", "-p", str(manifests), "-o", str(out))[0] == 0
    pushed = tmp_path / "push.tgz"
    artifacts.build(manifests, pushed)  # what `flux push artifact` uploads with its default ignore paths
    assert out.read_bytes() == pushed.read_bytes()
    again = tmp_path / "b.tgz"
    assert flux(monkeypatch, capsys, "build", "artifact", "-p", str(manifests), "-o", str(again))[0] == 0
    assert again.read_bytes() == out.read_bytes()


def test_build_default_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path
) -> None:
    monkeypatch.chdir(manifests.parent)
    code, _, stderr = flux(monkeypatch, capsys, "build", "artifact", "--path=manifests")
    assert code == 0
    assert stderr.endswith("✔ artifact created at artifact.tgz\n")
    assert (manifests.parent / "artifact.tgz").is_file()


def test_build_ignore_paths_replace_and_add(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a.tgz"
    args = ("build", "artifact", "-p", str(manifests), "-o", str(out))
    assert flux(monkeypatch, capsys, *args, "--ignore-paths", "apps/,*.txt", "--ignore-paths=.git/")[0] == 0
    assert members(out) == [".gitignore", "bundle.tar.gz", "logo.png"]
    assert flux(monkeypatch, capsys, *args, "--add-ignore-paths", "notes.txt,apps/config.yaml")[0] == 0
    assert members(out) == ["apps/", "apps/deploy.yaml"]
    assert flux(monkeypatch, capsys, *args, "--ignore-paths=")[0] == 0  # an empty list: nothing is ignored
    assert ".git/HEAD" in members(out) and "logo.png" in members(out)


def test_build_single_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    out = tmp_path / "one.tgz"
    file = manifests / "apps" / "deploy.yaml"
    assert flux(monkeypatch, capsys, "build", "artifact", "-p", str(file), "-o", str(out))[0] == 0
    assert members(out) == ["deploy.yaml"]


def test_build_stdin_trims_trailing_newlines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "stdin.tgz"
    code, _, stderr = flux(
        monkeypatch, capsys, "build", "artifact", "-p", "-", "-o", str(out), stdin=CONFIG.encode() + b"\r\n\n"
    )
    assert code == 0
    first = stderr.splitlines()[0]
    assert first.startswith("► building artifact from ") and first.endswith(".yaml")
    assert not Path(first.removeprefix("► building artifact from ")).exists()  # the temp file is removed
    with tarfile.open(out, "r:gz") as tar:
        [member] = tar.getmembers()
        data = tar.extractfile(member)
        assert data is not None and data.read() == CONFIG.rstrip("\n").encode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), 'invalid path ""'),
        (("--path", ""), 'invalid path ""'),
        (("-p", "missing"), "invalid path 'missing', must point to an existing directory or file"),
        (("--resolve-symlinks=maybe", "-p", "."), 'invalid argument "maybe" for "--resolve-symlinks" flag'),
        (("--nope",), "unknown flag: --nope"),
    ],
)
def test_build_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = flux(monkeypatch, capsys, "build", "artifact", *args)
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"✗ {message}")


def test_build_unwritable_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "no" / "such" / "dir.tgz"
    code, _, stderr = flux(monkeypatch, capsys, "build", "artifact", "-p", str(manifests), "-o", str(dest))
    assert code == 1
    last = stderr.splitlines()[-1]
    assert last.startswith("✗ building artifact failed, error: link error: cannot rename ")
    assert last.endswith(f" {dest}: no such file or directory")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("manifests") and p.name != "manifests"]
    assert leftovers == []  # the temporary tarball beside the source is removed


def test_build_resolve_symlinks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = tree(tmp_path / "real", {"ns.yaml": "kind: Namespace\n", "sub/nested.yaml": "nested\n"})
    links = tmp_path / "links"
    links.mkdir()
    (links / "regular.yaml").write_text(CONFIG)
    (links / "linked.yaml").symlink_to(real / "ns.yaml")
    (links / "linkeddir").symlink_to(real / "sub")
    out = tmp_path / "a.tgz"
    assert flux(monkeypatch, capsys, "build", "artifact", "-p", str(links), "-o", str(out))[0] == 0
    assert members(out) == ["regular.yaml"]  # symlinks are skipped by default
    code, _, stderr = flux(
        monkeypatch, capsys, "build", "artifact", "-p", str(links), "-o", str(out), "--resolve-symlinks"
    )
    assert code == 0
    built_from = stderr.splitlines()[0].removeprefix("► building artifact from ")
    assert built_from != str(links) and not Path(built_from).exists()  # a temporary copy, removed afterwards
    assert members(out) == ["linked.yaml", "linkeddir/", "linkeddir/nested.yaml", "regular.yaml"]


def test_build_resolve_symlinks_broken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    links = tmp_path / "links"
    links.mkdir()
    (links / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    code, _, stderr = flux(monkeypatch, capsys, "build", "artifact", "-p", str(links), "--resolve-symlinks")
    assert code == 1
    assert stderr.startswith(f"✗ resolving symlinks failed: resolving symlink {links / 'dangling.yaml'}: lstat ")
    assert stderr.endswith(": no such file or directory\n")


# -- engine helpers (flux2's build_artifact_test.go cases) ----------------------------------------------


def test_resolve_symlinks_tree(tmp_path: Path) -> None:
    src = tree(tmp_path / "src", {"real.yaml": "kind: Namespace\n", "subdir/nested.yaml": "nested"})
    links = tmp_path / "links"
    links.mkdir()
    (links / "linked.yaml").symlink_to(src / "real.yaml")
    (links / "regular.yaml").write_text("kind: ConfigMap\n")
    (links / "linkeddir").symlink_to(src / "subdir")
    resolved, cleanup = ociartifact.resolve_symlinks(links)
    try:
        assert (resolved / "regular.yaml").read_text() == "kind: ConfigMap\n"
        assert "kind: Namespace" in (resolved / "linked.yaml").read_text()
        assert not (resolved / "linked.yaml").is_symlink()
        assert (resolved / "linkeddir" / "nested.yaml").read_text() == "nested"
        assert not (resolved / "linkeddir").is_symlink()
    finally:
        shutil.rmtree(cleanup)


def test_resolve_symlinks_single_file(tmp_path: Path) -> None:
    real = tmp_path / "manifest.yaml"
    real.write_text("kind: ConfigMap")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    resolved, cleanup = ociartifact.resolve_symlinks(link)
    try:
        assert resolved.is_file() and not resolved.is_symlink()
        assert resolved.name == "link.yaml" and resolved.parent == cleanup
        assert resolved.read_text() == "kind: ConfigMap"
    finally:
        shutil.rmtree(cleanup)


def test_resolve_symlinks_cycle(tmp_path: Path) -> None:
    root = tree(tmp_path / "dir", {"file.yaml": "data"})
    (root / "cycle").symlink_to(root)
    resolved, cleanup = ociartifact.resolve_symlinks(root)
    try:
        assert (resolved / "file.yaml").read_text() == "data"
        assert (resolved / "cycle").is_dir()
        assert not (resolved / "cycle" / "cycle").exists()
    finally:
        shutil.rmtree(cleanup)


def test_resolve_symlinks_same_target_twice(tmp_path: Path) -> None:
    target = tree(tmp_path / "src" / "target", {"file.yaml": "data"})
    links = tmp_path / "links"
    links.mkdir()
    (links / "link1").symlink_to(target)
    (links / "link2").symlink_to(target)
    resolved, cleanup = ociartifact.resolve_symlinks(links)
    try:
        assert (resolved / "link1" / "file.yaml").read_text() == "data"
        assert (resolved / "link2" / "file.yaml").read_text() == "data"
    finally:
        shutil.rmtree(cleanup)


@pytest.mark.parametrize(
    ("ignore", "add", "want"),
    [
        ([], [], None),
        (["foo", "bar"], [], ["foo", "bar"]),
        ([], ["baz"], ["baz"]),
        (["foo", "bar"], ["baz", "qux"], ["foo", "bar", "baz", "qux"]),
        (["foo", "bar"], ["foo"], ["foo", "bar", "foo"]),
        (list(ociartifact.EXCLUDE_OCI), ["my-secrets/"], [*ociartifact.EXCLUDE_OCI, "my-secrets/"]),
    ],
)
def test_compose_ignore_paths(ignore: list[str], add: list[str], want: list[str] | None) -> None:
    assert ociartifact.compose_ignore_paths(ignore, add) == want


def test_exclude_oci_is_flux_default() -> None:
    assert ociartifact.EXCLUDE_OCI == (
        ".git/",
        ".gitignore",
        ".gitmodules",
        ".gitattributes",
        "*.jpg",
        "*.jpeg",
        "*.gif",
        "*.png",
        "*.wmv",
        "*.flv",
        "*.tar.gz",
        "*.zip",
    )


# -- diff artifact -------------------------------------------------------------------------------


class StubRegistry:
    """A RegistryClient stand-in serving one manifest (or raising) for get_manifest."""

    def __init__(self, body: dict[str, Any] | Exception) -> None:
        self.body = body
        self.asked: list[tuple[str, str]] = []

    def get_manifest(self, repository: str, reference: str) -> Manifest:
        self.asked.append((repository, reference))
        if isinstance(self.body, Exception):
            raise self.body
        raw = json.dumps(self.body).encode()
        media_type = str(self.body.get("mediaType", ""))
        return Manifest("sha256:" + hashlib.sha256(raw).hexdigest(), media_type, raw, self.body)


def manifest_for(layer: Path) -> dict[str, Any]:
    data = layer.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.cncf.flux.config.v1+json", "digest": digest, "size": 2},
        "layers": [{"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip", "digest": digest, "size": len(data)}],
    }


@pytest.fixture
def pushed(manifests: Path, tmp_path: Path) -> dict[str, Any]:
    """The manifest of `manifests` pushed with push's defaults."""
    layer = tmp_path / "pushed.tgz"
    artifacts.build(manifests, layer)
    return manifest_for(layer)


def stub(monkeypatch: pytest.MonkeyPatch, body: dict[str, Any] | Exception) -> StubRegistry:
    registry = StubRegistry(body)
    monkeypatch.setattr(diff_cli, "registry_client", lambda *a, **k: registry)
    return registry


def test_diff_no_changes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, pushed: dict[str, Any]
) -> None:
    registry = stub(monkeypatch, pushed)
    code, stdout, stderr = flux(
        monkeypatch, capsys, "diff", "artifact", "oci://registry.example/org/app:v1", f"--path={manifests}"
    )
    assert (code, stdout) == (0, "")
    assert_golden(GOLDEN, "success.golden", stderr)
    assert registry.asked == [("org/app", "v1")]


def test_diff_detects_changes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, pushed: dict[str, Any]
) -> None:
    stub(monkeypatch, pushed)
    (manifests / "apps" / "config.yaml").write_text(CONFIG.replace("k: v", "k: changed"))
    code, stdout, stderr = flux(
        monkeypatch, capsys, "diff", "artifact", "oci://r.example/app:v1", "--path", str(manifests)
    )
    assert (code, stdout) == (1, "")
    assert_golden(GOLDEN, "differs.golden", stderr)


def test_diff_ignore_paths_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, pushed: dict[str, Any]
) -> None:
    stub(monkeypatch, pushed)
    args = ("diff", "artifact", "oci://r.example/app:v1", "--path", str(manifests))
    assert flux(monkeypatch, capsys, *args, "--add-ignore-paths=notes.txt")[0] == 1
    (manifests / "extra.zip").write_text("zip")  # ignored by default, as when pushing
    assert flux(monkeypatch, capsys, *args)[0] == 0


def test_diff_single_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    file = manifests / "apps" / "deploy.yaml"
    layer = tmp_path / "file.tgz"
    artifacts.build(file, layer)
    stub(monkeypatch, manifest_for(layer))
    assert flux(monkeypatch, capsys, "diff", "artifact", "oci://r.example/app", "--path", str(file))[0] == 0


def test_diff_remote_problems(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], manifests: Path, pushed: dict[str, Any]
) -> None:
    args = ("diff", "artifact", "oci://r.example/app:v1", "--path", str(manifests))
    stub(monkeypatch, {**pushed, "layers": []})
    assert flux(monkeypatch, capsys, *args)[1:] == ("", "✗ no layers found in artifact\n")
    stub(monkeypatch, NotFoundError("GET https://r.example/v2/app/manifests/v1: MANIFEST_UNKNOWN: manifest unknown"))
    code, _, stderr = flux(monkeypatch, capsys, *args)
    assert (code, stderr) == (1, "✗ GET https://r.example/v2/app/manifests/v1: MANIFEST_UNKNOWN: manifest unknown\n")


def test_diff_same_size_other_digest(manifests: Path, pushed: dict[str, Any]) -> None:
    layer = pushed["layers"][0]
    changed = {**pushed, "layers": [{**layer, "digest": "sha256:" + "0" * 64}]}
    ref = refs.parse_artifact_url("oci://r.example/app:v1")
    with pytest.raises(ociartifact.ArtifactBuildError, match=ociartifact.DIFFERS):
        ociartifact.diff(StubRegistry(changed), ref, manifests, list(ociartifact.EXCLUDE_OCI))  # type: ignore[arg-type]
    bigger = {**pushed, "layers": [{**layer, "size": layer["size"] + 1}]}
    with pytest.raises(ociartifact.ArtifactBuildError, match=ociartifact.DIFFERS):
        ociartifact.diff(StubRegistry(bigger), ref, manifests, list(ociartifact.EXCLUDE_OCI))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "artifact URL is required"),
        (("oci://r.example/app:v1",), 'invalid path ""'),
        (("r.example/app:v1", "--path", "."), "URL must be in format 'oci://<domain>/<org>/<repo>'"),
        (("oci://r.example/app:v1", "--path", "missing"), "invalid path 'missing', must point to an existing"),
        (
            ("oci://r.example/app:v1", "--path", ".", "--provider", "oci"),
            'invalid argument "oci" for "--provider" flag: source OCI provider \'oci\' is not supported, '
            "must be one of: generic, aws, azure, gcp",
        ),
        (
            ("oci://r.example/app:v1", "--path", ".", "--provider="),
            'invalid argument "" for "--provider" flag: no source OCI provider given, please specify the OCI '
            "provider name",
        ),
    ],
)
def test_diff_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = flux(monkeypatch, capsys, "diff", "artifact", *args)
    assert (code, stdout) == (1, "")
    assert stderr.startswith(f"✗ {message}")


def test_diff_provider_login_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, stderr = flux(monkeypatch, capsys, "diff", "artifact", "oci://r.example/a:1", "--path=.", "--provider=aws")
    assert code == 1
    assert stderr.splitlines()[0] == "► logging in to registry with provider credentials"
    assert stderr.splitlines()[1].startswith("✗ error during login with provider: ")
