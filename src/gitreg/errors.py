"""The error tree. Every error a user can cause is a `GitregError` with an exit code.

The CLI maps these to exit codes in one place (`cli.main`); the core raises them with
the data a user needs to fix the problem: which file, which field, which ref.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_ERROR = 3
EXIT_UNEXPECTED = 4
EXIT_INTERRUPTED = 130


class GitregError(Exception):
    """Base of every expected failure. `exit_code` is what the CLI exits with."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file: `path: field: message`."""

    path: str
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.path}: {self.field}: {self.message}"
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "field": self.field, "message": self.message}


class ManifestError(GitregError):
    """A manifest could not be read or does not match its schema."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, path: str, field: str, message: str) -> ManifestError:
        return cls([Problem(path, field, message)])


class UsageError(GitregError):
    """The command line itself is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class NotFoundError(GitregError):
    """A model, version, stage, ref or file that does not exist."""


class GitError(GitregError):
    """A git command failed."""

    def __init__(self, args: list[str], stderr: str, hint: str | None = None) -> None:
        self.args_ = args
        self.stderr = stderr.strip()
        cmd = " ".join(args)
        super().__init__(f"git {cmd} failed: {self.stderr or 'no message'}", hint)


class ArtifactError(GitregError):
    """DVC could not add, push or pull an artifact."""


class RegistryError(GitregError):
    """The repository is not a registry, or a registry operation is refused."""


class CheckFailed(GitregError):
    """A check said no (validation failed, gate failed): exit 1."""

    exit_code = EXIT_CHECK_FAILED


class GitHubError(GitregError):
    """The GitHub REST API refused or failed a request."""

    def __init__(self, message: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
