"""`python -m gitreg` runs the CLI."""

from .cli import run

run()
