"""The `flux` command group: global flags, error handling, and the registration of every verb.

Each verb lives in its own module and exposes a click command; this module only wires them up.
"""

from __future__ import annotations

import importlib
import sys

import click

from gotk.cli import output
from gotk.cli.context import Globals

# module name -> attribute holding the click command
COMMANDS: list[tuple[str, str]] = [
    ("gotk.cli.version", "version"),
    ("gotk.cli.local", "local"),
    ("gotk.cli.controllers", "controllers"),
    ("gotk.cli.check", "check"),
    ("gotk.cli.install", "install"),
    ("gotk.cli.get", "get"),
    ("gotk.cli.reconcile", "reconcile"),
    ("gotk.cli.suspend", "suspend"),
    ("gotk.cli.suspend", "resume"),
    ("gotk.cli.artifact", "push"),
    ("gotk.cli.artifact", "pull"),
    ("gotk.cli.artifact", "list_"),
    ("gotk.cli.artifact", "tag"),
    ("gotk.cli.create", "create"),
    ("gotk.cli.delete", "delete"),
    ("gotk.cli.export", "export"),
    ("gotk.cli.build", "build"),
    ("gotk.cli.diff", "diff"),
    ("gotk.cli.tree", "tree"),
    ("gotk.cli.debug", "debug"),
    ("gotk.cli.bootstrap", "bootstrap"),
    ("gotk.cli.uninstall", "uninstall"),
    ("gotk.cli.events", "events"),
    ("gotk.cli.logs", "logs"),
    ("gotk.cli.stats", "stats"),
    ("gotk.cli.trace", "trace"),
    ("gotk.cli.envsubst", "envsubst"),
    ("gotk.cli.completion", "completion"),
    ("gotk.cli.trigger", "trigger"),
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--kubeconfig", envvar="KUBECONFIG", default=None, help="Path to the kubeconfig file.")
@click.option("--context", "kube_context", default=None, help="Kubernetes context to use.")
@click.option("-n", "--namespace", default="flux-system", show_default=True, help="The namespace scope.")
@click.option("--timeout", default="5m", show_default=True, help="Timeout for this operation.")
@click.option("--verbose", is_flag=True, help="Print generated objects.")
@click.pass_context
def cli(
    ctx: click.Context, kubeconfig: str | None, kube_context: str | None, namespace: str, timeout: str, verbose: bool
) -> None:
    """Command line utility for assembling Kubernetes CD pipelines the GitOps way (gotk)."""
    ctx.obj = Globals(
        kubeconfig=kubeconfig, context=kube_context, namespace=namespace, timeout=timeout, verbose=verbose
    )


def _register() -> None:
    for module_name, attr in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        cli.add_command(getattr(module, attr))


_register()


def main() -> None:
    """Run the CLI; turn every expected failure into one ✗ line and exit code 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        output.failure("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except output.CommandError as exc:
        output.failure(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
