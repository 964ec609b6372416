"""What kind of stage change a pull request makes, as the evaluation gate judges it.

- a **rollback** puts back a version that held the stage before, in the first-parent
  history of the base: a fact of main's history, not a claim of the PR (its branch name
  or commit message), so no PR can call a promotion a rollback;
- an **override** is asked for by a `gitreg-override:` comment line the PR adds to
  `stages.yaml`, or by a `gitreg-override` label on the PR (the event file's
  `pull_request.labels`); it counts only once GitHub's reviews API reports an approval
  of the PR's head commit (`model.override`, docs/security.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitreg.errors import GitregError
from gitreg.model import layout, override
from gitreg.registry.reader import Registry
from gitreg.store import github_repo

if TYPE_CHECKING:
    from gitreg.model.gate import Override

# model.gate and registry.history are imported where used: a release, which needs only
# `override_added`, then loads neither (nor the filter language model.gate brings)


def held_before(base: Registry, name: str, stage: str, version: str) -> bool:
    """Whether `version` held `stage` at some point of the base's history."""
    from gitreg.registry.history import events

    return any(
        e.kind == "promoted" and e.stage == stage and e.version == version
        for e in events(base, name)
    )


def kind_of(
    base: Registry, name: str, stage: str, version: str, rollback: str | None
) -> tuple[str, str]:
    """ "promotion" or "rollback" (judged on min/max only), and the note that says which.

    `rollback` is the policy's `evaluation.rollback` (None: no baseline to roll back from)."""
    if rollback is None or not held_before(base, name, stage, version):
        return "promotion", ""
    said = f"rollback: {version} held {stage} before on the base"
    if rollback == "full":
        return "promotion", f"{said}; gated with the full policy (evaluation.rollback: full)"
    return "rollback", f"{said}; gated on absolute min/max only (docs/evaluation.md)"


def override_added(reg: Registry, before: str, after: str, name: str) -> str | None:
    """The override reason the change from commit `before` to `after` adds to stages.yaml."""
    path = layout.stages_file(name)
    old, new = (reg.snapshot.read_at(c, path) for c in (before, after))
    return override.added(
        old.decode("utf-8", "replace") if old is not None else None,
        new.decode("utf-8", "replace") if new is not None else None,
    )


def event(env: Mapping[str, str]) -> dict[str, Any]:
    """The workflow's event (GITHUB_EVENT_PATH), or {} outside a workflow or if unreadable."""
    path = env.get("GITHUB_EVENT_PATH")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _pull(data: Mapping[str, Any]) -> dict[str, Any]:
    pull = data.get("pull_request")
    return pull if isinstance(pull, dict) else {}


def labels(data: Mapping[str, Any]) -> list[str]:
    found = _pull(data).get("labels")
    items = found if isinstance(found, list) else []
    return [str(x["name"]) for x in items if isinstance(x, dict) and "name" in x]


def _approvals(reg: Registry, data: Mapping[str, Any], env: Mapping[str, str]) -> Override:
    """An approved (or pending) override of reason "" from `data`'s pull request."""
    from gitreg.model.gate import Override
    from gitreg.store.github import GitHubClient

    pull = _pull(data)
    number, head = pull.get("number"), (pull.get("head") or {}).get("sha")
    pending = "it counts once a reviewer approves the pull request's head commit"
    if not isinstance(number, int):
        return Override("", "", [], f"{pending} (no pull request event to ask GitHub)")
    configured = reg.config.github.repo if reg.config.github else None
    repo = github_repo.discover(reg.git, configured, env, actions=True)
    if not repo:
        return Override("", "", [], f"{pending} (no GitHub repository to ask)")
    client = GitHubClient.from_env(repo, env)
    if not client.has_token:
        return Override("", "", [], f"{pending} (no GITHUB_TOKEN to read the reviews)")
    try:
        approved = client.approvers(number, head if isinstance(head, str) else None)
    except GitregError as e:
        return Override("", "", [], f"{pending} (could not read the reviews: {e.message})")
    return Override("", "", approved, None if approved else f"{pending}; none has yet")


def requested(reg: Registry, fork: str, name: str, env: Mapping[str, str]) -> Override | None:
    """The override the pull request asks for on model `name`, and whether it counts."""
    from gitreg.model.gate import Override

    reason = override_added(reg, fork, reg.commit, name)
    source = "stages.yaml comment"
    data = event(env)
    label = override.from_labels(labels(data))
    if reason is None and label is None:
        return None
    if reason is None:
        reason, source = label or "(no reason given)", f"label {override.LABEL}"
    found = _approvals(reg, data, env)
    return Override(reason, source, found.approved_by, found.pending)
