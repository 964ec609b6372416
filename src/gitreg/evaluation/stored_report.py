"""The last stored evaluation of a version, as a gate report, without running anything.

`gitreg evaluate` keeps each version's measurement in this clone's result store
(`store.results`, keyed by `reuse.key`). `StoredResults` finds them for one model's
versions under its policy at one commit (the key's shared facts are computed once per
model, `reuse.stored_facts`) and judges a version's stored measurement against a
baseline's by the gate's own rules (`model.gate.decide`, with the stored bootstrap
intervals when the policy asks for significance). `gitreg site` shows the result.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitreg.evaluation import reuse, significance
from gitreg.model.gate import GateReport, decide
from gitreg.model.manifest import ModelSpec, VersionManifest
from gitreg.model.measurement import Measurement
from gitreg.store import results
from gitreg.store.git import Git


@dataclass(frozen=True)
class StoredReport:
    report: GateReport
    stored_at: str | None  # when the candidate's result was stored (UTC), if recorded
    commit: str | None  # the commit whose policy it was measured under, if recorded
    digest: str  # what the report is made from (result keys, store times, the baseline)
    baseline: tuple[str, str] | None = None  # (stage, version) it was to be judged against


@dataclass(frozen=True)
class _Found:
    entry: str
    measurement: Measurement
    provenance: dict[str, str | None]


class StoredResults:
    """The stored measurements of one model's versions under `spec`'s policy at `policy`
    (commit, label), as `gitreg evaluate` with the pickle imports `allowed` keyed them."""

    def __init__(
        self, git: Git, spec: ModelSpec, policy: tuple[str, str], allowed: Sequence[str]
    ) -> None:
        self.git, self.spec, self.policy, self.allowed = git, spec, policy, tuple(allowed)
        self.folder = results.cache_dir(git)

    @functools.cached_property
    def shared(self) -> dict[str, Any] | None:
        return reuse.stored_facts(self.git, self.spec, self.policy, self.allowed)

    def _found(self, vm: VersionManifest) -> _Found | None:
        if self.shared is None:
            return None
        entry = reuse.key(self.spec, vm, self.shared)
        found = reuse.lookup(self.folder, entry, vm.version)
        if found is None:
            return None
        return _Found(entry, reuse.with_environment(found, self.shared), reuse.provenance(
            self.folder, entry
        ))  # fmt: skip

    def report(
        self, vm: VersionManifest, baseline: tuple[str, VersionManifest] | None = None
    ) -> StoredReport | None:
        """`vm`'s stored measurement judged against the stored measurement of `baseline`
        (the stage it holds, its manifest), or None when `vm` has none stored."""
        cand = self._found(vm)
        ev = self.spec.evaluation
        if cand is None or ev is None:
            return None
        base = self._found(baseline[1]) if baseline else None
        notes = []
        if baseline and base is None:
            notes.append(
                f"the baseline ({baseline[1].version}, in {baseline[0]}) has no stored result"
            )
        report = decide(
            self.spec.name,
            baseline[0] if baseline else None,
            ev.dataset,
            ev.metrics,
            cand.measurement,
            base.measurement if base else None,
            vm.metrics.flat(),
            baseline[1].metrics.flat() if base and baseline else None,
            notes,
            intervals=significance.for_gate(
                ev, base.measurement if base else None, cand.measurement
            ),
        )
        parts = [f"{f.entry}@{f.provenance['stored_at']}" for f in (cand, base) if f is not None]
        parts.append(f"{baseline[0]}={baseline[1].version}" if baseline else "-")
        return StoredReport(
            report,
            cand.provenance["stored_at"],
            cand.provenance["commit"],
            hashlib.sha1(" ".join(parts).encode()).hexdigest(),
            (baseline[0], baseline[1].version) if baseline else None,
        )
