"""The gate's report as Markdown (PR comment, job summary) and as terminal text."""

from __future__ import annotations

import re

from gitreg.model.gate import GateReport, GateSummary, MetricVerdict
from gitreg.render.numbers import cell, md_row, num, table

MARKER = "<!-- gitreg:evaluate -->"
_ICON = {"pass": "✅", "fail": "❌", "info": "ℹ️"}  # noqa: RUF001


_STATUS = {"passed": "passed", "failed": "FAILED", "overridden": "OVERRIDDEN"}


def delta_cell(v: MetricVerdict) -> str:
    """The delta, with its bootstrap interval when significance judged it."""
    text = num(v.delta, signed=True)
    if v.interval is not None:
        text += f" [{num(v.interval[0], signed=True)}, {num(v.interval[1], signed=True)}]"
    return text


def verdict_text(v: MetricVerdict) -> str:
    """`pass`, `fail: why`, `pass (not significant): why`, `info: no policy`."""
    said: str = v.verdict
    if v.verdict == "pass" and v.significance in ("not significant", "not judged"):
        said += f" ({v.significance})"
    shown = v.verdict != "pass" or v.significance is not None or v.reason.startswith("within min")
    return said + (f": {v.reason}" if shown and v.reason != "within thresholds" else "")


def _verdict_cells(v: MetricVerdict) -> list[str]:
    verdict = f"{_ICON[v.verdict]} {verdict_text(v)}"
    return [num(v.baseline), num(v.candidate), delta_cell(v), v.threshold, verdict]


def _override_lines(r: GateReport) -> list[str]:
    o = r.override
    if o is None:
        return []
    said = f"Override ({o.source}): {o.reason}"
    if o.pending is None:
        return [f"{said}. Approved by {', '.join(o.approved_by)}."]
    return [f"{said}. Not counted: {o.pending}."]


def _fenced(text: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text.rstrip("\n"), fence]


def _report_md(r: GateReport) -> list[str]:
    status = r.outcome
    into = f" → {r.stage}" if r.stage else ""
    lines = [f"### {_ICON['pass' if r.passed else 'fail']} {r.model} {r.candidate}{into}: {status}"]
    for line in _override_lines(r):
        lines += ["", f"> **{cell(line)}**"]
    against = f"baseline `{r.baseline}`" if r.baseline else "no baseline"
    data = f" on `{r.dataset}`" if r.dataset else ""
    lines += ["", f"Candidate `{r.candidate}` against {against}{data}.", ""]
    lines += ["| metric | baseline | candidate | delta | threshold | verdict |"]
    lines += ["|---|---:|---:|---:|---|---|"]
    lines += [md_row([v.metric, *_verdict_cells(v)]) for v in r.verdicts]
    if any(r.slices.values()):
        lines += ["", "#### Slices", ""]
        lines += ["| slice | metric | baseline | candidate | delta | threshold | verdict |"]
        lines += ["|---|---|---:|---:|---:|---|---|"]
        for name, rows in r.slices.items():
            lines += [md_row([name, v.metric, *_verdict_cells(v)]) for v in rows]
    if r.declared:
        lines += ["", "#### Declared in the manifests vs measured here", ""]
        heads = ["metric", "baseline declared", "baseline measured"]
        heads += ["candidate declared", "candidate measured"]
        lines += [md_row(heads), "|---|---:|---:|---:|---:|"]
        for d in r.declared:
            nums = [d.baseline_declared, d.baseline_measured]
            nums += [d.candidate_declared, d.candidate_measured]
            lines.append(md_row([d.metric, *(num(x) for x in nums)]))
    if r.notes:
        lines += ["", "#### Notes", "", *(f"- {cell(n)}" for n in r.notes)]
    for log in r.logs:
        code = "timed out" if log.returncode is None else f"exit {log.returncode}"
        summary = f"{log.role} {log.version}: {code}, {log.seconds:.1f} s"
        lines += ["", f"<details><summary>Log: {summary}</summary>", ""]
        lines += ["`" + " ".join(log.argv).replace("`", "'") + "`", ""]
        for title, text in (("stdout", log.stdout), ("stderr", log.stderr)):
            if text.strip():
                lines += [f"{title} (last lines):", "", *_fenced(text), ""]
        lines += ["</details>"]
    return lines


def markdown(summary: GateSummary, limit: int | None = None) -> str:
    """The report as Markdown, the hidden marker first; cut to `limit` characters if given."""
    status = "passed" if summary.passed else "failed"
    if summary.passed and any(r.outcome == "overridden" for r in summary.reports):
        status = "passed (overridden)"
    lines = [MARKER, f"## gitreg evaluate: {status}"]
    if not summary.reports:
        lines += ["", "No stage change to evaluate."]
    if summary.skipped:
        lines += ["", *(f"- skipped: {cell(s)}" for s in summary.skipped)]
    for r in summary.reports:
        lines += ["", *_report_md(r)]
    text = "\n".join(lines) + "\n"
    if limit is not None and len(text) > limit:
        cut = "\n\n…(cut to fit; the job summary and `--report-md` have all of it)\n"
        text = text[: limit - len(cut)] + cut
    return text


def text(summary: GateSummary) -> str:
    """A terminal rendering: per report, one table row per metric (and per slice)."""
    lines = []
    for r in summary.reports:
        into = f" -> {r.stage}" if r.stage else ""
        against = f"against {r.baseline}" if r.baseline else "(no baseline)"
        lines.append(f"{r.model} {r.candidate}{into} {against}: {_STATUS[r.outcome]}")
        lines += [f"  {line}" for line in _override_lines(r)]
        named = [(v.metric, v) for v in r.verdicts]
        named += [(f"{v.metric} [{s}]", v) for s, vs in r.slices.items() for v in vs]
        rows = [
            (
                metric,
                num(v.baseline),
                num(v.candidate),
                delta_cell(v),
                v.threshold,
                verdict_text(v) if v.verdict != "info" else v.verdict,
            )
            for metric, v in named
        ]
        headers = ["metric", "baseline", "candidate", "delta", "threshold", "verdict"]
        lines += ["  " + line for line in table(headers, rows).splitlines()]
        lines += [f"  note: {n}" for n in r.notes]
    lines += [f"skipped: {s}" for s in summary.skipped]
    if not summary.reports:
        lines.append("No stage change to evaluate.")
    return "\n".join(lines)


def workflow_commands(summary: GateSummary) -> list[str]:
    """GitHub Actions annotations: `::error` per failing metric of a failed gate,
    `::warning` per failing metric of an overridden one."""
    from gitreg.render.annotations import command

    lines = []
    for r in summary.reports:
        if r.outcome == "passed":
            continue
        level = "error" if r.outcome == "failed" else "warning"
        into = f" -> {r.stage}" if r.stage else ""
        title = f"gitreg evaluate: {r.model} {r.candidate}{into} {r.outcome}"
        rows = [(v.metric, v) for v in r.verdicts]
        rows += [(f"{v.metric} [{s}]", v) for s, vs in r.slices.items() for v in vs]
        for metric, v in rows:
            if v.verdict == "fail":
                lines.append(command(level, f"{metric}: {v.reason}", title=title))
    return lines
