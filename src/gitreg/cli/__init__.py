"""The command line. Commands parse, call one op, and hand the result to a renderer.

The group is assembled here from the command modules, each grouped by area; ops are
imported inside each command so that `gitreg --help` stays fast. `main` is the one place
where outcomes become exit codes (`exits`).
"""

from __future__ import annotations

import sys

import click

from gitreg.cli import cards, deploy, evaluate, exits, registry_cmds, search, site, stages
from gitreg.version import __version__

_state = {"traceback": False}


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="gitreg")
@click.option("--traceback", is_flag=True, help="Show the Python traceback of unexpected errors.")
def cli(traceback: bool) -> None:
    """gitreg: a GitOps model registry in a plain Git repository.

    Model versions are YAML manifests committed to the registry repo; their files are
    tracked by DVC. Stage changes are pull requests; releases are git tags.

    \b
    Start:   gitreg init my-registry && cd my-registry
    Add:     gitreg register churn --version 1.0.0 --artifact model.pkl --metrics m.json
    Look:    gitreg list; gitreg show churn; gitreg show churn@1.0.0 --json
    Check:   gitreg validate [--base origin/main]

    Exit codes: 0 ok, 1 a check said no, 2 usage error, 3 gitreg error,
    4 unexpected error (--traceback shows it), 130 interrupted.
    """
    _state["traceback"] = traceback


COMMANDS = (
    registry_cmds.init,
    registry_cmds.register,
    registry_cmds.validate,
    registry_cmds.list_,
    registry_cmds.show,
    registry_cmds.history,
    registry_cmds.diff,
    cards.card,
    registry_cmds.schema,
    stages.promote,
    stages.demote,
    stages.rollback,
    stages.deprecate,
    evaluate.evaluate,
    deploy.release,
    deploy.resolve,
    deploy.pull,
    deploy.doctor,
    search.search_versions,
    site.site,
)
for command in COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and map every outcome to an exit code."""
    try:
        result = cli.main(args=argv, prog_name="gitreg", standalone_mode=False)
        return result if isinstance(result, int) else exits.EXIT_OK
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return exits.EXIT_USAGE if isinstance(e, click.UsageError) else e.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo("interrupted", err=True)
        return exits.EXIT_INTERRUPTED
    except Exception as e:  # a GitregError, an OSError, a bug
        return exits.failed(e, _state["traceback"])


def run() -> None:
    sys.exit(main())
