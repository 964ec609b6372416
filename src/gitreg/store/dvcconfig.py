"""Reading `.dvc/config` with `configobj`, the parser DVC itself uses, without importing DVC.

Read paths need the remote URL for `resolve --json`; importing DVC for that costs about a
second, configobj a few milliseconds. configobj handles what a hand parser gets wrong:
inline comments (`remote = storage  # default`), quoting, and continuation.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from gitreg.errors import ManifestError

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def _config(text: str, where: str) -> Any:
    from configobj import ConfigObj, ConfigObjError

    try:
        # as DVC reads it: values unquoted, `a, b` unquoted is a list
        return ConfigObj(io.StringIO(text), interpolation=False)
    except ConfigObjError as e:
        raise ManifestError.single(where, "", f"not a valid DVC config: {e}") from None


def parse(text: str, where: str = ".dvc/config") -> dict[str, dict[str, str]]:
    """Sections -> keys -> values; `remote "name"` sections keep that name."""
    conf = _config(text, where)
    return {
        name: {k: _text(v) for k, v in section.items() if not isinstance(v, dict)}
        for name, section in conf.items()
        if isinstance(section, dict)
    }


def _text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def remote_url(text: str, name: str | None = None, where: str = ".dvc/config") -> str | None:
    """URL of remote `name`, or of the default remote (`core.remote`)."""
    sections = parse(text, where)
    remote = name or sections.get("core", {}).get("remote")
    if not remote:
        return None
    return sections.get(f'remote "{remote}"', {}).get("url")


def _is_local_relative(url: str) -> bool:
    return "://" not in url and not url.startswith("/") and not _WINDOWS_DRIVE.match(url)


def absolutize(text: str, config_dir: Path) -> str:
    """Make relative local remote URLs absolute (DVC reads them relative to the config's
    folder), so the config still works when copied into a temporary project."""
    conf = _config(text, str(config_dir / "config"))
    for name, section in conf.items():
        if name.startswith("remote ") and isinstance(section, dict):
            url = section.get("url")
            if isinstance(url, str) and _is_local_relative(url):
                section["url"] = str((config_dir / url).resolve())
    out = io.BytesIO()
    conf.write(out)
    return out.getvalue().decode()


def cache_dir(text: str) -> str | None:
    """`cache.dir` if the config sets it."""
    return parse(text).get("cache", {}).get("dir")


def with_settings(text: str, settings: dict[str, dict[str, str]], where: str) -> str:
    """The config `text` with `settings` (section -> key -> value) set, sections merged."""
    conf = _config(text, where)
    for section, values in settings.items():
        if not isinstance(conf.get(section), dict):
            conf[section] = {}
        for key, value in values.items():
            conf[section][key] = value
    out = io.BytesIO()
    conf.write(out)
    return out.getvalue().decode()
