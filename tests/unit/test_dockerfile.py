"""The controller image's Dockerfile: linted by hadolint (no container builder runs on the CI machine), and
shaped as `flux install` expects it (non-root, `flux` entry point, libgotkhelm where the library looks)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.prefix) / "bin" / "hadolint")
    result = subprocess.run(
        [hadolint, "--config", str(ROOT / ".hadolint.yaml"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_shape() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 65534:65534" in text
    assert 'ENTRYPOINT ["flux"]' in text
    assert "/usr/local/lib/gotk/bin/libgotkhelm.so" in text and "GOTK_CACHE=/usr/local/lib/gotk" in text
