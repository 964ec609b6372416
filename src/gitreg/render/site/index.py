"""The index page: every model, a search box that takes `list --filter`'s syntax, sortable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gitreg.model.query import VERSION_FIELDS, grammar_tables
from gitreg.ops.site import DATA_FORMAT, ModelEntry, SiteData
from gitreg.render.numbers import num
from gitreg.render.site.html import chips, esc, href, json_script, page


def headline(m: ModelEntry) -> tuple[str, float] | None:
    """The metric a model is known by: its policy's first, else the latest version's first."""
    latest = m.latest_manifest
    if latest is None:
        return None
    metrics = latest.metrics.flat()
    policy = list(m.spec.evaluation.metrics) if m.spec.evaluation else []
    for name in [*policy, *sorted(metrics)]:
        if name in metrics:
            return name, metrics[name]
    return None


def stage_chips(stages: dict[str, str], order: list[str]) -> str:
    ranked = sorted(stages.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    return chips((f"{s} {v}" for s, v in ranked), "chip stage") or '<span class="muted">-</span>'


def search_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A `list --filter` record as the page's script reads it: metrics stay numbers, every
    other single value becomes the text the Python filter compares (`true`, `3`, `0.5`)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if value is None or isinstance(value, list) or (key.startswith("metrics.") and number):
            out[key] = value
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def search_index(models: Sequence[Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    """Every model's `list --filter` records (`search_record` of `ModelEntry.records`,
    the model's alone first), compactly, for
    filter.js `index` to rebuild: a record is a flat list of (key number, value) pairs into
    one table of keys; a version's record holds only what differs from the record before it
    (its model's, then the previous version's), a key it lacks as (-1 - key number, 0).

    `version_fields` are the fields that make a search look at versions (`VERSION_FIELDS`);
    filter.js takes them from here rather than keeping a copy, as it takes `grammar` (the
    field table and limits of model/query.py).
    """
    keys: dict[str, int] = {}

    def delta(record: Mapping[str, Any], base: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for key, value in record.items():
            if key not in base or base[key] != value or type(base[key]) is not type(value):
                out += [keys.setdefault(key, len(keys)), value]
        for key in base:
            if key not in record:
                out += [-1 - keys[key], 0]
        return out

    encoded = []
    for records in models:
        alone, *joined = records
        rows, base = [], alone
        for record in joined:
            rows.append(delta(record, base))
            base = record
        encoded.append([delta(alone, {}), rows])
    tables = {"version_fields": sorted(VERSION_FIELDS), "grammar": grammar_tables()}
    return {"keys": list(keys), **tables, "models": encoded}


def _row(m: ModelEntry, order: list[str]) -> str:
    s = m.summary
    head = headline(m)
    metric = f"{esc(head[0])} {esc(num(head[1]))}" if head else '<span class="muted">-</span>'
    labels = chips(f"{k}={v}" for k, v in sorted(s.labels.items()))
    sort_metric = f"{head[1]:.12g}" if head else ""
    cells = [
        (s.name, f'<a href="{href(f"models/{s.name}/index.html")}">{esc(s.name)}</a>'),
        (" ".join(f"{k}={v}" for k, v in sorted(s.stages.items())), stage_chips(s.stages, order)),
        (s.latest or "", esc(s.latest or "-")),
        (sort_metric, metric),
        (" ".join(s.owners), esc(", ".join(s.owners)) or '<span class="muted">-</span>'),
        (" ".join(f"{k}={v}" for k, v in sorted(s.labels.items())), labels or MUTED_DASH),
        (m.last_change or "", esc((m.last_change or "-").replace("T", " "))),
    ]
    first = f'<th scope="row" data-sort="{esc(cells[0][0])}">{cells[0][1]}</th>'
    rest = "".join(f'<td data-sort="{esc(k)}">{v}</td>' for k, v in cells[1:])
    return f'<tr data-model="{esc(s.name)}">{first}{rest}</tr>'


MUTED_DASH = '<span class="muted">-</span>'
COLUMNS = ("Model", "Stages", "Latest", "Headline metric", "Owners", "Labels", "Last change")
SORT_AS = ("text", "text", "version", "number", "text", "text", "text")


def _model_parts(m: ModelEntry, data: SiteData) -> dict[str, Any]:
    """A model's row and search records, from the site's cache when its inputs (blob and
    tag ids) and the stage order are unchanged: an index rewritten after one model changed
    parses that model's manifests only."""
    key = f"index:{DATA_FORMAT}:{m.inputs}:{','.join(data.stages)}"
    hit = data.memo.get(key) if data.memo is not None else None
    if hit is None:
        hit = {"row": _row(m, data.stages), "records": [search_record(r) for r in m.records]}
        if data.memo is not None:
            data.memo.put(key, hit)
    return dict(hit)


def render(data: SiteData) -> bytes:
    heads = "".join(
        f'<th scope="col" data-type="{t}" aria-sort="none">'
        f'<button type="button" class="sort">{esc(c)}</button></th>'
        for c, t in zip(COLUMNS, SORT_AS)
    )
    parts = [_model_parts(m, data) for m in data.models]
    rows = "".join(p["row"] for p in parts)
    versions = sum(len(m.versions) for m in data.models)
    where = f" on GitHub: {esc(data.github)}" if data.github else ""
    body = f"""<h1>Model registry</h1>
<p class="lead">{len(data.models)} models, {versions} versions, read at
<code>{esc(data.ref)}</code> (<code>{esc(data.commit[:12])}</code>){where}.</p>
<form class="search" role="search">
<label for="filter">Filter (the syntax of <code>gitreg list --filter</code>)</label>
<input id="filter" name="filter" type="search" autocomplete="off" spellcheck="false"
 placeholder="name LIKE 'iris%' AND metrics.f1 &gt; 0.9">
<p id="filter-status" class="status" role="status" aria-live="polite"></p>
</form>
<div class="scroll"><table id="models" class="models">
<caption>Models: select a column header to sort</caption>
<thead><tr>{heads}</tr></thead>
<tbody>{rows}</tbody></table></div>
{json_script("records", search_index([p["records"] for p in parts]))}"""
    return page(
        "Model registry",
        body,
        root="",
        canonical=data.base_url,
        crumbs=[("Registry", None)],
        scripts=["assets/filter.js", "assets/site.js"],
    )
