"""`gitreg history NAME`: registrations, promotions and deprecations; who, when, which PR."""

from __future__ import annotations

from gitreg.registry.history import Event, events
from gitreg.registry.reader import Registry


def history(reg: Registry, name: str, full: bool = False) -> list[Event]:
    """Events of model `name`, oldest first (see `gitreg.registry.history.events`)."""
    return events(reg, name, full)
