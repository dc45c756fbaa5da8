"""SOPS decryption without the sops binary: age data keys, AES-256-GCM values and the SHA-512 MAC.

The kustomize controller hands us Kubernetes objects (as dicts) and secretGenerator files (YAML,
JSON, dotenv or binary envelopes); formats and rules follow getsops/sops 3.11 (aes/cipher.go,
sops.go, stores/*). Messages name key paths and age recipients, never values or key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyrage  # type: ignore[import-untyped]  # no stubs; only decrypt and x25519.Identity are used
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gotk.gocompat import strconv, times, yaml3
from gotk.kustomize.decrypt import formats
from gotk.kustomize.decrypt.formats import SopsError

__all__ = [
    "SopsError",
    "age_identities_from_secret",
    "decrypt_binary",
    "decrypt_document",
    "decrypt_dotenv",
    "decrypt_file",
    "detect_format",
    "format_for_path",
    "is_encrypted",
]

AGE_KEY_SUFFIX = ".agekey"
_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
_MAC_ONLY_ENCRYPTED_INIT = hashlib.sha256(b"sops").digest()  # sops.MACOnlyEncryptedInitialization
_RULES = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
_COMMENT_RULES = ("unencrypted_comment_regex", "encrypted_comment_regex")
_KEY_TYPES = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms")


def is_encrypted(obj: Mapping[str, Any] | str | bytes) -> bool:
    """Whether an object carries SOPS metadata (a top-level `sops` key) or a file holds a SOPS MAC."""
    if isinstance(obj, str | bytes):
        return detect_format(obj) is not None
    return isinstance(obj, Mapping) and obj.get("sops") is not None


def detect_format(data: str | bytes) -> str | None:
    """The SOPS format whose MAC marker `data` contains (Flux's marker bytes), or None."""
    raw = data.encode() if isinstance(data, str) else data
    for name, marker in formats.MARKERS.items():
        if marker in raw:
            return name
    return None


def format_for_path(path: str) -> str:
    """The SOPS format for a file name, as Flux picks it (`.dockerconfigjson` is JSON)."""
    return formats.format_for_path(path)


def age_identities_from_secret(data: Mapping[str, bytes]) -> list[str]:
    """The age identities in the `*.agekey` entries of a decryption Secret (one per line, `#` comments)."""
    found: list[str] = []
    for name in sorted(data):
        if not name.endswith(AGE_KEY_SUFFIX):
            continue
        try:
            text = data[name].decode() if isinstance(data[name], bytes) else str(data[name])
        except UnicodeDecodeError:
            raise SopsError(f"failed to import '{name}': not UTF-8 text") from None
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                _parse_identity(line, where=f"'{name}' line {number}")
                found.append(line)
    return found


def decrypt_document(doc: Mapping[str, Any], identities: Sequence[str], *, verify_mac: bool = True) -> dict[str, Any]:
    """Decrypt a SOPS-encrypted YAML/JSON tree (e.g. a Secret); the result has no `sops` key.

    Values come back as JSON types the way Flux's JSON round trip emits them: `time` values as
    RFC 3339 strings, legacy `bytes` values as base64. Flux never checks the MAC (kustomize edits
    the objects it covers), so a controller matching Flux passes `verify_mac=False` for build output.
    """
    docs = _decrypt_tree([doc], identities, verify_mac=verify_mac, raw=False)
    return docs[0]


def decrypt_dotenv(text: str | bytes, identities: Sequence[str], *, verify_mac: bool = True) -> str:
    """Decrypt a SOPS dotenv file and return the plain dotenv text, as `sops -d` prints it."""
    out = decrypt_file(_bytes(text), identities, input_format="dotenv", verify_mac=verify_mac)
    return out.decode("utf-8", "surrogateescape")


def decrypt_binary(text: str | bytes, identities: Sequence[str], *, verify_mac: bool = True) -> bytes:
    """Decrypt a SOPS binary envelope (JSON with one `data` value) to the original bytes."""
    return decrypt_file(_bytes(text), identities, input_format="binary", verify_mac=verify_mac)


def decrypt_file(
    data: bytes,
    identities: Sequence[str],
    *,
    input_format: str,
    output_format: str | None = None,
    verify_mac: bool = True,
) -> bytes:
    """Decrypt a SOPS file in `input_format` and emit it in `output_format` (default: the same).

    Formats: yaml, json, dotenv, binary. JSON, dotenv and binary output match `sops -d` byte for
    byte; YAML output is equivalent but laid out by PyYAML, and YAML comments are dropped.
    """
    output_format = output_format or input_format
    for fmt in (input_format, output_format):
        if fmt not in formats.SUPPORTED:
            raise SopsError(f"the {fmt} SOPS format is not supported")
    if input_format == "dotenv":
        entries, metadata = formats.load_dotenv(data)
        walker = _walker(metadata, identities)
        plain = [(k, walker.comment(v) if k is None else walker.walk(v, [k])) for k, v in entries]
        walker.finish(verify_mac)
        if output_format == "dotenv":
            return formats.emit("dotenv", plain)
        out = [{key: value for key, value in plain if key is not None}]
    else:
        docs = formats.load_yaml(data) if input_format == "yaml" else [formats.load_json(data)]
        out = _decrypt_tree(docs, identities, verify_mac=verify_mac, raw=output_format == "binary")
    if output_format == "dotenv":
        return formats.emit("dotenv", list(out[0].items()))
    return formats.emit(output_format, out if output_format == "yaml" else out[0])


# -- the tree walk (sops.go Tree.Decrypt) -------------------------------------------------------


def _decrypt_tree(
    docs: Sequence[Mapping[str, Any]], identities: Sequence[str], *, verify_mac: bool, raw: bool
) -> list[dict[str, Any]]:
    if not docs or not isinstance(docs[0], Mapping) or not isinstance(docs[0].get("sops"), Mapping):
        raise SopsError("sops metadata not found")
    walker = _walker(docs[0]["sops"], identities, raw=raw)
    out: list[dict[str, Any]] = []
    for doc in docs:
        if not isinstance(doc, Mapping):
            raise SopsError("SOPS documents must be mappings")
        out.append(walker.walk({key: value for key, value in doc.items() if key != "sops"}, []))
    walker.finish(verify_mac)
    return out


@dataclass
class _Metadata:
    rules: dict[str, re.Pattern[str] | str]
    comment_rule: bool
    mac_only: bool
    lastmodified: Any
    mac: str
    age: list[tuple[str, str]]
    other: list[str]


def _walker(sops: Mapping[str, Any], identities: Sequence[str], *, raw: bool = False) -> _Walker:
    meta = _parse_metadata(sops)
    return _Walker(_data_key(meta, identities), meta, raw)


class _Walker:
    """Decrypts leaves in document order and feeds the plaintext MAC like sops' Tree.Decrypt."""

    def __init__(self, key: bytes, meta: _Metadata, raw: bool) -> None:
        self.aes, self.meta, self.raw = AESGCM(key), meta, raw
        self.mac = hashlib.sha512(_MAC_ONLY_ENCRYPTED_INIT if meta.mac_only else b"")

    def walk(self, value: Any, path: list[Any]) -> Any:
        if isinstance(value, Mapping):
            for key in value:
                if not isinstance(key, str):
                    raise SopsError(f"non-string key under '{_where(path)}'; only string keys are supported")
            return {key: self.walk(item, [*path, key]) for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item, path) for item in value]
        if value is None:
            return None
        return self.leaf(value, path)

    def leaf(self, value: Any, path: list[str]) -> Any:
        encrypted = self._encrypted(value, path)
        if encrypted:
            if not isinstance(value, str):
                raise SopsError(f"value at '{_where(path)}' should be encrypted but is a {type(value).__name__}")
            plain, kind = self._open(value, _aad(path), path)
            out, mac_bytes = _typed(plain, kind, path, raw=self.raw)
        else:
            out, mac_bytes = value, _mac_bytes(value, path)
        if encrypted or not self.meta.mac_only:
            self.mac.update(mac_bytes)
        return out

    def comment(self, text: str) -> str:
        """A top-level comment: decrypted when it is an encrypted one, kept as it is otherwise."""
        if not self._encrypted(text, []):
            return text
        try:
            plain, _ = self._open(text, ":", [])
        except SopsError:
            return text  # sops assumes a comment that does not decrypt was never encrypted
        return plain.decode("utf-8", "replace")

    def finish(self, verify_mac: bool) -> None:
        if not verify_mac:
            return
        try:
            stored, _ = self._open(self.meta.mac, _go_rfc3339(self.meta.lastmodified), ["sops", "mac"])
        except SopsError:
            raise SopsError("MAC mismatch: the stored MAC does not decrypt with the data key") from None
        if stored.decode("ascii", "replace") != self.mac.hexdigest().upper():
            raise SopsError("MAC mismatch")

    def _encrypted(self, value: Any, path: list[str]) -> bool:
        if self.meta.comment_rule:  # comments are not kept by our loaders: trust the ENC[...] shape
            return isinstance(value, str) and _ENC.match(value) is not None
        return _should_encrypt(self.meta.rules, path)

    def _open(self, value: str, aad: str, path: list[str]) -> tuple[bytes, str]:
        if value == "":
            return b"", "str"  # sops never encrypts empty strings
        match = _ENC.match(value)
        if match is None:
            raise SopsError(f"value at '{_where(path)}' is not in the SOPS ENC[AES256_GCM,...] format")
        try:
            data, iv, tag = (base64.b64decode(part, validate=True) for part in match.groups()[:3])
            plain = self.aes.decrypt(iv, data + tag, aad.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise SopsError(f"failed to decrypt value at '{_where(path)}': authentication failed") from None
        return plain, match.group(4)


def _should_encrypt(rules: Mapping[str, re.Pattern[str] | str], path: list[str]) -> bool:
    """sops.go shouldBeEncrypted for the key-based rules (exactly one rule is set)."""
    rule, arg = next(iter(rules.items()))
    if rule == "unencrypted_suffix":
        return not any(part.endswith(str(arg)) for part in path)
    if rule == "encrypted_suffix":
        return any(part.endswith(str(arg)) for part in path)
    matched = any(isinstance(arg, re.Pattern) and arg.search(part) for part in path)
    return matched if rule == "encrypted_regex" else not matched


def _typed(plain: bytes, kind: str, path: list[str], *, raw: bool) -> tuple[Any, bytes]:
    """The value for a decrypted `type:` and the bytes sops.ToBytes feeds to the MAC."""
    try:
        if kind == "str":
            return (plain if raw else plain.decode("utf-8", "replace")), plain
        if kind == "int":
            number = int(plain)
            return number, str(number).encode()
        if kind == "float":
            real = float(plain)
            return real, strconv.format_float(real, "f").encode()
        if kind == "bool":
            flag = strconv.PARSE_BOOL[plain.decode()]
            return flag, b"True" if flag else b"False"
        if kind == "time":
            return yaml3.Timestamp(plain.decode()), plain
        if kind == "bytes":
            return base64.b64encode(plain).decode(), plain
    except (ValueError, KeyError, UnicodeDecodeError):
        raise SopsError(f"value at '{_where(path)}' does not parse as its type {kind!r}") from None
    raise SopsError(f"value at '{_where(path)}' has an unknown SOPS type {kind!r}")


def _mac_bytes(value: Any, path: list[str]) -> bytes:
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        in_int64 = strconv.INT64_MIN <= value <= strconv.INT64_MAX
        return str(value).encode() if in_int64 else strconv.format_float(float(value), "f").encode()
    if isinstance(value, float):
        return strconv.format_float(value, "f").encode()
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bytes):
        return value
    if isinstance(value, date):
        return times.format_rfc3339nano(value).encode()
    raise SopsError(f"value at '{_where(path)}' has an unsupported type {type(value).__name__}")


def _aad(path: list[str]) -> str:
    return ":".join(path) + ":"


def _where(path: list[Any]) -> str:
    return ":".join(str(part) for part in path) or "<root>"


# -- metadata and the data key (stores/stores.go, age/keysource.go) ------------------------------


def _parse_metadata(sops: Mapping[str, Any]) -> _Metadata:
    rules: dict[str, re.Pattern[str] | str] = {}
    for name in (*_RULES, *_COMMENT_RULES):
        arg = sops.get(name)
        if arg:
            try:
                rules[name] = re.compile(str(arg)) if name.endswith("regex") else str(arg)
            except re.error:
                raise SopsError(f"invalid {name} in the SOPS metadata") from None
    if len(rules) > 1:
        raise SopsError(f"SOPS metadata sets more than one encryption rule: {', '.join(sorted(rules))}")
    comment_rule = any(name in rules for name in _COMMENT_RULES)
    if not rules:
        rules["unencrypted_suffix"] = "_unencrypted"
    groups: list[Mapping[str, Any]] = [sops]
    if not any(sops.get(kind) for kind in _KEY_TYPES):
        groups = [g for g in sops.get("key_groups") or [] if isinstance(g, Mapping)]
    if not groups or not any(g.get(kind) for g in groups for kind in _KEY_TYPES):
        raise SopsError("no keys found in the SOPS metadata")
    if len(groups) > 1:
        raise SopsError(f"SOPS files with {len(groups)} key groups (Shamir secret sharing) are not supported")
    age = [(str(k.get("recipient", "")), str(k.get("enc", ""))) for k in groups[0].get("age") or []]
    other = [kind for kind in _KEY_TYPES[1:] if groups[0].get(kind)]
    mac_only = sops.get("mac_only_encrypted", False)
    if isinstance(mac_only, str):
        mac_only = strconv.PARSE_BOOL.get(mac_only, False)
    return _Metadata(
        rules={k: v for k, v in rules.items() if k in _RULES},
        comment_rule=comment_rule,
        mac_only=bool(mac_only),
        lastmodified=sops.get("lastmodified", ""),
        mac=str(sops.get("mac") or ""),
        age=age,
        other=other,
    )


def _parse_identity(line: str, *, where: str) -> Any:
    if line.startswith("AGE-SECRET-KEY-PQ-1") or line.startswith("AGE-PLUGIN-"):
        raise SopsError(f"{where}: post-quantum and plugin age identities are not supported")
    if not line.startswith("AGE-SECRET-KEY-1"):
        raise SopsError(f"{where}: unknown age identity type")
    try:
        return pyrage.x25519.Identity.from_str(line)
    except pyrage.IdentityError:
        raise SopsError(f"{where}: malformed age X25519 identity") from None


def _data_key(meta: _Metadata, identities: Sequence[str]) -> bytes:
    parsed = [_parse_identity(identity.strip(), where=f"age identity #{n}") for n, identity in enumerate(identities, 1)]
    if not meta.age:
        raise SopsError(f"the SOPS data key is not encrypted for any age recipient (only {', '.join(meta.other)})")
    if not parsed:
        raise SopsError("no age identities to decrypt the SOPS data key with")
    for _recipient, enc in meta.age:
        try:
            key: bytes = pyrage.decrypt(enc.encode(), parsed)
        except pyrage.DecryptError:
            continue
        if len(key) != 32:
            raise SopsError("the decrypted SOPS data key is not 32 bytes long")
        return key
    recipients = ", ".join(recipient for recipient, _ in meta.age)
    raise SopsError(f"failed to decrypt the SOPS data key: no age identity matches the recipients {recipients}")


def _go_rfc3339(value: Any) -> str:
    """lastmodified as Go's time.Parse(RFC3339) then Format(RFC3339): the MAC's additional data."""
    try:
        return times.format_rfc3339(value)
    except ValueError:
        raise SopsError("the SOPS lastmodified timestamp is not RFC 3339") from None


def _bytes(text: str | bytes) -> bytes:
    return text.encode() if isinstance(text, str) else text
