#!/usr/bin/env python3
"""Image reflector benchmark on a fresh local control plane with the real registry (Debian's docker-registry):

  1. one ImageRepository of `--tags` tags (default 10,000), scanned, and a semver ImagePolicy chosen from it;
  2. `--repos` ImageRepositories (default 100) of 20 tags each, with one ImagePolicy each.

  .venv/bin/python bench/image_bench.py [--tags 10000] [--repos 100] [--flux-bin DIR]

With `--flux-bin DIR` the same workload runs against Flux's own image-reflector-controller (`DIR/image-reflector-
controller`, built by hand from fluxcd/image-reflector-controller into a temporary directory, never committed)
instead of gotk's, run out of cluster against the same kind of control plane. Untimed: pushing the tags.
Timed: from creating the objects until every policy is Ready. Prints one JSON line per phase: seconds, and the
controller process's peak RSS and CPU seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hr_bench import apply_parallel, kubectl, proc_stat

from gotk.local.controlplane import ControlPlane, install_gotk
from gotk.runtime.oci import spec
from gotk.runtime.oci.client import RegistryClient
from gotk.testing.controllersproc import ControllersProcess
from gotk.testing.registry import OciRegistry


def push_many(host: str, repository: str, tags: list[str]) -> None:
    """One image (config and layer pushed once) under every tag, eight PUTs at a time."""
    client = RegistryClient(host, insecure=True)
    config, layer = b'{"architecture":"amd64","os":"linux"}', repository.encode()
    descriptors = []
    for media_type, data in (
        ("application/vnd.oci.image.config.v1+json", config),
        ("application/vnd.oci.image.layer.v1.tar", layer),
    ):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        client.push_blob(repository, data, digest)
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": spec.OCI_MANIFEST, "config": descriptors[0], "layers": descriptors[1:]}
    ).encode()
    local = threading.local()

    def put(tag: str) -> None:
        if not hasattr(local, "client"):
            local.client = RegistryClient(host, insecure=True)
        local.client.push_manifest(repository, tag, manifest, spec.OCI_MANIFEST)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, tags))


class FluxReflector:
    """Flux's image-reflector-controller binary, out of cluster, against the control plane."""

    def __init__(self, binary: Path, cp: ControlPlane, work: Path) -> None:
        self.binary, self.cp, self.work = binary, cp, work
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> FluxReflector:
        env = {**os.environ, "KUBECONFIG": str(self.cp.kubeconfig), "RUNTIME_NAMESPACE": "flux-system"}
        log = (self.work / "flux-reflector.log").open("wb")
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                f"--storage-path={self.work / 'flux-data'}",
                "--metrics-addr=127.0.0.1:0",
                "--health-addr=127.0.0.1:0",
                "--log-level=error",
                "--watch-all-namespaces=true",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(30)


def timed(cp: ControlPlane, pid: int, docs: list[str], phase: str) -> None:
    peak, cpu0 = proc_stat(pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, proc_stat(pid)[0])

    threading.Thread(target=sample, daemon=True).start()
    t0 = time.monotonic()
    apply_parallel(cp, docs)
    kubectl(cp, "wait", "-n", "bench", "imagepolicies", "--all", "--for=condition=Ready", "--timeout=1800s")
    seconds = time.monotonic() - t0
    done.set()
    cpu = proc_stat(pid)[1] - cpu0
    print(
        json.dumps(
            {
                "phase": phase,
                "seconds": round(seconds, 1),
                "max_rss_mib": round(peak / 1024),
                "cpu_seconds": round(cpu, 1),
            }
        ),
        flush=True,
    )


def repo_doc(name: str, image: str) -> str:
    return (
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n"
        f"  name: {name}\n  namespace: bench\nspec:\n  image: {image}\n  interval: 60m\n  insecure: true\n"
    )


def policy_doc(name: str) -> str:
    return (
        f"apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: {name}\n  namespace: bench\n"
        f"spec:\n  imageRepositoryRef: {{name: {name}}}\n  policy: {{semver: {{range: '>=1.0.0'}}}}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, default=10000)
    parser.add_argument("--repos", type=int, default=100)
    parser.add_argument(
        "--flux-bin", type=Path, default=None, help="directory holding Flux's image-reflector-controller"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gotk-imagebench-"))
    cp = ControlPlane(work / "cluster")
    try:
        with OciRegistry(work / "registry") as registry:
            push_many(registry.host, "bench/big", [f"1.{i // 100}.{i % 100}" for i in range(args.tags)])
            with ThreadPoolExecutor(4) as pool:
                list(
                    pool.map(
                        lambda i: push_many(registry.host, f"bench/app-{i}", [f"1.0.{t}" for t in range(20)]),
                        range(args.repos),
                    )
                )
            cp.start()
            install_gotk(cp)
            kubectl(cp, "create", "namespace", "bench")
            if args.flux_bin is not None:
                controller: FluxReflector | ControllersProcess = FluxReflector(
                    args.flux_bin / "image-reflector-controller", cp, work
                )
            else:
                controller = ControllersProcess(cp, work, "image-reflector")
            with controller:
                time.sleep(2)
                big = [repo_doc("big", f"{registry.host}/bench/big"), policy_doc("big")]
                timed(cp, controller.pid, big, f"1 repository of {args.tags} tags")
                docs = [
                    d
                    for i in range(args.repos)
                    for d in (repo_doc(f"app-{i}", f"{registry.host}/bench/app-{i}"), policy_doc(f"app-{i}"))
                ]
                timed(cp, controller.pid, docs, f"{args.repos} repositories and policies")
    except subprocess.CalledProcessError as exc:
        sys.exit(f"failed: {exc}")
    finally:
        cp.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
