"""After the build: SOPS decryption, then postBuild variable substitution, as Flux orders them.

The one place that decides the order: gotk.kustomize.decrypt.manifests decrypts, with the identities the
reconciler read once (`identities`, also used for the secretGenerator files before the build), then
gotk.kustomize.substitute reads the variables and substitutes them. No plaintext value ever reaches a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gotk.kube.client import Client
from gotk.kustomize.decrypt import keys, manifests
from gotk.kustomize.substitute import variables, varsub
from gotk.runtime.reconciler import Request

Obj = dict[str, Any]


class PostBuildError(Exception):
    """Decryption or substitution failed; the message names the object or the source of variables."""


async def identities(client: Client, namespace: str, decryption: Mapping[str, Any]) -> list[str]:
    """The age identities of the decryption Secret (see gotk.kustomize.decrypt.keys): read them once per
    reconcile, for the generator files and for `post_build`."""
    try:
        return await keys.identities(client, namespace, decryption)
    except keys.KeySecretError as exc:
        raise PostBuildError(str(exc)) from None


async def post_build(
    req: Request[Any], client: Client, objects: list[Obj], *, identities: Sequence[str], strict: bool = True
) -> list[Obj]:
    """Decrypt the built objects with `identities`, then substitute `spec.postBuild` variables into them."""
    spec = req.spec
    try:
        objects = manifests.decrypt_objects(objects, spec.get("decryption") or {}, identities)
    except manifests.DecryptionError as exc:
        raise PostBuildError(str(exc)) from None
    post = spec.get("postBuild")
    if post is not None:
        try:
            values = await variables.variables(req.client, req.namespace, post)
        except variables.VariablesError as exc:
            raise PostBuildError(str(exc)) from None
        strategy: varsub.SubstituteStrategy = (
            "Always" if post.get("substituteStrategy") == "Always" else "WithVariables"
        )
        try:
            objects = varsub.substitute_objects(objects, values, strict=strict, strategy=strategy)
        except varsub.SubstitutionError as exc:
            raise PostBuildError(str(exc)) from None
    return objects
