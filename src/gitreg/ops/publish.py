"""Publishing an evaluation report: the Actions job summary and one pull request comment.

In a workflow (GITHUB_ACTIONS=true) the Markdown report is appended to the job summary;
with `comment` it is also posted as one pull request comment, found again by its hidden
marker and updated on later runs. Publishing never changes the verdict: every failure is
returned as a warning, never raised.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from gitreg.errors import GitregError
from gitreg.registry.reader import Registry
from gitreg.store import github_repo


def event_pr(env: Mapping[str, str]) -> int | None:
    """The pull request number of the workflow's event, if it is a pull request event."""
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        number = json.loads(Path(path).read_text(encoding="utf-8"))["pull_request"]["number"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return number if isinstance(number, int) else None


def _repo(root: str) -> str | None:
    with Registry.open(root) as reg:
        configured = reg.config.github.repo if reg.config.github else None
        return github_repo.discover(reg.git, configured, actions=True)


def publish(
    summary_md: str, comment_md: str, marker: str, comment: bool, pr: int | None, repo: str
) -> list[str]:
    """Write the job summary and (with `comment`) upsert the PR comment; the warnings."""
    from gitreg.store.github import GitHubClient

    env, warnings = os.environ, []
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if env.get("GITHUB_ACTIONS") == "true" and summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(summary_md + "\n")
        except OSError as e:
            warnings.append(f"could not write the job summary {summary_file}: {e}")
    if not comment:
        return warnings
    number = pr if pr is not None else event_pr(env)
    if number is None:
        return [*warnings, "not commenting: no pull request number (pass --pr N)"]
    try:
        name = _repo(repo)
        if not name:
            return [*warnings, "not commenting: no GitHub repository (GITHUB_REPOSITORY or "
                    "github.repo in gitreg.yaml)"]  # fmt: skip
        client = GitHubClient.from_env(name)
        if not client.has_token:
            return [*warnings, "not commenting: set GITHUB_TOKEN (or GH_TOKEN)"]
        client.upsert_comment(number, marker, comment_md)
    except GitregError as e:
        warnings.append(f"could not comment on pull request #{number}: {e.message}")
    return warnings
