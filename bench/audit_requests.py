#!/usr/bin/env python3
"""Who spent the API server's requests during a benchmark: a summary of kube-apiserver's audit log.

  .venv/bin/python bench/audit_requests.py WORKDIR/audit.log [--who gotk]

`bench/ks_bench.py N --audit` and `bench/hr_bench.py N --audit` write the log (every request but watches, at
Metadata level). From the first Kustomization or HelmRelease created by kubectl, this counts requests per
(client, verb, resource, HTTP code) and per 5-second bucket; a kube-controller-manager client is named by its
controller (deployment-controller, ...).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

BUCKET = 5
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  verbs: [watch]
- level: Metadata
"""
"""kube-apiserver's audit policy for the benchmarks' --audit: every request but watches, at Metadata level."""


def client_name(user_agent: str) -> str:
    if "kube-controller-manager" in user_agent:
        return user_agent.rsplit("/", 1)[-1]
    return user_agent.split("/", 1)[0]


def seconds(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["requestReceivedTimestamp"].replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log")
    parser.add_argument("--who", default="", help="only clients whose user agent contains this")
    args = parser.parse_args()
    with open(args.log) as f:
        events = [json.loads(line) for line in f]
    starts = [
        seconds(e)
        for e in events
        if (e.get("objectRef") or {}).get("resource") in ("kustomizations", "helmreleases")
        and "kubectl" in e.get("userAgent", "")
    ]
    t0 = min(starts) if starts else min(seconds(e) for e in events)
    counts: Counter[tuple[str, ...]] = Counter()
    buckets: dict[tuple[str, ...], Counter[int]] = defaultdict(Counter)
    for e in events:
        t = seconds(e) - t0
        if t < 0 or args.who not in e.get("userAgent", ""):
            continue
        ref = e.get("objectRef") or {}
        verb = e["verb"] + (" (dry-run)" if "dryRun" in e.get("requestURI", "") else "")
        code = str((e.get("responseStatus") or {}).get("code", ""))
        sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
        key = (client_name(e.get("userAgent", "")), verb, f"{ref.get('resource', e.get('requestURI'))}{sub}", code)
        counts[key] += 1
        buckets[key][int(t // BUCKET) * BUCKET] += 1
    for key, n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1])):
        spread = " ".join(f"{b}s:{c}" for b, c in sorted(buckets[key].items()))
        print(f"{n:6d}  {' '.join(key):70s} {spread}")
    print(f"{sum(counts.values()):6d}  requests in all")


if __name__ == "__main__":
    main()
