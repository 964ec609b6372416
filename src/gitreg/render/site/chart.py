"""An inline SVG line chart of one metric across a model's versions, stage holders marked.

No script and no library: a polyline, one point per version that has the metric, and a
labelled ring on each version that holds a stage. The chart carries `role="img"` and an
`aria-label` that says what it shows; the numbers are also in the versions table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gitreg.render.numbers import num
from gitreg.render.site.html import esc

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 44


def _point(cx: float, cy: float, version: str, value: float, stages: list[str]) -> str:
    """One version's dot (with a tooltip), ringed and labelled when it holds stages."""
    tip = f"{version}: {num(value)}" + (f" ({', '.join(stages)})" if stages else "")
    dot = (
        f'<circle class="point" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5">'
        f"<title>{esc(tip)}</title></circle>"
    )
    if not stages:
        return dot
    return (
        f'{dot}<circle class="holder" cx="{cx:.1f}" cy="{cy:.1f}" r="8"/>'
        f'<text class="holder-label" x="{cx:.1f}" y="{cy - 12:.1f}" '
        f'text-anchor="middle">{esc(", ".join(stages))}</text>'
    )


def metric_chart(
    metric: str,
    points: Sequence[tuple[str, float | None]],
    holders: Mapping[str, list[str]],
    goal: str | None = None,
) -> str:
    """SVG for `metric` over `points` (version, value); `holders`: version -> its stages."""
    have = [(i, v, x) for i, (v, x) in enumerate(points) if x is not None]
    label = f"{metric} across {len(points)} versions"
    if goal:
        label += f" (goal: {goal})"
    if not have:
        return f'<p class="muted">No version records {esc(metric)}.</p>'
    lo = min(x for _, _, x in have)
    hi = max(x for _, _, x in have)
    if hi == lo:
        lo, hi = lo - 0.5 if lo == 0 else lo * 0.95, hi + 0.5 if hi == 0 else hi * 1.05
        lo, hi = min(lo, hi), max(lo, hi)
    step = (W - LEFT - RIGHT) / max(len(points) - 1, 1)

    def px(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else (W - LEFT - RIGHT) / 2)

    def py(x: float) -> float:
        return TOP + (hi - x) / (hi - lo) * (H - TOP - BOTTOM)

    line = " ".join(f"{px(i):.1f},{py(x):.1f}" for i, _, x in have)
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}"/>',
        *(
            f'<text class="tick" x="{LEFT - 6}" y="{py(x) + 4:.1f}" '
            f'text-anchor="end">{num(x)}</text>'
            for x in (hi, lo)
        ),
        f'<polyline class="series" points="{line}"/>',
    ]
    every = max(1, len(points) // 8)
    for i, (v, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="tick" x="{px(i):.1f}" y="{H - BOTTOM + 16}" '
                f'text-anchor="middle">{esc(v)}</text>'
            )
    parts += [_point(px(i), py(x), v, x, holders.get(v, [])) for i, v, x in have]
    return (
        f'<figure class="chart"><svg viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{esc(label)}" preserveAspectRatio="xMidYMid meet">'
        f"<title>{esc(label)}</title>{''.join(parts)}</svg>"
        f"<figcaption>{esc(label)}; rings mark the versions holding a stage.</figcaption></figure>"
    )
