"""Go and cobra flag semantics for the `create`, `delete` and `export` verbs.

time.ParseDuration / Duration.String (`1m` reads back as `1m0s`), pflag string slices (comma separated,
CSV quoted, repeatable), `--flag=true|false` for boolean flags, and flag values checked by a function,
each failing with pflag's `invalid argument "<v>" for "--<flag>" flag: <why>` as one ✗ line.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from typing import Any

import click

from gotk.cli.output import CommandError
from gotk.gocompat import durations

parse_duration = durations.parse_ns
format_duration = durations.format_ns


def normalize_duration(text: Any) -> Any:
    """A stored duration as a Go client re-serialises it (`5m` -> `5m0s`); anything unparsable is kept."""
    if not isinstance(text, str):
        return text
    try:
        return format_duration(parse_duration(text))
    except ValueError:
        return text


def flag_name(param: click.Parameter | None) -> str:
    opts = list(getattr(param, "opts", []) or [])
    longs = [str(o) for o in opts if str(o).startswith("--")]
    return (longs or [str(o) for o in opts] or ["?"])[0]


def invalid_argument(value: str, param: click.Parameter | None, why: str) -> CommandError:
    return CommandError(f'invalid argument "{value}" for "{flag_name(param)}" flag: {why}')


class Duration(click.ParamType[int]):
    """A Go duration flag; the value is nanoseconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise invalid_argument(str(value), param, str(exc)) from None


class Checked(click.ParamType[Any]):
    """A flag whose value `check` validates (returning the value to keep, or raising ValueError)."""

    def __init__(self, name: str, check: Callable[[str], Any]) -> None:
        self.name = name
        self.check = check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.check(value)
        except ValueError as exc:
            raise invalid_argument(value, param, str(exc)) from None


def one_of(values: Sequence[str], *, empty: str, unsupported: str) -> Callable[[str], str]:
    """A check accepting exactly `values`; messages may use {value} and {values} (`a, b`) or {types} (`a|b`)."""

    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(empty)
        if value not in values:
            raise ValueError(unsupported.format(value=value, values=", ".join(values), types="|".join(values)))
        return value

    return check


def string_slice(values: Sequence[str] | None) -> list[str]:
    """pflag StringSlice: every occurrence is one CSV record; occurrences accumulate."""
    out: list[str] = []
    for value in values or ():
        if value == "":
            continue
        out.extend(next(csv.reader([value]), []))
    return out


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class FluxCommand(click.Command):
    """A click command that also takes cobra's `--bool-flag=true|false` spelling for its boolean flags, and
    pflag's `-n=value` for a short option that takes a value (click would read the value as `=value`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        flags = {
            opt: param
            for param in self.params
            if isinstance(param, click.Option) and param.is_flag and not param.secondary_opts
            for opt in param.opts
            if opt.startswith("--")
        }
        rewritten: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                rewritten.extend(args[i:])
                break
            name, eq, value = arg.partition("=")
            if eq and len(name) == 2 and name[0] == "-" and name[1] != "-":
                rewritten.extend((name, value))
            elif not eq or name not in flags:
                rewritten.append(arg)
            elif value in _TRUE:
                rewritten.append(name)
            elif value in _FALSE:  # every boolean flag defaults to false: drop it and earlier occurrences
                rewritten = [a for a in rewritten if a not in flags[name].opts]
            else:
                raise CommandError(
                    f'invalid argument "{value}" for "{name}" flag: strconv.ParseBool: parsing "{value}": '
                    "invalid syntax"
                )
        try:
            return super().parse_args(ctx, rewritten)
        except click.NoSuchOption as exc:
            name = exc.option_name
            if name.startswith("--"):
                raise CommandError(f"unknown flag: {name}") from None
            raise CommandError(f"unknown shorthand flag: '{name[1:2]}' in {name}") from None
        except click.BadOptionUsage as exc:
            if "requires an argument" not in exc.message:
                raise
            name = exc.option_name
            where = name if name.startswith("--") else f"'{name[1:2]}' in {name}"
            raise CommandError(f"flag needs an argument: {where}") from None
