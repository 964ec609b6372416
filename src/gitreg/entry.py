"""The `gitreg` console script: `resolve` without loading click, everything else by the CLI.

A deploy tool's `gitreg resolve NAME@STAGE` is mostly start-up: click and the command
modules cost more than the answer (docs/performance.md). So the plain forms of resolve,
`resolve REF [--json] [--verify] [-C PATH | --repo PATH | --repo=PATH]` in any order, are
parsed here and answered by the same op and renderers the click command uses; any other
argument list (--help, a missing or unknown option, `--`, an option given twice, a value
starting with `-`, options before the command) goes to the click CLI (`gitreg.cli.main`),
which parses and reports it. An error the op raises is printed by the CLI's own handlers
(`cli/exits.py`), which load click only then. `tests/test_entry.py` runs both paths on
every form and compares stdout, stderr and the exit code byte for byte.
"""

from __future__ import annotations

import errno
import gc
import sys

from gitreg.record import Record


class ResolveArgs(Record):
    __slots__ = ("ref", "verify", "repo", "as_json")  # noqa: RUF023 - the fields' order
    ref: str
    verify: bool
    repo: str
    as_json: bool

    def __init__(self, ref: str, verify: bool, repo: str, as_json: bool) -> None:
        self.ref, self.verify, self.repo, self.as_json = ref, verify, repo, as_json


def parse_resolve(argv: list[str]) -> ResolveArgs | None:
    """The resolve arguments when `argv` is a plain resolve call; None: let click parse it."""
    if argv[:1] != ["resolve"]:
        return None
    ref: str | None = None
    repo: str | None = None
    flags = {"--verify": False, "--json": False}
    rest = argv[1:]
    while rest:
        arg = rest.pop(0)
        if arg in flags:
            flags[arg] = True
        elif arg in ("-C", "--repo") or arg.startswith("--repo="):
            value = arg.partition("=")[2] if "=" in arg else (rest.pop(0) if rest else "")
            if repo is not None or not value or value.startswith("-"):
                return None
            repo = value
        elif arg.startswith("-") or ref is not None:
            return None
        else:
            ref = arg
    if ref is None:
        return None
    return ResolveArgs(ref, flags["--verify"], "." if repo is None else repo, flags["--json"])


def resolve_output(args: ResolveArgs) -> str:
    """What `gitreg resolve` prints: what the click command (`cli/deploy.py`) prints."""
    from gitreg.ops.resolve import resolve
    from gitreg.render import text

    rv = resolve(args.ref, args.repo, verify=args.verify)
    return text.output(args.as_json, rv, lambda: text.resolved(rv))


def _echo(out: str) -> None:
    """`click.echo(out)`, without loading click for the ASCII it nearly always is."""
    stream = sys.stdout
    if stream is None or not out.isascii():
        import click

        click.echo(out)
        return
    stream.write(out + "\n")
    stream.flush()


def _failed(e: BaseException) -> int:
    """What the click CLI does with an error raised inside a command (click's `main`, then
    `gitreg.cli.main`): the same messages, exit codes and broken-pipe handling."""
    import click

    from gitreg.cli import exits

    if isinstance(e, (EOFError, KeyboardInterrupt)):
        click.echo(file=sys.stderr)
        click.echo("interrupted", err=True)
        return exits.EXIT_INTERRUPTED
    if isinstance(e, OSError) and e.errno == errno.EPIPE:  # as click's `main` does
        from click.utils import _PacifyFlushWrapper  # (tests/test_entry.py checks it exists)

        sys.stdout = _PacifyFlushWrapper(sys.stdout)
        sys.stderr = _PacifyFlushWrapper(sys.stderr)
        sys.exit(1)
    if not isinstance(e, Exception):
        raise e
    return exits.failed(e, traceback=False)


def main(argv: list[str] | None = None) -> int:
    """Run gitreg with `argv` (default: the command line); the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    fast = parse_resolve(args)
    if fast is None:
        from gitreg.cli import main as cli_main

        return cli_main(args)
    # a resolve leaves little garbage, but its imports allocate enough to trigger about ten
    # collections of the young generations: ~2.5 ms of its ~40 (docs/performance.md)
    collecting = gc.isenabled()
    gc.disable()
    try:
        _echo(resolve_output(fast))
    except BaseException as e:
        return _failed(e)
    finally:
        if collecting:
            gc.enable()
    return 0  # exits.EXIT_OK, without loading the click CLI to name it


def plugins_off() -> None:
    """pydantic's plugin discovery reads every installed distribution's entry points when
    the first validator is built (15-20 ms); gitreg uses no pydantic plugin. Only the
    console script sets PYDANTIC_DISABLE_PLUGINS (pydantic's documented switch), before any
    command imports pydantic, and keeps a value the user set, even an empty one; in-process
    callers of `main` or `gitreg.cli.main` keep their plugins."""
    import os

    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def run() -> None:
    plugins_off()
    sys.exit(main())
