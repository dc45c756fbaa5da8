"""`flux version`: prints the CLI's own version only; it never contacts a cluster."""

from __future__ import annotations

import click

import gotk


@click.command()
@click.option("--client", is_flag=True, help="Print only the client version.")
@click.option("-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), default=None)
def version(client: bool, fmt: str | None) -> None:
    """Print the client and server-side components version information."""
    if fmt == "json":
        click.echo('{"flux": "v' + gotk.__version__ + '"}')
    elif fmt == "yaml":
        click.echo("flux: v" + gotk.__version__)
    else:
        click.echo("flux: v" + gotk.__version__)
