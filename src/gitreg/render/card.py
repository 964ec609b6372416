"""A model card as Markdown: model.yaml's card and policy with one version's facts."""

from __future__ import annotations

from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.ops.card import ModelCard
from gitreg.render.numbers import num

CARD_SECTIONS = (
    ("intended_use", "Intended use"),
    ("out_of_scope", "Out of scope"),
    ("limitations", "Limitations"),
    ("ethical_considerations", "Ethical considerations"),
    ("training_data", "Training data"),
    ("evaluation_data", "Evaluation data"),
)


def _policy(spec: ModelSpec) -> list[str]:
    ev = spec.evaluation
    if ev is None:
        return ["No evaluation policy: promotions into gated stages fail until one is set."]
    lines = [
        f"Measured on `{ev.dataset}`" + (f" (target `{ev.target}`)" if ev.target else "") + "."
    ]
    if ev.metrics:
        lines += ["", "| metric | goal | min | max | max regression |", "|---|---|---:|---:|---:|"]
        for m, p in ev.metrics.items():
            cells = [num(x) if x is not None else "-" for x in (p.min, p.max, p.max_regression)]
            lines.append(f"| {m} | {p.goal} | {' | '.join(cells)} |")
    if ev.slices:
        lines += ["", "Reported by slice: " + ", ".join(f"`{s}`" for s in ev.slices) + "."]
    return lines


def _version(vm: VersionManifest, stages: dict[str, str]) -> list[str]:
    held = [s for s, v in stages.items() if v == vm.version]
    lines = [
        f"## Version {vm.version}" + (f" ({', '.join(held)})" if held else ""),
        "",
        f"- Status: {vm.status}",
        f"- Registered: {vm.created.strftime('%Y-%m-%d %H:%M UTC')} by {vm.author}",
    ]
    if vm.description:
        lines.append(f"- Description: {vm.description}")
    if vm.framework:
        lines.append(f"- Framework: {vm.framework.name} {vm.framework.version or ''}".rstrip())
    if vm.lineage.code:
        lines.append(f"- Code: {vm.lineage.code.repo or '-'} @ `{vm.lineage.code.commit or '-'}`")
    for d in vm.lineage.data:
        lines.append(f"- Data: {d.name} (`{d.path}`, {d.md5 or d.rev})")
    if vm.lineage.run and (vm.lineage.run.url or vm.lineage.run.id):
        lines.append(f"- Run: {vm.lineage.run.url or vm.lineage.run.id}")
    flat = vm.metrics.flat()
    if flat:
        lines += ["", "| metric | value |", "|---|---:|"]
        lines += [f"| {k} | {num(v)} |" for k, v in flat.items()]
    for slice_name, values in (vm.metrics.by_slice or {}).items():
        lines += [
            "",
            f"By slice `{slice_name}`: " + ", ".join(f"{k} {num(v)}" for k, v in values.items()),
        ]
    lines += ["", "| artifact | format | size | md5 |", "|---|---|---:|---|"]
    lines += [f"| `{a.path}` | {a.format or '-'} | {a.size} | `{a.md5}` |" for a in vm.artifacts]
    if vm.signature:
        ins = ", ".join(f"{t.name or '?'}: {t.type}" for t in vm.signature.inputs) or "-"
        outs = ", ".join(f"{t.name or '?'}: {t.type}" for t in vm.signature.outputs) or "-"
        lines += ["", f"Signature: inputs {ins}; outputs {outs}."]
    return lines


def render_markdown(card: ModelCard) -> str:
    spec = card.spec
    lines = [f"# Model card: {spec.name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    facts = [("Task", spec.task), ("Owners", ", ".join(spec.owners))]
    facts.append(("Labels", ", ".join(f"{k}={v}" for k, v in spec.labels.items())))
    facts.append(("Stages", ", ".join(f"{s}: {v}" for s, v in card.stages.items()) or "none"))
    lines += [f"- {k}: {v}" for k, v in facts if v]
    for key, title in CARD_SECTIONS:
        text = getattr(spec.card, key)
        lines += ["", f"## {title}", "", text.strip() if text else "_Not stated._"]
    lines += ["", "## Evaluation policy", "", *_policy(spec)]
    if card.version is not None:
        lines += ["", *_version(card.version, card.stages)]
    return "\n".join(lines) + "\n"
