"""What the Kustomization reads for decryption and substitution, and Flux's messages when it cannot:
the decryption key Secret (gotk.kustomize.decrypt.keys) and the substituteFrom ConfigMaps and Secrets
(gotk.kustomize.substitute.variables), in list order with the inline `substitute` over them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from gotk.kube.errors import ApiError
from gotk.kustomize.decrypt import keys, sops
from gotk.kustomize.substitute import variables

AGE_KEY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_identities_from_the_agekey_entries(get_client: Callable[..., Any]) -> None:
    client = get_client(
        {("Secret", "apps", "sops-age"): {"data": {"a.agekey": b64(f"# k\n{AGE_KEY}\n"), "x": b64("y")}}}
    )
    found = await keys.identities(client, "apps", {"provider": "sops", "secretRef": {"name": "sops-age"}})
    assert found == [AGE_KEY]
    assert client.reads == 1
    assert await keys.identities(client, "apps", {"provider": "sops"}) == []
    assert client.reads == 1


@pytest.mark.parametrize(
    ("error", "why"),
    [(None, "NotFound"), (ApiError(403, "Forbidden", "forbidden"), "Forbidden"), (ApiError(0, "", "down"), "0")],
)
async def test_an_unreadable_key_secret_is_named(
    get_client: Callable[..., Any], error: ApiError | None, why: str
) -> None:
    client = get_client({}, error=error)
    with pytest.raises(keys.KeySecretError) as err:
        await keys.identities(client, "apps", {"secretRef": {"name": "sops-age"}})
    assert str(err.value) == f"cannot get decryption secret 'apps/sops-age': {why}"


async def test_a_key_that_is_no_age_identity_is_a_sops_error(get_client: Callable[..., Any]) -> None:
    client = get_client({("Secret", "apps", "k"): {"data": {"k.agekey": b64("ssh-ed25519 AAAA")}}})
    with pytest.raises(sops.SopsError):
        await keys.identities(client, "apps", {"secretRef": {"name": "k"}})


async def test_variables_in_flux_order(get_client: Callable[..., Any]) -> None:
    client = get_client(
        {
            ("ConfigMap", "apps", "vars"): {"data": {"a": "cm", "b": "cm\n"}},
            ("Secret", "apps", "secret-vars"): {"data": {"b": b64("secret"), "c": b64("secret")}},
        }
    )
    post_build = {
        "substitute": {"c": "inline"},
        "substituteFrom": [
            {"kind": "ConfigMap", "name": "vars"},
            {"kind": "Secret", "name": "secret-vars"},
            {"kind": "Secret", "name": "gone", "optional": True},
        ],
    }
    assert await variables.variables(client, "apps", post_build) == {"a": "cm", "b": "secret", "c": "inline"}


@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [
        ("ConfigMap", None, "substitute from 'ConfigMap/vars' failed: configmap 'apps/vars' not found"),
        ("Secret", None, "substitute from 'Secret/vars' failed: secret 'apps/vars' not found"),
        (
            "Secret",
            ApiError(403, "Forbidden", "no"),
            "substitute from 'Secret/vars' failed: secret 'apps/vars' Forbidden",
        ),
    ],
)
async def test_an_unreadable_source_of_variables_is_named(
    get_client: Callable[..., Any], kind: str, error: ApiError | None, message: str
) -> None:
    client = get_client({}, error=error)
    with pytest.raises(variables.VariablesError) as err:
        await variables.variables(client, "apps", {"substituteFrom": [{"kind": kind, "name": "vars"}]})
    assert str(err.value) == message
