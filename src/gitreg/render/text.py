"""Results as text for the terminal. The core never prints; the CLI prints what this returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gitreg.render.numbers import num, stages_text, table

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any

    from gitreg.model.diff import VersionDiff
    from gitreg.model.manifest import ModelSpec, VersionManifest
    from gitreg.model.records import ModelSummary
    from gitreg.ops.doctor import DoctorReport
    from gitreg.ops.init import InitResult
    from gitreg.ops.listing import ModelView, VersionView
    from gitreg.ops.pull import PullResult
    from gitreg.ops.register import Registration
    from gitreg.ops.release import ReleaseResult
    from gitreg.ops.validate import ValidationReport
    from gitreg.registry.history import Event
    from gitreg.registry.released import ResolvedVersion

# C0 controls but newline and tab, DEL and C1: a terminal would obey them (ESC sequences
# in a model's description could rewrite the screen), so text output shows them escaped
_CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0, 9), *range(11, 32), *range(127, 160)]}


def safe_text(text: str) -> str:
    """`text` with control characters escaped (`\\x1b`), for a terminal."""
    return text.translate(_CONTROLS)


def output(as_json: bool, result: Any, text: Callable[[], str]) -> str:
    """What a command prints for `result`: JSON (control characters escaped by JSON
    itself), or the text `text()` renders, with control characters escaped."""
    if as_json:
        from gitreg.render.json import to_json

        return to_json(result)
    return safe_text(text())


def init(result: InitResult) -> str:
    from gitreg.store.dvcconfig import plugin_for

    verb = "Added a registry to" if result.added_to_existing else "Created registry"
    plugin = plugin_for(result.remote)
    needs = f"  DVC plugin: pip install '{plugin[1]}' where artifacts move\n" if plugin else ""
    return (
        f"{verb} {result.path}\n"
        f"  DVC remote: {result.remote}\n{needs}"
        f"  commit:     {result.commit[:12]}\n"
        f"Next: cd {result.path} && gitreg register NAME --version 1.0.0 --artifact MODEL_FILE"
    )


def registration(r: Registration) -> str:
    lines = [f"Registered {r.name}@{r.version} on branch {r.branch} ({r.commit[:12]})"]
    if r.created_model:
        lines.append(f"  new model: models/{r.name}/model.yaml (fill in its card and owners)")
    for a in r.manifest.artifacts:
        lines.append(f"  artifact: {a.path}  md5 {a.md5}  {a.size} bytes")
    if r.remote_url:
        lines.append(f"  pushed to DVC remote: {r.remote_url}")
    if r.pushed:
        lines.append(f"  pushed branch {r.branch} to origin")
    if r.branch.startswith("gitreg/register/") and not r.pushed:
        lines.append(f"Next: git push origin {r.branch} and open a pull request to merge it")
    return "\n".join(lines)


def validation(report: ValidationReport) -> str:
    lines = [str(p) for p in report.problems]
    lines += [f"warning: {w}" for w in report.warnings]
    scope = f"{len(report.models)} model(s), {report.files} file(s)"
    if report.base:
        scope += f", change from {report.base[:12]}"
    if report.ok:
        lines.append(f"ok: {scope} checked at {report.ref}")
    else:
        lines.append(f"{len(report.problems)} problem(s) in {scope} at {report.ref}")
    return "\n".join(lines)


def model_list(models: Sequence[ModelSummary], stage: str | None = None) -> str:
    if not models and stage:
        return f"No model has a version in stage {stage!r}."
    if not models:
        return "No models yet. Register one: gitreg register NAME --version 1.0.0 --artifact FILE"
    rows = [
        (m.name, m.latest or "-", len(m.versions), stages_text(m.stages), m.description)
        for m in models
    ]
    return table(["name", "latest", "versions", "stages", "description"], rows)


def model(summary: ModelSummary, spec: ModelSpec, versions: Sequence[VersionManifest]) -> str:
    lines = [f"{summary.name}: {summary.description or '(no description)'}"]
    if summary.owners:
        lines.append(f"owners: {', '.join(summary.owners)}")
    if summary.task:
        lines.append(f"task: {summary.task}")
    if summary.labels:
        lines.append("labels: " + ", ".join(f"{k}={v}" for k, v in summary.labels.items()))
    lines.append(f"stages: {stages_text(summary.stages)}")
    by_version: dict[str, list[str]] = {}
    for stage, v in summary.stages.items():
        by_version.setdefault(v, []).append(stage)
    metric_names = sorted({k for v in versions for k in v.metrics.flat()})[:4]
    rows = [
        (
            v.version,
            ",".join(by_version.get(v.version, [])) or "-",
            v.status,
            v.created.strftime("%Y-%m-%d %H:%M"),
            v.author.split(" <")[0],
            *[num(v.metrics.flat().get(m)) for m in metric_names],
        )
        for v in reversed(versions)
    ]
    lines.append("")
    lines.append(table(["version", "stages", "status", "created", "author", *metric_names], rows))
    return "\n".join(lines)


def version(v: VersionManifest, stages: Sequence[str]) -> str:
    lines = [
        f"{v.name}@{v.version}  ({v.status})",
        f"stages:   {', '.join(stages) or '-'}",
        f"created:  {v.created.strftime('%Y-%m-%dT%H:%M:%SZ')} by {v.author}",
    ]
    if v.description:
        lines.append(f"description: {v.description}")
    if v.framework:
        lines.append(f"framework: {v.framework.name} {v.framework.version or ''}".rstrip())
    if v.lineage.code:
        lines.append(f"code:     {v.lineage.code.repo or '-'} @ {v.lineage.code.commit or '-'}")
    for d in v.lineage.data:
        lines.append(f"data:     {d.name} {d.path} {d.md5 or d.rev}")
    if v.lineage.run and v.lineage.run.url:
        lines.append(f"run:      {v.lineage.run.url}")
    lines.append("")
    lines.append(
        table(
            ["artifact", "format", "size", "md5"],
            [(a.path, a.format or "-", a.size, a.md5) for a in v.artifacts],
        )
    )
    flat = v.metrics.flat()
    if flat:
        lines.append("")
        lines.append(table(["metric", "value"], [(k, num(x)) for k, x in flat.items()]))
    if v.params:
        lines.append("")
        from gitreg.model.diff import flatten

        lines.append(table(["param", "value"], list(flatten(v.params).items())))
    return "\n".join(lines)


def events(items: Sequence[Event]) -> str:
    if not items:
        return "No history yet."
    rows = [
        (
            e.date[:19].replace("T", " "),
            e.kind,
            e.version or "-",
            e.stage or "-",
            e.author.split(" <")[0],
            e.commit[:10],
            e.pull_request or "-",
            ", ".join(e.approved_by or []) or "-",
            e.tag or "(not released)",
        )
        for e in items
    ]
    headers = ["date", "event", "version", "stage", "by", "commit", "pr", "approved by", "tag"]
    return table(headers, rows)


def version_diff(d: VersionDiff) -> str:
    lines = [f"{d.name}: {d.a} -> {d.b}", ""]
    if d.metrics:
        rows = [(m.metric, num(m.a), num(m.b), num(m.delta, signed=True)) for m in d.metrics]
        lines.append(table(["metric", d.a, d.b, "delta"], rows))
    else:
        lines.append("no metrics")
    for title, items in (("params", d.params), ("other changes", d.other)):
        lines.append("")
        if items:
            lines.append(table([title, d.a, d.b], [(c.field, c.a, c.b) for c in items]))
        else:
            lines.append(f"{title}: no differences")
    return "\n".join(lines)


def release(r: ReleaseResult) -> str:
    if not r.created:
        pushed = " on the remote too" if r.pushed else ""
        return f"Nothing to release: the tags already match {r.ref} ({r.commit[:12]}){pushed}."
    lines = [f"{'Created and pushed' if r.pushed else 'Created'} {len(r.created)} tag(s):"]
    for t in r.created:
        extra = ", ".join(f"{k}: {v}" for k, v in t.trailers.items() if k != "Promoted-in" and v)
        lines.append(f"  {t.name}  -> {t.commit[:12]}  {extra}".rstrip())
    if r.remade:
        lines.append(
            f"  ({len(r.remade)} of them replace tags an earlier run left local only: "
            f"{', '.join(r.remade)})"
        )
    if not r.pushed:
        lines.append("Push them with: gitreg release --push (or git push --atomic origin TAG...)")
    return "\n".join(lines)


def resolved(rv: ResolvedVersion) -> str:
    where = f" ({rv.stage})" if rv.stage else ""
    lines = [
        f"{rv.name}@{rv.version}{where}",
        f"tag:    {rv.tag}",
        f"commit: {rv.commit}",
    ]
    if rv.status == "deprecated":
        lines.append(f"status: deprecated (in {(rv.deprecated_by or '?')[:12]})")
    if rv.verified:
        lines.append("verified: every release check passed")
    for a in rv.artifacts:
        lines.append(f"artifact: {a.path}  md5 {a.md5}  {a.size} bytes")
        if a.url:
            lines.append(f"          {a.url}")
    return "\n".join(lines)


def pulled(r: PullResult) -> str:
    rv = r.resolved
    files = ", ".join(r.files)
    return f"Pulled {rv.name}@{rv.version} ({rv.tag}) into {r.dest}: {files} (md5 verified)"


def doctor(report: DoctorReport) -> str:
    lines = [str(f) for f in report.findings]
    if report.ok:
        lines.append(f"ok: {report.checked} tag(s) checked against {report.ref}")
    else:
        lines.append(f"{len(report.findings)} finding(s) in {report.checked} tag(s)")
    return "\n".join(lines)


def shown(view: ModelView | VersionView) -> str:
    """`gitreg show`: a model, or one version."""
    from gitreg.ops.listing import VersionView

    if isinstance(view, VersionView):
        return version(view.manifest, view.stages)
    return model(view.summary, view.spec, view.versions)


def version_list(views: Sequence[VersionView]) -> str:
    """`gitreg search-versions` / `list --versions`: one row per version."""
    if not views:
        return "No version matches."
    flat = [v.manifest.metrics.flat() for v in views]
    metric_names = sorted({k for metrics in flat for k in metrics})[:6]
    rows = [
        (
            v.manifest.name,
            v.manifest.version,
            ", ".join(v.stages) or "-",
            v.manifest.status,
            v.manifest.created.strftime("%Y-%m-%d"),
            *(num(metrics.get(k)) for k in metric_names),
        )
        for v, metrics in zip(views, flat, strict=True)
    ]
    return table(["name", "version", "stages", "status", "created", *metric_names], rows)
