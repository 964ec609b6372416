"""Reading `.dvc/config` (DVC's configobj INI format) without importing DVC.

Read paths need the remote URL for `resolve --json`; importing DVC for that would cost
about a second, so this reads the few keys it needs itself.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r"""^\s*\[\s*['"]?(?P<name>.*?)['"]?\s*\]\s*$""")
_KEY = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?P<value>.*?)\s*$")


def parse(text: str) -> dict[str, dict[str, str]]:
    """Sections -> keys -> values; `remote "name"` sections keep that name."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        m = _SECTION.match(line)
        if m:
            current = sections.setdefault(m.group("name"), {})
            continue
        k = _KEY.match(line)
        if k and current is not None:
            value = k.group("value")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            current[k.group("key")] = value
    return sections


def absolutize(text: str, config_dir: Path) -> str:
    """Make relative local remote URLs absolute (DVC reads them relative to the config's
    folder), so the config still works when copied into a temporary project."""
    out = []
    section = ""
    for line in text.splitlines():
        m = _SECTION.match(line)
        if m:
            section = m.group("name")
        k = _KEY.match(line)
        if k and section.startswith("remote ") and k.group("key") == "url":
            url = k.group("value").strip("'\"")
            if "://" not in url and not url.startswith("/") and not re.match(r"^[A-Za-z]:", url):
                line = f"{line[: line.index('=')]}= {(config_dir / url).resolve()}"
        out.append(line)
    return "\n".join(out) + "\n"


def remote_url(text: str, name: str | None = None) -> str | None:
    """URL of remote `name`, or of the default remote (`core.remote`)."""
    sections = parse(text)
    remote = name or sections.get("core", {}).get("remote")
    if not remote:
        return None
    return sections.get(f'remote "{remote}"', {}).get("url")
