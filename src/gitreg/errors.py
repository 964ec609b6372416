"""The whole error tree. Every failure a user can cause is a `GitregError` carrying its data.

The core raises these with what a user needs to fix the problem (which file, field, ref or
tool) as attributes, so callers branch on types and attributes, never on message text.
`gitreg.cli.exits` is the one place where they become exit codes (DESIGN §5).
"""

from __future__ import annotations

from gitreg.record import Record

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from pathlib import Path  # only named here: resolve does not load pathlib


class GitregError(Exception):
    """Base of every expected failure: a message, and a hint that says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class Problem(Record):
    """One thing wrong with one file: `path: field: message`."""

    __slots__ = ("path", "field", "message")  # noqa: RUF023 - the fields' order
    path: str
    field: str
    message: str

    def __init__(self, path: str, field: str, message: str) -> None:
        self.path, self.field, self.message = path, field, message

    def __str__(self) -> str:
        if self.field:
            return f"{self.path}: {self.field}: {self.message}"
        return f"{self.path}: {self.message}"


class ManifestError(GitregError):
    """A manifest could not be read or does not match its schema."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def single(cls, path: str, field: str, message: str) -> ManifestError:
        return cls([Problem(path, field, message)])


class UsageError(GitregError):
    """The command line itself is wrong."""


class QueryError(UsageError):
    """A --filter expression that does not parse; names the column and draws a caret."""

    def __init__(
        self, text: str, pos: int, message: str, hint: str | None = None, option: str = "--filter"
    ) -> None:
        self.text, self.column = text, pos + 1
        shown = text.replace("\t", " ").replace("\n", " ")
        caret = f"\n  {shown}\n  {' ' * pos}^"
        super().__init__(f"{option}: {message} at column {pos + 1}{caret}", hint)


class NotFound(GitregError):
    """A model, version, stage, ref, tag or file that does not exist.

    `kind` says which ("model", "version", "stage", "ref", "tag", "file", "branch"), `name`
    what was asked for, `where` the ref or place it was looked up in.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        kind: str,
        name: str,
        where: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.kind, self.name, self.where = kind, name, where


class Conflict(GitregError):
    """Something that should be new already exists (`ref`: a branch, a tag, a version)."""

    def __init__(self, message: str, hint: str | None = None, *, ref: str) -> None:
        super().__init__(message, hint)
        self.ref = ref


class RegistryError(GitregError):
    """The repository is not a registry, or a registry operation is refused."""


class ToolMissing(GitregError):
    """A program gitreg runs (git) is not installed."""

    def __init__(self, tool: str, hint: str | None = None) -> None:
        super().__init__(f"{tool} is not installed or not on PATH", hint or f"install {tool}")
        self.tool = tool


class GitError(GitregError):
    """A git command failed: `argv` (without `git`) and its `stderr`."""

    def __init__(self, argv: list[str], stderr: str, hint: str | None = None) -> None:
        self.argv = argv
        self.stderr = stderr.strip()
        super().__init__(f"git {' '.join(argv)} failed: {self.stderr or 'no message'}", hint)


class ArtifactError(GitregError):
    """DVC could not add, push or pull an artifact, or an artifact is not what it says."""


class PluginMissing(ArtifactError):
    """The DVC remote at `url` needs a plugin that is not installed; `extra` says what to
    pip-install (`gitreg[s3]`)."""

    def __init__(self, url: str, scheme: str, extra: str, detail: str = "") -> None:
        shown = f" ({detail})" if detail else ""
        super().__init__(
            f"the DVC remote {url} needs DVC's {scheme or 'remote'} plugin, which is not "
            f"installed{shown}",
            f"pip install '{extra}'",
        )
        self.url, self.scheme, self.extra = url, scheme, extra


class UnsafeModelError(ArtifactError):
    """A model file names imports the policy refuses; it was not loaded.

    `refused` lists (global, why) pairs.
    """

    def __init__(self, path: Path, refused: list[tuple[str, str]], why: str, shown: str) -> None:
        self.path = path
        self.refused = refused
        listed = "; ".join(f"{name} ({reason})" for name, reason in refused)
        super().__init__(
            f"{shown}: refused to load, it imports {listed}",
            f"{why}; if they are expected, list them in gitreg.yaml `allow_pickle_imports`; "
            "safest is a model saved with skops (sklearn types only) or ONNX",
        )


class EvaluatorUnavailable(GitregError):
    """The built-in evaluator cannot run here (scikit-learn missing)."""


class CheckFailed(GitregError):
    """A check said no (validation failed, gate failed, doctor found something).

    `reported` is True when the command already printed the findings on stdout, so the CLI
    adds nothing on stderr.
    """

    def __init__(self, message: str, hint: str | None = None, *, reported: bool = False) -> None:
        super().__init__(message, hint)
        self.reported = reported


class GitHubError(GitregError):
    """The GitHub REST API refused or failed a request (`status`: the HTTP status, if any)."""

    def __init__(self, message: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.status = status
