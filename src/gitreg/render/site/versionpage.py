"""A version's page: the manifest, lineage (linked on GitHub), artifacts, the last evaluation."""

from __future__ import annotations

import json
from typing import Any

from gitreg.evaluation.stored_report import StoredReport
from gitreg.model.gate import MetricVerdict
from gitreg.ops.site import ModelEntry, SiteData, VersionEntry
from gitreg.render.gate import delta_cell, verdict_text
from gitreg.render.numbers import num
from gitreg.render.site.html import chips, definitions, esc, link, page, section, table
from gitreg.store.github_repo import parse_remote

NONE = '<p class="muted">{}</p>'


def size_text(n: int) -> str:
    """Bytes for people: 512 B, 1.5 KB, 2.3 MB (powers of 1024)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _blob_url(data: SiteData, v: VersionEntry, path: str) -> str | None:
    """The file on GitHub, at the commit that registered the version (else HEAD): an
    artifact's pointer (validate requires it), a data set's when the tree has it."""
    if not data.github:
        return None
    if not path.startswith("models/") and path not in data.data_pointers.split(" "):
        return None
    return f"https://github.com/{data.github}/blob/{v.registered_at or 'HEAD'}/{path}"


def _code(v: VersionEntry) -> list[tuple[str, str]]:
    code = v.manifest.lineage.code
    if code is None:
        return []
    gh = parse_remote(code.repo) if code.repo else None
    commit = code.commit or "-"
    url = f"https://github.com/{gh}/commit/{code.commit}" if gh and code.commit else None
    at = f" at <code>{link(url, commit)}</code>" if code.commit else ""
    return [("Code", f"{link(code.repo, code.repo or '-')}{at}")]


def _lineage(v: VersionEntry, data: SiteData) -> str:
    lin = v.manifest.lineage
    items = _code(v)
    if lin.run:
        items.append(("Run", link(lin.run.url, lin.run.id or lin.run.url or "-")))
    rows = [
        [
            esc(d.name),
            link(_blob_url(data, v, f"{d.path}.dvc"), d.path),
            f"<code>{esc(d.md5)}</code>" if d.md5 else "-",
            esc(d.rev or "-"),
        ]
        for d in lin.data
    ]
    tables = table("Data", ["Name", "Path", "md5", "Revision"], rows) if rows else ""
    return (definitions(items) + tables) or '<p class="muted">No lineage recorded.</p>'


def _artifacts(v: VersionEntry, data: SiteData) -> str:
    rows = [
        [
            link(_blob_url(data, v, f"{a.path}.dvc"), a.path),
            f'<span title="{a.size} bytes">{esc(size_text(a.size))}</span>',
            f"<code>{esc(a.md5)}</code>",
            esc(a.format or "-"),
        ]
        for a in v.manifest.artifacts
    ]
    return table("Artifacts (DVC-tracked)", ["Path", "Size", "md5", "Format"], rows, numeric=(1,))


def _mapping(caption: str, values: dict[str, Any], metric: bool = False) -> str:
    if not values:
        return ""
    rows = [
        [esc(k), esc(num(x) if metric and isinstance(x, float | int) else _plain(x))]
        for k, x in sorted(values.items())
    ]
    return table(caption, ["Name", "Value"], rows, numeric=(1,) if metric else ())


def _plain(x: Any) -> str:
    return x if isinstance(x, str) else json.dumps(x, default=str)


def _commit_link(commit: str | None, data: SiteData) -> str:
    if not commit:
        return "not recorded"
    url = f"https://github.com/{data.github}/commit/{commit}" if data.github else None
    return f"<code>{link(url, commit[:12])}</code>"


def _verdict_rows(rows: list[MetricVerdict]) -> list[list[str]]:
    return [
        [
            esc(v.metric),
            esc(num(v.candidate)),
            esc(num(v.baseline)),
            esc(delta_cell(v)),
            esc(v.threshold),
            f'<span class="verdict {esc(v.verdict)}">{esc(verdict_text(v))}</span>',
        ]
        for v in rows
    ]


def evaluation_html(stored: StoredReport | None, data: SiteData) -> str:
    """The stored report: the outcome, what it was measured on and when, the verdicts."""
    if stored is None:
        return '<p class="muted">No stored evaluation report for this version.</p>'
    r = stored.report
    against = "no baseline"
    if stored.baseline:
        stage, version = stored.baseline
        against = f"{esc(version)} (in {esc(stage)})"
        against += "" if r.baseline else ": no stored result, absolute thresholds only"
    facts = [
        ("Outcome", f'<span class="verdict {esc(r.outcome)}">{esc(r.outcome)}</span>'),
        ("Baseline", against),
        ("Data set", f"<code>{esc(r.dataset or '-')}</code>"),
        ("Measured", esc((stored.stored_at or "not recorded").replace("T", " "))),
        ("Policy commit", _commit_link(stored.commit, data)),
    ]
    heads = ["Metric", "Candidate", "Baseline", "Delta", "Threshold", "Verdict"]
    out = definitions(facts)
    if r.verdicts:
        out += table("Verdicts", heads, _verdict_rows(r.verdicts), numeric=(1, 2, 3))
    for name, rows in sorted(r.slices.items()):
        out += table(f"Verdicts on slice {name}", heads, _verdict_rows(rows), numeric=(1, 2, 3))
    notes = "".join(f"<li>{esc(n)}</li>" for n in r.notes)
    return out + (f'<ul class="notes">{notes}</ul>' if notes else "")


def render(m: ModelEntry, v: VersionEntry, data: SiteData) -> bytes:
    vm = v.manifest
    name = m.name
    status = (
        '<span class="chip deprecated">deprecated</span>' if vm.status == "deprecated" else "active"
    )
    fw = f"{vm.framework.name} {vm.framework.version or ''}".strip() if vm.framework else "-"
    env = vm.environment
    facts = [
        ("Status", status),
        ("Stages", chips(v.stages, "chip stage") or "-"),
        ("Created", esc(vm.created.strftime("%Y-%m-%d %H:%M UTC"))),
        ("Author", esc(vm.author)),
        ("Framework", esc(fw)),
        ("Python", esc(env.python if env and env.python else "-")),
        ("Requirements", esc(", ".join(env.requirements) if env and env.requirements else "-")),
    ]
    by_slice = vm.metrics.by_slice or {}
    slices = "".join(
        _mapping(f"Metrics on slice {s}", dict(ms), True) for s, ms in by_slice.items()
    )
    metrics = _mapping("Metrics", dict(vm.metrics.flat()), True) or NONE.format("No metrics.")
    manifest = (
        f"<details><summary>versions/{esc(vm.version)}.yaml as committed</summary>"
        f"<pre><code>{esc(v.text)}</code></pre></details>"
    )
    body = f"""<h1>{esc(name)} <span class="version">{esc(vm.version)}</span></h1>
<p class="lead">{esc(vm.description) or '<span class="muted">No description.</span>'}</p>
{definitions(facts)}
{section("metrics", "Metrics and parameters", metrics + slices + _mapping("Parameters", vm.params))}
{section("lineage", "Lineage", _lineage(v, data))}
{section("artifacts", "Artifacts", _artifacts(v, data))}
{section("evaluation", "Last evaluation", evaluation_html(v.evaluation, data))}
{section("manifest", "Manifest", manifest)}"""
    return page(
        f"{name} {vm.version} - model registry",
        body,
        root="../../",
        canonical=f"{data.base_url}models/{name}/{vm.version}.html" if data.base_url else None,
        crumbs=[
            ("Registry", "index.html"),
            (name, f"models/{name}/index.html"),
            (vm.version, None),
        ],
    )
