"""Check that a generated registry is one gitreg, GTO and DVC all read the same way.

    python benchmarks/verify.py [3x5] [--replay] [--gto PATH] [--no-dvc]

1. `gitreg validate` and `gitreg doctor` pass, and `gitreg release` finds nothing to write;
2. every model's stages from `gitreg list --json` equal `gto show --json`'s, and
   `gitreg resolve PROBE@production` equals `gto show PROBE#production`;
3. `dvc artifacts get file://REPO PROBE --stage production` fetches that version's payload;
4. with --replay: a clone without tags, on which `gitreg release --ref C` runs after each
   commit C of main, ends with byte-identical tag objects (same object ids) to the generator's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from generate import TAGGER, Size, env, generate, git, payload

BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path, extra: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env(extra))
    if proc.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def check_gitreg(repo: Path) -> None:
    run([str(BIN / "gitreg"), "validate"], repo)
    run([str(BIN / "gitreg"), "doctor"], repo)
    out = json.loads(run([str(BIN / "gitreg"), "release", "--json"], repo))
    assert out["created"] == [], f"release would still write {out['created']}"
    print("ok: validate, doctor, release (nothing to write)")


def check_gto(repo: Path, probe: str, gto: str) -> None:
    ours = {
        m["name"]: m["stages"]
        for m in json.loads(run([str(BIN / "gitreg"), "list", "--json"], repo))
    }
    theirs = json.loads(run([gto, "show", "--json"], repo))
    for name, stages in ours.items():
        got = {s: v.removeprefix("v") for s, v in theirs[name]["stage"].items() if v}
        assert got == stages, f"{name}: gitreg {stages}, gto {got}"
    mine = json.loads(run([str(BIN / "gitreg"), "resolve", f"{probe}@production", "--json"], repo))[
        "version"
    ]
    gto_one = run([gto, "show", f"{probe}#production", "--ref"], repo).strip()
    assert gto_one == f"{probe}@v{mine}", f"gitreg {mine}, gto {gto_one}"
    print(f"ok: gto show agrees on all {len(ours)} models; {probe}@production = {mine}")


def check_dvc(repo: Path, probe: str) -> None:
    version = json.loads(
        run([str(BIN / "gitreg"), "resolve", f"{probe}@production", "--json"], repo)
    )["version"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "got"
        run(
            [
                str(BIN / "dvc"),
                "artifacts",
                "get",
                repo.as_uri(),
                probe,
                "--stage",
                "production",
                "-o",
                str(out),
            ],
            Path(tmp),
        )
        assert out.read_bytes() == payload(probe, version), "dvc fetched another version"
    print(f"ok: dvc artifacts get {probe} --stage production fetched {version}'s payload")


def replay(repo: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy"
        git(Path(tmp), "clone", "--quiet", "--no-tags", "--branch", "main", str(repo), str(copy))
        commits = git(copy, "rev-list", "--reverse", "--first-parent", "main").split()[1:]
        name, email = TAGGER.split(" <")
        for c in commits:
            when = git(copy, "log", "-1", "--format=%ct", c).strip()
            run(
                [str(BIN / "gitreg"), "release", "--ref", c],
                copy,
                {
                    "GIT_COMMITTER_NAME": name,
                    "GIT_COMMITTER_EMAIL": email.rstrip(">"),
                    "GIT_COMMITTER_DATE": f"{int(when) + 30} +0000",
                },
            )
        fmt = ["for-each-ref", "--format=%(refname) %(objectname)", "refs/tags"]
        ours, theirs = git(repo, *fmt), git(copy, *fmt)
        assert ours == theirs, f"generator:\n{ours}\nreplayed release:\n{theirs}"
    print(
        f"ok: replaying `gitreg release` after each of {len(commits)} commits "
        "gives byte-identical tags"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", type=Size.parse, nargs="?", default=Size(3, 5))
    ap.add_argument("--replay", action="store_true")
    ap.add_argument("--gto", default=shutil.which("gto") or "gto")
    ap.add_argument("--no-dvc", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "reg"
        generate(args.size, repo, payloads=True)
        check_gitreg(repo)
        check_gto(repo, args.size.probe, str(Path(shutil.which(args.gto) or args.gto).absolute()))
        if not args.no_dvc:
            check_dvc(repo, args.size.probe)
        if args.replay:
            replay(repo)


if __name__ == "__main__":
    main()
