"""`flux create image repository|policy|update NAME`: image.toolkit.fluxcd.io/v1 objects, printed (--export)
or applied and waited for.

Flags, defaults, checks and lines follow flux2's cmd/flux/create_image_{repository,policy,update}.go:

* `repository` needs an --image that go-containerregistry's `name.NewRepository` accepts; --secret-ref,
  --cert-ref and --scan-timeout (spec.timeout when non-zero) are optional.
* `policy` needs --image-ref and one of --select-semver, --select-alpha or --select-numeric (asc|desc).
  flux2's switch has empty cases for semver combined with alpha or numeric, so those combinations pass
  without an error and leave `policy: {}`; only alpha with numeric is refused. --filter-regex must be a
  valid Go regexp, --filter-extract may only name its capture groups, --reflect-digest is Never,
  IfNotPresent or Always, and the command's own --interval (default 0, shadowing the `create` one) needs
  Always.
* `update` needs --git-repo-ref, --checkout-branch, --author-name and --author-email; --signing-key-type
  (gpg|ssh) needs --signing-key-secret, and --git-repo-path sets the Setters update strategy.

The spec is built as the Go types marshal it (omitempty fields dropped, required ones kept), labels are
parsed after each command's own checks, and without --export the object is applied, then flux's
`✚ generating`, `► applying`, `◎ waiting` and `✔ <Kind> reconciliation completed` lines follow.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import click

from gotk.cli import create_common, goflags, kubeclient, output
from gotk.cli.context import Globals
from gotk.cli.create_common import CreateArgs, create_options
from gotk.cli.engines.manifest import Obj
from gotk.cli.flags import AliasGroup, timeout_seconds, with_globals
from gotk.cli.output import CommandError
from gotk.image import selection
from gotk.kube.client import Client
from gotk.kube.resources import flux_resource

IMAGE_REPOSITORY = "ImageRepository"
IMAGE_POLICY = "ImagePolicy"
IMAGE_UPDATE = "ImageUpdateAutomation"
ORDERS = ("asc", "desc")
REFLECTION_POLICIES = ("Never", "IfNotPresent", "Always")
SIGNING_KEY_TYPES = ("gpg", "ssh")

image = AliasGroup(
    "image",
    help="Create or update resources dealing with image automation: objects controlling updates to Git "
    "based on e.g. new container images being available.",
)


# -- shared tail -----------------------------------------------------------------------------------


def _finish(g: Globals, kind: str, c: CreateArgs, labels: dict[str, str], spec: Obj) -> None:
    """flux's printExport, or its upsertAndWait: generate, apply, wait for Ready of the latest generation.

    `spec` is already shaped as the Go type marshals it, so it replaces the generic shaping of
    `new_object` (which would drop a required empty struct such as `policy: {}`)."""
    obj = create_common.new_object(kind, c, labels, spec)
    obj["spec"] = spec
    if c.export:
        create_common.print_export(obj)
        return
    deadline = time.monotonic() + timeout_seconds(g)
    resource = flux_resource(kind)

    async def body(client: Client) -> None:
        output.generate(f"generating {kind}")
        await create_common.apply_and_wait(client, resource, obj, what=kind, deadline=deadline, no_artifact=None)

    kubeclient.run(g, body)


# -- repository ------------------------------------------------------------------------------------

_REPOSITORY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-./"
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$&'()*+,;=:[]<>\"-_.~")


def _valid_port(port: str) -> bool:
    """net/url's validOptionalPort: empty, or a colon followed by digits only."""
    return port == "" or (port[0] == ":" and all("0" <= ch <= "9" for ch in port[1:]))


def _uri_authority(name: str) -> bool:
    """Whether net/url parses `//name` with exactly `name` as its host (go-containerregistry's checkRegistry):
    no control characters, no `#`, `?`, `@` or `%` (they end the host, add userinfo or unescape to something
    else), a numeric port, and only the ASCII characters a host may carry."""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "#?@%/" for ch in name):
        return False
    if name.startswith("["):
        close = name.rfind("]")
        if close < 0 or not _valid_port(name[close + 1 :]):
            return False
    elif (colon := name.rfind(":")) >= 0 and not _valid_port(name[colon:]):
        return False
    return all(ord(ch) >= 0x80 or ch in _HOST_CHARS for ch in name)


def repository_error(value: str) -> str | None:
    """go-containerregistry's name.NewRepository (default, non-strict options): its error, or None.

    A first path element with a `.` or `:` is the registry; the rest must be 2 to 255 characters from
    `[a-z0-9_-./]`, the registry a valid URI authority."""
    if not value:
        return "a repository name must be specified"
    registry, repo = "", value
    parts = value.split("/", 1)
    if len(parts) == 2 and ("." in parts[0] or ":" in parts[0]):
        registry, repo = parts
    if not 2 <= len(repo) <= 255:
        return f"repository must be between 2 and 255 characters in length: {repo}"
    if any(ch not in _REPOSITORY_CHARS for ch in repo):
        return f"repository can only contain the characters `{_REPOSITORY_CHARS}`: {repo}"
    if not _uri_authority(registry):
        return f"registries must be valid RFC 3986 URI authorities: {registry}"
    return None


@click.command("repository", cls=goflags.FluxCommand, help="Create or update an ImageRepository object.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--image", default="", help="The image repository to scan; e.g., library/alpine.")
@click.option("--secret-ref", default="", help="The name of a docker-registry secret to use for credentials.")
@click.option("--cert-ref", default="", help="The name of a secret to use for TLS certificates.")
@click.option(
    "--scan-timeout",
    type=goflags.Duration(),
    default="0s",
    help="A timeout for scanning; this defaults to the interval if not set.",
)
@create_options
@with_globals
def repository(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    if not flags["image"]:
        raise CommandError("an image repository (--image) is required")
    if (why := repository_error(flags["image"])) is not None:
        raise CommandError(f"unable to parse image value: {why}")
    labels = create_common.parse_labels(c.labels)
    spec: Obj = {"image": flags["image"], "interval": c.interval_text}
    if flags["scan_timeout"] != 0:
        spec["timeout"] = goflags.format_duration(flags["scan_timeout"])
    if flags["secret_ref"]:
        spec["secretRef"] = {"name": flags["secret_ref"]}
    if flags["cert_ref"]:
        spec["certSecretRef"] = {"name": flags["cert_ref"]}
    _finish(g, IMAGE_REPOSITORY, c, labels, spec)


# -- policy ----------------------------------------------------------------------------------------


def _python_only(pattern: str) -> bool:
    """Constructs Python's engine accepts and Go's RE2 syntax refuses: lookarounds, atomic groups,
    conditionals, comments, `(?P=name)`, backreferences (`\\1` not followed by an octal digit) and `\\Z`."""
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt, after = pattern[i + 1 : i + 2], pattern[i + 2 : i + 3]
            if not in_class and (nxt == "Z" or (nxt and nxt in "123456789" and not (after and after in "01234567"))):
                return True
            i += 2
        elif in_class:
            if pattern.startswith("[:", i) and (end := pattern.find(":]", i + 2)) >= 0:
                i = end + 2
                continue
            in_class = ch != "]"
            i += 1
        elif ch == "[":
            i += 1
            i += pattern.startswith("^", i)
            i += pattern.startswith("]", i)  # a leading `]` is a literal
            in_class = True
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!", "(?>", "(?(", "(?#", "(?P="), i):
            return True
        else:
            i += 1
    return False


def capture_names(pattern: str) -> Collection[str] | None:
    """The named capture groups of a Go (RE2, Perl flags) pattern, or None when it does not parse."""
    if _python_only(pattern):
        return None
    try:
        compiled = selection.compile_go_regexp(pattern)
    except selection.InvalidPolicyError:
        return None
    return set(compiled.groupindex)


def _template_ref(text: str) -> tuple[str, int, str] | None:
    """Go regexp's `extract`: the name after `$` (or inside `${…}`), its group number (-1 for a name) and
    the rest of the template; None when malformed."""
    if len(text) < 2 or text[0] != "$":
        return None
    brace = text[1] == "{"
    text = text[2:] if brace else text[1:]
    i = 0
    while i < len(text) and (text[i].isalpha() or text[i].isdecimal() or text[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = text[:i]
    if brace:
        if i >= len(text) or text[i] != "}":
            return None
        i += 1
    num = 0
    for ch in name:
        if not "0" <= ch <= "9" or num >= 100_000_000:
            num = -1
            break
        num = num * 10 + int(ch)
    if name[0] == "0" and len(name) > 1:
        num = -1
    return name, num, text[i:]


def check_extract(template: str, names: Collection[str]) -> None:
    """flux's validateExtractStr: every `$name`/`${name}` must be a capture group of --filter-regex (group
    numbers are not checked, `$$` is a dollar sign)."""
    while template:
        start = template.find("$")
        if start < 0:
            return
        template = template[start:]
        if template.startswith("$$"):
            template = template[2:]
            continue
        ref = _template_ref(template)
        if ref is None:
            raise CommandError("--filter-extract is malformed")
        name, num, template = ref
        if num < 0 and name not in names:
            raise CommandError(f"capture group ${name} used in --filter-extract not found in --filter-regex")


def _choice(semver: str, alpha: str, numeric: str) -> Obj:
    if semver and (alpha or numeric):
        return {}  # flux2's empty switch cases: no error, no policy
    if alpha and numeric:
        raise CommandError("only one of --select-semver, --select-alpha or --select-numeric can be specified")
    if semver:
        return {"semver": {"range": semver}}
    if alpha:
        if alpha not in ORDERS:
            raise CommandError('--select-alpha must be one of ["asc", "desc"]')
        return {"alphabetical": {"order": alpha}}
    if numeric:
        if numeric not in ORDERS:
            raise CommandError('--select-numeric must be one of ["asc", "desc"]')
        return {"numerical": {"order": numeric}}
    raise CommandError("a policy must be provided with either --select-semver or --select-alpha")


def policy_spec(flags: dict[str, Any]) -> Obj:
    """spec of the ImagePolicy, with flux's checks in flux's order."""
    spec: Obj = {
        "imageRepositoryRef": {"name": flags["image_ref"]},
        "policy": _choice(flags["select_semver"], flags["select_alpha"], flags["select_numeric"]),
    }
    pattern, extract = flags["filter_regex"], flags["filter_extract"]
    if pattern:
        names = capture_names(pattern)
        if names is None:
            raise CommandError("--filter-regex is an invalid regex pattern")
        if extract:
            check_extract(extract, names)
        spec["filterTags"] = {"pattern": pattern, "extract": extract}
    elif extract:
        raise CommandError("cannot specify --filter-extract without specifying --filter-regex")
    reflect = flags["reflect_digest"]
    if reflect:
        if reflect not in REFLECTION_POLICIES:
            raise CommandError("invalid value for --reflect-digest, must be one of 'Never', 'IfNotPresent', 'Always'")
        spec["digestReflectionPolicy"] = reflect
    if flags["interval"] != 0:
        if reflect != "Always":
            raise CommandError(
                "the --interval flag can only be used with the 'Always' digest reflection policy, "
                "use --reflect-digest=Always"
            )
        spec["interval"] = goflags.format_duration(flags["interval"])
    return spec


@click.command("policy", cls=goflags.FluxCommand, help="Create or update an ImagePolicy object.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option("--image-ref", default="", help="The name of an image repository object.")
@click.option("--select-semver", default="", help="A semver range to apply to tags; e.g., '1.x'.")
@click.option(
    "--select-alpha",
    default="",
    help='Use alphabetical sorting to select image; either "asc" meaning select the last, or "desc" meaning '
    "select the first.",
)
@click.option(
    "--select-numeric",
    default="",
    help='Use numeric sorting to select image; either "asc" meaning select the last, or "desc" meaning '
    "select the first.",
)
@click.option("--filter-regex", default="", help="Regular expression pattern used to filter the image tags.")
@click.option(
    "--filter-extract",
    default="",
    help="Replacement pattern (using capture groups from --filter-regex) to use for sorting.",
)
@click.option(
    "--reflect-digest",
    default="",
    help="The digest reflection policy to use when observing latest image tags (one of 'Never', "
    "'IfNotPresent', 'Always').",
)
@click.option(
    "--interval",
    type=goflags.Duration(),
    default="0s",
    help="The interval at which to check for new image digests when the policy is set to 'Always'.",
)
@click.option(
    "--label",
    "label",
    multiple=True,
    help="Set labels on the resource (can specify multiple labels with commas: label1=value1,label2=value2).",
)
@click.option("--export", is_flag=True, help="Export in YAML format to stdout.")
@with_globals
def policy(g: Globals, args: tuple[str, ...], export: bool, label: tuple[str, ...], **flags: Any) -> None:
    c = create_common.create_args(g, args, flags["interval"], export, label)
    if not flags["image_ref"]:
        raise CommandError("the name of an ImageRepository in the namespace is required (--image-ref)")
    labels = create_common.parse_labels(c.labels)
    _finish(g, IMAGE_POLICY, c, labels, policy_spec(flags))


# -- update ----------------------------------------------------------------------------------------


def update_spec(c: CreateArgs, flags: dict[str, Any]) -> Obj:
    source_ref: Obj = {"kind": "GitRepository", "name": flags["git_repo_ref"]}
    if flags["git_repo_namespace"]:
        source_ref["namespace"] = flags["git_repo_namespace"]
    commit: Obj = {"author": {"name": flags["author_name"], "email": flags["author_email"]}}
    if flags["commit_template"]:
        commit["messageTemplate"] = flags["commit_template"]
    if flags["signing_key_secret"]:
        signing: Obj = {"secretRef": {"name": flags["signing_key_secret"]}}
        if flags["signing_key_type"]:
            signing["type"] = flags["signing_key_type"]
        commit["signingKey"] = signing
    git: Obj = {"checkout": {"ref": {"branch": flags["checkout_branch"]}}, "commit": commit}
    if flags["push_branch"]:
        git["push"] = {"branch": flags["push_branch"]}
    spec: Obj = {"sourceRef": source_ref, "git": git, "interval": c.interval_text}
    if flags["git_repo_path"]:
        spec["update"] = {"path": flags["git_repo_path"], "strategy": "Setters"}
    return spec


@click.command("update", cls=goflags.FluxCommand, help="Create or update an ImageUpdateAutomation object.")
@click.argument("args", nargs=-1, metavar="NAME")
@click.option(
    "--git-repo-ref",
    default="",
    help="The name of a GitRepository resource with details of the upstream Git repository.",
)
@click.option(
    "--git-repo-namespace",
    default="",
    help="The namespace of the GitRepository resource, defaults to the ImageUpdateAutomation namespace.",
)
@click.option(
    "--git-repo-path",
    default="",
    help="Path to the directory containing the manifests to be updated, defaults to the repository root.",
)
@click.option("--checkout-branch", default="", help="The branch to checkout.")
@click.option(
    "--push-branch",
    default="",
    help="The branch to push commits to, defaults to the checkout branch if not specified.",
)
@click.option("--commit-template", default="", help="A template for commit messages.")
@click.option("--author-name", default="", help="The name to use for commit author.")
@click.option("--author-email", default="", help="The email to use for commit author.")
@click.option(
    "--signing-key-secret",
    default="",
    help="Name of the Secret containing the signing key referenced in spec.git.commit.signingKey.",
)
@click.option(
    "--signing-key-type",
    default="",
    help="Signing-key format: gpg or ssh (defaults to gpg when --signing-key-secret is set).",
)
@create_options
@with_globals
def update(
    g: Globals, args: tuple[str, ...], interval: int, export: bool, label: tuple[str, ...], **flags: Any
) -> None:
    c = create_common.create_args(g, args, interval, export, label)
    required = (
        ("git_repo_ref", "a reference to a GitRepository is required (--git-repo-ref)"),
        ("checkout_branch", "the Git repository branch is required (--checkout-branch)"),
        ("author_name", "the author name is required (--author-name)"),
        ("author_email", "the author email is required (--author-email)"),
    )
    for key, message in required:
        if not flags[key]:
            raise CommandError(message)
    key_type = flags["signing_key_type"]
    if key_type and not flags["signing_key_secret"]:
        raise CommandError("--signing-key-type requires --signing-key-secret")
    if key_type and key_type not in SIGNING_KEY_TYPES:
        raise CommandError("--signing-key-type must be one of: gpg, ssh")
    labels = create_common.parse_labels(c.labels)
    _finish(g, IMAGE_UPDATE, c, labels, update_spec(c, flags))


image.add_command(repository)
image.add_command(policy)
image.add_command(update)
