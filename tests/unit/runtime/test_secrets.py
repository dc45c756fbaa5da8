"""gotk.runtime.secrets: Secret data as bytes and as text, ConfigMap data, optional references, and the
ReadError that names the object and the field and carries the API server's answer.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from gotk.kube.errors import ApiError
from gotk.runtime import secrets


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def client(get_client: Callable[..., Any]) -> Any:
    return get_client(
        {
            ("Secret", "apps", "creds"): {"data": {"token": b64(b"s3cr3t"), "raw": b64(b"\xff\xfe")}},
            ("ConfigMap", "apps", "vars"): {"data": {"a": "1"}, "binaryData": {"b": b64(b"x")}},
        }
    )


async def test_secret_data_and_text(client: Any) -> None:
    assert await secrets.secret_data(client, "apps", "creds") == {"token": b"s3cr3t", "raw": b"\xff\xfe"}
    text = await secrets.secret_text(client, "apps", "creds", field="spec.x")
    assert text == {"token": "s3cr3t", "raw": "\udcff\udcfe"}


async def test_configmap_data_leaves_binary_data_out(client: Any) -> None:
    assert await secrets.configmap_data(client, "apps", "vars", field="spec.x") == {"a": "1"}


async def test_a_missing_optional_object_is_none(client: Any) -> None:
    assert await secrets.secret_text(client, "apps", "gone", field="spec.x", optional=True) is None
    assert await secrets.configmap_data(client, "apps", "gone", field="spec.x", optional=True) is None


@pytest.mark.parametrize("read", [secrets.secret_text, secrets.configmap_data])
async def test_a_missing_object_names_itself_and_the_field(client: Any, read: Any) -> None:
    with pytest.raises(secrets.ReadError) as err:
        await read(client, "apps", "gone", field="spec.postBuild.substituteFrom")
    what = "secret" if read is secrets.secret_text else "configmap"
    assert str(err.value) == f"failed to get {what} 'apps/gone' (spec.postBuild.substituteFrom): {what} not found"
    assert err.value.not_found and err.value.error.reason == "NotFound"
    assert isinstance(err.value, secrets.SecretError)


async def test_other_api_errors_are_not_skipped_even_when_optional(get_client: Callable[..., Any]) -> None:
    client = get_client({}, error=ApiError(403, "Forbidden", "secrets is forbidden"))
    with pytest.raises(secrets.ReadError, match=r"^failed to get secret 'apps/creds' \(spec.x\): Forbidden$"):
        await secrets.secret_text(client, "apps", "creds", field="spec.x", optional=True)


def test_decoded_puts_string_data_over_data() -> None:
    secret = {"data": {"a": b64(b"1"), "b": b64(b"2")}, "stringData": {"b": "3"}}
    assert secrets.decoded(secret) == {"a": b"1", "b": b"3"}
