"""spec.kubeConfig: a secretRef is taken, a configMapRef is refused rather than ignored."""

from __future__ import annotations

import pytest

from gotk.runtime import remote


def test_secret_ref() -> None:
    assert remote.secret_ref({}) is None
    assert remote.secret_ref({"kubeConfig": {"secretRef": {"name": "far", "key": "k"}}}) == {"name": "far", "key": "k"}
    with pytest.raises(remote.UnsupportedKubeConfigError, match="configMapRef"):
        remote.secret_ref({"kubeConfig": {"configMapRef": {"name": "cloud"}}})
