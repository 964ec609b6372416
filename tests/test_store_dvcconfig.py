"""gitreg.store.dvcconfig: `.dvc/config` read as DVC reads it (configobj), without DVC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Registry, make_artifact
from gitreg.errors import ManifestError
from gitreg.store import dvcconfig

# What `dvc remote add -d storage ../rem` and `dvc cache dir` write (DVC quotes the
# section names of named remotes).
DVC_WRITTEN = """\
[core]
    remote = storage
[cache]
    dir = /var/cache/dvc
['remote "storage"']
    url = ../../rem
['remote "s3r"']
    url = s3://bucket/path
"""


def test_parse_quoted_section_names() -> None:
    sections = dvcconfig.parse(DVC_WRITTEN)
    assert sections == {
        "core": {"remote": "storage"},
        "cache": {"dir": "/var/cache/dvc"},
        'remote "storage"': {"url": "../../rem"},
        'remote "s3r"': {"url": "s3://bucket/path"},
    }
    assert dvcconfig.remote_url(DVC_WRITTEN) == "../../rem"
    assert dvcconfig.remote_url(DVC_WRITTEN, "s3r") == "s3://bucket/path"
    assert dvcconfig.remote_url(DVC_WRITTEN, "nope") is None


def test_unquoted_section_names_too() -> None:
    text = '[core]\nremote = r\n[remote "r"]\nurl = /abs/r\n'
    assert dvcconfig.remote_url(text) == "/abs/r"


def test_inline_comments_are_not_values() -> None:
    text = (
        "[core]\n"
        "    remote = storage  # default\n"
        "    autostage = true # set by hand\n"
        "['remote \"storage\"']  # where models live\n"
        "    url = s3://models/store   # prod bucket\n"
        "# a whole-line comment\n"
        "[cache]\n"
        "    dir = ../cache # local\n"
    )
    sections = dvcconfig.parse(text)
    assert sections["core"] == {"remote": "storage", "autostage": "true"}
    assert dvcconfig.remote_url(text) == "s3://models/store"
    assert dvcconfig.cache_dir(text) == "../cache"


def test_no_default_remote() -> None:
    assert dvcconfig.remote_url("[core]\n    autostage = true\n") is None
    assert dvcconfig.remote_url("") is None
    assert dvcconfig.cache_dir(DVC_WRITTEN) == "/var/cache/dvc"
    assert dvcconfig.cache_dir("[core]\n    remote = x\n") is None


def test_invalid_config_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError) as info:
        dvcconfig.parse("[core\nremote = x\n", ".dvc/config@churn@v1.0.0")
    assert info.value.problems[0].path == ".dvc/config@churn@v1.0.0"
    assert "not a valid DVC config" in info.value.problems[0].message


def test_absolutize_only_relative_local_urls(tmp_path: Path) -> None:
    config_dir = tmp_path / "proj" / ".dvc"
    text = (
        "[core]\n    remote = rel  # default\n"
        "['remote \"rel\"']\n    url = ../../rem\n"
        "['remote \"dot\"']\n    url = store\n"
        "['remote \"abs\"']\n    url = /srv/dvc\n"
        "['remote \"s3\"']\n    url = s3://bucket/path\n"
        "['remote \"win\"']\n    url = C:\\dvc\\store\n"
        "[cache]\n    dir = ../cache\n"
    )
    out = dvcconfig.parse(dvcconfig.absolutize(text, config_dir))
    assert out['remote "rel"']["url"] == str((tmp_path / "rem").resolve())
    assert out['remote "dot"']["url"] == str((config_dir / "store").resolve())
    assert out['remote "abs"']["url"] == "/srv/dvc"
    assert out['remote "s3"']["url"] == "s3://bucket/path"
    assert out['remote "win"']["url"] == "C:\\dvc\\store"
    assert out["core"] == {"remote": "rel"}  # the comment is gone, the value kept
    assert out["cache"] == {"dir": "../cache"}  # only remote URLs are rewritten


def test_quoted_values_as_dvc_writes_them(tmp_path: Path) -> None:
    # `dvc remote add -d storage '/data/a,b'` writes the URL quoted; DVC reads /data/a,b
    text = '[core]\n    remote = storage\n[\'remote "storage"\']\n    url = "/data/a,b"\n'
    assert dvcconfig.remote_url(text) == "/data/a,b"
    rel = '[core]\n    remote = r\n[\'remote "r"\']\n    url = "../a#b"\n'
    out = dvcconfig.absolutize(rel, tmp_path / ".dvc")
    assert dvcconfig.remote_url(out) == str((tmp_path / "a#b").resolve())


def test_dvc_reads_what_absolutize_writes(tmp_path: Path) -> None:
    """The rewritten config is still one DVC reads, with the same remote."""
    proj = tmp_path / "proj"
    proj.mkdir()
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q", "--no-scm"], cwd=proj, check=True)
    text = DVC_WRITTEN.replace("[core]\n    remote = storage", "[core]\n    remote = storage # d")
    (proj / ".dvc" / "config").write_text(dvcconfig.absolutize(text, proj / ".dvc"))

    def dvc_config(key: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "dvc", "config", key], cwd=proj, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert dvc_config("core.remote") == "storage"
    assert dvc_config("remote.storage.url") == str((tmp_path / "rem").resolve())
    assert dvc_config("remote.s3r.url") == "s3://bucket/path"


# --- end to end: a commented default remote still gives resolve its URL --------------------


def test_resolve_url_with_commented_default_remote(registered: Registry, tmp_path: Path) -> None:
    cfg = registered.path / "gitreg.yaml"
    lines = cfg.read_text().splitlines(keepends=True)
    # without dvc_remote, gitreg reads the remote name from .dvc/config's core section
    cfg.write_text("".join(line for line in lines if "dvc_remote" not in line))
    dvc_cfg = registered.path / ".dvc" / "config"
    text = dvc_cfg.read_text()
    assert "remote = default\n" in text
    dvc_cfg.write_text(text.replace("remote = default\n", "remote = default  # default\n"))
    registered.commit_all("dvc config with an inline comment")
    art = make_artifact(tmp_path / "v11" / "model.pkl", b"model one-one")
    registered.register("1.1.0", art)
    assert registered.run("release").code == 0

    res = registered.run("resolve", "churn@1.1.0", "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    artifact = data["artifacts"][0]
    assert artifact["url"] is not None
    md5 = artifact["md5"]
    assert artifact["url"] == f"{registered.remote}/files/md5/{md5[:2]}/{md5[2:]}"
    assert Path(artifact["url"]).read_bytes() == b"model one-one"
    # and pull, which copies that config into its own DVC project, downloads it
    (registered.path / ".dvc" / "cache").rename(tmp_path / "moved-cache")
    out = tmp_path / "out"
    res = registered.run("pull", "churn@1.1.0", "-o", str(out))
    assert res.code == 0, res.err
    assert (out / "model.pkl").read_bytes() == b"model one-one"


PLAIN_CONFIGS = [
    "",
    "# only a comment\n",
    "[core]\n    remote = default\n['remote \"default\"']\n    url = /srv/dvc\n",
    '[core]\nremote=s3\n[remote "s3"]\nurl = s3://bucket/path\nregion = eu-west-1\n',
    "['remote \"a\"']\n    url = https://user@host:8080/x%20y~z\n[cache]\n    dir = ../c\n",
]
UNPLAIN_CONFIGS = [
    *(  # configobj ends a line at each of these: a comment must not hide a setting
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    # pinned{brk}url = s3://evil\n"
        "    url = s3://good\n"
        for brk in ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
    ),
    "\ufeff[core]\nremote = a\n",
    "[core]\n\tremote = a\n",
    "[core]\nremote = default  # inline comment\n",
    "[core]\nremote = 'quoted'\n",
    "[core]\nremote = a, b\n",
    "[core]\nremote = a b\n",
    "[core]\nremote = a\nremote = b\n",
    "[core]\n[core]\n",
    "['core']\n[core]\n",
    "remote = top-level\n",
    "[core]\r\nremote = x\r\n",
    "[core]\n\tremote = x\n",
    "[[nested]]\nx = 1\n",
    "[ core ]\nx = 1\n",
    "[core] # c\nx = 1\n",
    "[core]\nx =\n",
    "[core]\nx = C:\\dvc\n",
    "[core]\n; not a comment\n",
    "[core\nx = 1\n",
    '[remote "my remote"]\nurl = x\n',
]


@pytest.mark.parametrize("text", PLAIN_CONFIGS + UNPLAIN_CONFIGS)
def test_the_plain_reader_answers_as_configobj_or_not_at_all(text: str) -> None:
    assert _agree(text) == (text in PLAIN_CONFIGS)


def _agree(text: str) -> bool:
    """The plain reader gives configobj's answer, or declines (None); whether it answered."""
    plain = dvcconfig._plain(text)
    try:
        reference = dvcconfig._parse_configobj(text, ".dvc/config")
    except ManifestError:
        assert plain is None
        return False
    assert plain is None or plain == reference
    return plain is not None


_TOKENS = [
    "[core]",
    "['remote \"a\"']",
    '[remote "b"]',
    "[cache]",
    "remote = a",
    "url = s3://b/p",
    "url=/x",
    "x = 1 # c",
    "x = 'q'",
    "x = a,b",
    "# c",
    "",
    "  dir = ../d",
    "k = v w",
    "[core]  ",
    "k =",
]


@given(st.lists(st.sampled_from(_TOKENS), max_size=8), st.sampled_from(["", "    "]))
@settings(max_examples=200, deadline=None)
def test_generated_configs_read_alike(lines: list[str], indent: str) -> None:
    text = "".join(f"{indent if not x.startswith('[') else ''}{x}\n" for x in lines)
    _agree(text)
