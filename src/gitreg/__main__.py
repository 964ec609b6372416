"""`python -m gitreg` runs the CLI."""

from gitreg.entry import run

run()
