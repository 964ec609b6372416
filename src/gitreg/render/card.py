"""A model card as Markdown, with or without Hugging Face front matter.

The sections are those of Mitchell et al., "Model Cards for Model Reporting" (2019): model
details, intended use, factors, metrics, evaluation data, training data, quantitative
analyses, ethical considerations, caveats and recommendations; then the version's
artifacts. `render_hf` puts the metadata of `ModelCard.metadata()` (license, library_name,
tags, datasets, model-index) in front as YAML, as a Hugging Face README.md has it.
"""

from __future__ import annotations

from gitreg.model import yamlio
from gitreg.model.manifest import MetricPolicy, ModelSpec, VersionManifest
from gitreg.ops.card import ModelCard, Results
from gitreg.render.numbers import md_row, num

NOT_STATED = "_Not stated._"
# The card's free-text fields of model.yaml, in Mitchell et al.'s order, with their titles
# (the catalog's model page shows them; the Markdown card adds the sections it builds).
CARD_SECTIONS = (
    ("details", "Model details"),
    ("intended_use", "Intended use"),
    ("out_of_scope", "Out-of-scope uses"),
    ("factors", "Factors"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("ethical_considerations", "Ethical considerations"),
    ("limitations", "Caveats and recommendations"),
)


def _text(value: str | None) -> list[str]:
    return [value.strip() if value and value.strip() else NOT_STATED]


def _details(card: ModelCard) -> list[str]:
    spec, vm = card.spec, card.version
    facts = [("Owners", ", ".join(spec.owners)), ("Task", spec.task or "")]
    if vm is not None:
        held = [s for s, v in card.stages.items() if v == vm.version]
        facts.append(("Version", vm.version + (f" ({', '.join(held)})" if held else "")))
        facts.append(("Registered", f"{vm.created.strftime('%Y-%m-%d %H:%M UTC')} by {vm.author}"))
        if vm.framework:
            facts.append(("Framework", f"{vm.framework.name} {vm.framework.version or ''}"))
    facts.append(("License", spec.card.license or ""))
    facts.append(("Labels", ", ".join(f"{k}={v}" for k, v in spec.labels.items())))
    facts.append(("Stages", ", ".join(f"{s}: {v}" for s, v in card.stages.items()) or "none"))
    lines = [f"- {k}: {v.rstrip()}" for k, v in facts if v]
    if spec.card.details:
        lines += ["", spec.card.details.strip()]
    return lines


LIMITS = [f for f in MetricPolicy.model_fields if f != "goal"]  # every limit a policy sets


def limit_title(field_name: str) -> str:
    """`max_regression_pct` -> "Max regression %"."""
    words = field_name.removesuffix("_pct").replace("_", " ").capitalize()
    return words + " %" if field_name.endswith("_pct") else words


def _policy(spec: ModelSpec) -> list[str]:
    ev = spec.evaluation
    if ev is None:
        return ["No evaluation policy: promotions into gated stages fail until one is set."]
    lines = [
        f"Measured on `{ev.dataset}`" + (f" (target `{ev.target}`)" if ev.target else "") + "."
    ]
    if ev.metrics:
        used = [f for f in LIMITS if any(getattr(p, f) is not None for p in ev.metrics.values())]
        heads = ["metric", "goal", *(limit_title(f).lower() for f in used)]
        lines += ["", md_row(heads), "|---|---|" + "---:|" * len(used)]
        for m, p in ev.metrics.items():
            cells = [num(x) if (x := getattr(p, f)) is not None else "-" for f in used]
            lines.append(md_row([m, p.goal, *cells]))
    return lines


def _factors(spec: ModelSpec) -> list[str]:
    lines = _text(spec.card.factors)
    slices = spec.evaluation.slices if spec.evaluation else []
    if slices:
        lines += ["", "Reported by slice: " + ", ".join(f"`{s}`" for s in slices) + "."]
    return lines


def _data(text: str | None, where: list[str]) -> list[str]:
    return [*_text(text), *(["", *where] if where else [])]


def _analyses(results: Results | None, vm: VersionManifest | None) -> list[str]:
    if results is None:
        return ["No results: the version declares no metrics and the gate measured none."]
    source = results.source + (f" ({results.url})" if results.url else "")
    if results.kind == "measured":
        said = f"Measured by the evaluation gate: {source}"
    else:
        said = source[:1].upper() + source[1:]
    lines = [said + (f", on `{results.dataset}`." if results.dataset else ".")]
    lines += ["", "| metric | value |", "|---|---:|"]
    lines += [f"| {k} | {num(v)} |" for k, v in results.metrics.items()]
    for slice_name, values in ((vm.metrics.by_slice or {}) if vm else {}).items():
        shown = ", ".join(f"{k} {num(v)}" for k, v in values.items())
        lines += ["", f"Declared by slice `{slice_name}`: {shown}"]
    return lines


def _version(vm: VersionManifest) -> list[str]:
    lines = [f"## Version {vm.version}", "", f"- Status: {vm.status}"]
    if vm.description:
        lines.append(f"- Description: {vm.description}")
    if vm.lineage.code:
        lines.append(f"- Code: {vm.lineage.code.repo or '-'} @ `{vm.lineage.code.commit or '-'}`")
    if vm.lineage.run and (vm.lineage.run.url or vm.lineage.run.id):
        lines.append(f"- Run: {vm.lineage.run.url or vm.lineage.run.id}")
    lines += ["", "| artifact | format | size | md5 |", "|---|---|---:|---|"]
    lines += [f"| `{a.path}` | {a.format or '-'} | {a.size} | `{a.md5}` |" for a in vm.artifacts]
    if vm.signature:
        ins = ", ".join(f"{t.name or '?'}: {t.type}" for t in vm.signature.inputs) or "-"
        outs = ", ".join(f"{t.name or '?'}: {t.type}" for t in vm.signature.outputs) or "-"
        lines += ["", f"Signature: inputs {ins}; outputs {outs}."]
    return lines


def render_markdown(card: ModelCard) -> str:
    """The card's Markdown, without front matter."""
    spec, vm = card.spec, card.version
    lines = [f"# Model card: {spec.name}", ""]
    if spec.description:
        lines += [spec.description, ""]
    ev_where = [f"Data set: `{spec.evaluation.dataset}`"] if spec.evaluation else []
    train_where = (
        [f"- {d.name}: `{d.path}` ({d.md5 or d.rev})" for d in vm.lineage.data] if vm else []
    )
    sections = [
        ("Model details", _details(card)),
        ("Intended use", [*_text(spec.card.intended_use), "", "### Out-of-scope uses", "",
                          *_text(spec.card.out_of_scope)]),
        ("Factors", _factors(spec)),
        ("Metrics", _policy(spec)),
        ("Evaluation data", _data(spec.card.evaluation_data, ev_where)),
        ("Training data", _data(spec.card.training_data, train_where)),
        ("Quantitative analyses", _analyses(card.results, vm)),
        ("Ethical considerations", _text(spec.card.ethical_considerations)),
        ("Caveats and recommendations", _text(spec.card.limitations)),
    ]  # fmt: skip
    for title, body in sections:
        lines += [f"## {title}", "", *body, ""]
    if vm is not None:
        lines += _version(vm)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_hf(card: ModelCard) -> str:
    """A Hugging Face README.md: the metadata as YAML front matter, then the Markdown."""
    meta = card.metadata()
    front = f"---\n{yamlio.dump(meta)}---\n\n" if meta else ""
    return front + render_markdown(card)
