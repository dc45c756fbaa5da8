"""Registry credentials, pure except `docker_config_credentials`: pick the entry of a
`kubernetes.io/dockerconfigjson` (or legacy `.dockercfg`) Secret, or of `~/.docker/config.json`,
that matches a registry host; parse `--creds user[:password]`; parse `WWW-Authenticate` challenges.

`Credentials` never shows its secrets in `repr`, and no error here quotes a secret value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "DOCKER_HUB_ALIASES",
    "Challenge",
    "Credentials",
    "CredentialsError",
    "docker_config_credentials",
    "from_docker_config",
    "from_pull_secret",
    "normalize_registry",
    "parse_challenge",
    "parse_creds",
]

DOCKER_HUB_ALIASES: Final = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKERCONFIGJSON_KEY: Final = ".dockerconfigjson"
DOCKERCFG_KEY: Final = ".dockercfg"
_PARAM = re.compile(r'([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')


class CredentialsError(ValueError):
    """Unreadable credentials configuration; the message names the key, never a secret."""


@dataclass(frozen=True)
class Credentials:
    """Basic credentials, an identity (refresh) token, or a registry (bearer) token."""

    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)

    @property
    def anonymous(self) -> bool:
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def secrets(self) -> tuple[str, ...]:
        """The secret values, so that callers can scrub them from any text they show."""
        return tuple(s for s in (self.password, self.identity_token, self.registry_token) if s)

    def basic(self) -> str:
        """The `Authorization: Basic` value for username and password."""
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def parse_creds(text: str) -> Credentials:
    """`--creds`: `user:password`, or a bare value taken as a registry token (as Flux does)."""
    if not text:
        raise CredentialsError("credentials cannot be empty")
    user, sep, password = text.partition(":")
    if not sep:
        return Credentials(registry_token=user)
    return Credentials(username=user, password=password)


def normalize_registry(key: str) -> str:
    """A config key (`https://host:port/v1/`, `host`, `docker.io`) as a lowercase `host[:port]`."""
    host = key.strip()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = host.split("/", 1)[0].lower()
    return "index.docker.io" if host in DOCKER_HUB_ALIASES else host


def _host_matches(pattern: str, registry: str) -> bool:
    if pattern == registry:
        return True
    if not pattern.startswith("*."):
        return False
    p_host, _, p_port = pattern[2:].partition(":")
    r_host, _, r_port = registry.partition(":")
    return p_port == r_port and r_host.endswith("." + p_host)


def _entry_credentials(key: str, entry: Any) -> Credentials:
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"invalid entry for registry '{key}'")
    username, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    auth = entry.get("auth")
    if auth:
        try:
            decoded = base64.b64decode(str(auth), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError(f"invalid 'auth' for registry '{key}': not base64 of user:password") from None
        user, sep, pw = decoded.partition(":")
        if not sep:
            raise CredentialsError(f"invalid 'auth' for registry '{key}': no ':' between user and password")
        username, password = user, pw
    return Credentials(
        username=username,
        password=password,
        identity_token=str(entry.get("identitytoken") or ""),
        registry_token=str(entry.get("registrytoken") or ""),
    )


def from_docker_config(auths: Mapping[str, Any], registry: str) -> Credentials | None:
    """The credentials in a docker `auths` map for `registry` (`host[:port]`), or None.

    An exact host match wins over a `*.domain` wildcard; Docker Hub keys (`docker.io`,
    `https://index.docker.io/v1/`, ...) all mean the same registry.
    """
    wanted = normalize_registry(registry)
    exact: tuple[str, Any] | None = None
    wildcard: tuple[str, Any] | None = None
    for key, entry in auths.items():
        host = normalize_registry(str(key))
        if host == wanted and exact is None:
            exact = (str(key), entry)
        elif wildcard is None and _host_matches(host, wanted):
            wildcard = (str(key), entry)
    chosen = exact or wildcard
    if chosen is None:
        return None
    creds = _entry_credentials(*chosen)
    return None if creds.anonymous else creds


def _load_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CredentialsError(f"{what} is not valid JSON") from None


def from_pull_secret(data: Mapping[str, bytes], registry: str) -> Credentials | None:
    """Credentials for `registry` from an image pull Secret's decoded data, or None.

    Reads `.dockerconfigjson` (`{"auths": {...}}`) or the legacy `.dockercfg` (the map itself);
    a Secret with neither key yields None, as Kubernetes' keychain ignores it.
    """
    if DOCKERCONFIGJSON_KEY in data:
        doc = _load_json(data[DOCKERCONFIGJSON_KEY], DOCKERCONFIGJSON_KEY)
        auths = doc.get("auths") if isinstance(doc, Mapping) else None
        if not isinstance(auths, Mapping):
            raise CredentialsError(f"{DOCKERCONFIGJSON_KEY} has no 'auths' map")
        return from_docker_config(auths, registry)
    if DOCKERCFG_KEY in data:
        doc = _load_json(data[DOCKERCFG_KEY], DOCKERCFG_KEY)
        if not isinstance(doc, Mapping):
            raise CredentialsError(f"{DOCKERCFG_KEY} is not a map of registries")
        return from_docker_config(doc, registry)
    return None


def docker_config_credentials(registry: str, env: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for `registry` from `$DOCKER_CONFIG/config.json` (default `~/.docker`), or None.

    Only inline `auths` entries are read; credential helpers are not run. Blocks (reads a file).
    """
    env = os.environ if env is None else env
    base = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else Path.home() / ".docker"
    try:
        raw = (base / "config.json").read_bytes()
    except OSError:
        return None
    doc = _load_json(raw, str(base / "config.json"))
    auths = doc.get("auths") if isinstance(doc, Mapping) else None
    return from_docker_config(auths, registry) if isinstance(auths, Mapping) else None


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` header: scheme (lowercase) and parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge:
    """Parse `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`."""
    scheme, _, rest = header.strip().partition(" ")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(rest):
        quoted, bare = m[2], m[3]
        params[m[1].lower()] = quoted.replace('\\"', '"') if quoted is not None else (bare or "")
    return Challenge(scheme.lower(), params)
