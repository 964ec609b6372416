"""Pull request descriptions (Markdown, sent to GitHub) and the text of a submitted change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitreg.model.plan import PlanFacts, StagePlan
from gitreg.render.numbers import cell, num

if TYPE_CHECKING:
    from gitreg.ops.register import Registration
    from gitreg.ops.submit import Submission


def _metrics_table(plan: StagePlan, facts: PlanFacts) -> list[str]:
    new, old = facts.metrics, facts.previous_metrics
    old_v = plan.previous if plan.kind in ("promote", "rollback") else None
    if not new and not old:
        return ["No metrics are declared in the version manifests."]
    if old_v is None:
        rows = ["| metric | " + plan.version + " |", "|---|---:|"]
        return rows + [f"| {cell(m)} | {num(v)} |" for m, v in new.items()]
    lines = [
        f"| metric | {plan.version} (candidate) | {old_v} (in {plan.stage} now) | delta |",
        "|---|---:|---:|---:|",
    ]
    for m in [*new, *(k for k in old if k not in new)]:
        a, b = new.get(m), old.get(m)
        delta = num(a - b, signed=True) if a is not None and b is not None else "-"
        goal = f" ({facts.goals[m]})" if m in facts.goals else ""
        lines.append(f"| {cell(m)}{goal} | {num(a)} | {num(b)} | {delta} |")
    return lines


def _card(facts: PlanFacts) -> list[str]:
    lines = [cell(facts.description) or "_No description in model.yaml._", ""]
    fields = [
        ("Owners", ", ".join(facts.owners) or None),
        ("Intended use", facts.intended_use),
        ("Limitations", facts.limitations),
    ]
    lines += [f"- **{k}:** {cell(v) if v else '_not given_'}" for k, v in fields]
    return lines


def pr_body(plan: StagePlan, base_branch: str = "main") -> str:
    """The pull request description of `plan`, in Markdown."""
    facts = plan.facts
    assert facts is not None, "plans made by gitreg.ops.stage_change carry their facts"
    if plan.stage is None:
        change = f"`{plan.path}`: **status** active -> deprecated"
    else:
        change = f"`{plan.path}`: **{plan.stage}**: {plan.previous or '(none)'} -> "
        change += plan.after or "(none)"
    checks = [f"- `gitreg validate --base {base_branch}`: manifests, immutability, `requires`"]
    if facts.gated:
        checks.append(
            f"- `gitreg evaluate --changed --base {base_branch}`: {plan.stage!r} has "
            f"`gate: true`, so {plan.version} is evaluated against "
            f"{plan.previous or 'no baseline'} on the same held-out data and must pass the "
            "model's metric policy"
        )
    lines = [
        f"## {plan.title}",
        "",
        change,
        "",
        "### Metrics declared in the version manifests",
        "",
        *_metrics_table(plan, facts),
        "",
        f"### Model card: {plan.name}",
        "",
        *_card(facts),
        "",
        "### Checks",
        "",
        *checks,
        "",
        f"<sub>Opened by `gitreg {plan.kind}` from branch `{plan.branch}`.</sub>",
    ]
    return "\n".join(lines) + "\n"


def registration_body(r: Registration) -> str:
    """The description of a registration PR: what is added, its metrics and lineage."""
    m = r.manifest
    lines = [
        f"Registers **{r.name} {r.version}**" + (" (a new model)" if r.created_model else "") + ".",
        "",
        f"- manifest: `models/{r.name}/versions/{r.version}.yaml`",
        f"- author: {m.author}",
    ]
    if m.description:
        lines.append(f"- description: {cell(m.description)}")
    if m.framework:
        lines.append(f"- framework: {m.framework.name} {m.framework.version or ''}".rstrip())
    if m.lineage.code:
        lines.append(f"- code: {m.lineage.code.repo or '-'} @ `{m.lineage.code.commit or '-'}`")
    if m.lineage.run and m.lineage.run.url:
        lines.append(f"- run: {m.lineage.run.url}")
    lines += ["", "| artifact | md5 | size |", "| --- | --- | --- |"]
    lines += [f"| `{a.path}` | `{a.md5}` | {a.size} |" for a in m.artifacts]
    flat = m.metrics.flat()
    if flat:
        lines += ["", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {num(v)} |" for k, v in flat.items()]
    lines += [
        "",
        "Checks that will run: `gitreg validate --base` (manifest schema, artifact pointers, "
        "immutability, one new version per merge).",
        "",
        "<sub>Opened by `gitreg register --open-pr`.</sub>",
    ]
    return "\n".join(lines)


def submission(sub: Submission) -> str:
    """What was done, and what to do next, as text."""
    change, plan = sub.change, sub.change.plan
    if plan.stage is None:
        what = "status: active -> deprecated"
    else:
        what = f"{plan.stage}: {plan.previous or '(none)'} -> {plan.after or '(none)'}"
    lines = [
        f"{plan.title}: created branch {change.branch} ({change.commit[:12]}) "
        f"from {sub.base_branch} ({change.base[:12]})",
        f"  {plan.path}: {what}",
    ]
    if not change.pushed:
        lines.append(
            f"Next: git push origin {change.branch}, then open a pull request into "
            f"{sub.base_branch}"
        )
        return "\n".join(lines)
    lines.append(f"Pushed {change.branch} to origin.")
    if sub.pr is not None and sub.pr.number is not None:
        verb = "A pull request was already open" if sub.pr.existing else "Opened pull request"
        lines.append(f"{verb}: #{sub.pr.number} {sub.pr.url}")
        lines.append("Next: reviewers approve, the checks pass, then merge it.")
    elif sub.compare_url:
        lines.append(f"Note: {sub.note}." if sub.note else "")
        lines.append(f"Next: open the pull request at {sub.compare_url}")
    else:
        lines.append(f"Next: open a pull request from {change.branch} into {sub.base_branch}")
    return "\n".join(line for line in lines if line)
