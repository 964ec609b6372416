"""Reading `.dvc/config` with `configobj`, the parser DVC itself uses, without importing DVC.

Read paths need the remote URL for `resolve --json`; importing DVC for that costs about a
second, configobj a few milliseconds. configobj handles what a hand parser gets wrong:
inline comments (`remote = storage  # default`), quoting, and continuation. A config of
the plain shape `dvc remote add` writes (`[core]`, `['remote "name"']`, `key = value` with
no quote, comma, `#`, space or backslash in a value, no repeated key or section) is read
by `_plain`, which `tests/test_store_dvcconfig.py` compares with configobj; anything else
goes to configobj, so its values and errors stay the reference.

Also what a remote's URL implies without DVC: the plugin its scheme needs (and the gitreg
extra that installs it), checked before DVC is asked, and which `--remote-opt` keys are
credentials that must not be committed.
"""

from __future__ import annotations

import io
import re

from gitreg.errors import ManifestError, PluginMissing, UsageError

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from pathlib import Path  # imported where a Path is made: resolve does not load it
    from typing import Any

_WINDOWS_DRIVE = r"^[A-Za-z]:[\\/]"  # compiled on first use (re's cache): resolve does not use it
DEFAULT_REMOTE_NAME = "default"  # the remote `gitreg init` writes


def _config(text: str, where: str) -> Any:
    from configobj import ConfigObj, ConfigObjError

    try:
        # as DVC reads it: values unquoted, `a, b` unquoted is a list
        return ConfigObj(io.StringIO(text), interpolation=False)
    except ConfigObjError as e:
        raise ManifestError.single(where, "", f"not a valid DVC config: {e}") from None


_NAME = r'[A-Za-z0-9_.-]+(?: "[A-Za-z0-9_.-]+")?'  # `core`, `remote "name"`
_SECTION = re.compile(rf"\[(?:'({_NAME})'|({_NAME}))\]\Z")
_SETTING = re.compile(r"([A-Za-z0-9_-]+) *= *([A-Za-z0-9_./:@%+~-]+)\Z")


def _plain(text: str) -> dict[str, dict[str, str]] | None:
    """`parse` for a config of the plain shape (module docstring); None for any other."""
    if not text.replace("\n", "").isprintable():
        # configobj splits lines as str.splitlines does (also at CR, VT, FF, the
        # separators and U+2028/2029): such a "comment" would hide a setting from us only
        return None
    sections: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for raw in text.split("\n"):
        line = raw.strip(" ")
        if not line or line[0] == "#":
            continue
        if line[0] == "[":
            m = _SECTION.match(line)
            name = m and (m[1] or m[2])
            if not name or name in sections:
                return None
            section = sections[name] = {}
            continue
        m = _SETTING.match(line)
        if m is None or section is None or m[1] in section:
            return None
        section[m[1]] = m[2]
    return sections


def parse(text: str, where: str = ".dvc/config") -> dict[str, dict[str, str]]:
    """Sections -> keys -> values; `remote "name"` sections keep that name."""
    plain = _plain(text)
    if plain is not None:
        return plain
    return _parse_configobj(text, where)


def _parse_configobj(text: str, where: str) -> dict[str, dict[str, str]]:
    """`parse` by configobj alone (the reference `_plain` is tested against)."""
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
    return "://" not in url and not url.startswith("/") and not re.match(_WINDOWS_DRIVE, url)


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


# the DVC plugin each remote scheme needs: (module, what to pip-install)
PLUGINS: dict[str, tuple[str, str]] = {
    "s3": ("dvc_s3", "gitreg[s3]"),
    "gs": ("dvc_gs", "gitreg[gs]"),
    "azure": ("dvc_azure", "gitreg[azure]"),
    "ssh": ("dvc_ssh", "dvc[ssh]"),
    "gdrive": ("dvc_gdrive", "dvc[gdrive]"),
    "oss": ("dvc_oss", "dvc[oss]"),
    "hdfs": ("dvc_hdfs", "dvc[hdfs]"),
    "webhdfs": ("dvc_webhdfs", "dvc[webhdfs]"),
    "webdav": ("dvc_webdav", "dvc[webdav]"),
    "webdavs": ("dvc_webdav", "dvc[webdav]"),
}

# remote options that hold a credential: never in the committed .dvc/config
SECRET_OPTIONS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "sse_customer_key",
        "account_key",
        "connection_string",
        "sas_token",
        "client_secret",
        "password",
        "passphrase",
        "token",
        "custom_auth_header",
        "oss_key_id",
        "oss_key_secret",
        "gdrive_client_secret",
    }
)


def scheme(url: str) -> str:
    """The URL scheme DVC dispatches on (`s3`, `gs`, `azure`, ...); "" for a local path."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep and not re.match(_WINDOWS_DRIVE, url) else ""


def local_folder(url: str | None) -> Path | None:
    """A remote URL that is an absolute local folder (DVC writes its objects there, in
    the cache's layout), else None."""
    from pathlib import Path

    return Path(url) if url and scheme(url) == "" and Path(url).is_absolute() else None


def plugin_for(url: str) -> tuple[str, str] | None:
    """(module, pip spec) of the DVC plugin a remote URL needs, or None (local, http)."""
    return PLUGINS.get(scheme(url))


def remote_option(text: str) -> tuple[str, str]:
    """`key=value` from `--remote-opt`, refusing credentials (they would be committed)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--remote-opt {text!r}: expected KEY=VALUE, e.g. endpointurl=https://...")
    if key == "url":
        raise UsageError("--remote-opt url=...: the remote's URL is --remote URL")
    if key.lower() in SECRET_OPTIONS or any(
        w in key.lower() for w in ("secret", "password", "token")
    ):
        raise UsageError(
            f"--remote-opt {key}: a credential does not go into .dvc/config, which is "
            "committed and pushed",
            f"after init run `dvc remote modify --local {DEFAULT_REMOTE_NAME} {key} ...` "
            "(kept in the untracked .dvc/config.local), or use the environment "
            "(AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*)",
        )
    return key, value


def require_plugin(url: str | None) -> None:
    """Refuse, before DVC is asked, a remote whose DVC plugin is not installed."""
    plugin = plugin_for(url or "")
    if plugin is None:
        return
    try:
        import importlib.util

        found = importlib.util.find_spec(plugin[0]) is not None
    except (ImportError, ValueError):  # a broken or half-removed install
        found = False
    if not found:
        raise PluginMissing(url or "", scheme(url or ""), plugin[1])


def project_remote(project: Path, remote: str | None) -> str | None:
    """The URL of `remote` (or the default one) in a project's config, config.local on top
    (as DVC merges them)."""
    sections: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        f = project / ".dvc" / name
        if f.is_file():
            for section, values in parse(f.read_text(), str(f)).items():
                sections.setdefault(section, {}).update(values)
    chosen = remote or sections.get("core", {}).get("remote")
    return sections.get(f'remote "{chosen}"', {}).get("url") if chosen else None


def plugin_error(e: ImportError, url: str | None) -> PluginMissing:
    """DVC's own ImportError ("s3 is supported, but requires 'dvc-s3'...") as a typed error."""
    kind = scheme(url or "")
    plugin = PLUGINS.get(kind, ("", "the DVC plugin for this remote"))
    return PluginMissing(url or "", kind, plugin[1], str(e))
