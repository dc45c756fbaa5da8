"""Registry credentials (gotk.runtime.oci.auth): dockerconfigjson/.dockercfg lookup by host, Docker
Hub aliases and wildcards, `--creds` parsing, `WWW-Authenticate` parsing, and that no secret value
ever shows up in a repr or an error message.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gotk.runtime.oci import auth

SECRET = "pa55-w0rd-never-shown"


def config_json(auths: dict[str, object]) -> dict[str, bytes]:
    return {".dockerconfigjson": json.dumps({"auths": auths}).encode()}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_auth_field_wins_and_host_must_match() -> None:
    data = config_json({"127.0.0.1:5000": {"auth": b64(f"flux:{SECRET}"), "username": "other", "password": "x"}})
    assert auth.from_pull_secret(data, "127.0.0.1:5000") == auth.Credentials("flux", SECRET)
    assert auth.from_pull_secret(data, "127.0.0.1:5001") is None
    assert auth.from_pull_secret(data, "127.0.0.1") is None


def test_password_with_colons_and_plain_fields() -> None:
    data = config_json({"r.example.com": {"auth": b64("u:a:b:c")}, "s.example.com": {"username": "u", "password": "p"}})
    assert auth.from_pull_secret(data, "r.example.com") == auth.Credentials("u", "a:b:c")
    assert auth.from_pull_secret(data, "s.example.com") == auth.Credentials("u", "p")


@pytest.mark.parametrize("key", ["https://ghcr.io", "ghcr.io", "http://ghcr.io/v2/", "GHCR.IO"])
def test_key_forms(key: str) -> None:
    assert auth.from_pull_secret(config_json({key: {"username": "u", "password": "p"}}), "ghcr.io") is not None


@pytest.mark.parametrize("registry", ["index.docker.io", "docker.io", "registry-1.docker.io"])
def test_docker_hub_aliases(registry: str) -> None:
    data = config_json({"https://index.docker.io/v1/": {"username": "u", "password": "p"}})
    assert auth.from_pull_secret(data, registry) == auth.Credentials("u", "p")


def test_wildcard_and_exact_priority() -> None:
    data = config_json(
        {
            "*.example.com": {"username": "wild", "password": "p"},
            "a.example.com": {"username": "exact", "password": "p"},
        }
    )
    assert auth.from_pull_secret(data, "a.example.com") == auth.Credentials("exact", "p")
    assert auth.from_pull_secret(data, "b.example.com") == auth.Credentials("wild", "p")
    assert auth.from_pull_secret(data, "example.com") is None
    assert auth.from_pull_secret(data, "b.example.com:5000") is None, "ports must match"


def test_tokens_and_legacy_dockercfg() -> None:
    data = config_json({"r.io": {"identitytoken": "refresh-me"}, "t.io": {"registrytoken": "bearer-me"}})
    assert auth.from_pull_secret(data, "r.io") == auth.Credentials(identity_token="refresh-me")
    assert auth.from_pull_secret(data, "t.io") == auth.Credentials(registry_token="bearer-me")
    legacy = {".dockercfg": json.dumps({"old.io": {"auth": b64("u:p")}}).encode()}
    assert auth.from_pull_secret(legacy, "old.io") == auth.Credentials("u", "p")


def test_secret_without_docker_keys_or_credentials() -> None:
    assert auth.from_pull_secret({"username": b"u", "password": b"p"}, "r.io") is None
    assert auth.from_pull_secret(config_json({"r.io": {}}), "r.io") is None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({".dockerconfigjson": b"{not json"}, "not valid JSON"),
        ({".dockerconfigjson": b'{"other": {}}'}, "no 'auths' map"),
        (config_json({"r.io": {"auth": SECRET + "!!"}}), "not base64"),
        (config_json({"r.io": {"auth": b64(SECRET)}}), "no ':'"),
        (config_json({"r.io": "string"}), "invalid entry"),
    ],
)
def test_errors_never_show_secrets(data: dict[str, bytes], fragment: str) -> None:
    with pytest.raises(auth.CredentialsError, match=fragment) as info:
        auth.from_pull_secret(data, "r.io")
    assert SECRET not in str(info.value)


def test_credentials_repr_and_secrets() -> None:
    creds = auth.Credentials("flux", SECRET, registry_token="tok-123")
    assert SECRET not in repr(creds) and "tok-123" not in repr(creds)
    assert creds.secrets() == (SECRET, "tok-123")
    assert creds.basic() == "Basic " + b64(f"flux:{SECRET}")
    assert auth.Credentials().anonymous and not creds.anonymous


def test_parse_creds() -> None:
    assert auth.parse_creds("flux:a:b") == auth.Credentials("flux", "a:b")
    assert auth.parse_creds("just-a-token") == auth.Credentials(registry_token="just-a-token")
    with pytest.raises(auth.CredentialsError):
        auth.parse_creds("")


def test_parse_challenge() -> None:
    challenge = auth.parse_challenge(
        'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'
    )
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.example.com/token",
        "service": "registry.example.com",
        "scope": "repository:a/b:pull,push",
    }
    assert auth.parse_challenge('Basic realm="gotk"') == auth.Challenge("basic", {"realm": "gotk"})
    assert auth.parse_challenge("Basic realm=plain, charset=UTF-8").params == {"realm": "plain", "charset": "UTF-8"}


def test_docker_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"r.io": {"auth": b64("u:p")}}}))
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert auth.docker_config_credentials("r.io", env) == auth.Credentials("u", "p")
    assert auth.docker_config_credentials("other.io", env) is None
    assert auth.docker_config_credentials("r.io", {"DOCKER_CONFIG": str(tmp_path / "absent")}) is None
