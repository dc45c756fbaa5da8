"""The other Secrets of `flux create secret …` (tls, oci, proxy, receiver, githubapp) as flux2's
pkg/manifestgen/sourcesecret builds them over fluxcd/pkg runtime/secrets, and the objects of
`flux create tenant` (a Namespace, a ServiceAccount and a RoleBinding per tenant namespace).

Each generator returns the Secret (or object) as a dict; validation failures raise `SecretError`
worded as the Go functions word them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from gotk.cli.engines import helmsecret, manifest
from gotk.cli.engines.gitsecret import SecretError

WEBHOOK_ANNOTATION = "notification.toolkit.fluxcd.io/webhook"
TENANT_LABEL = "toolkit.fluxcd.io/tenant"
RBAC_GROUP = "rbac.authorization.k8s.io"


def _required(value: str, what: str) -> None:
    if not value:
        raise SecretError(f"{what} is required")


def generate_tls(
    name: str, namespace: str, labels: Mapping[str, str], *, ca_crt: str = "", tls_crt: str = "", tls_key: str = ""
) -> manifest.Obj:
    """sourcesecret.GenerateTLS (secrets.MakeTLSSecret): a cert/key pair (`kubernetes.io/tls`) and/or a CA
    (`Opaque` alone); at least one of them."""
    has_cert, has_key = bool(tls_crt), bool(tls_key)
    if has_cert != has_key:
        raise SecretError(
            "found certificate but missing private key" if has_cert else "found private key but missing certificate"
        )
    if not has_cert and not ca_crt:
        raise SecretError("no CA certificate or client certificate pair found")
    data: dict[str, str] = {}
    secret_type = "Opaque"
    if has_cert:
        try:
            helmsecret.check_key_pair(tls_crt, tls_key)
        except SecretError as exc:
            raise SecretError(f"invalid TLS certificate and key pair: {exc}") from None
        data = {"tls.crt": tls_crt, "tls.key": tls_key}
        secret_type = "kubernetes.io/tls"
    if ca_crt:
        data["ca.crt"] = ca_crt
    return manifest.secret(name, namespace, labels=labels, stringData=data, type=secret_type)


def generate_oci(
    name: str, namespace: str, labels: Mapping[str, str], *, server: str, username: str, password: str
) -> manifest.Obj:
    """sourcesecret.GenerateOCI (secrets.MakeRegistrySecret): a `kubernetes.io/dockerconfigjson` Secret whose
    `.dockerconfigjson` is Go's json.MarshalIndent of the auths (two-space indent, fields in struct order)."""
    _required(server, "server")
    _required(username, "username")
    _required(password, "password")
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = {"auths": {server: {"username": username, "password": password, "auth": auth}}}
    text = _go_json_indent(config)
    return manifest.secret(
        name, namespace, labels=labels, stringData={".dockerconfigjson": text}, type="kubernetes.io/dockerconfigjson"
    )


def _go_json_indent(value: object) -> str:
    """encoding/json MarshalIndent(v, "", "  "): HTML-safe escapes as Go writes them."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def generate_proxy(
    name: str, namespace: str, labels: Mapping[str, str], *, address: str, username: str = "", password: str = ""
) -> manifest.Obj:
    """sourcesecret.GenerateProxy (secrets.MakeProxySecret): `Opaque` with address and optional credentials."""
    _required(address, "address")
    data = {"address": address}
    if username:
        data["username"] = username
    if password:
        data["password"] = password
    return manifest.secret(name, namespace, labels=labels, stringData=data, type="Opaque")


def webhook_url(token: str, name: str, namespace: str, hostname: str) -> str:
    """notification-controller's Receiver.GetWebhookPath under https://HOSTNAME."""
    digest = hashlib.sha256((token + name + namespace).encode()).hexdigest()
    return f"https://{hostname}/hook/{digest}"


def generate_receiver(
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    *,
    receiver_type: str,
    hostname: str,
    token: str = "",
    email_claim: str = "",
    audience_claim: str = "",
) -> manifest.Obj:
    """sourcesecret.GenerateReceiver: the token (32 random bytes in hex when not given), the webhook URL as
    an annotation and, for gcr, the email and audience claims. The Secret has no type."""
    token = token or secrets.token_hex(32)
    if not hostname:
        raise SecretError("hostname is required")
    url = webhook_url(token, name, namespace, hostname)
    data = {"token": token}
    if receiver_type == "gcr":
        if not email_claim:
            raise SecretError("email-claim is required for gcr receiver type")
        data["email"] = email_claim
        data["audience"] = audience_claim or url
    secret = manifest.secret(name, namespace, labels=labels, stringData=data)
    secret["metadata"]["annotations"] = {WEBHOOK_ANNOTATION: url}
    return secret


@dataclass(frozen=True)
class GitHubApp:
    """The GitHub App a `flux create secret githubapp` Secret authenticates as."""

    app_id: str
    private_key: str
    installation_owner: str = ""
    installation_id: str = ""
    base_url: str = ""


def generate_githubapp(name: str, namespace: str, labels: Mapping[str, str], app: GitHubApp) -> manifest.Obj:
    """sourcesecret.GenerateGitHubApp (secrets.MakeGitHubAppSecret): `Opaque`, exactly one of the
    installation owner or ID."""
    _required(app.app_id, "githubAppID")
    _required(app.private_key, "githubAppPrivateKey")
    data = {"githubAppID": app.app_id, "githubAppPrivateKey": app.private_key}
    if app.installation_owner:
        data["githubAppInstallationOwner"] = app.installation_owner
    if app.installation_id:
        data["githubAppInstallationID"] = app.installation_id
    if app.base_url:
        data["githubAppBaseURL"] = app.base_url
    if bool(app.installation_owner) == bool(app.installation_id):
        raise SecretError("exactly one of githubAppInstallationOwner or githubAppInstallationID must be provided")
    return manifest.secret(name, namespace, labels=labels, stringData=data, type="Opaque")


@dataclass(frozen=True)
class TenantObjects:
    """What `flux create tenant` writes for one namespace."""

    namespace: manifest.Obj
    account: manifest.Obj
    role_binding: manifest.Obj


def tenant_objects(
    tenant: str, namespace: str, account: str, cluster_role: str, labels: Mapping[str, str]
) -> TenantObjects:
    """The Namespace, ServiceAccount and `<tenant>-reconciler` RoleBinding (to the cluster role, for the
    namespace's `gotk:<ns>:reconciler` user and the account), all labelled with the tenant."""
    obj_labels = {**labels, TENANT_LABEL: tenant}
    ns: manifest.Obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"labels": dict(obj_labels), "name": namespace},
    }
    sa: manifest.Obj = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"labels": dict(obj_labels), "name": account, "namespace": namespace},
    }
    rb: manifest.Obj = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": {"labels": dict(obj_labels), "name": f"{tenant}-reconciler", "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": cluster_role},
        "subjects": [
            {"apiGroup": RBAC_GROUP, "kind": "User", "name": f"gotk:{namespace}:reconciler"},
            {"kind": "ServiceAccount", "name": account, "namespace": namespace},
        ],
    }
    return TenantObjects(ns, sa, rb)


def derives(small: object, big: object) -> bool:
    """apimachinery's equality.Semantic.DeepDerivative: unset (empty) values in `small` match anything."""
    if isinstance(small, Mapping):
        if not small:
            return True
        if not isinstance(big, Mapping) or len(small) > len(big):
            return False
        return all(key in big and derives(value, big[key]) for key, value in small.items())
    if isinstance(small, list):
        if not small:
            return True
        if not isinstance(big, list) or len(small) > len(big):
            return False
        return all(derives(a, b) for a, b in zip(small, big, strict=False))
    if isinstance(small, str) and not small:
        return True
    return small == big
