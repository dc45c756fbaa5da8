"""What `flux build artifact` and `flux diff artifact` do, with no click in it (flux2's
cmd/flux/build_artifact.go and diff_artifact.go, fluxcd/pkg oci's Build and Diff).

The tarball itself is `gotk.source.oci.artifacts.build`, the same bytes `flux push artifact` uploads,
so a diff against an artifact gotk pushed compares like with like: the sha256 and size of the locally
built tar.gz against the digest and size of the remote artifact's first layer.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from gotk.runtime.oci import refs
from gotk.runtime.oci.client import RegistryClient
from gotk.source.oci import artifacts

__all__ = [
    "DIFFERS",
    "EXCLUDE_OCI",
    "ArtifactBuildError",
    "build",
    "compose_ignore_paths",
    "diff",
    "go_error",
    "resolve_symlinks",
    "save_stdin",
]

EXCLUDE_OCI: Final[tuple[str, ...]] = artifacts.DEFAULT_IGNORE_PATHS
"""The `--ignore-paths` default of the artifact commands: the VCS files and the binary/archive extensions."""

DIFFERS: Final = "the remote artifact contents differs from the local one"


class ArtifactBuildError(Exception):
    """Building or comparing an artifact failed; the message is the one flux prints."""


def go_error(op: str, path: str | os.PathLike[str], exc: OSError) -> str:
    """An OSError as Go's *PathError prints it: `op path: no such file or directory`."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"{op} {os.fspath(path)}: {reason[:1].lower()}{reason[1:]}"


def compose_ignore_paths(ignore_paths: Sequence[str], add_ignore_paths: Sequence[str]) -> list[str] | None:
    """--ignore-paths (which replaces the defaults) followed by --add-ignore-paths; None when both are empty."""
    if not ignore_paths and not add_ignore_paths:
        return None
    return [*ignore_paths, *add_ignore_paths]


def save_stdin(data: bytes) -> Path:
    """`--path -`: stdin, trailing CR/LF trimmed, in a new temporary `*.yaml` file the caller removes."""
    fd, name = tempfile.mkstemp(prefix="", suffix=".yaml")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data.rstrip(b"\r\n"))
    return Path(name)


def _real(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        raise ArtifactBuildError(f"resolving symlink {path}: {go_error('lstat', exc.filename or path, exc)}") from None


def _copy_file(src: Path, dst: Path) -> None:
    mode = stat.S_IMODE(src.stat().st_mode)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as fin:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout)


def _copy_dir(src: Path, dst: Path, visited: set[Path]) -> None:
    real = _real(src).absolute()
    if real in visited:
        return  # a symlink cycle: the directory is there, its contents are not repeated
    visited.add(real)
    try:
        for name in sorted(os.listdir(src)):
            src_path, dst_path = src / name, dst / name
            target = _real(src_path)
            try:
                info = target.stat()
            except OSError as exc:
                raise ArtifactBuildError(f"stat resolved path {target}: {go_error('stat', target, exc)}") from None
            if stat.S_ISDIR(info.st_mode):
                dst_path.mkdir(mode=stat.S_IMODE(info.st_mode), parents=True, exist_ok=True)
                _copy_dir(target, dst_path, visited)
            elif stat.S_ISREG(info.st_mode):
                _copy_file(target, dst_path)
    finally:
        visited.discard(real)


def resolve_symlinks(src: Path) -> tuple[Path, Path]:
    """`--resolve-symlinks`: a temporary copy of `src` with every symlink replaced by what it points to.

    Returns the path to build (the copy, or the copied file when `src` is one) and the temporary
    directory to remove. Symlink cycles are cut: a link back to an ancestor becomes an empty directory.
    """
    abs_path = src.absolute()
    try:
        is_dir = stat.S_ISDIR(abs_path.stat().st_mode)
    except OSError as exc:
        raise ArtifactBuildError(go_error("stat", abs_path, exc)) from None
    if not is_dir:
        try:
            resolved = Path(os.path.realpath(abs_path, strict=True))
        except OSError as exc:
            raise ArtifactBuildError(
                f"resolving symlink for {abs_path}: {go_error('lstat', exc.filename or abs_path, exc)}"
            ) from None
    tmp = Path(tempfile.mkdtemp(prefix="flux-artifact-"))
    try:
        if not is_dir:
            dst = tmp / abs_path.name
            _copy_file(resolved, dst)
            return dst, tmp
        _copy_dir(abs_path, tmp, set())
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ArtifactBuildError(go_error("open", exc.filename or abs_path, exc)) from None
    except ArtifactBuildError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, tmp


def _build_to(dest: Path, source: Path, ignore_paths: Sequence[str] | None) -> None:
    """fluxcd/pkg oci's build: tar.gz `source` into a temp file beside it, mode 0640, renamed to `dest`."""
    abs_src = source.absolute()
    if not abs_src.exists():
        raise ArtifactBuildError(f"source path does not exist: {abs_src}")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=abs_src.name, dir=abs_src.parent)
    except OSError as exc:
        raise ArtifactBuildError(go_error("open", abs_src.parent / f"{abs_src.name}*", exc)) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        artifacts.build(abs_src, tmp, list(ignore_paths or ()))
        tmp.chmod(0o640)
        try:
            os.replace(tmp, dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise ArtifactBuildError(
                    f"link error: cannot rename {tmp} to {dest}: {go_error('rename', f'{tmp} {dest}', exc)}"
                ) from None
            shutil.move(tmp, dest)
    except artifacts.ArtifactError as exc:
        raise ArtifactBuildError(str(exc)) from None
    except OSError as exc:
        raise ArtifactBuildError(go_error("open", exc.filename or abs_src, exc)) from None
    finally:
        tmp.unlink(missing_ok=True)


def build(output: Path, source: Path, ignore_paths: Sequence[str] | None) -> None:
    """`flux build artifact`: write the artifact tar.gz of `source` (a directory or a file) to `output`."""
    try:
        _build_to(output, source, ignore_paths)
    except ArtifactBuildError as exc:
        raise ArtifactBuildError(f"building artifact failed, error: {exc}") from None


def _digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest(), path.stat().st_size


def diff(client: RegistryClient, ref: refs.Reference, source: Path, ignore_paths: Sequence[str] | None) -> None:
    """`flux diff artifact`: raise ArtifactBuildError(DIFFERS) unless the tar.gz built from `source` is
    the remote artifact's first layer (same sha256, same size). Registry errors propagate."""
    with tempfile.TemporaryDirectory(prefix="ocibuild") as tmp:
        layer = Path(tmp, "artifact.tgz")
        try:
            _build_to(layer, source, ignore_paths)
        except ArtifactBuildError as exc:
            raise ArtifactBuildError(f"building artifact failed: {exc}") from None
        digest, size = _digest(layer)
    manifest = client.get_manifest(ref.repository, ref.identifier)
    if manifest.is_index:
        raise ArtifactBuildError(f"no child with platform linux/amd64 in index {ref}")
    layers = manifest.layers
    if not layers:
        raise ArtifactBuildError("no layers found in artifact")
    if layers[0].digest != digest or layers[0].size != size:
        raise ArtifactBuildError(DIFFERS)
