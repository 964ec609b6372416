"""The targets of issue 14, checked against one benchmark run, and the ratio table.

Each target names an operation, the tool and the sizes it applies to, and a bound: an
absolute median (seconds), or a ratio to another tool measured in the same run (so a
loaded machine moves both). `evaluate` says met / not met / not measured for each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from timing import Result, fmt_seconds

ALL = "every size"
MEASURED = "the size it was timed at"  # an operation that does not grow with the registry


@dataclass(frozen=True)
class Target:
    op: str
    what: str
    size: str  # "1000x100", or ALL
    seconds: float | None = None  # median at most this
    ratio_to: str | None = None  # ... or at most `ratio` x this tool's median, same op
    ratio: float | None = None


TARGETS = [
    Target("resolve", "`resolve NAME@STAGE` (local) <= 0.10 s", ALL, seconds=0.10),
    Target("resolve-remote-cold", "`resolve --repo file://` cold <= 1.5 s", "1000x100", 1.5),
    Target("resolve-remote-warm", "`resolve --repo file://` warm <= 0.3 s", "1000x100", 0.3),
    Target("list-cold", "`list` cold cache <= 1.0 s", "1000x100", 1.0),
    Target("list", "`list` warm cache <= 0.3 s", "1000x100", 0.3),
    Target("validate-cold", "`validate` (whole) cold cache <= 8 s", "1000x100", 8.0),
    Target("validate", "`validate` (whole) warm cache <= 1 s", "1000x100", 1.0),
    Target("validate-base", "`validate --base` (one model) <= 0.5 s", "1000x100", 0.5),
    Target("release", "`release` of one merged promotion <= 0.5 s", "1000x100", 0.5),
    Target(
        "pull-cold", "`pull` cold (empty DVC cache) <= 1.2x `dvc pull`", MEASURED, None, "dvc", 1.2
    ),
    Target(
        "pull",
        "`pull` warm (object in the DVC cache) <= 1.2x `dvc pull`",
        MEASURED,
        None,
        "dvc",
        1.2,
    ),
    # not in issue 14's list: the first pull of an object on a machine, which must hash it
    Target(
        "pull-first",
        "`pull` first time (no gitreg records) <= 1.2x `dvc pull`",
        MEASURED,
        None,
        "dvc",
        1.2,
    ),
]


def _median(results: Sequence[Result], op: str, tool: str) -> float | None:
    for r in results:
        if r.case.op == op and r.case.tool == tool and r.runs and not r.error:
            value = r.to_dict()["median_s"]
            return float(value) if value is not None else None
    return None


def evaluate(by_size: dict[str, Sequence[Result]]) -> list[tuple[Target, str, str, str]]:
    """(target, size, measured, verdict) for each target and size it applies to."""
    rows = []
    for t in TARGETS:
        sizes = list(by_size) if t.size == ALL else [t.size]
        if t.size == MEASURED:
            timed = [k for k, rs in by_size.items() if _median(rs, t.op, "gitreg") is not None]
            sizes = timed or ["\u2013"]
        for size in sizes:
            results = by_size.get(size)
            got = _median(results, t.op, "gitreg") if results is not None else None
            if got is None:
                rows.append((t, size, "not measured", "not measured"))
                continue
            if t.ratio_to is not None and t.ratio is not None:
                base = _median(results or [], t.op, t.ratio_to)
                if base is None:
                    rows.append((t, size, fmt_seconds(got), "not measured"))
                    continue
                shown = f"{fmt_seconds(got)} / {fmt_seconds(base)} = {got / base:.2f}x"
                rows.append((t, size, shown, "met" if got <= t.ratio * base else "NOT MET"))
            else:
                assert t.seconds is not None
                rows.append((t, size, fmt_seconds(got), "met" if got <= t.seconds else "NOT MET"))
    return rows


def targets_table(by_size: dict[str, Sequence[Result]]) -> str:
    lines = ["| target | size | gitreg median | verdict |", "| --- | --- | ---: | --- |"]
    for t, size, shown, verdict in evaluate(by_size):
        lines.append(f"| {t.what} | {size} | {shown} | **{verdict}** |")
    return "\n".join(lines)


def ratio_table(by_size: dict[str, Sequence[Result]], ops: dict[str, str]) -> str:
    """gitreg's median over each other tool's (floors, peers), per operation and size."""
    sizes = list(by_size)
    lines = [
        "| operation | against | " + " | ".join(sizes) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    pairs: list[tuple[str, str]] = []
    for results in by_size.values():
        for r in results:
            pair = (r.case.op, r.case.tool)
            if r.case.tool != "gitreg" and pair not in pairs:
                pairs.append(pair)
    for op, tool in pairs:
        cells = []
        for size in sizes:
            mine = _median(by_size[size], op, "gitreg")
            other = _median(by_size[size], op, tool)
            timed_out = any(
                r.case.op == op and r.case.tool == tool and r.timed_out for r in by_size[size]
            )
            if mine is None:
                cells.append("\u2013")
            elif other is None:
                cells.append("peer timed out" if timed_out else "\u2013")
            else:
                cells.append(f"{mine / other:.2f}x")
        lines.append(f"| {ops.get(op, op)} | {tool} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
