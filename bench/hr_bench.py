#!/usr/bin/env python3
"""HelmRelease fan-out (after flux-benchmark's Helm workload): N HelmReleases of one chart, each in its own
namespace, from one Helm HTTP repository, on a fresh local control plane.

  .venv/bin/python bench/hr_bench.py N [--qps 50] [--burst 300] [--concurrent 10] [--kcm-qps 200]

Side by side with Flux's own source- and helm-controller in one run: `../shared/bench/ab-hr.py N --kcm-qps 200
--flux-bin DIR --flux-crds DIR` (the same workload; Flux's controllers built by hand into a temporary directory).

The chart (packaged by the real helm CLI) holds a ServiceAccount, a Service and a Deployment of 0 replicas;
each HelmRelease (interval 60m, its own HelmChart from the `spec.chart` template) installs it with a value.
Untimed: the namespaces and the HelmRepository until Ready. Timed: from the first HelmRelease created until
all are Ready. Prints one JSON line: seconds, and the controller process's peak RSS and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from audit_requests import AUDIT_POLICY

from gotk.local.controlplane import ControlPlane, install_gotk
from gotk.testing import helm
from gotk.testing.chartrepo import ChartRepoServer
from gotk.testing.controllersproc import ControllersProcess

TEMPLATES = {
    "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n",
    "svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
    "  selector: {app: '{{ .Release.Name }}'}\n  ports: [{port: 80}]\n",
    "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n"
    "  replicas: 0\n  selector: {matchLabels: {app: '{{ .Release.Name }}'}}\n  template:\n"
    "    metadata: {labels: {app: '{{ .Release.Name }}'}}\n    spec:\n      serviceAccountName: {{ .Release.Name }}\n"
    "      containers: [{name: app, image: 'ghcr.io/stefanprodan/podinfo:{{ .Values.tag }}'}]\n",
}


def kubectl(cp: ControlPlane, *args: str, stdin: str | None = None) -> None:
    cp.kubectl(*args, input=stdin, timeout=1800)


def apply_parallel(cp: ControlPlane, docs: list[str]) -> None:
    chunks = ["---\n".join(docs[k::8]) for k in range(8) if docs[k::8]]
    threads = [
        threading.Thread(target=kubectl, args=(cp, "apply", "--server-side", "-f", "-"), kwargs={"stdin": c})
        for c in chunks
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def proc_stat(pid: int) -> tuple[int, float]:
    """(VmRSS KiB, user+system CPU seconds) of a process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("--qps", type=float, default=50)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--concurrent", type=int, default=10)
    parser.add_argument(
        "--kcm-qps", type=int, default=0, help="raise kube-controller-manager's client QPS (burst: twice that)"
    )
    parser.add_argument(
        "--audit", action="store_true", help="keep kube-apiserver's audit log (bench/audit_requests.py reads it)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gotk-hrbench-"))
    extra = {}
    if args.kcm_qps:
        extra["kube-controller-manager"] = [f"--kube-api-qps={args.kcm_qps}", f"--kube-api-burst={args.kcm_qps * 2}"]
    if args.audit:
        policy = work / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        extra["kube-apiserver"] = [f"--audit-policy-file={policy}", f"--audit-log-path={work / 'audit.log'}"]
    cp = ControlPlane(work / "cluster", extra_args=extra)
    try:
        cp.start()
        install_gotk(cp)
        (work / "charts").mkdir()
        chart = helm.write_chart(work / "src", "app", "1.0.0", values={"tag": "6.7.1"}, templates=TEMPLATES)
        helm.package(chart, work / "charts")
        helm.repo_index(work / "charts")
        with (
            ChartRepoServer(work / "charts") as repo,
            ControllersProcess(
                cp, work, "source,helm", qps=args.qps, burst=args.burst, concurrent=args.concurrent
            ) as controllers,
        ):
            repo_doc = (
                f"apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: bench\n"
                f"  namespace: flux-system\nspec:\n  interval: 60m\n  url: {repo.url}\n"
            )
            apply_parallel(
                cp,
                [repo_doc, *(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hr-{i}\n" for i in range(args.n))],
            )
            kubectl(cp, "wait", "-n", "flux-system", "helmrepository/bench", "--for=condition=Ready", "--timeout=120s")
            releases = [
                f"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: hr-{i}\n"
                f"  namespace: flux-system\nspec:\n  interval: 60m\n  targetNamespace: hr-{i}\n"
                f"  chart:\n    spec:\n      chart: app\n      sourceRef: {{kind: HelmRepository, name: bench}}\n"
                f"  values: {{tag: '6.7.{i % 10}'}}\n"
                for i in range(args.n)
            ]
            peak, cpu0 = proc_stat(controllers.pid)
            done = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not done.wait(0.5):
                    peak = max(peak, proc_stat(controllers.pid)[0])

            threading.Thread(target=sample, daemon=True).start()
            t0 = time.monotonic()
            apply_parallel(cp, releases)
            kubectl(
                cp, "wait", "-n", "flux-system", "helmreleases", "--all", "--for=condition=Ready", "--timeout=1800s"
            )
            seconds = time.monotonic() - t0
            done.set()
            cpu = proc_stat(controllers.pid)[1] - cpu0
            print(
                json.dumps(
                    {
                        "n": args.n,
                        "seconds": round(seconds, 1),
                        "max_rss_mib": round(peak / 1024),
                        "cpu_seconds": round(cpu, 1),
                    }
                )
            )
    except subprocess.CalledProcessError as exc:
        sys.exit(f"failed: {exc}")
    finally:
        cp.stop()
        if args.audit:
            print(f"audit log: {work / 'audit.log'}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
