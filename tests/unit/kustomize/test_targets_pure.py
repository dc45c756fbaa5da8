"""Kubeconfig Secrets for remote clusters must not read the controller's files or run its programs."""

from gotk.runtime.remote import file_references


def test_file_references_are_reported() -> None:
    doc = {
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "certificate-authority": "/etc/ca.crt"}}],
        "users": [
            {"name": "u", "user": {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}},
            {"name": "e", "user": {"exec": {"command": "aws"}}},
        ],
    }
    assert file_references(doc) == [
        "cluster 'c': certificate-authority",
        "user 'u': tokenFile",
        "user 'e': exec",
    ]


def test_embedded_data_is_fine() -> None:
    doc = {
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "certificate-authority-data": "QQ=="}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }
    assert file_references(doc) == []
