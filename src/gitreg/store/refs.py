"""Reading release tags from a repository: one `git for-each-ref` per call.

Patterns name only the tags asked for (one model's, or the whole tag namespace for doctor
and release), so the cost follows those tags, not every ref in the repository.
"""

from __future__ import annotations

import os

from gitreg.model import trailers
from gitreg.model.tags import Tag, model_patterns, parse_name
from gitreg.store.git import Git

# `%(*objectname)` and `%(*objecttype)`: the object the tag points to as git finds it, not
# the tag header's `object`/`type` lines (`%(object)`, `%(type)`), which a forged tag object
# can set to anything: a tag of a tag or of a tree that claims `type commit` would pass for
# a release (reading the tagged objects costs ~3 ms at 1000x100; docs/performance.md)
_FIELDS = (
    "%(refname:strip=2)%1f%(objecttype)%1f%(objectname)%1f%(*objectname)%1f%(*objecttype)%1f"
    "%(taggername) %(taggeremail)%1f%(taggerdate:iso-strict)%1f%(contents)"
)
ALL_PATTERNS = ["*@v*", "*#*", "*@deprecated"]


def read_tags(git: Git, patterns: list[str]) -> list[Tag]:
    """Tags matching `patterns` (relative to refs/tags/) that follow the grammar."""
    refs = [f"refs/tags/{p}" for p in patterns]
    # records end with a token nobody can put in a tag message in advance
    end = f"\x1e{os.urandom(16).hex()}\x1e"  # (`secrets` costs 5-15 ms to import)
    out = git.run(["for-each-ref", f"--format={_FIELDS}{end}", "--", *refs])
    tags = []
    for record in out.split(end):
        record = record.lstrip("\n")
        if not record:
            continue
        name, otype, obj, peeled, ptype, tagger, date, message = record.split("\x1f", 7)
        parsed = parse_name(name)
        if parsed is None:
            continue
        annotated = otype == "tag"
        if annotated and ptype != "commit":  # a tag of a tag (or of a tree): not ours
            continue
        found, malformed = trailers.parse(message) if annotated else ({}, [])
        tags.append(
            Tag(
                name=name,
                parsed=parsed,
                commit=peeled if annotated else obj,
                annotated=annotated,
                tagger=tagger.strip() if annotated else "",
                date=date,
                message=message,
                trailers=found,
                malformed=tuple(malformed),
            )
        )
    return tags


def model_tags(git: Git, name: str) -> list[Tag]:
    """Every tag of model `name`."""
    return [t for t in read_tags(git, model_patterns(name)) if t.parsed.model == name]


def by_model(git: Git) -> dict[str, list[Tag]]:
    """The whole tag namespace in one pass, grouped by model."""
    grouped: dict[str, list[Tag]] = {}
    for t in read_tags(git, ALL_PATTERNS):
        grouped.setdefault(t.parsed.model, []).append(t)
    return grouped
