"""`gitreg history NAME`: registrations, promotions and deprecations; who, when, which PR."""

from __future__ import annotations

from gitreg.registry.history import Event, events
from gitreg.registry.reader import Registry


def history(
    reg: Registry, name: str, full: bool = False, version: str | None = None
) -> list[Event]:
    """Events of model `name`, oldest first (see `gitreg.registry.history.events`); with
    `version`, only that version's."""
    found = events(reg, name, full)
    return found if version is None else [e for e in found if e.version == version]
