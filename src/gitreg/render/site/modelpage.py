"""A model's page: its card and policy, the versions table, the stage timeline, the charts."""

from __future__ import annotations

from gitreg.model.manifest import Evaluation
from gitreg.model.timeline import StageEvent
from gitreg.ops.site import ModelEntry, SiteData
from gitreg.render.card import CARD_SECTIONS, LIMITS, limit_title
from gitreg.render.numbers import num
from gitreg.render.site.chart import metric_chart
from gitreg.render.site.html import chips, definitions, esc, href, link, page, section, table
from gitreg.render.site.index import stage_chips

MAX_CHARTS = 6
DEPRECATED = '<span class="chip deprecated">deprecated</span>'


def pr_link(pr: str | None, github: str | None) -> str:
    """`#42` linked to the pull request on GitHub when the registry is there."""
    if not pr:
        return '<span class="muted">-</span>'
    if pr.startswith("#") and pr[1:].isdigit() and github:
        return link(f"https://github.com/{github}/pull/{pr[1:]}", pr)
    return link(pr, pr)


def metric_names(m: ModelEntry) -> list[str]:
    """The policy's metrics first, then every other metric any version records."""
    policy = list(m.spec.evaluation.metrics) if m.spec.evaluation else []
    seen = {k for v in m.versions for k in v.manifest.metrics.flat()}
    return policy + sorted(seen - set(policy))


def _about(m: ModelEntry) -> str:
    s = m.summary
    facts = [
        ("Owners", esc(", ".join(s.owners)) or "-"),
        ("Task", esc(s.task or "-")),
        ("Labels", chips(f"{k}={v}" for k, v in sorted(s.labels.items())) or "-"),
        ("Latest version", esc(s.latest or "-")),
        ("Last change", esc((m.last_change or "-").replace("T", " "))),
    ]
    card = [
        f"<h3>{esc(title)}</h3><p>{esc(text)}</p>"
        for key, title in CARD_SECTIONS
        if (text := getattr(m.spec.card, key))
    ]
    card_html = "".join(card) or '<p class="muted">model.yaml has no card fields yet.</p>'
    return definitions(facts) + section("card", "Model card", card_html)


# Every limit a metric's policy can set, in the order model.yaml's schema declares them.


def _policy_notes(ev: Evaluation) -> str:
    notes = [f"Measured on <code>{esc(ev.dataset)}</code>."]
    if ev.significance is not None:
        sig = ev.significance
        notes.append(
            f"Deltas are judged by their {esc(sig.method.replace('_', ' '))} interval "
            f"({sig.samples} samples, {sig.confidence * 100:g}% confidence, seed {sig.seed})."
        )
    else:
        notes.append("Deltas are judged as measured (no significance test).")
    if ev.slices:
        notes.append(f"Reported by slice: {esc(', '.join(ev.slices))}.")
    notes.append(f"Rollbacks are gated by the {esc(ev.rollback)} policy.")
    return "".join(f"<p>{n}</p>" for n in notes)


def _policy(m: ModelEntry) -> str:
    ev = m.spec.evaluation
    if ev is None:
        return '<p class="muted">No evaluation policy.</p>'
    rows = [
        [esc(name), esc(p.goal)]
        + [esc(num(x)) if (x := getattr(p, f)) is not None else "-" for f in LIMITS]
        for name, p in ev.metrics.items()
    ]
    intro = _policy_notes(ev)
    if not rows:
        return intro
    heads = ["Metric", "Goal", *(limit_title(f) for f in LIMITS)]
    numeric = tuple(range(2, 2 + len(LIMITS)))
    return intro + table("Evaluation policy", heads, rows, numeric=numeric)


def _versions(m: ModelEntry, order: list[str]) -> str:
    names = metric_names(m)
    rows = []
    for v in reversed(m.versions):
        vm = v.manifest
        flat = vm.metrics.flat()
        status = DEPRECATED if vm.status == "deprecated" else "active"
        rows.append(
            [
                f'<a href="{href(vm.version + ".html")}">{esc(vm.version)}</a>',
                status,
                stage_chips({s: vm.version for s in v.stages}, order) if v.stages else "",
                esc(vm.created.strftime("%Y-%m-%d %H:%M")),
                esc(vm.author),
                *[esc(num(flat.get(n))) for n in names],
            ]
        )
    heads = ["Version", "Status", "Stages", "Created (UTC)", "Author", *names]
    numeric = tuple(range(5, 5 + len(names)))
    return table("Versions, newest first", heads, rows, numeric=numeric, attrs=' class="versions"')


def _timeline(events: list[StageEvent], github: str | None) -> str:
    if not events:
        return '<p class="muted">No stage has been released yet (no stage tags).</p>'
    rows = []
    for e in reversed(events):
        if e.kind == "promoted":
            what = f"{esc(e.version or '?')} entered"
            what += f" (replacing {esc(e.replaced)})" if e.replaced else ""
        else:
            what = f"{esc(e.version or '?')} left; the stage is empty"
        rows.append(
            [
                esc(e.date.replace("T", " ")),
                esc(e.stage),
                what,
                esc(e.promoted_by or "-"),
                pr_link(e.pull_request, github),
                esc(", ".join(e.approved_by) or "-"),
                f"<code>{esc(e.tag)}</code>",
            ]
        )
    heads = ["Released", "Stage", "Change", "Promoted by", "Pull request", "Approved by", "Tag"]
    return table("Stage changes, newest first, from the release tags", heads, rows)


def _charts(m: ModelEntry) -> str:
    policy = m.spec.evaluation.metrics if m.spec.evaluation else {}
    names = list(policy) or metric_names(m)
    holders = {v.manifest.version: v.stages for v in m.versions if v.stages}
    out = []
    for name in names[:MAX_CHARTS]:
        points = [(v.manifest.version, v.manifest.metrics.flat().get(name)) for v in m.versions]
        goal = policy[name].goal if name in policy else None
        out.append(f"<h3>{esc(name)}</h3>{metric_chart(name, points, holders, goal)}")
    return "".join(out) or '<p class="muted">No metrics recorded.</p>'


def render(m: ModelEntry, data: SiteData) -> bytes:
    s = m.summary
    body = f"""<h1>{esc(s.name)}</h1>
<p class="lead">{esc(s.description) or '<span class="muted">No description.</span>'}</p>
<p>Stages: {stage_chips(s.stages, data.stages)}</p>
{_about(m)}
{section("policy", "Evaluation policy", _policy(m))}
{section("versions", "Versions", _versions(m, data.stages))}
{section("timeline", "Stage timeline", _timeline(m.timeline, data.github))}
{section("charts", "Metrics across versions", _charts(m))}"""
    return page(
        f"{s.name} - model registry",
        body,
        root="../../",
        canonical=f"{data.base_url}models/{s.name}/index.html" if data.base_url else None,
        crumbs=[("Registry", "index.html"), (s.name, None)],
    )
