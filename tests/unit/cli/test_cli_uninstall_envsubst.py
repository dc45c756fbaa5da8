"""`flux uninstall` flags (its behaviour runs on the real control plane: tests/integration/test_cli_uninstall.py),
`flux envsubst` (flux2's testdata as golden files, strict mode, line handling) and `flux completion`
(the scripts, and click's completion protocol answering for `flux`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gotk.cli import completion
from gotk.cli.main import cli
from gotk.cli.output import CommandError

GOLDEN = Path(__file__).parents[2] / "golden" / "cli" / "envsubst"
NS = "flux-system"

# -- uninstall -----------------------------------------------------------------------------------


def test_uninstall_flags() -> None:
    result = CliRunner().invoke(cli, ["uninstall", "extra"])
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == 'unknown command "extra" for "flux uninstall"'
    help_text = CliRunner().invoke(cli, ["uninstall", "--help"]).output
    for flag in ("--keep-namespace", "--dry-run", "-s, --silent", "--namespace"):
        assert flag in help_text


# -- envsubst ------------------------------------------------------------------------------------


def envsubst(stdin: bytes, *args: str) -> Any:
    return CliRunner().invoke(cli, ["envsubst", *args], input=stdin)


def test_envsubst_flux2_testdata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_NAME", "test")
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == (GOLDEN / "file.gold").read_bytes()


def test_envsubst_strict_fails_on_an_unset_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPO_NAME", raising=False)
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes(), "--strict")
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == 'variable not set (strict mode): "REPO_NAME"'
    # the lines before the failing one were written, as flux2 flushes each line
    assert result.stdout == "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n"


def test_envsubst_strict_accepts_defaults_and_empty_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPO_NAME", "")
    monkeypatch.delenv("REPO_NAMESPACE", raising=False)
    result = envsubst((GOLDEN / "file.yaml").read_bytes(), "--strict")
    assert result.exit_code == 0, result.output
    assert "  name: \n  namespace: flux-system\n" in result.stdout


def test_envsubst_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOTK_T_VAR", "x")
    monkeypatch.delenv("GOTK_T_UNSET", raising=False)
    stdin = b"a: ${GOTK_T_VAR}\r\nb: $GOTK_T_VAR $${GOTK_T_VAR}\n\nc: ${GOTK_T_UNSET}|${GOTK_T_VAR^^}\xff"
    result = envsubst(stdin)
    assert result.exit_code == 0, result.output
    # CRLF becomes LF, `$var` stays, `$${}` escapes, unset is empty, bytes pass, the last line gets a newline
    assert result.stdout_bytes == b"a: x\nb: $GOTK_T_VAR ${GOTK_T_VAR}\n\nc: |X\xff\n"
    assert envsubst(b"").stdout_bytes == b""


def test_envsubst_parse_error_and_arguments() -> None:
    result = envsubst(b"x: ${}\n")
    assert isinstance(result.exception, CommandError)
    assert str(result.exception) == "unable to parse variable name"
    result = envsubst(b"", "file.yaml")
    assert str(result.exception) == 'unknown command "file.yaml" for "flux envsubst"'
    assert envsubst(b"x\n", "--strict=true").stdout == "x\n"  # cobra's boolean spelling


# -- completion ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_completion_scripts(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell], catch_exceptions=False)
    assert result.exit_code == 0
    assert "_FLUX_COMPLETE" in result.stdout and f"{shell}_complete" in result.stdout
    assert "_flux_completion" in result.stdout or shell == "powershell"
    assert result.stdout == completion.script(cli, shell)


def complete(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], shell: str, words: str) -> str:
    """What the `flux` executable answers to the script's completion request."""
    monkeypatch.setenv("_FLUX_COMPLETE", f"{shell}_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
    with pytest.raises(SystemExit) as exited:
        cli.main(args=[], prog_name="flux", standalone_mode=False)
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_completion_protocol(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert complete(monkeypatch, capsys, "bash", "flux unin").splitlines() == ["plain,uninstall"]
    assert complete(monkeypatch, capsys, "bash", "flux completion ").splitlines() == [
        "plain,bash",
        "plain,fish",
        "plain,powershell",
        "plain,zsh",
    ]
    assert "plain,--keep-namespace" in complete(monkeypatch, capsys, "bash", "flux uninstall --k").splitlines()
    zsh = complete(monkeypatch, capsys, "zsh", "flux envs").splitlines()
    assert zsh[:2] == ["plain", "envsubst"] and "substitutes the values" in zsh[2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_script_completes_through_the_flux_executable() -> None:
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "flux").exists():
        pytest.skip("no flux console script beside the interpreter")
    session = """
source <(flux completion bash)
COMP_WORDS=(flux completion p); COMP_CWORD=2; _flux_completion flux; echo "${COMPREPLY[@]}"
complete -p flux
"""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run(["bash", "--norc", "-c", session], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["powershell", "complete -o nosort -F _flux_completion flux"]
