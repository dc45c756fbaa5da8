#!/usr/bin/env python3
"""Kustomization fan-out benchmark: `../shared/bench/ks-workload.py` against gotk on a fresh local control plane.

  .venv/bin/python bench/ks_bench.py N [--concurrent C] [--qps Q] [--burst B] [--keep]

Starts etcd, kube-apiserver, kcm, scheduler and kwok (the supervisor in gotk.local), a smart-HTTP git
server with the workload's repository, and gotk's source and kustomize controllers as one separate process
(`flux controllers run`), then runs the shared workload with the controller's and kube-apiserver's pids and
prints its JSON line: seconds from the first Kustomization created until all are Ready, max RSS, CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from audit_requests import AUDIT_POLICY

from gotk.local.controlplane import ControlPlane, install_gotk
from gotk.testing.controllersproc import ControllersProcess
from gotk.testing.gitserver import GitHttpServer

WORKLOAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "ks-workload.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--qps", type=float, default=50)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--kcm-qps",
        type=int,
        default=0,
        help="raise kube-controller-manager's client QPS (default: its own 20/30, as in the Flux baseline)",
    )
    parser.add_argument(
        "--audit", action="store_true", help="write kube-apiserver's audit log of writes (implies --keep)"
    )
    args = parser.parse_args()
    if not WORKLOAD.exists():
        raise SystemExit(f"workload not found: {WORKLOAD}")
    work = Path(tempfile.mkdtemp(prefix="gotk-ksbench-"))
    extra = {}
    if args.kcm_qps:
        extra["kube-controller-manager"] = [f"--kube-api-qps={args.kcm_qps}", f"--kube-api-burst={args.kcm_qps * 2}"]
    if args.audit:
        args.keep = True
        policy = work / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        extra["kube-apiserver"] = [f"--audit-policy-file={policy}", f"--audit-log-path={work / 'audit.log'}"]
    cp = ControlPlane(work / "cluster", extra_args=extra)
    try:
        cp.start()
        install_gotk(cp)
        (work / "git").mkdir()
        subprocess.run([sys.executable, str(WORKLOAD), "repo", str(work / "git")], check=True)
        with (
            GitHttpServer(work / "git") as server,
            ControllersProcess(
                cp, work, "source,kustomize", qps=args.qps, burst=args.burst, concurrent=args.concurrent
            ) as controllers,
        ):
            apiserver = cp.processes["kube-apiserver"].pid
            env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig))
            env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env['PATH']}"
            kcm = f"kcm qps={args.kcm_qps}" if args.kcm_qps else "kcm default qps"
            print(f"gotk: concurrent={args.concurrent} qps={args.qps} burst={args.burst}; {kcm}", file=sys.stderr)
            subprocess.run(
                [
                    sys.executable,
                    str(WORKLOAD),
                    "run",
                    str(args.n),
                    server.url_for("bench.git"),
                    "--pids",
                    f"{controllers.pid},{apiserver}",
                ],
                env=env,
                check=True,
            )
    finally:
        cp.stop()
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
