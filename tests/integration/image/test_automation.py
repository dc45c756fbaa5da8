"""ImageUpdateAutomation against the real Git servers (smart HTTP and sshd, push enabled): push branches and
refspecs, a file whose every other byte stays, markers naming no policy, message templates with Flux's
fields, OpenPGP-signed commits, a branch that moves under the automation, and a push the remote refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gotk.kube.resources import SECRETS
from gotk.local import gitrepos
from gotk.runtime.git import writer
from gotk.testing import images
from gotk.testing.gitserver import SshGitServer, generate_client_key

from .conftest import IMAGE_POLICIES, IMAGE_REPOSITORIES, IMAGE_UPDATES, ImageEnv

ODD = """\
# The app; keep every comment.
apiVersion:   apps/v1
kind: Deployment
metadata:
    name: "app"     # quoted
    labels: &l
        tier:  'web'
spec:
    template:
        metadata: {labels: *l}
        spec:
            containers:
                -   name: app
                    image: "IMAGE:1.0.0"   # {"$imagepolicy": "NS:app"}
                -   name: side
                    image: IMAGE:1.0.0 # not a marker
            initContainers:
              - name: init
                image: IMAGE:0.9 # {"$imagepolicy": "NS:missing"}
"""


async def _policy(imgenv: ImageEnv, tag: str = "1.1.0") -> str:
    images.push_tags(imgenv.registry_client(), "org/app", ["1.0.0", tag])
    image = imgenv.image("org/app")
    await imgenv.image_repository("app", image)
    await imgenv.image_policy("app", "app", {"semver": {"range": "1.x"}})
    await imgenv.ready(IMAGE_POLICIES, "app")
    return image


async def test_push_branch_odd_file_and_missing_policy(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    text = ODD.replace("IMAGE", image).replace("NS", imgenv.namespace)
    imgenv.repo({"deploy/app.yaml": text, "README.md": "hello\n"})
    main = imgenv.head()
    await imgenv.git_repository()
    template = (
        "Automation: {{ .AutomationObject }}\n"
        "{{ range $file, $objects := .Changed.FileChanges }}{{ range $obj, $changes := $objects }}"
        "{{ range $changes }}- {{ $file }} {{ $obj.Kind }}/{{ $obj.Name }}: {{ .OldValue }} -> {{ .NewValue }}\n"
        "{{ end }}{{ end }}{{ end }}{{ len .Changed.Changes }} change(s) {{ .Values.env | upper }}"
    )
    git = {
        "push": {"branch": "auto-update"},
        "commit": {
            "author": {"name": "fluxbot", "email": "fluxbot@example.com"},
            "messageTemplate": template,
            "messageTemplateValues": {"env": "prod"},
        },
    }
    await imgenv.automation("app", git=git)
    await imgenv.wait(IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit")))
    assert imgenv.head() == main  # the checkout branch is untouched
    pushed = imgenv.head(branch="auto-update")
    assert imgenv.commit_of(pushed).parents[0].id == pygit2.Oid(hex=main)
    after = imgenv.read("deploy/app.yaml", branch="auto-update")
    expected = text.replace(f'"{image}:1.0.0"   # {{', f'"{image}:1.1.0"   # {{')
    assert after == expected  # every other byte, the unmarked image and the missing policy's marker kept
    message = imgenv.commit_of(pushed).message
    assert message == (
        f"Automation: {imgenv.namespace}/app\n"
        f"- deploy/app.yaml Deployment/app: {image}:1.0.0 -> {image}:1.1.0\n"
        "1 change(s) PROD"
    )
    automation = await imgenv.ready(IMAGE_UPDATES, "app")
    assert automation["status"]["observedSourceRevision"] == f"main@sha1:{main}"

    async def said() -> bool:
        events = await imgenv.events("app")
        messages = [e["message"] for e in events if e["involvedObject"]["kind"] == "ImageUpdateAutomation"]
        return any(f"deploy/app.yaml: {imgenv.namespace}:missing" in m and "left as they are" in m for m in messages)

    await imgenv.eventually(said, 30, "the event naming the marker without a policy")

    # nothing new: the next run pushes nothing, and the rewritten push branch stays where it is
    await imgenv.request(IMAGE_UPDATES, "app", "again")
    await imgenv.wait(IMAGE_UPDATES, "app", lambda o: (o.get("status") or {}).get("lastHandledReconcileAt") == "again")
    assert imgenv.head(branch="auto-update") == pushed


async def test_same_branch_moved_under_the_automation_is_retried(
    imgenv: ImageEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    marked = f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'
    bare = imgenv.repo({"app.yaml": marked})
    await imgenv.git_repository()
    opened: list[int] = []
    original = writer.open_workspace

    def open_then_move(*args: Any, **kwargs: Any) -> writer.Workspace:
        ws = original(*args, **kwargs)
        if not opened:  # someone pushes to main between our clone and our push
            gitrepos.commit(bare, {"other.txt": "theirs\n"}, "a commit of someone else")
        opened.append(1)
        return ws

    monkeypatch.setattr(writer, "open_workspace", open_then_move)
    await imgenv.automation("app", git={"push": {"branch": "main"}})
    automation = await imgenv.wait(IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit")))
    assert len(opened) == 2
    head = imgenv.commit_of(imgenv.head())
    assert str(head.id) == automation["status"]["lastPushCommit"]
    assert head.parents[0].message == "a commit of someone else"  # theirs is kept, ours is on top
    assert imgenv.read("other.txt") == "theirs\n"
    assert f"{image}:1.1.0" in imgenv.read("app.yaml")


async def test_refused_push_leaves_nothing_on_the_remote(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    bare = imgenv.repo({"app.yaml": f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'})
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = imgenv.head()
    await imgenv.git_repository()
    await imgenv.automation("app", git={"push": {"branch": "main"}})
    failed = await imgenv.condition(IMAGE_UPDATES, "app", "Ready", "False", "GitOperationFailed")
    assert "failed to update source" in str(failed["status"]["conditions"])
    assert imgenv.head() == before
    refs = subprocess.run(["git", "--git-dir", str(bare), "for-each-ref"], capture_output=True, text=True, check=True)
    assert refs.stdout.count("\n") == 1  # main only, where it was


async def test_removed_template_field_stalls(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    imgenv.repo({"app.yaml": f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'})
    await imgenv.git_repository()
    commit = {
        "author": {"email": "fluxbot@example.com"},
        "messageTemplate": "{{ range .Changed.ImageResult }}{{ end }}",
    }
    await imgenv.automation("app", git={"commit": commit})
    stalled = await imgenv.condition(IMAGE_UPDATES, "app", "Stalled", "True", "RemovedTemplateField")
    assert "'.Changed.ImageResult'" in str(stalled["status"]["conditions"])


def _gpg_key(home: Path) -> tuple[str, str]:
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    spec = (
        "%no-protection\nKey-Type: EDDSA\nKey-Curve: ed25519\n"
        "Name-Real: fluxbot\nName-Email: fluxbot@example.com\n%commit\n"
    )
    subprocess.run(["gpg", "--batch", "--gen-key"], input=spec, text=True, env=env, check=True, capture_output=True)
    secret = subprocess.run(
        ["gpg", "--batch", "--armor", "--export-secret-keys"], env=env, check=True, capture_output=True, text=True
    )
    public = subprocess.run(
        ["gpg", "--batch", "--armor", "--export"], env=env, check=True, capture_output=True, text=True
    )
    return secret.stdout, public.stdout


async def test_signed_commit_over_ssh(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    server = SshGitServer(imgenv.tmp / "ssh-git", workdir=imgenv.tmp / "sshd")
    (imgenv.tmp / "ssh-git").mkdir()
    server.start()
    try:
        bare = gitrepos.make_repo(
            server.root,
            "fleet.git",
            {"app.yaml": f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'},
        )
        private, public = generate_client_key()
        server.authorize(public)
        secret_key, public_key = _gpg_key(imgenv.tmp / "gnupg")
        for name, data in (
            ("ssh", {"identity": private, "known_hosts": server.known_hosts_line()}),
            ("signing", {"git.asc": secret_key}),
        ):
            body = {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name},
                "stringData": {k: v if isinstance(v, str) else v.decode() for k, v in data.items()},
            }
            await imgenv.client.create(SECRETS, body, imgenv.namespace)
        await imgenv.git_repository(url=server.url_for("fleet.git"), secretRef={"name": "ssh"})
        commit = {"author": {"email": "fluxbot@example.com"}, "signingKey": {"secretRef": {"name": "signing"}}}
        await imgenv.automation("app", git={"commit": commit})
        automation = await imgenv.wait(
            IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit"))
        )
        repo = pygit2.Repository(str(bare))
        head = repo.references["refs/heads/main"].target
        assert str(head) == automation["status"]["lastPushCommit"]
        signature, payload = repo.get(head).gpg_signature  # type: ignore[union-attr]
        assert signature is not None and b"BEGIN PGP SIGNATURE" in signature
        from gotk.runtime.git import signatures

        assert signatures.verify_pgp(signature.decode(), payload, [public_key])
    finally:
        server.stop()


async def test_ssh_signed_commit_with_the_transport_secret(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    (imgenv.tmp / "ssh-git").mkdir()
    server = SshGitServer(imgenv.tmp / "ssh-git", workdir=imgenv.tmp / "sshd").start()
    try:
        marked = f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'
        bare = gitrepos.make_repo(server.root, "fleet.git", {"app.yaml": marked})
        private, public = generate_client_key()
        server.authorize(public)
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "ssh"},
            "stringData": {"identity": private.decode(), "known_hosts": server.known_hosts_line()},
        }
        await imgenv.client.create(SECRETS, body, imgenv.namespace)
        await imgenv.git_repository(url=server.url_for("fleet.git"), secretRef={"name": "ssh"})
        commit = {
            "author": {"email": "fluxbot@example.com"},
            "signingKey": {"secretRef": {"name": "ssh"}, "type": "ssh"},
        }
        await imgenv.automation("app", git={"commit": commit})
        automation = await imgenv.wait(
            IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit"))
        )
        repo = pygit2.Repository(str(bare))
        head = repo.get(automation["status"]["lastPushCommit"])
        assert isinstance(head, pygit2.Commit)
        signature, payload = head.gpg_signature
        assert signature is not None
        from gotk.runtime.git import signatures

        assert signatures.verify_ssh(signature.decode(), payload, [public])
    finally:
        server.stop()


async def test_refspec_and_push_options_reach_the_server(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    bare = imgenv.repo({"app.yaml": f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'})
    subprocess.run(["git", "--git-dir", str(bare), "config", "receive.advertisePushOptions", "true"], check=True)
    log = imgenv.tmp / "push-options.log"
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        'i=0; while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do\n'
        f'  eval "echo \\$GIT_PUSH_OPTION_$i" >> {log}; i=$((i+1))\n'
        "done\n"
    )
    hook.chmod(0o755)
    await imgenv.git_repository()
    push = {
        "branch": "main",
        "refspec": "refs/heads/main:refs/heads/review",
        "options": {"topic": "images", "ci.skip": ""},
    }
    await imgenv.automation("app", git={"push": push})
    automation = await imgenv.wait(IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit")))
    sha = automation["status"]["lastPushCommit"]
    assert imgenv.head() == sha and imgenv.head(branch="review") == sha
    assert sorted(log.read_text().split()) == sorted(["ci.skip=", "topic=images"] * 2)  # both pushes carry them


async def test_push_branch_keeps_commits_of_others_and_never_forces(imgenv: ImageEnv) -> None:
    await imgenv.start()
    image = await _policy(imgenv)
    marked = f'image: {image}:1.0.0 # {{"$imagepolicy": "{imgenv.namespace}:app"}}\n'
    bare = imgenv.repo({"app.yaml": marked})
    await imgenv.git_repository()
    await imgenv.automation("app", git={"push": {"branch": "auto"}})
    first = await imgenv.wait(IMAGE_UPDATES, "app", lambda o: bool((o.get("status") or {}).get("lastPushCommit")))
    auto = first["status"]["lastPushCommit"]
    assert imgenv.commit_of(auto).parents[0].id == pygit2.Oid(hex=imgenv.head())

    # someone adds a commit of their own to the push branch; a newer image follows
    theirs = gitrepos.commit(bare, {"notes.txt": "review notes\n"}, "a reviewer's commit", branch="auto")
    images.push_image(imgenv.registry_client(), "org/app", "1.2.0")
    await imgenv.request(IMAGE_REPOSITORIES, "app", "rescan")

    def pushed_again(obj: dict[str, Any]) -> bool:
        return (obj.get("status") or {}).get("lastPushCommit") not in (None, auto)

    second = await imgenv.wait(IMAGE_UPDATES, "app", pushed_again, timeout=60)
    head = imgenv.commit_of(second["status"]["lastPushCommit"])
    assert str(head.parents[0].id) == theirs  # on top of theirs: nothing lost, nothing forced
    assert imgenv.read("notes.txt", branch="auto") == "review notes\n"
    assert f"{image}:1.2.0" in imgenv.read("app.yaml", branch="auto")

    # merged into main: the next update starts from main again (Flux's checkout plus the update)
    gitrepos.set_ref(bare, "refs/heads/main", str(head.id))
    images.push_image(imgenv.registry_client(), "org/app", "1.3.0")
    await imgenv.request(IMAGE_REPOSITORIES, "app", "rescan-2")
    merged_from = str(head.id)

    def third_push(obj: dict[str, Any]) -> bool:
        return (obj.get("status") or {}).get("lastPushCommit") not in (None, auto, merged_from)

    third = await imgenv.wait(IMAGE_UPDATES, "app", third_push, timeout=60)
    assert str(imgenv.commit_of(third["status"]["lastPushCommit"]).parents[0].id) == imgenv.head()
