"""Signature verification of OCI content for the source reconcilers (OCIRepository, HelmChart from an OCI
HelmRepository): cosign with the public keys of `verify.secretRef`, reported in the SourceVerified condition.
Keyless cosign and notation are reported as unsupported (stalled), never skipped.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gotk.api import meta
from gotk.api import source_conditions as sc
from gotk.runtime import conditions
from gotk.runtime.oci.client import RegistryClient
from gotk.runtime.oci.model import RegistryError
from gotk.runtime.reconciler import Request
from gotk.runtime.results import GenericError, StallingError
from gotk.runtime.secrets import SecretError, secret_data
from gotk.source.oci import cosign

Obj = dict[str, Any]


async def verify_cosign(
    req: Request[Any], client: RegistryClient, repository: str, digest: str, revision: str, verify: Obj
) -> None:
    """Verify `repository@digest` as `verify` asks; SourceVerified True, or False and an error."""
    provider = str(verify.get("provider") or "cosign")
    secret_ref = verify.get("secretRef") or {}
    if provider != "cosign" or not secret_ref.get("name"):
        label = "cosign keyless" if provider == "cosign" else provider
        message = f"failed to verify the signature using provider '{label}': {label} verification is not supported"
        conditions.mark_false(req.obj, sc.SOURCE_VERIFIED, sc.VERIFICATION_ERROR, message)
        raise StallingError(sc.VERIFICATION_ERROR, message)
    try:
        data = await secret_data(req.client, req.namespace, secret_ref["name"], field="spec.verify.secretRef")
        keys = cosign.public_keys(data)
        await asyncio.to_thread(cosign.verify, client, repository, digest, keys)
    except (SecretError, cosign.VerificationError, RegistryError) as exc:
        message = f"failed to verify the signature using provider 'cosign': {exc}"
        conditions.mark_false(req.obj, sc.SOURCE_VERIFIED, sc.VERIFICATION_ERROR, message)
        raise GenericError(sc.VERIFICATION_ERROR, message) from None
    conditions.mark_true(req.obj, sc.SOURCE_VERIFIED, meta.SUCCEEDED, f"verified signature of revision {revision}")
