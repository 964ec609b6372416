"""The static HTML catalog (`gitreg site`): pages, styles, script and charts."""
