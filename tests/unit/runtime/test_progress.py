"""runtime.progress: a long step's progress written as Reconciling=True and Ready=Unknown after the delay, none
for a short step, and the snapshot the final patch starts from."""

from __future__ import annotations

import asyncio
from typing import Any

from gotk.api import meta
from gotk.runtime import conditions
from gotk.runtime.progress import Progress

Obj = dict[str, Any]


def setup(delay: float) -> tuple[Obj, Progress, list[tuple[Obj, Obj]]]:
    obj: Obj = {"metadata": {"name": "a", "namespace": "ns", "generation": 2}, "status": {}}
    conditions.mark_true(obj, meta.READY, meta.SUCCEEDED, "stored")
    patches: list[tuple[Obj, Obj]] = []

    async def patch(before: Obj, after: Obj) -> None:
        patches.append((before, after))

    return obj, Progress(obj, dict(obj["status"]), patch=patch, delay=delay), patches


async def test_a_long_step_writes_its_progress() -> None:
    obj, progress, patches = setup(0.01)
    progress.report("Building manifests for revision main@sha1:abc")
    await asyncio.sleep(0.1)
    progress.step_ended()
    await progress.close()
    assert len(patches) == 1
    written = {"metadata": obj["metadata"], "status": patches[0][1]}
    assert conditions.is_reconciling(written)
    assert conditions.is_unknown(written, meta.READY)
    assert conditions.get_message(written, meta.READY) == "Building manifests for revision main@sha1:abc"
    assert progress.snapshot == patches[0][1]
    assert conditions.is_ready(obj)  # the working copy is untouched: only the patch shows progress


async def test_a_short_step_costs_no_request() -> None:
    _, progress, patches = setup(5.0)
    progress.report("Applying revision v1")
    progress.step_ended()
    await progress.close()
    assert patches == []


async def test_close_waits_for_a_patch_on_its_way() -> None:
    obj: Obj = {"metadata": {"name": "a", "generation": 1}, "status": {}}
    started, release = asyncio.Event(), asyncio.Event()
    done: list[bool] = []

    async def slow_patch(before: Obj, after: Obj) -> None:
        started.set()
        await release.wait()
        done.append(True)

    progress = Progress(obj, {}, patch=slow_patch, delay=0)
    progress.report("Running 'install' action with timeout of 5m0s")
    await started.wait()
    closing = asyncio.ensure_future(progress.close())
    await asyncio.sleep(0.01)
    assert not closing.done()
    release.set()
    await closing
    assert done == [True] and conditions.is_reconciling({"status": progress.snapshot})
