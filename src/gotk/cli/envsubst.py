"""`flux envsubst [--strict]`: substitute environment variables in stdin, line by line, as flux2's
cmd/flux/envsubst.go does with fluxcd/pkg/envsubst (the postBuild substitution of Kustomizations).

The expansion is gotk.kustomize.substitute.envsubst, the one the kustomize controller runs, with the process
environment as variables: `${var}`, `${var:=default}`, `${var/x/y}`, … (`$var` stays as it is). Each line
of stdin is expanded on its own and written with a newline, flushed at once, so the command streams; like
Go's bufio.Scanner, a line's trailing `\\r` is dropped and the last line gets a newline. Bytes are kept as
they come (undecodable UTF-8 included). With --strict a variable that is not set and has no default fails
with Flux's `variable not set (strict mode): "<name>"`, after the lines before it have been written.
The global flags (-n, --kubeconfig, …) are accepted, as cobra's persistent flags are, and ignored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import BinaryIO

import click

from gotk.cli import goflags
from gotk.cli.context import Globals
from gotk.cli.flags import with_globals
from gotk.cli.output import CommandError
from gotk.kustomize.substitute.envsubst import SubstitutionError
from gotk.kustomize.substitute.envsubst import envsubst as expand


def lines(stream: Iterable[bytes]) -> Iterator[str]:
    """bufio.ScanLines: split on `\\n`, drop one trailing `\\r`; an unterminated last line counts."""
    for raw in stream:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line.decode("utf-8", "surrogateescape")


def substitute(stdin: Iterable[bytes], stdout: BinaryIO, variables: Mapping[str, str], *, strict: bool) -> None:
    for line in lines(stdin):
        try:
            result = expand(line, variables, strict=strict)
        except SubstitutionError as exc:
            raise CommandError(str(exc)) from exc
        stdout.write(result.encode("utf-8", "surrogateescape") + b"\n")
        stdout.flush()


@click.command("envsubst", cls=goflags.FluxCommand, context_settings={"allow_extra_args": True})
@click.option(
    "--strict",
    is_flag=True,
    help="fail if a variable without a default value is declared in the input but is missing from the environment",
)
@with_globals
def envsubst(g: Globals, strict: bool) -> None:
    """envsubst substitutes the values of environment variables.

    The envsubst command substitutes the values of environment variables in the string piped as standard
    input and writes the result to the standard output. This command can be used to replicate the behavior
    of the Flux Kustomization post-build substitutions.

    \b
    Examples:
      # Run env var substitutions on the kustomization build output
      export cluster_region=eu-central-1
      kustomize build . | flux envsubst

    \b
      # Run env var substitutions and error out if a variable is not set
      kustomize build . | flux envsubst --strict
    """
    args = click.get_current_context().args
    if args:
        raise CommandError(f'unknown command "{args[0]}" for "flux envsubst"')
    substitute(sys.stdin.buffer, sys.stdout.buffer, os.environ, strict=strict)
