"""Kubeconfig loading: contexts, relative paths, embedded data and clear errors."""

import base64
from pathlib import Path

import pytest
import yaml

from gotk.kube import config


def write(tmp_path: Path, doc: dict[str, object]) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def doc(server: str = "https://127.0.0.1:6443") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "local",
        "contexts": [
            {"name": "local", "context": {"cluster": "c", "user": "u", "namespace": "apps"}},
            {"name": "other", "context": {"cluster": "c2", "user": "u"}},
        ],
        "clusters": [
            {"name": "c", "cluster": {"server": server, "certificate-authority": "ca.crt"}},
            {
                "name": "c2",
                "cluster": {
                    "server": "https://10.0.0.1",
                    "certificate-authority-data": base64.b64encode(b"x").decode(),
                },
            },
        ],
        "users": [{"name": "u", "user": {"token": "t0k"}}],
    }


def test_current_context(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, doc()))
    assert cfg.server == "https://127.0.0.1:6443"
    assert cfg.namespace == "apps"
    assert cfg.bearer_token() == "t0k"
    assert cfg.ca_file == str(tmp_path / "ca.crt")


def test_named_context(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, doc()), context="other")
    assert cfg.server == "https://10.0.0.1"
    assert cfg.ca_data == b"x"
    assert cfg.namespace == "default"


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match=r"kubeconfig not found: .*nope"):
        config.load(tmp_path / "nope")


def test_unknown_context(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="context 'missing' not found"):
        config.load(write(tmp_path, doc()), context="missing")
