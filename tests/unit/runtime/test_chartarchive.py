"""gotk.runtime.chartarchive: reading a packaged chart's Chart.yaml, and the error (with Flux's reason) for
what is not a chart archive. Packaging, whose archives it reads, is tested in tests/unit/source/test_helm_chart.py."""

from __future__ import annotations

import io
import tarfile

import pytest

from gotk.runtime import chartarchive as chart


def test_metadata_from_archive_refuses_non_charts() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("readme.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(chart.ChartError, match=r"no <name>/Chart\.yaml"):
        chart.metadata_from_archive(buf.getvalue())
    with pytest.raises(chart.ChartError, match="not a chart archive"):
        chart.metadata_from_archive(b"not gzip")
