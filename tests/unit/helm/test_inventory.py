"""The CRDs of a chart for status.inventory: its own `crds/` files first, then its subcharts' (unpacked or
packaged), only manifest extensions, in a .tgz or a directory alike."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from gotk.helm.inventory import chart_crds
from gotk.ssa import plan


def crd(name: str) -> str:
    return f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {name}\n"


def tgz(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


FILES = {
    "app/Chart.yaml": b"apiVersion: v2\nname: app\nversion: 1.0.0\n",
    "app/crds/a.yaml": crd("as.example.com").encode(),
    "app/crds/nested/b.yml": (crd("bs.example.com") + "---\n" + crd("cs.example.com")).encode(),
    "app/crds/README.md": b"not a manifest",
    "app/templates/cm.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    "app/charts/unpacked/crds/d.yaml": crd("ds.example.com").encode(),
    "app/charts/packed.tgz": tgz(
        {"packed/crds/e.json": b'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e"}}'}
    ),
}


def names(objects: list[dict[str, object]]) -> list[str]:
    return [plan.obj_id(o) for o in objects]


def test_packaged_chart(tmp_path: Path) -> None:
    path = tmp_path / "app-1.0.0.tgz"
    path.write_bytes(tgz(FILES))
    found = chart_crds(path)
    assert names(found) == [
        "_as.example.com_apiextensions.k8s.io_CustomResourceDefinition",
        "_bs.example.com_apiextensions.k8s.io_CustomResourceDefinition",
        "_cs.example.com_apiextensions.k8s.io_CustomResourceDefinition",
        "_e__Namespace",
        "_ds.example.com_apiextensions.k8s.io_CustomResourceDefinition",
    ]
    assert plan.inventory_entry(found[0]) == {
        "id": "_as.example.com_apiextensions.k8s.io_CustomResourceDefinition",
        "v": "v1",
    }


def test_chart_directory(tmp_path: Path) -> None:
    for path, data in FILES.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    assert len(chart_crds(tmp_path / "app")) == 5
