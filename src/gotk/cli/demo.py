"""`flux local up --demo DIR`: the GitOps loop end to end on the local control plane.

DIR (e.g. `examples/demo`) is committed once to the bare repository `STATE/git/demo.git`, which a smart-HTTP
Git server in this process serves on 127.0.0.1 (pushes allowed: it is the user's own loopback repository, and
it keeps their commits across restarts). A GitRepository and a Kustomization named `demo` in flux-system
deploy it into the namespace `demo`; the command waits until the Kustomization is Ready and shows it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from gotk.cli import output
from gotk.cli.output import CommandError
from gotk.local.controlplane import ControlPlane, ControlPlaneError
from gotk.local.gitrepos import make_repo
from gotk.local.gitserver import GitHttpServer

NAME = "demo"
NAMESPACE = "flux-system"
TARGET_NAMESPACE = "demo"
READY_TIMEOUT = "180s"


def read_files(source: Path) -> dict[str, bytes]:
    """Every file under `source`, by its `/`-separated relative path (dot-directories left out)."""
    if not source.is_dir():
        raise CommandError(f"--demo {source}: not a directory")
    files = {
        p.relative_to(source).as_posix(): p.read_bytes()
        for p in sorted(source.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
    }
    if not files:
        raise CommandError(f"--demo {source}: no files to commit")
    return files


def manifests(url: str, namespace: str = NAMESPACE, target_namespace: str = TARGET_NAMESPACE) -> list[dict[str, Any]]:
    """The demo's GitRepository and Kustomization, as `flux create ... --export` would write them."""
    meta = {"name": NAME, "namespace": namespace}
    return [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": meta,
            "spec": {"interval": "1m", "url": url, "ref": {"branch": "main"}},
        },
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta,
            "spec": {
                "interval": "1m",
                "timeout": "2m",
                "path": "./",
                "prune": True,
                "wait": True,
                "targetNamespace": target_namespace,
                "sourceRef": {"kind": "GitRepository", "name": NAME},
                "postBuild": {"substitute": {"message": "Hello from gotk, reconciled from Git"}},
            },
        },
    ]


class Demo:
    """The demo's Git server and objects on one local control plane."""

    def __init__(
        self,
        cp: ControlPlane,
        source: Path,
        *,
        namespace: str = NAMESPACE,
        target_namespace: str = TARGET_NAMESPACE,
        git_root: Path | None = None,
    ) -> None:
        self.cp = cp
        self.files = read_files(source)
        self.namespace = namespace
        self.target_namespace = target_namespace
        self.root = git_root or cp.state_dir / "git"
        self.server: GitHttpServer | None = None

    def start(self) -> None:
        repo = self.root / f"{NAME}.git"
        if repo.exists():
            output.success(f"keeping the demo repository {repo} (and any commits pushed to it)")
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            make_repo(self.root, f"{NAME}.git", self.files, message="demo app")
            output.success(f"committed {len(self.files)} files to {repo}")
        self.server = GitHttpServer(self.root, allow_anonymous_push=True).start()
        url = self.server.url_for(f"{NAME}.git")
        output.success(f"serving it on {url}")
        ns, target = self.namespace, self.target_namespace
        output.action(f"applying GitRepository and Kustomization {ns}/{NAME} (target namespace {target})")
        try:
            self.cp.ensure_namespace(target)
            doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests(url, ns, target)})
            self.cp.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=flux", "-f", "-", input=doc)
            output.waiting("waiting for the Kustomization to be Ready")
            self.cp.kubectl(
                "wait",
                f"kustomizations.kustomize.toolkit.fluxcd.io/{NAME}",
                "-n",
                ns,
                "--for=condition=Ready",
                f"--timeout={READY_TIMEOUT}",
                timeout=240,
            )
        except (ControlPlaneError, subprocess.TimeoutExpired) as exc:
            self.stop()
            raise CommandError(f"the demo did not become Ready: {exc}") from None
        self._show(url)

    def _show(self, url: str) -> None:
        env = dict(os.environ, KUBECONFIG=str(self.cp.kubeconfig))
        for args in (["get", "sources", "git"], ["get", "kustomizations"], ["tree", "kustomization", NAME]):
            res = subprocess.run(
                [sys.executable, "-m", "gotk.cli.main", *args, "-n", self.namespace],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            click.echo(res.stdout, nl=False)
        output.success("the demo app is Ready; try the GitOps loop:")
        click.echo(f"  git clone {url} && cd {NAME}")
        click.echo("  # edit deployment.yaml (e.g. replicas: 3), then:")
        click.echo("  git commit -am 'scale up' && git push")
        ns = "" if self.namespace == NAMESPACE else f" -n {self.namespace}"
        click.echo(f"  KUBECONFIG={self.cp.kubeconfig} .venv/bin/flux reconcile kustomization {NAME}{ns} --with-source")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
