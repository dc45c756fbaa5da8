"""`flux completion bash|zsh|fish|powershell`: print a shell completion script for the `flux` command.

The scripts are click's (click.shell_completion), bound to the program name `flux` and the variable
`_FLUX_COMPLETE`: on <TAB> the shell runs `flux` with `_FLUX_COMPLETE=<shell>_complete` and the words typed
so far in COMP_WORDS/COMP_CWORD, and click answers with the matching sub-commands, flags, choices and paths
before any command runs. They complete what the click tree declares; unlike cobra's scripts (which call a
hidden `flux __complete` command and can list live objects), they offer no names read from the cluster.
"""

from __future__ import annotations

import click
from click import shell_completion

PROG_NAME = "flux"
COMPLETE_VAR = "_FLUX_COMPLETE"
SHELLS = ("bash", "zsh", "fish", "powershell")


def script(root: click.Command, shell: str) -> str:
    """The completion script of `root` for `shell`, for the `flux` executable."""
    cls = shell_completion.get_completion_class(shell)
    if cls is None:  # every shell of SHELLS is one click registers
        raise ValueError(f"no completion support for {shell}")
    return cls(root, {}, PROG_NAME, COMPLETE_VAR).source()


def _emit(shell: str) -> None:
    root = click.get_current_context().find_root().command
    click.echo(script(root, shell), nl=False)


@click.group("completion")
def completion() -> None:
    """Generates completion scripts for various shells.

    The completion sub-command generates completion scripts for various shells.
    """


@completion.command("bash")
def bash() -> None:
    """Generates bash completion scripts.

    The completion sub-command generates completion scripts for bash (4.4 or later).

    \b
    To load completion run
      . <(flux completion bash)

    \b
    To load it in every session, add to your ~/.bashrc or ~/.profile
      command -v flux >/dev/null && . <(flux completion bash)
    """
    _emit("bash")


@completion.command("zsh")
def zsh() -> None:
    """Generates zsh completion scripts.

    The completion sub-command generates completion scripts for zsh.

    \b
    To load completion run
      . <(flux completion zsh)

    \b
    To load it in every session, add to your ~/.zshrc
      command -v flux >/dev/null && . <(flux completion zsh)

    \b
    or write it as _flux into one of the directories of your $fpath:
      flux completion zsh > "${fpath[1]}/_flux"
    """
    _emit("zsh")


@completion.command("fish")
def fish() -> None:
    """Generates fish completion scripts.

    The completion sub-command generates completion scripts for fish.

    \b
    To load it in every session, write it to your completions directory:
      flux completion fish > ~/.config/fish/completions/flux.fish
    """
    _emit("fish")


@completion.command("powershell")
def powershell() -> None:
    """Generates powershell completion scripts.

    The completion sub-command generates completion scripts for PowerShell (Windows PowerShell 5.1+, pwsh 7+).

    \b
    To load completion run
      flux completion powershell | Out-String | Invoke-Expression

    \b
    To load it in every session, add that line to your PowerShell profile ($PROFILE).
    """
    _emit("powershell")
