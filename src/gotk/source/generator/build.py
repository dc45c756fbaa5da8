"""Building one generated artifact's content, with Flux's source-watcher semantics: copy operations from the
sources' extracted trees into a staging directory (cp-like: `dir/` copies the directory, `dir/**` its
contents, a destination with a trailing slash is a directory), `exclude` globs, and the strategies
`Overwrite`, `Merge` (YAML, Helm's values merge: maps deep, everything else replaced) and `Extract`
(tarballs). Globs follow Go: `path.Match` for `from` (so `**` is one segment, as Go's `fs.Glob` reads it)
and doublestar for `exclude` and for `from` with `Extract`. `content_hash` is Flux's file name digest.

Blocking file work; the reconciler runs it in a thread. Errors are `BuildError` with Flux's messages.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import yaml

from gotk.gocompat import yaml as goyaml
from gotk.runtime import artifacts

__all__ = ["BuildError", "CopyOp", "apply_copies", "content_hash", "doublestar_match", "go_match"]

_TARBALLS: Final = (".tar.gz", ".tgz")


class BuildError(ValueError):
    """A copy operation cannot be applied (bad pattern, missing file, unreadable YAML or tarball)."""


@dataclass(frozen=True)
class CopyOp:
    """One `copy` entry of an output artifact."""

    from_: str
    to: str
    exclude: tuple[str, ...] = ()
    strategy: str = "Overwrite"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> CopyOp:
        return cls(
            str(spec.get("from") or ""),
            str(spec.get("to") or ""),
            tuple(str(p) for p in spec.get("exclude") or ()),
            str(spec.get("strategy") or "Overwrite"),
        )


# -- glob matching ----------------------------------------------------------------------------------


def _class(pattern: str, i: int, negations: str) -> tuple[str, int]:
    """A `[...]` character class at `i` as a regex class; returns it and the index after `]`."""
    j = i + 1
    out = "["
    if j < len(pattern) and pattern[j] in negations:
        out += "^"
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        raise BuildError(f"syntax error in pattern '{pattern}'")  # `[]…]` is a bad pattern in Go and doublestar
    first = True
    while j < len(pattern) and (pattern[j] != "]" or first):
        ch = pattern[j]
        if ch == "\\" and j + 1 < len(pattern):
            out += re.escape(pattern[j + 1])
            j += 2
        else:
            out += "\\" + ch if ch in "[]^\\" else ch
            j += 1
        first = False
    if j >= len(pattern):
        raise BuildError(f"syntax error in pattern '{pattern}'")
    return out + "]", j + 1


def _go_class(pattern: str, i: int) -> tuple[str, int]:
    """A `[...]` class at `i` with Go's `path.Match` rules (`]` or `-` unescaped as a bound is a bad pattern)."""
    j, out, ranges = i + 1, "[", 0
    if j < len(pattern) and pattern[j] == "^":
        out, j = "[^", j + 1

    def bound(k: int) -> tuple[str, int]:
        if k >= len(pattern) or pattern[k] in "-]":
            raise BuildError(f"syntax error in pattern '{pattern}'")
        if pattern[k] == "\\":
            if k + 1 >= len(pattern):
                raise BuildError(f"syntax error in pattern '{pattern}'")
            return pattern[k + 1], k + 2
        return pattern[k], k + 1

    while True:
        if j < len(pattern) and pattern[j] == "]" and ranges > 0:
            return out + "]", j + 1
        lo, j = bound(j)
        hi = lo
        if j < len(pattern) and pattern[j] == "-":
            hi, j = bound(j + 1)
            if hi < lo:
                raise BuildError(f"syntax error in pattern '{pattern}'")
        out += re.escape(lo) + ("-" + re.escape(hi) if hi != lo else "")
        ranges += 1


def _segment(pattern: str, *, negations: str, braces: bool) -> str:
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            cls, i = _go_class(pattern, i) if negations == "^" else _class(pattern, i, negations)
            out += cls
            continue
        elif ch == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 1
        elif ch == "{" and braces:
            end = pattern.find("}", i)
            if end < 0:
                raise BuildError(f"syntax error in pattern '{pattern}'")
            alternatives = pattern[i + 1 : end].split(",")
            out += "(?:" + "|".join(_segment(a, negations=negations, braces=False) for a in alternatives) + ")"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def go_match(pattern: str, name: str) -> bool:
    """Go's `path.Match` for one name (no `/` in either); a bad pattern matches nothing, as in Go."""
    try:
        return re.fullmatch(_segment(pattern, negations="^", braces=False), name) is not None
    except BuildError:
        return False


def _check_go_pattern(pattern: str) -> None:
    """Raise BuildError for a pattern Go's `fs.Glob` refuses, before any directory is read."""
    for part in pattern.split("/"):
        _segment(part, negations="^", braces=False)


def _doublestar_regex(pattern: str) -> re.Pattern[str]:
    segments: list[str] = []
    for seg in pattern.split("/"):
        if seg == "**" and segments and segments[-1] == "**":
            continue  # `**/**` is one `**`
        segments.append(seg)
    out, need_slash = "", False
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            if last:
                out += "(?:/.*)?" if i > 0 else ".*"
            else:
                out += ("/" if need_slash else "") + "(?:.*/)?"
                need_slash = False
            continue
        out += ("/" if need_slash else "") + _segment(seg, negations="!^", braces=True)
        need_slash = True
    return re.compile(out)


def _expand_braces(pattern: str) -> list[str]:
    """`{a,b}` alternatives expanded (nested ones too, `/` allowed inside), as doublestar reads them."""
    start, i = -1, 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "{":
            start = i
            break
        i += 1
    if start < 0:
        return [pattern]
    depth, parts, last, escaped = 0, [], start + 1, False
    for i in range(start, len(pattern)):
        ch = pattern[i]
        if escaped:
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                parts.append(pattern[last:i])
                head, tail = pattern[:start], pattern[i + 1 :]
                return [e for part in parts for e in _expand_braces(head + part + tail)]
        elif ch == "," and depth == 1:
            parts.append(pattern[last:i])
            last = i + 1
    raise BuildError(f"syntax error in pattern '{pattern}'")


def doublestar_match(pattern: str, path: str) -> bool:
    """doublestar's `Match`: `**` is any number of directories, `{a,b}` alternatives, `[!x]` negation."""
    try:
        expanded = _expand_braces(pattern)
    except BuildError:
        return False
    for candidate in expanded:
        if candidate.endswith("/**/"):
            candidate = candidate[:-1]
        try:
            if _doublestar_regex(candidate).fullmatch(path) is not None:
                return True
        except (BuildError, re.error):
            return False
    return False


def _has_meta(text: str) -> bool:
    return any(c in text for c in "*?[]")


def _sorted_entries(directory: Path) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except (NotADirectoryError, FileNotFoundError):
        return []


def go_glob(root: Path, pattern: str) -> list[str]:
    """Go's `fs.Glob` over `root`: matches as slash paths relative to it, in Go's order."""
    directory, _, name = pattern.rpartition("/")
    if not _has_meta(directory):
        base = root / directory if directory else root
        return [f"{directory}/{e}" if directory else e for e in _sorted_entries(base) if go_match(name, e)]
    out: list[str] = []
    for d in go_glob(root, directory):
        if (root / d).is_dir():
            out.extend(f"{d}/{e}" for e in _sorted_entries(root / d) if go_match(name, e))
    return out


def doublestar_glob(root: Path, pattern: str) -> list[str]:
    """doublestar's `Glob` over `root` (every path, files and directories, the pattern matches)."""
    _expand_braces(pattern)  # a malformed pattern is refused before anything is read
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        for name in sorted([*dirnames, *filenames]):
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if doublestar_match(pattern, rel):
                found.append(rel)
    return sorted(found)


# -- excludes ---------------------------------------------------------------------------------------


def _excluded_by(path: str, patterns: Sequence[str]) -> bool:
    name = PurePosixPath(path).name
    return any(doublestar_match(p, path) or ("/" not in p and doublestar_match(p, name)) for p in patterns)


def should_exclude(path: str, base: str, patterns: Sequence[str]) -> bool:
    """Flux's shouldExcludePath: the path relative to the source root, or to the non-glob prefix of `from`."""
    if not patterns:
        return False
    if _excluded_by(path, patterns):
        return True
    base = os.path.normpath(base)
    clean = os.path.normpath(path)
    if base in (".", ""):
        rel = clean
    else:
        rel = os.path.relpath(clean, base)
        if rel == ".." or rel.startswith("../"):
            return False
    if rel in (".", clean):
        return False
    return _excluded_by(rel, patterns)


def _selection_root(pattern: str) -> str:
    parts = []
    for part in os.path.normpath(pattern).split("/"):
        if _has_meta(part):
            break
        parts.append(part)
    return "/".join(parts) if parts else "."


# -- copying ----------------------------------------------------------------------------------------


def _inside(root: Path, rel: str) -> Path:
    """`root/rel`, refused when it leaves `root` (Go's os.Root does the same)."""
    target = (root / rel).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise BuildError(f"path '{rel}' escapes from parent")
    return target


class _ValuesLoader(goyaml.CLoader):
    """go-yaml v2's scalars (`y` is true, `1:20` a sexagesimal string) with map keys kept as written, as
    sigs.k8s.io/yaml's YAML-to-JSON conversion leaves them."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                key_node.value if isinstance(key_node, yaml.ScalarNode) else self.construct_object(key_node, deep=True)
            )
            out[key] = self.construct_object(value_node, deep=deep)
        return out


def _construct_map(loader: _ValuesLoader, node: yaml.Node) -> dict[Any, Any]:
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


_ValuesLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _load_yaml(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        for doc in yaml.load_all(path.read_text(), Loader=_ValuesLoader):  # as sigs.k8s.io/yaml reads it
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise BuildError(f"cannot unmarshal YAML document: {path.name} is not a map")
            out = merge_maps(out, doc)
    except yaml.YAMLError as exc:
        raise BuildError(f"error reading YAML document: {exc}") from None
    return out


def merge_maps(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's values merge: maps merge deeply, anything else (lists included) replaces."""
    out = dict(base)
    for key, value in overlay.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


def _copy_file(op: CopyOp, src: Path, dest: Path) -> None:
    if op.strategy == "Merge" and dest.exists():
        merged = merge_maps(_load_yaml(dest), _load_yaml(src))
        dest.write_text(goyaml.dump(merged))
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    shutil.copyfile(src, dest)
    dest.chmod(src.stat().st_mode & 0o777)


def _copy_tree(op: CopyOp, src_root: Path, src_rel: str, dest: Path, exclude_base: str) -> None:
    src = src_root / src_rel
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = Path(dirpath).relative_to(src_root).as_posix()
        keep = []
        for d in sorted(dirnames):
            rel = d if rel_dir == "." else f"{rel_dir}/{d}"
            if should_exclude(rel, exclude_base, op.exclude):
                continue
            (dest / os.path.relpath(rel, src_rel)).mkdir(parents=True, exist_ok=True)
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            if should_exclude(rel, exclude_base, op.exclude):
                continue
            path = src_root / rel
            if path.is_symlink() and not path.resolve().is_relative_to(src_root.resolve()):
                raise BuildError(f"path '{rel}' escapes from parent")
            _copy_file(CopyOp(op.from_, op.to), path, dest / os.path.relpath(rel, src_rel))


def _copy_entry(op: CopyOp, src_root: Path, rel: str, dest: Path, exclude_base: str) -> None:
    if (src_root / rel).is_dir():
        _copy_tree(op, src_root, rel, dest, exclude_base)
    else:
        _copy_file(op, _inside(src_root, rel), dest)


def _extract(src: Path, dest: Path) -> None:
    """Extract a tarball over `dest`, beside and over what it holds (safely: into a fresh directory first)."""
    dest.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest.parent))
    try:
        artifacts.safe_extract(src, fresh / "x", max_size=None)
        shutil.copytree(fresh / "x", dest, dirs_exist_ok=True, symlinks=True)
    except (artifacts.ArtifactError, OSError, tarfile.TarError) as exc:
        raise BuildError(f"failed to extract tarball '{src.name}': {exc}") from None
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _is_tarball(path: str) -> bool:
    return path.lower().endswith(_TARBALLS)


def _apply(op: CopyOp, sources: Mapping[str, Path], staging: Path) -> None:
    if not op.from_.startswith("@"):
        raise BuildError(f"invalid copy source '{op.from_}': source must start with '@'")
    if "/" not in op.from_:
        raise BuildError(f"invalid copy source '{op.from_}': source format must be '@alias/pattern'")
    alias, pattern = op.from_[1:].split("/", 1)
    if not op.to.startswith("@artifact/"):
        raise BuildError(f"invalid copy destination '{op.to}': destination must start with '@artifact/'")
    dest_rel = op.to.removeprefix("@artifact/")
    root = sources.get(alias)
    if root is None:
        raise BuildError(f"source alias '{alias}' not found")
    for p in op.exclude:
        try:
            _doublestar_regex(p)
        except (BuildError, re.error):
            raise BuildError(f"invalid exclude pattern '{p}'") from None
    dest_dir = _inside(staging, dest_rel) if dest_rel else staging.resolve()
    if not _has_meta(pattern):
        _apply_single(op, root, os.path.normpath(pattern) if pattern else ".", staging, dest_rel, dest_dir)
        return
    try:
        if op.strategy != "Extract":
            _check_go_pattern(pattern)
        matches = doublestar_glob(root, pattern) if op.strategy == "Extract" else go_glob(root, pattern)
    except BuildError as exc:
        raise BuildError(f"invalid glob pattern '{pattern}': {exc}") from None
    if not matches:
        raise BuildError(f"no files match pattern '{pattern}' in source '{alias}'")
    base = _selection_root(pattern)
    kept = [m for m in matches if m not in (".", "..") and not should_exclude(m, base, op.exclude)]
    if not kept:
        raise BuildError(f"all files matching pattern '{pattern}' in source '{alias}' were excluded")
    for match in kept:
        if op.strategy == "Extract":
            if _is_tarball(match):
                _extract(_inside(root, match), dest_dir)
            continue
        prefix = pattern.removesuffix("/**") if pattern.endswith("/**") else None
        rel = match.removeprefix(prefix + "/") if prefix is not None and match.startswith(prefix + "/") else match
        _copy_entry(op, root, match, _inside(staging, os.path.join(dest_rel, rel)), base)


def _apply_single(op: CopyOp, root: Path, src_rel: str, staging: Path, dest_rel: str, dest_dir: Path) -> None:
    src = _inside(root, src_rel)
    if not src.exists():
        raise BuildError(f"source '{src_rel}' does not exist")
    if src.is_dir():
        if op.strategy == "Extract":
            raise BuildError(f"extract strategy is not supported for directories, got '{src_rel}'")
        name = PurePosixPath(src_rel).name if src_rel != "." else ""
        _copy_tree(op, root, src_rel, _inside(staging, os.path.join(dest_rel, name)), src_rel)
        return
    if should_exclude(src_rel, ".", op.exclude):
        return
    if op.strategy == "Extract":
        if not _is_tarball(src_rel):
            raise BuildError(f"extract strategy requires tarball file (.tar.gz or .tgz), got '{src_rel}'")
        _extract(src, dest_dir)
        return
    if op.to.endswith("/") or dest_dir.is_dir():
        dest = dest_dir / PurePosixPath(src_rel).name
    else:
        dest = dest_dir
    _copy_file(op, src, dest)


def apply_copies(ops: Sequence[CopyOp], sources: Mapping[str, Path], staging: Path) -> None:
    """Apply the copy operations in order into `staging`; raises BuildError naming the failing one."""
    try:
        staging.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"failed to create staging dir: {exc}") from None
    for op in ops:
        try:
            _apply(op, sources, staging)
        except BuildError as exc:
            raise BuildError(f"failed to apply copy operation from '{op.from_}' to '{op.to}': {exc}") from None


def _files(root: Path) -> Iterator[str]:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            yield (Path(dirpath) / name).relative_to(root).as_posix()


def content_hash(root: Path, prefix: str) -> str:
    """Flux's artifact file name digest (dirhash with Adler-32): per file `%x  prefix/path\\n`, summed again."""
    total = 1  # Adler-32 of nothing, as Go's adler32.New() starts
    for rel in sorted(f"{prefix}/{f}" for f in _files(root)):
        if "\n" in rel:
            raise BuildError("filenames with newlines are not supported")
        digest = 1
        with (root / rel.removeprefix(prefix + "/")).open("rb") as fh:
            while chunk := fh.read(1 << 16):
                digest = zlib.adler32(chunk, digest)
        total = zlib.adler32(f"{digest:x}  {rel}\n".encode(), total)
    return str(total)
