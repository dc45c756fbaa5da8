"""Measure gotk's Git fetcher against the local smart-HTTP server: ls-remote latency (target
<= 0.1 s) and a depth-1 checkout of a ~15 MB repository against `git clone --depth 1`
(target <= 1.2x). Prints the numbers; not a test. Run: `.venv/bin/python bench/git_clone.py`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from gotk.local.gitrepos import FileContent
from gotk.runtime.git import auth, fetcher, refs
from gotk.testing.gitserver import GitHttpServer, commit, make_repo


def _repo(root: Path, size_mb: int) -> Path:
    """A bare repo whose tip holds ~size_mb of incompressible files, after 5 commits of history."""
    files: dict[str, FileContent] = {f"data/blob-{i:03d}.bin": os.urandom(50 * 1024) for i in range(size_mb * 20)}
    files["README.md"] = "bench\n"
    path = make_repo(root, "bench.git", files)
    for n in range(5):
        commit(path, {f"data/blob-{n:03d}.bin": os.urandom(50 * 1024)}, f"change {n}")
    return path


def _median(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=15)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gotk-bench-git-"))
    try:
        repo = _repo(work / "repos", args.size_mb)
        pack_mb = sum(f.stat().st_size for f in (repo / "objects").rglob("*") if f.is_file()) / 2**20
        with GitHttpServer(work / "repos") as server:
            url = server.url_for("bench.git")
            creds = auth.from_secret(url, None)
            fetcher.ls_remote(url, creds)  # warm up
            ls = _median(max(20, args.runs), lambda: fetcher.ls_remote(url, creds))
            counter = iter(range(10**6))

            def gotk_clone() -> None:
                fetcher.checkout(url, creds, refs.RefSpec(branch="main"), work / f"gotk-{next(counter)}")

            def git_clone() -> None:
                dest = work / f"git-{next(counter)}"
                cmd = ["git", "clone", "-q", "--depth", "1", "--single-branch", "-b", "main", url, str(dest)]
                subprocess.run(cmd, check=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})

            gotk_clone()  # warm the page cache for both
            git_clone()
            ours, theirs = _median(args.runs, gotk_clone), _median(args.runs, git_clone)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"repository: {args.size_mb} MB of files at the tip, {pack_mb:.1f} MB of objects on the server")
    print(f"ls_remote (median of {max(20, args.runs)}): {ls * 1000:.1f} ms (target <= 100 ms)")
    print(f"gotk checkout depth=1 (median of {args.runs}): {ours:.3f} s")
    print(f"git clone --depth 1   (median of {args.runs}): {theirs:.3f} s")
    print(f"ratio: {ours / theirs:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
