"""Generate a released gitreg registry of M models x V versions, fast, for benchmarks.

    python benchmarks/generate.py 100x10 [--out DIR] [--payloads] [--no-checkout]

The registry is what `gitreg init`, `register`, promotion PRs and `gitreg release` after
every merge would have made, written in bulk instead of one CLI call per version:

- `gitreg init` makes the first commit (gitreg.yaml, .dvc/ with a local remote, workflows);
- one `git fast-import` writes the history on `main`, one squash-merged PR per commit,
  models interleaved (version i of every model, then version i+1):
    R  register m<k> 1.<i>.0: versions/1.<i>.0.yaml, artifacts/1.<i>.0/model.bin.dvc and
       .gitignore, dvc.yaml's `artifacts:` entry (plus model.yaml, stages.yaml for i = 0);
    X  for i % 4 == 3: production := 1.<i-1>.0 and staging removed (a demotion);
    S  staging := 1.<i>.0, and for i % 4 == 1 also production := 1.<i-1>.0;
- a second `git fast-import` writes the annotated tags `gitreg release` would have written
  after each merge (same names, targets, counters, messages and trailers), then
  `git pack-refs --all`.

So a model ends with staging = 1.<V-1>.0 and production = 1.<j-1>.0 for the last odd
j < V (V >= 2; 1.8.0 for V = 10), and carries
V registration tags and about 1.75 stage tags per version (assignments and removals).
Two extra branches serve the benchmarks: `bench/register` (main + one register-like change
of the probe model) and `bench/release` (main + one stage change not yet released).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
EPOCH = 1_700_000_000  # first generated commit; each later one is a minute on
IDENT = "Bench Bot <bench@example.com>"
TAGGER = "gitreg-release <release@example.com>"
ENV = {
    "GIT_AUTHOR_NAME": "Bench Bot",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Bot",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "DVC_NO_ANALYTICS": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


@dataclass(frozen=True)
class Size:
    models: int
    versions: int

    @classmethod
    def parse(cls, text: str) -> Size:
        m, _, v = text.lower().partition("x")
        if not (m.isdigit() and v.isdigit() and int(m) > 0 and int(v) > 0):
            raise argparse.ArgumentTypeError(f"{text!r}: expected MxV, e.g. 100x10")
        return cls(int(m), int(v))

    @property
    def label(self) -> str:
        return f"{self.models}x{self.versions}"

    @property
    def probe(self) -> str:
        """The model the single-model benchmarks ask about (m7 when there is one)."""
        return model_name(min(7, self.models - 1))


def model_name(k: int) -> str:
    return f"m{k}"


def version_name(i: int) -> str:
    return f"1.{i}.0"


def expected(size: Size) -> dict[str, dict[str, str]]:
    """What every model's stages and latest version are on main, by construction."""
    v = size.versions
    stages = {"staging": version_name(v - 1)}
    if v >= 2:  # production moves at every odd i, to the version before i
        last_odd = v - 1 if (v - 1) % 2 else v - 2
        stages["production"] = version_name(last_odd - 1)
    return {"latest": {"version": version_name(v - 1)}, "stages": stages}


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {**os.environ, **ENV, **(extra or {})}
    out.setdefault("LC_ALL", "C")
    return out


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True, env=env())
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode()


# --- file contents, in the byte form gitreg writes them ------------------------------------------


def payload(name: str, version: str) -> bytes:
    return f"model {name} {version}\n".encode()


def manifest(name: str, version: str, i: int, created: int) -> str:
    data = payload(name, version)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
    acc = 0.80 + (i % 17) / 100
    return (
        f"schema: gitreg/v1\nname: {name}\nversion: {version}\ncreated: '{when}'\n"
        f"author: {IDENT}\ndescription: benchmark version {i} of {name}\n"
        f"artifacts:\n- path: models/{name}/artifacts/{version}/model.bin\n"
        f"  md5: {hashlib.md5(data).hexdigest()}\n  size: {len(data)}\n"
        f"framework:\n  name: sklearn\n  version: 1.5.2\n"
        f"metrics:\n  accuracy: {acc:.4f}\n  auc: {acc + 0.05:.4f}\n"
        f"params:\n  n_estimators: {100 + i}\n  max_depth: 8\n"
        f"lineage:\n  code:\n    repo: https://github.com/acme/{name}\n"
        f"    commit: {hashlib.sha1(f'{name}{version}'.encode()).hexdigest()}\n"
        f"  data:\n  - name: train.csv\n    path: data/train.csv\n    rev: v{i}\n"
        f"environment:\n  python: 3.11.7\n  requirements: []\nstatus: active\n"
    )


def pointer(name: str, version: str) -> str:
    data = payload(name, version)
    return (
        f"outs:\n- md5: {hashlib.md5(data).hexdigest()}\n  size: {len(data)}\n"
        "  hash: md5\n  path: model.bin\n"
    )


def model_yaml(name: str, k: int) -> str:
    return (
        f"schema: gitreg/v1\nname: {name}\ndescription: benchmark model {k}\n"
        f"owners:\n- '@acme/team-{k % 10}'\ntask: classification\n"
        f"labels:\n  team: team-{k % 10}\ncard: {{}}\n"
    )


def stages_yaml(stages: dict[str, str]) -> str:
    return "schema: gitreg/v1\n" + "".join(f"{s}: {v}\n" for s, v in stages.items())


def dvc_entry(name: str, version: str) -> str:
    return f"  {name}:\n    path: models/{name}/artifacts/{version}/model.bin\n    type: model\n"


# --- the history ---------------------------------------------------------------------------------


@dataclass
class Commit:
    mark: int
    when: int
    subject: str
    files: dict[str, str]  # path -> content
    dvc_mark: int | None = None  # dvc.yaml from a pre-written blob
    tags: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)
    # (tag name, "self" or the mark of the commit it points to, subject, trailers)


def history(size: Size) -> Iterator[Commit]:
    """Main's commits in order, each with the release tags written after its merge."""
    counters = [0] * size.models
    reg_marks: list[dict[str, int]] = [{} for _ in range(size.models)]
    stages: list[dict[str, str]] = [{} for _ in range(size.models)]
    mark = size.models * size.versions  # marks 1..M*V are dvc.yaml blobs
    pr = 0
    for i in range(size.versions):
        v = version_name(i)
        for k in range(size.models):
            name = model_name(k)
            mark += 1
            pr += 1
            files = {
                f"models/{name}/versions/{v}.yaml": manifest(name, v, i, EPOCH + mark * 60),
                f"models/{name}/artifacts/{v}/model.bin.dvc": pointer(name, v),
                f"models/{name}/artifacts/{v}/.gitignore": "/model.bin\n",
            }
            if i == 0:
                files[f"models/{name}/model.yaml"] = model_yaml(name, k)
                files[f"models/{name}/stages.yaml"] = stages_yaml({})
            reg_marks[k][v] = mark
            yield Commit(
                mark,
                EPOCH + mark * 60,
                f"Register {name} {v} (#{pr})",
                files,
                dvc_mark=i * size.models + k + 1,
                tags=[(f"{name}@v{v}", "self", f"Register {name} {v}", {"Version": v})],
            )
            changes: list[dict[str, str | None]] = []
            if i % 4 == 3:
                changes.append({"production": version_name(i - 1), "staging": None})
            changes.append(
                {"staging": v, **({"production": version_name(i - 1)} if i % 4 == 1 else {})}
            )
            for change in changes:
                mark += 1
                pr += 1
                old = dict(stages[k])
                for stage, want in change.items():
                    if want is None:
                        stages[k].pop(stage, None)
                    else:
                        stages[k][stage] = want
                ordered = {s: stages[k][s] for s in ("staging", "production") if s in stages[k]}
                stages[k] = ordered
                tags = []
                for stage in ("staging", "production"):  # gitreg.yaml's order, as release
                    want, have = ordered.get(stage), old.get(stage)
                    if want == have:
                        continue
                    counters[k] += 1
                    if want is None:
                        assert have is not None
                        tag = (
                            f"{name}#{stage}!#{counters[k]}",
                            str(reg_marks[k][have]),
                            f"Remove {name} {have} from {stage}",
                            {"Version": have, "Stage": stage},
                        )
                    else:
                        tag = (
                            f"{name}#{stage}#{counters[k]}",
                            str(reg_marks[k][want]),
                            f"Assign {name} {want} to {stage}",
                            {"Version": want, "Stage": stage},
                        )
                    tags.append(tag)
                what = ", ".join(f"{s} {w or '(none)'}" for s, w in change.items())
                yield Commit(
                    mark,
                    EPOCH + mark * 60,
                    f"Promote {name}: {what} (#{pr})",
                    {f"models/{name}/stages.yaml": stages_yaml(ordered)},
                    tags=tags,
                )


def _data(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return b"data %d\n" % len(raw) + raw + b"\n"


def _commit_cmd(ref: str, c: Commit, parent: str) -> bytes:
    out = [
        f"commit {ref}\nmark :{c.mark}\n".encode(),
        f"author {IDENT} {c.when} +0000\ncommitter {IDENT} {c.when} +0000\n".encode(),
        _data(c.subject + "\n"),
        f"from {parent}\n".encode(),
    ]
    if c.dvc_mark is not None:
        out.append(f"M 100644 :{c.dvc_mark} dvc.yaml\n".encode())
    for path, content in c.files.items():
        out.append(f"M 100644 inline {path}\n".encode())
        out.append(_data(content))
    out.append(b"\n")
    return b"".join(out)


def _dvc_blobs(size: Size) -> Iterator[bytes]:
    """dvc.yaml after each registration, in order, as consecutive blobs (so they delta)."""
    entries: dict[str, str] = {}
    for i in range(size.versions):
        for k in range(size.models):
            entries[model_name(k)] = dvc_entry(model_name(k), version_name(i))
            text = "artifacts:\n" + "".join(entries.values())
            yield f"blob\nmark :{i * size.models + k + 1}\n".encode() + _data(text)


def _extra_branches(size: Size, last: int) -> list[bytes]:
    """bench/register: a register-like change of the probe model; bench/release: a stage
    change on top of main that `gitreg release` has not tagged yet."""
    name, v = size.probe, version_name(size.versions)
    when = EPOCH + (last + 1) * 60
    reg = Commit(
        last + 1,
        when,
        f"Register {name} {v}",
        {
            f"models/{name}/versions/{v}.yaml": manifest(name, v, size.versions, when),
            f"models/{name}/artifacts/{v}/model.bin.dvc": pointer(name, v),
            f"models/{name}/artifacts/{v}/.gitignore": "/model.bin\n",
        },
    )
    stages = {
        "staging": version_name(size.versions - 1),
        "production": version_name(size.versions - 1),
    }
    rel = Commit(
        last + 2,
        when + 60,
        f"Promote {name} {stages['production']} to production",
        {f"models/{name}/stages.yaml": stages_yaml(stages)},
    )
    return [
        _commit_cmd("refs/heads/bench/register", reg, f":{last}"),
        _commit_cmd("refs/heads/bench/release", rel, f":{last}"),
    ]


def _tag_cmd(name: str, target: str, when: int, subject: str, trailers: dict[str, str]) -> bytes:
    body = "\n".join(f"{k}: {v}" for k, v in trailers.items() if v)
    return f"tag {name}\nfrom {target}\ntagger {TAGGER} {when} +0000\n".encode() + _data(
        f"{subject}\n\n{body}\n"
    )


def write_history(repo: Path, size: Size) -> dict[str, int]:
    """Commits (first fast-import) then tags (second), refs packed. Returns counts."""
    marks = repo / ".git" / "bench-marks"
    base = git(repo, "rev-parse", "refs/heads/main").strip()
    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done", f"--export-marks={marks}"],
        cwd=repo,
        stdin=subprocess.PIPE,
        env=env(),
    )
    assert proc.stdin is not None
    for blob in _dvc_blobs(size):
        proc.stdin.write(blob)
    commits: list[Commit] = []
    parent = base
    for c in history(size):
        proc.stdin.write(_commit_cmd("refs/heads/main", c, parent))
        parent = f":{c.mark}"
        c.files = {}  # keep only what the tags need
        commits.append(c)
    for cmd in _extra_branches(size, commits[-1].mark):
        proc.stdin.write(cmd)
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import (commits) failed")
    sha = {}
    for line in marks.read_text().splitlines():
        m, s = line.split()
        sha[m[1:]] = s
    marks.unlink()

    proc = subprocess.Popen(
        ["git", "fast-import", "--quiet", "--done"], cwd=repo, stdin=subprocess.PIPE, env=env()
    )
    assert proc.stdin is not None
    ntags = 0
    for c in commits:
        for name, target, subject, trailers in c.tags:
            commit = sha[str(c.mark)] if target == "self" else sha[target]
            full = {**trailers, "Promoted-in": sha[str(c.mark)]}
            # Version and Stage first, then Promoted-in: release's order
            proc.stdin.write(_tag_cmd(name, commit, c.when + 30, subject, full))
            ntags += 1
    proc.stdin.write(b"done\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import (tags) failed")
    git(repo, "pack-refs", "--all")
    return {"commits": len(commits) + 1, "tags": ntags}


def write_payloads(repo: Path, size: Size) -> None:
    """The artifact payloads in the registry's local DVC remote, so DVC can fetch them."""
    remote = repo.parent / f"{repo.name}-dvc-remote" / "files" / "md5"
    for k in range(size.models):
        for i in range(size.versions):
            data = payload(model_name(k), version_name(i))
            md5 = hashlib.md5(data).hexdigest()
            (remote / md5[:2]).mkdir(parents=True, exist_ok=True)
            (remote / md5[:2] / md5[2:]).write_bytes(data)


def generate(
    size: Size, dest: Path, payloads: bool | None = None, checkout: bool = True, quiet: bool = True
) -> dict[str, object]:
    """Make the registry at `dest` (replaced if there). Returns a description of it."""
    t0 = time.perf_counter()
    if dest.exists() and any(dest.iterdir()) and not (dest.parent / f"{dest.name}.json").exists():
        # only ever replace what this script made (its description sits beside it)
        raise SystemExit(
            f"{dest} exists and is not a registry generate.py made (no {dest.name}.json "
            "beside it); --out is the registry's own path: pass a new or empty folder"
        )
    for p in (dest, dest.parent / f"{dest.name}-dvc-remote"):
        if p.exists():
            shutil.rmtree(p)
    dest.parent.mkdir(parents=True, exist_ok=True)
    gitreg = str(Path(sys.executable).parent / "gitreg")
    init_env = env({"GIT_AUTHOR_DATE": f"{EPOCH} +0000", "GIT_COMMITTER_DATE": f"{EPOCH} +0000"})
    proc = subprocess.run([gitreg, "init", str(dest)], capture_output=True, env=init_env)
    if proc.returncode != 0:
        raise RuntimeError(f"gitreg init: {proc.stderr.decode()}")
    git(dest, "config", "gc.auto", "0")
    counts = write_history(dest, size)
    if checkout:
        git(dest, "reset", "--quiet", "--hard", "main")
    if payloads is None:
        payloads = size.models * size.versions <= 1000
    if payloads:
        write_payloads(dest, size)
    info: dict[str, object] = {
        "size": size.label,
        "models": size.models,
        "versions": size.versions,
        "path": str(dest),
        "probe": size.probe,
        "expected": expected(size),
        "payloads": payloads,
        "seconds": round(time.perf_counter() - t0, 2),
        **counts,
    }
    (dest.parent / f"{dest.name}.json").write_text(json.dumps(info, indent=2))
    if not quiet:
        print(json.dumps(info, indent=2))
    return info


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", type=Size.parse, help="MxV, e.g. 100x10")
    ap.add_argument("--out", type=Path, help="registry path (default benchmarks/out/repos/MxV)")
    ap.add_argument(
        "--payloads",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write artifact payloads to the DVC remote (default: if M*V <= 1000)",
    )
    ap.add_argument(
        "--checkout",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check out main's files (default yes)",
    )
    args = ap.parse_args(argv)
    dest = args.out or HERE / "out" / "repos" / args.size.label
    generate(args.size, dest.absolute(), args.payloads, args.checkout, quiet=False)


if __name__ == "__main__":
    main()
