"""The operations to time at one size, gitreg beside its peers, each with its expected answer.

Every case is a whole process. Cases that change the registry undo what they did after
each run (untimed): `release` deletes the tags it wrote, `register` its branch and DVC
objects, the DVC peer resets its commit and caches.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generate import Size, env, expected, git, version_name
from timing import Case, Run

BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent

# operation key -> the question it asks, as the tables print it
OPS = {
    "help": "start-up: --help",
    "resolve": "stage -> version (local)",
    "resolve-latest": "latest -> version (local)",
    "resolve-remote-cold": "stage -> version, file:// URL, cold cache",
    "resolve-remote-warm": "stage -> version, file:// URL, warm cache",
    "show": "one model's versions",
    "list": "whole registry: every model",
    "list-cold": "whole registry: every model, cold cache",
    "validate": "validate the whole registry",
    "validate-cold": "validate the whole registry, cold cache",
    "validate-base": "validate a PR touching one model",
    "history": "one model's history",
    "release": "release one new merge",
    "register": "register an artifact",
    "pull-first": "pull N MB, first time (no DVC cache, no gitreg records)",
    "pull-cold": "pull N MB, empty DVC cache",
    "pull": "pull N MB, warm DVC cache",
}
PULL_OPS = ("pull-first", "pull-cold", "pull")
DEFAULT_OPS = [op for op in OPS if op != "register" and op not in PULL_OPS]


@dataclass
class Bench:
    size: Size
    repo: Path
    work: Path  # scratch space of this size (caches, peer repos)
    gto: Path | None = None
    mlflow_py: Path | None = None
    mlflow_db: Path | None = None
    dvc_peer: bool = False
    register_mb: int = 200
    artifact: Path | None = None
    pull_mb: int = 500

    @property
    def probe(self) -> str:
        return self.size.probe

    @property
    def want(self) -> dict[str, dict[str, str]]:
        return expected(self.size)


def _first_token(run: Run) -> str:
    return (run.out.split() or [""])[0]


def _expect(what: str, got: Callable[[Run], str]) -> Callable[[Run], str | None]:
    def check(run: Run) -> str | None:
        answer = got(run)
        return None if answer == what else f"expected {what!r}, got {answer!r}"

    return check


def _gitreg(b: Bench, op: str, *args: str, **kw: object) -> Case:
    argv = [str(BIN / "gitreg"), *args]
    return Case(op, "gitreg", argv, b.repo, shown="gitreg " + " ".join(args), **kw)  # type: ignore[arg-type]


def _resolve_cases(b: Bench) -> list[Case]:
    p, prod = b.probe, b.want["stages"].get("production", "")
    stage = "production" if prod else "staging"
    version = b.want["stages"][stage]
    mine = _expect(f"{p}@{version}", _first_token)
    cases = [
        _gitreg(b, "resolve", "resolve", f"{p}@{stage}", check=mine),
        Case(
            "resolve",
            "git (floor)",
            [
                "sh",
                "-c",
                f"git for-each-ref --format='%(refname) %(contents)' 'refs/tags/{p}#{stage}#*' "
                f">/dev/null && git cat-file -p '{p}@v{version}:models/{p}/versions/{version}.yaml'"
                " >/dev/null",
            ],
            b.repo,
            shown=f"git for-each-ref 'refs/tags/{p}#{stage}#*' && "
            f"git cat-file -p '{p}@v{version}:models/{p}/versions/{version}.yaml'",
        ),
    ]
    if b.gto:
        cases.insert(
            1,
            Case(
                "resolve",
                "gto",
                [str(b.gto), "show", f"{p}#{stage}"],
                b.repo,
                shown=f"gto show {p}#{stage}",
                check=lambda r: (
                    None if f"v{version}" in r.out else f"expected v{version} in {r.out[-300:]!r}"
                ),
            ),
        )
    if b.mlflow_py:
        mlv = str(int(version.split(".")[1]) + 1)
        cases.insert(
            2,
            Case(
                "resolve",
                "mlflow",
                [str(b.mlflow_py), str(HERE / "mlflow_peer.py"), "alias", p, stage],
                b.repo,
                env={"MLFLOW_TRACKING_URI": f"sqlite:///{b.mlflow_db}"},
                shown=f"MlflowClient().get_model_version_by_alias('{p}', '{stage}')",
                check=_expect(mlv, lambda r: [*r.out.split(), "", ""][1]),
            ),
        )
    return cases


def _pkt(line: str) -> str:
    return f"{len(line) + 5:04x}{line}\\n"


def _ls_refs_floor(b: Bench, op: str) -> Case:
    """Plain git's floor for a warm remote read: protocol v2 `ls-refs` with the model's
    ref prefixes, spoken to `git upload-pack` (what gitreg sends; no python)."""
    p = b.probe
    req = _pkt("command=ls-refs") + "0001" + _pkt("peel")
    req += _pkt(f"ref-prefix refs/tags/{p}@") + _pkt(f"ref-prefix refs/tags/{p}#") + "0000"
    cmd = f"printf '{req}' | GIT_PROTOCOL=version=2 git upload-pack '{b.repo}' >/dev/null"
    shown = f"v2 ls-refs ref-prefix refs/tags/{p}@, {p}# | git upload-pack REPO"
    return Case(op, "git (floor)", ["sh", "-c", cmd], b.work, shown=shown)


def _remote_cases(b: Bench, warm: bool) -> list[Case]:
    p, stage = b.probe, "staging"
    version = b.want["stages"][stage]
    url = b.repo.as_uri()
    op = "resolve-remote-warm" if warm else "resolve-remote-cold"
    argv = [str(BIN / "gitreg"), "resolve", "-C", url, f"{p}@{stage}"]
    shown = f"gitreg resolve -C file://REPO {p}@{stage}"
    check = _expect(f"{p}@{version}", _first_token)
    if warm:
        cache = b.work / "gitreg-cache-warm"
        shutil.rmtree(cache, ignore_errors=True)
        cenv = {"GITREG_CACHE_DIR": str(cache)}
        subprocess.run(argv, capture_output=True, env=env(cenv), cwd=b.work)  # warm it
        return [
            Case(op, "gitreg", argv, b.work, env=cenv, shown=shown, check=check),
            _ls_refs_floor(b, op),
        ]
    made: list[str] = []

    def fresh() -> dict[str, str]:
        made.append(tempfile.mkdtemp(prefix="cold-", dir=b.work))
        return {"GITREG_CACHE_DIR": made[-1]}

    def drop(_: Run) -> None:
        shutil.rmtree(made.pop(), ignore_errors=True)

    return [Case(op, "gitreg", argv, b.work, setup=fresh, teardown=drop, shown=shown, check=check)]


def _cold(b: Bench, *kinds: str) -> dict[str, str] | None:
    """Drop these kinds of gitreg's object-id cache (untimed), so the run parses anew; the
    other kinds stay, so a warm case built earlier stays warm."""
    for kind in kinds:
        (b.repo / ".git" / "gitreg" / "cache" / f"{kind}.json").unlink(missing_ok=True)
    return None


def _warm(b: Bench, *args: str) -> None:
    """One untimed run that fills the cache, so every timed run reads from it."""
    subprocess.run([str(BIN / "gitreg"), *args], capture_output=True, env=env(), cwd=b.repo)


def _release_case(b: Bench) -> Case:
    """`bench/release` is main plus one merged stage change: main is moved to it for each
    run (release only writes what main says) and put back, with the tags dropped, after."""
    before: list[str] = []

    def merge() -> None:
        before[:] = [git(b.repo, "rev-parse", "refs/heads/main").strip()]
        git(b.repo, "update-ref", "refs/heads/main", "refs/heads/bench/release")

    def undo(run: Run) -> None:
        try:
            created = json.loads(run.out)["created"]
        except (ValueError, KeyError):
            created = []
        lines = "".join(f"delete refs/tags/{t['tag']}\n" for t in created)
        if lines:
            git(b.repo, "update-ref", "--stdin", input=lines.encode())
        if before:
            git(b.repo, "update-ref", "refs/heads/main", before[0])

    def check(run: Run) -> str | None:
        tags = [t["tag"] for t in json.loads(run.out)["created"]]
        assigned = [t for t in tags if t.startswith(f"{b.probe}#production#")]
        removed = [t for t in tags if t.startswith(f"{b.probe}#production!#")]
        ok = len(assigned) == 1 and len(removed) <= 1 and len(tags) == 1 + len(removed)
        return (
            None if ok else f"expected one {b.probe}#production#N tag (and its removal), got {tags}"
        )

    return _gitreg(
        b, "release", "release", "--ref", "main", "--json", setup=merge, teardown=undo, check=check
    )


def _register_cases(b: Bench) -> list[Case]:
    assert b.artifact is not None
    p, v = b.probe, version_name(b.size.versions + 1)
    remote = b.repo.parent / f"{b.repo.name}-dvc-remote"

    def undo(run: Run) -> None:
        try:
            data = json.loads(run.out)
        except ValueError:
            data = {}
        git(b.repo, "update-ref", "-d", f"refs/heads/gitreg/register/{p}/{v}")
        for a in data.get("manifest", {}).get("artifacts", []):
            rel = Path("files/md5") / a["md5"][:2] / a["md5"][2:]
            for root in (b.repo / ".dvc" / "cache", remote):
                (root / rel).unlink(missing_ok=True)

    cases = [
        _gitreg(
            b,
            "register",
            "register",
            p,
            "--version",
            v,
            "--artifact",
            str(b.artifact),
            "--json",
            teardown=undo,
            check=_expect(v, lambda r: json.loads(r.out)["version"]),
        )
    ]
    cases[0].shown = f"gitreg register {p} --version {v} --artifact {b.register_mb}MB.bin"
    if b.dvc_peer:
        cases.append(_dvc_peer_case(b, p, v))
    return cases


def _dvc_peer_case(b: Bench, p: str, v: str) -> Case:
    """`dvc add` + `dvc push` + `git commit` of the same file, in a clone of the registry
    with a local DVC remote of its own."""
    assert b.artifact is not None
    peer, remote = b.work / "dvc-peer", b.work / "dvc-peer-remote"
    if not (peer / ".git").exists():
        shutil.rmtree(peer, ignore_errors=True)
        git(b.work, "clone", "--quiet", "--branch", "main", str(b.repo), str(peer))
        (peer / ".dvc" / "config.local").write_text(
            f"[core]\n    remote = peer\n['remote \"peer\"']\n    url = {remote}\n"
        )
    base = git(peer, "rev-parse", "HEAD").strip()
    rel = f"models/{p}/artifacts/{v}/model.bin"

    def setup() -> None:
        (peer / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(b.artifact, peer / rel)  # a new file: DVC must hash it again
        return None

    def undo(_: Run) -> None:
        git(peer, "reset", "--quiet", "--hard", base)
        shutil.rmtree((peer / rel).parent, ignore_errors=True)
        shutil.rmtree(peer / ".dvc" / "cache", ignore_errors=True)
        shutil.rmtree(remote, ignore_errors=True)

    dvc = BIN / "dvc"
    script = (
        f"{dvc} add -q {rel} && {dvc} push -q {rel}.dvc && "
        f"git add {rel}.dvc {Path(rel).parent}/.gitignore && git commit -q -m 'Add {p} {v}'"
    )
    return Case(
        "register",
        "dvc + git",
        ["sh", "-c", script],
        peer,
        setup=setup,
        teardown=undo,
        shown=f"dvc add {rel} && dvc push {rel}.dvc && git add ... && git commit",
    )


def _pull_registry(b: Bench) -> tuple[Path, Path]:
    """benchmarks/pull.py's registry and plain DVC project (`pull.setup`), made once per
    artifact size and shared by every registry size (a pull reads one version)."""
    from pull import setup

    where = b.work.parent / f"pull-{b.pull_mb}MB"
    if not (where / "done").exists():
        shutil.rmtree(where, ignore_errors=True)
        where.mkdir(parents=True)
        setup(where, b.pull_mb)
        (where / "done").write_text("ok\n")
    return where / "reg", where / "plain"


def _pull_cases(b: Bench, op: str) -> list[Case]:
    """`gitreg pull` and `dvc pull` of the same bytes from the same local remote, as
    benchmarks/pull.py times them (there interleaved run by run, here one tool after the
    other): `pull-first` empties the DVC cache and gitreg's records before each run,
    `pull-cold` the DVC cache only, `pull` (warm) neither (an untimed pull fills it)."""
    reg, plain = _pull_registry(b)
    where = reg.parent
    out, records = where / "out", where / "gcache"
    cenv = {"GITREG_CACHE_DIR": str(records), "GITREG_PROGRESS": "0"}
    gitreg = [sys.executable, "-m", "gitreg", "pull", "churn@1.0.0", "-o", str(out)]
    dvc = [str(BIN / "dvc"), "pull", "-q"]

    def prepare(tool: str) -> Callable[[], dict[str, str] | None]:
        def setup() -> dict[str, str] | None:
            shutil.rmtree(out, ignore_errors=True)
            for f in plain.glob("*.bin"):
                f.unlink()
            cache = (plain if tool == "dvc" else reg) / ".dvc" / "cache"
            if op != "pull":
                shutil.rmtree(cache, ignore_errors=True)
            if op == "pull-first":
                shutil.rmtree(records, ignore_errors=True)
            if op == "pull" and not cache.exists():  # untimed: fill the cache
                cmd, cwd = (dvc, plain) if tool == "dvc" else (gitreg, reg)
                subprocess.run(cmd, cwd=cwd, env=env(cenv), capture_output=True, check=True)
                return setup()
            return None

        return setup

    def placed(run: Run) -> str | None:
        got = out / "model.bin"
        size = got.stat().st_size if got.is_file() else -1
        return None if size == b.pull_mb * 2**20 else f"expected {b.pull_mb} MB in {got}"

    mb = f"{b.pull_mb} MB"
    return [
        Case(op, "gitreg", gitreg, reg, env=cenv, setup=prepare("gitreg"), check=placed,
             shown=f"gitreg pull churn@1.0.0 -o OUT ({mb})"),
        Case(op, "dvc", dvc, plain, env=cenv, setup=prepare("dvc"),
             shown=f"dvc pull ({mb}, the same .dvc pointer and remote)"),
    ]  # fmt: skip


def build(b: Bench, ops: list[str]) -> list[Case]:
    p, want = b.probe, b.want
    cases: list[Case] = []
    for op in ops:
        if op == "help":
            cases += [
                _gitreg(b, op, "--help"),
                Case(op, "python", [sys.executable, "-c", "pass"], b.repo, shown="python -c pass"),
            ]
        elif op == "resolve":
            cases += _resolve_cases(b)
        elif op == "resolve-latest":
            cases.append(
                _gitreg(
                    b,
                    op,
                    "resolve",
                    f"{p}@latest",
                    check=_expect(f"{p}@{want['latest']['version']}", _first_token),
                )
            )
        elif op in ("resolve-remote-cold", "resolve-remote-warm"):
            cases += _remote_cases(b, warm=op.endswith("warm"))
        elif op == "show":
            n = b.size.versions
            cases.append(
                _gitreg(
                    b,
                    op,
                    "show",
                    p,
                    check=lambda r, n=n: (
                        None
                        if sum(line.startswith("1.") for line in r.out.splitlines()) == n
                        else f"expected {n} version rows"
                    ),
                )
            )
            if b.mlflow_py:
                cases.append(
                    Case(
                        op,
                        "mlflow",
                        [str(b.mlflow_py), str(HERE / "mlflow_peer.py"), "search", p],
                        b.repo,
                        env={"MLFLOW_TRACKING_URI": f"sqlite:///{b.mlflow_db}"},
                        shown=f"MlflowClient().search_model_versions(\"name='{p}'\")",
                        check=_expect(str(n), _first_token),
                    )
                )
        elif op in ("list", "list-cold"):
            m, cold = b.size.models, op.endswith("cold")
            if not cold:
                _warm(b, "list")
            cases.append(
                _gitreg(
                    b,
                    op,
                    "list",
                    setup=(lambda b=b: _cold(b, "summaries")) if cold else None,
                    check=lambda r, m=m: (
                        None
                        if len(r.out.strip().splitlines()) == m + 1
                        else f"expected {m} model rows"
                    ),
                )
            )
            if b.gto and cold:
                cases.append(Case(op, "gto", [str(b.gto), "show"], b.repo, shown="gto show"))
        elif op in ("validate", "validate-cold"):
            cold = op.endswith("cold")
            if not cold:
                _warm(b, "validate")
            drop = (lambda b=b: _cold(b, "validate", "validate-links")) if cold else None
            cases.append(_gitreg(b, op, "validate", setup=drop))
        elif op == "validate-base":
            cases.append(
                _gitreg(
                    b,
                    op,
                    "validate",
                    "--ref",
                    "bench/register",
                    "--base",
                    "main",
                    check=lambda r: (
                        None if "1 model(s)" in r.out else f"expected one model checked: {r.out!r}"
                    ),
                )
            )
        elif op == "history":
            n = b.size.versions
            cases.append(
                _gitreg(
                    b,
                    op,
                    "history",
                    p,
                    check=lambda r, n=n: (
                        None
                        if sum(" registered " in line for line in r.out.splitlines()) == n
                        else f"expected {n} registrations"
                    ),
                )
            )
        elif op == "release":
            cases.append(_release_case(b))
        elif op == "register":
            cases += _register_cases(b)
        elif op in PULL_OPS:
            cases += _pull_cases(b, op)
        else:
            raise ValueError(f"unknown operation {op!r} (known: {', '.join(OPS)})")
    return cases
