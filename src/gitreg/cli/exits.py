"""The one place where outcomes become exit codes (DESIGN §5) and errors become stderr.

0 ok · 1 a check said no · 2 usage error · 3 gitreg error · 4 unexpected error
(`--traceback` shows it) · 130 interrupted.
"""

from __future__ import annotations

import click

from gitreg.errors import CheckFailed, GitregError, ManifestError, UsageError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR = 3
EXIT_UNEXPECTED = 4
EXIT_INTERRUPTED = 130

# most specific first: the first class an error is an instance of decides
CODES: tuple[tuple[type[GitregError], int], ...] = (
    (CheckFailed, EXIT_CHECK_FAILED),
    (UsageError, EXIT_USAGE),
    (GitregError, EXIT_ERROR),
)


def exit_code(err: GitregError) -> int:
    return next(code for cls, code in CODES if isinstance(err, cls))


def report(err: GitregError) -> int:
    """Print `err` on stderr (file: field: message lines, then the hint); its exit code."""
    if isinstance(err, CheckFailed) and err.reported:
        return exit_code(err)
    if isinstance(err, ManifestError):
        for p in err.problems:
            click.echo(f"error: {p}", err=True)
    else:
        click.echo(f"error: {err.message}", err=True)
    if err.hint:
        click.echo(f"hint: {err.hint}", err=True)
    return exit_code(err)


def failed(e: Exception, traceback: bool) -> int:
    """Print an error a command raised (not click's parsing); its exit code."""
    if isinstance(e, GitregError):
        return report(e)
    if isinstance(e, OSError) and not traceback:
        return filesystem(e)
    return unexpected(e, traceback)


def filesystem(e: OSError) -> int:
    """A file the command had to read or write failed (full disk, permissions, a loop)."""
    where = f"{e.filename}: " if e.filename else ""
    click.echo(f"error: {where}{e.strerror or e}", err=True)
    click.echo("hint: check the path, its permissions and the free disk space", err=True)
    return EXIT_ERROR


def unexpected(e: BaseException, traceback: bool) -> int:
    if traceback:
        import traceback as tb

        tb.print_exception(e)
    else:
        click.echo(f"unexpected error: {type(e).__name__}: {e}", err=True)
        click.echo("hint: rerun with --traceback and report it", err=True)
    return EXIT_UNEXPECTED
