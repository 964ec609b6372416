"""`python -m gitreg` runs the CLI."""

from gitreg.cli import run

run()
