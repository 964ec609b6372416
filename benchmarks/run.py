"""Time gitreg beside GTO, MLflow and plain git on generated registries of several sizes.

    python benchmarks/run.py                              10x10, 100x10, 1000x10; all peers
    python benchmarks/run.py --sizes 10x10,100x10 --runs 5 --ops resolve,list
    python benchmarks/run.py --full                       adds 1000x100, a 200 MB register
                                                          and a 500 MB pull against dvc pull
    python benchmarks/run.py --sizes 3x3 --runs 1 --no-peers --register-mb 1   (the CI smoke)

Registries are generated under OUT/repos/MxV (reused when there; --regenerate makes them
anew), peers' venvs under OUT/venvs. Writes OUT/results-MxV.md and .json per size.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import peers
from cases import DEFAULT_OPS, OPS, PULL_OPS, Bench, build
from generate import Size, env, generate, git
from targets import ratio_table, targets_table
from timing import Result, fmt_seconds, measure

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = "10x10,100x10,1000x10"
FULL_SIZES = "10x10,1000x10,1000x100"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"
    )


def source_state() -> str:
    """The gitreg commit measured, and whether src/ had uncommitted changes (read-only git)."""
    root = HERE.parent

    def git_out(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    sha = git_out("rev-parse", "--short=12", "HEAD") or "unknown"
    changed = git_out("diff-index", "--name-only", "HEAD", "--", "src").split()
    changed += git_out("ls-files", "--others", "--exclude-standard", "--", "src").split()
    return f"{sha} + {len(changed)} uncommitted file(s) in src/" if changed else sha


def ensure_repo(size: Size, out: Path, regenerate: bool) -> dict[str, object]:
    repo = out / "repos" / size.label
    meta = out / "repos" / f"{size.label}.json"
    if not regenerate and meta.exists() and (repo / ".git").exists():
        info: dict[str, object] = json.loads(meta.read_text())
    else:
        print(f"[{size.label}] generating the registry ...", file=sys.stderr, flush=True)
        info = generate(size, repo)
    # the registry is also the server of the file:// cases: let it serve partial fetches,
    # as GitHub does (a fresh `git init` refuses filters)
    git(repo, "config", "uploadpack.allowFilter", "true")
    return info


def ensure_mlflow(b: Bench, out: Path) -> None:
    assert b.mlflow_py is not None
    db = b.work / "mlflow.db"
    done = b.work / "mlflow.done"
    b.mlflow_db = db
    if done.exists():
        return
    print(f"[{b.size.label}] populating the MLflow store ...", file=sys.stderr, flush=True)
    db.unlink(missing_ok=True)
    subprocess.run(
        [
            str(b.mlflow_py),
            str(HERE / "mlflow_peer.py"),
            "populate",
            str(db),
            str(b.size.models),
            str(b.size.versions),
        ],
        check=True,
        capture_output=True,
    )
    done.write_text("ok\n")


def ensure_artifact(out: Path, mb: int) -> Path:
    path = out / "work" / f"artifact-{mb}MB.bin"
    if not path.exists() or path.stat().st_size != mb * 2**20:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            for _ in range(mb):
                fh.write(os.urandom(2**20))
    return path


def table(results: list[Result]) -> str:
    rows = [
        "| operation | tool | median | min\u2013max | peak RSS | runs | answer |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        d = r.to_dict()
        if r.timed_out and not r.runs:
            med, spread = f"> {r.timed_out:.0f} s (timed out)", "\u2013"
        elif r.error:
            med, spread = "failed", "\u2013"
        else:
            med = fmt_seconds(d["median_s"])
            spread = f"{fmt_seconds(d['min_s'])}\u2013{fmt_seconds(d['max_s'])}"
        rss = f"{d['peak_rss_mib']:.0f} MiB" if d["peak_rss_mib"] is not None else "\u2013"
        answer = {None: "", True: "right", False: "WRONG"}[d["answer_ok"]]
        rows.append(
            f"| {OPS[r.case.op]} | {r.case.tool} | {med} | {spread} | {rss} | "
            f"{d['runs']} | {answer} |"
        )
    return "\n".join(rows)


def report(
    size: Size, info: dict[str, object], results: list[Result], meta: dict[str, object]
) -> str:
    lines = [
        f"# gitreg benchmark: {size.models} models x {size.versions} versions",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['machine']}",
        f"- gitreg source: {meta['source']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),  # type: ignore[attr-defined]
        f"- registry: {info['commits']} commits, {info['tags']} tags "
        f"(generated in {info['seconds']} s); probe model {size.probe}",
        f"- runs per command: up to {meta['runs']}, fewer once {meta['budget']} s are spent; "
        f"timeout {meta['timeout']} s"
        + (f" (gto: {meta['gto_timeout']} s)" if meta.get("gto_timeout") else ""),
        f"- command: `{meta['command']}`",
        "- load average (1, 5, 15 min) at the end of this size: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "",
        table(results),
        "",
        "Commands (run in the registry; REPO is its path):",
        "",
    ]
    for r in results:
        lines.append(
            f"- {OPS[r.case.op]} / {r.case.tool}: `{r.case.shown or ' '.join(r.case.argv)}`"
        )
    problems = [r for r in results if r.error or r.wrong or r.timed_out]
    if problems:
        lines += ["", "Problems:", ""]
        for r in problems:
            what = r.error or r.wrong or f"timed out after {r.timed_out:.0f} s"
            lines.append(f"- {OPS[r.case.op]} / {r.case.tool}: {what}")
    return "\n".join(lines) + "\n"


def run_size(
    size: Size,
    args: argparse.Namespace,
    meta: dict[str, object],
    gto: Path | None,
    mlflow_py: Path | None,
) -> list[Result]:
    out: Path = args.out
    info = ensure_repo(size, out, args.regenerate)
    work = out / "work" / size.label
    work.mkdir(parents=True, exist_ok=True)
    b = Bench(
        size,
        Path(str(info["path"])),
        work,
        gto=gto,
        mlflow_py=mlflow_py,
        dvc_peer=args.peers,
        register_mb=args.register_mb,
        pull_mb=args.pull_mb,
    )
    if mlflow_py is not None:
        ensure_mlflow(b, out)
    ops = list(args.ops)
    if args.register and "register" not in ops:
        ops.append("register")
    if args.pull and size == args.sizes[0]:  # the same pull at every size: time it once
        ops += [op for op in PULL_OPS if op not in ops]
    if "register" in ops:
        b.artifact = ensure_artifact(out, args.register_mb)
    base_env = env({"GIT_CONFIG_GLOBAL": str(gitconfig(out))})
    results = []
    for case in build(b, ops):
        print(f"[{size.label}] {case.op:20} {case.tool:12}", end=" ", file=sys.stderr, flush=True)
        timeout = args.gto_timeout if case.tool == "gto" and args.gto_timeout else args.timeout
        if case.tool == "gto" and case.op in args.gto_gave_up:
            # GTO grows quadratically: timed out at a smaller size, it would here too
            r = Result(case, timed_out=timeout)
        else:
            r = measure(case, args.runs, args.budget, timeout, base_env)
        if case.tool == "gto" and r.timed_out:
            args.gto_gave_up.add(case.op)
        d = r.to_dict()
        status = r.error or r.wrong or (f"timed out ({timeout:.0f} s)" if r.timed_out else "")
        print(f"{fmt_seconds(d['median_s']):>9}  {status}", file=sys.stderr, flush=True)
        results.append(r)
    end = source_state()
    if end != meta["source"]:  # src/ changed under the run: say so
        meta = {**meta, "source": f"{meta['source']} at the start, {end} at the end"}
    text = report(size, info, results, meta)
    (out / f"results-{size.label}.md").write_text(text)
    (out / f"results-{size.label}.json").write_text(
        json.dumps(
            {
                **meta,
                "size": size.label,
                "registry": info,
                "results": [r.to_dict() for r in results],
            },
            indent=2,
        )
    )
    print(text)
    return results


def compile_gitreg() -> str:
    """Write gitreg's bytecode, as `pip install` does: an editable install run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module from source on every
    run (about 40 ms of each `resolve` on a loaded machine), which no installed gitreg does."""
    import gitreg

    package = str(Path(gitreg.__file__).parent)
    # best effort: an install the runner may not write to was compiled by pip already
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], capture_output=True)
    return package


def gitconfig(out: Path) -> Path:
    path = out / "gitconfig"
    path.write_text(
        "[user]\n\tname = Bench Bot\n\temail = bench@example.com\n"
        '[protocol "file"]\n\tallow = always\n[gc]\n\tauto = 0\n'
    )
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", help=f"MxV,... (default {DEFAULT_SIZES}; with --full {FULL_SIZES})")
    ap.add_argument("--full", action="store_true", help="add 1000x100 and --register")
    ap.add_argument("--runs", type=int, default=9, help="runs per command (default 9)")
    ap.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="stop repeating a command once its runs took this many seconds",
    )
    ap.add_argument("--timeout", type=float, default=600.0, help="per run, in seconds")
    ap.add_argument("--gto-timeout", type=float, help="per gto run (default --timeout)")
    ap.add_argument(
        "--ops", default=",".join(DEFAULT_OPS), help=f"comma-separated, from: {', '.join(OPS)}"
    )
    ap.add_argument("--register", action="store_true", help="also time register (200 MB)")
    ap.add_argument("--register-mb", type=int, default=200, help="artifact size for register")
    ap.add_argument(
        "--pull",
        action="store_true",
        help="also time pull against dvc pull, first, cold and warm (500 MB), at the first size",
    )
    ap.add_argument("--pull-mb", type=int, default=500, help="artifact size for pull")
    ap.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="gitreg only (plus plain git and python): no gto, mlflow or dvc",
    )
    ap.add_argument("--regenerate", action="store_true", help="generate registries anew")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="default benchmarks/out")
    args = ap.parse_args(argv)
    args.sizes_given = args.sizes
    args.sizes = [Size.parse(s) for s in (args.sizes or DEFAULT_SIZES).split(",") if s]
    args.ops = [o for o in args.ops.split(",") if o]
    unknown = [o for o in args.ops if o not in OPS]
    if unknown:
        ap.error(f"unknown --ops {unknown}; known: {', '.join(OPS)}")
    if args.full:
        if args.sizes_given is None:
            args.sizes = [Size.parse(s) for s in FULL_SIZES.split(",")]
        elif all(s.label != "1000x100" for s in args.sizes):
            args.sizes.append(Size(1000, 100))
        args.register = True
        args.pull = True
        args.gto_timeout = args.gto_timeout or 120.0
    args.gto_gave_up = set()
    args.out = args.out.absolute()
    return args


def main(argv: list[str] | None = None) -> dict[str, list[Result]]:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    compile_gitreg()
    gto = peers.gto(args.out) if args.peers else None
    mlflow_py = peers.mlflow(args.out) if args.peers else None
    meta: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "versions": peers.versions(gto, mlflow_py),
        "source": source_state(),
        "runs": args.runs,
        "budget": args.budget,
        "timeout": args.timeout,
        "gto_timeout": args.gto_timeout,
        "command": "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    by_size = {s.label: run_size(s, args, meta, gto, mlflow_py) for s in args.sizes}
    summary = summarize(by_size, meta)
    (args.out / "results-summary.md").write_text(summary)
    print(summary)
    return by_size


def summarize(by_size: dict[str, list[Result]], meta: dict[str, object]) -> str:
    """The targets, met or not, and gitreg's medians over the floors' and peers' from the
    same run (ratios move less than seconds on a shared machine)."""
    return "\n".join(
        [
            f"# gitreg benchmark summary ({meta['date']}, {meta['source']})",
            "",
            f"- machine: {meta['machine']}",
            f"- command: `{meta['command']}`",
            "- load average (1, 5, 15 min) at the end: "
            + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "",
            "## Targets (issue 14)",
            "",
            targets_table(by_size),
            "",
            "## gitreg's median over the other tool's, same run",
            "",
            ratio_table(by_size, OPS),
            "",
        ]
    )


if __name__ == "__main__":
    main()
