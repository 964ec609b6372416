"""The manifests of a registry (DESIGN §3) as pydantic models (`extra="forbid"`).

Loading them from bytes, with errors that name the file and the field, is
`gitreg.model.schema`; so are their JSON Schemas.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from gitreg.model import layout, yamlio


def _check_name(value: str) -> str:
    problem = layout.name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_version(value: str) -> str:
    problem = layout.version_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_relpath(value: str) -> str:
    if not layout.RELPATH_RE.fullmatch(value):
        raise ValueError(f"{value!r} must be a relative path inside the repository, without '..'")
    return value


# the validators give the messages; the JSON Schema gets the same patterns (for editors)
NAME_JSON = layout.json_pattern(layout.NAME_PATTERN)
Name = Annotated[str, AfterValidator(_check_name), Field(json_schema_extra={"pattern": NAME_JSON})]
SemVer = Annotated[
    str,
    AfterValidator(_check_version),
    Field(json_schema_extra={"pattern": layout.VERSION_PATTERN}),
]
RelPath = Annotated[
    str,
    AfterValidator(_check_relpath),
    Field(json_schema_extra={"pattern": layout.RELPATH_PATTERN}),
]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Md5 = Annotated[str, Field(pattern=layout.MD5_PATTERN)]
Schema = Literal["gitreg/v1"]
OWNER_RE = r"^(@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"
PICKLE_IMPORT_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class _Strict(BaseModel):
    # defer_build: each model's validator is built on its first use, not at import (a
    # release parses gitreg.yaml and stages.yaml, never the version manifest's models)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class _Manifest(_Strict):
    schema_: Schema = Field(alias="schema", description="always gitreg/v1")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data

    def to_yaml(self) -> str:
        return yamlio.dump(self.to_dict())


# --- gitreg.yaml -----------------------------------------------------------------------------


class StageRule(_Strict):
    name: Name
    description: str | None = None
    requires: Name | None = Field(
        None, description="a stage the version must have held before it may enter this one"
    )
    gate: bool = Field(False, description="whether the evaluation gate must pass to enter")


class GitHubSettings(_Strict):
    repo: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")


class Signing(_Strict):
    format: Literal["ssh"] = Field("ssh", description="git's SSH signing (gpg.format=ssh)")
    allowed_signers: RelPath = Field(
        description="the registry's allowed-signers file (ssh-keygen ALLOWED SIGNERS format)"
    )


class RegistryConfig(_Manifest):
    """gitreg.yaml: registry settings."""

    stages: list[StageRule] = Field(min_length=1)
    dvc_remote: str | None = Field(None, description="name of the DVC remote in .dvc/config")
    main_branch: str = Field(
        "main",
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$",
        description="the branch whose first-parent history is the registry's truth",
    )
    github: GitHubSettings | None = None
    signing: Signing | None = Field(
        None, description="sign release tags; verified reads then refuse unsigned ones"
    )
    allow_pickle_imports: list[Annotated[str, Field(pattern=PICKLE_IMPORT_RE)]] = Field(
        default_factory=list,
        description="extra exact globals (module.name) that pickled models may import, "
        "beyond the built-in allow-list of `gitreg evaluate` (a package name allows nothing)",
    )

    @field_validator("stages")
    @classmethod
    def _stages_consistent(cls, stages: list[StageRule]) -> list[StageRule]:
        names: list[str] = []
        for rule in stages:
            if rule.name in names:
                raise ValueError(f"stage {rule.name!r} is listed twice")
            if rule.name == "schema":
                raise ValueError("'schema' is reserved and cannot be a stage name")
            if rule.requires is not None and rule.requires not in names:
                raise ValueError(
                    f"stage {rule.name!r} requires {rule.requires!r}, "
                    "which must be a stage listed before it"
                )
            names.append(rule.name)
        return stages

    def stage(self, name: str) -> StageRule | None:
        return next((s for s in self.stages if s.name == name), None)

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]


# --- model.yaml ------------------------------------------------------------------------------


class Card(_Strict):
    """The model card's text (the sections of Mitchell et al., "Model Cards for Model
    Reporting") and the Hugging Face metadata that `gitreg card` writes as front matter."""

    details: str | None = Field(
        default=None, description="who made it and when, model type, paper or citation, contact"
    )
    intended_use: str | None = None
    out_of_scope: str | None = None
    factors: str | None = Field(
        default=None, description="groups, instruments and environments performance may vary across"
    )
    limitations: str | None = Field(default=None, description="caveats and recommendations")
    ethical_considerations: str | None = None
    training_data: str | None = None
    evaluation_data: str | None = None
    license: str | None = Field(
        default=None,
        description="license id as the Hugging Face Hub names it (apache-2.0, mit, other)",
    )
    library_name: str | None = Field(
        default=None, description="Hugging Face library_name (default: the version's framework)"
    )
    datasets: list[str] = Field(
        default_factory=list,
        description="training data sets as Hugging Face ids (default: the version's lineage)",
    )


class MetricPolicy(_Strict):
    goal: Literal["maximize", "minimize"] = "maximize"
    min: Number | None = None
    max: Number | None = None
    max_regression: Annotated[Number, Field(ge=0)] | None = Field(
        None, description="largest allowed move in the wrong direction against the baseline"
    )
    min_improvement: Annotated[Number, Field(ge=0)] | None = Field(
        None, description="the candidate must beat the baseline by at least this (goal's way)"
    )
    max_regression_pct: Annotated[Number, Field(ge=0)] | None = Field(
        None, description="max_regression as a percentage of |baseline| (0 at a baseline of 0)"
    )
    min_improvement_pct: Annotated[Number, Field(ge=0)] | None = Field(
        None, description="min_improvement as a percentage of |baseline| (0 at a baseline of 0)"
    )


class Significance(_Strict):
    """A paired bootstrap of candidate and baseline on the same resampled rows."""

    method: Literal["paired_bootstrap"] = "paired_bootstrap"
    samples: Annotated[int, Field(ge=100, le=100_000, strict=True)] = 1000
    confidence: Annotated[float, Field(ge=0.5, le=0.999, strict=True)] = 0.95
    seed: Annotated[int, Field(ge=0, le=2**32 - 1, strict=True)] = 0


class Evaluation(_Strict):
    dataset: RelPath = Field(description="a DVC-tracked path in the registry")
    command: list[str] | None = Field(
        None,
        min_length=1,
        description="argv with {model}, {dataset}, {output}; writes a JSON object of metrics",
    )
    target: str | None = Field(None, description="target column for the built-in evaluator")
    timeout: Annotated[int, Field(gt=0, strict=True)] = 600
    metrics: dict[str, MetricPolicy] = Field(default_factory=dict)
    slices: list[str] = Field(default_factory=list, description="columns to report by value")
    significance: Significance | None = Field(
        None, description="judge deltas against the baseline by their bootstrap interval"
    )
    rollback: Literal["absolute", "full"] = Field(
        "absolute",
        description="how a rollback (a version that held the stage before) is gated: "
        "absolute min/max only, or the full policy",
    )
    entrypoint: RelPath | None = Field(
        None, description="built-in evaluator: the file to load inside a directory artifact"
    )


class ModelSpec(_Manifest):
    """model.yaml: the model and its card and evaluation policy."""

    name: Name
    description: str = ""
    owners: list[Annotated[str, Field(pattern=OWNER_RE)]] = Field(default_factory=list)
    task: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    card: Card = Field(default_factory=Card)
    evaluation: Evaluation | None = None


# --- versions/<v>.yaml -----------------------------------------------------------------------


class Artifact(_Strict):
    path: RelPath
    md5: Md5
    size: Annotated[int, Field(ge=0, strict=True)]
    format: str | None = None


class Framework(_Strict):
    name: str
    version: str | None = None


class Metrics(BaseModel):
    """Flat name -> number, plus `by_slice: {slice: {metric: number}}`."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    __pydantic_extra__: dict[str, Number] = Field(init=False)
    by_slice: dict[str, dict[str, Number]] | None = None

    def flat(self) -> dict[str, float]:
        return dict(self.__pydantic_extra__ or {})


class CodeLineage(_Strict):
    repo: str | None = None
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")] | None = None


class DataLineage(_Strict):
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["md5"]}, {"required": ["rev"]}]}
    )
    name: str
    path: str
    md5: Md5 | None = None
    rev: str | None = None

    @model_validator(mode="after")
    def _md5_or_rev(self) -> DataLineage:
        if self.md5 is None and self.rev is None:
            raise ValueError("give the data set's md5 or its rev")
        return self


class RunLineage(_Strict):
    id: str | None = None
    url: str | None = None


class Lineage(_Strict):
    code: CodeLineage | None = None
    data: list[DataLineage] = Field(default_factory=list)
    run: RunLineage | None = None


class Environment(_Strict):
    python: str | None = None
    requirements: list[str] = Field(default_factory=list)


class TensorSpec(_Strict):
    name: str | None = None
    type: str
    shape: list[int | None] | None = None


class Signature(_Strict):
    inputs: list[TensorSpec] = Field(default_factory=list)
    outputs: list[TensorSpec] = Field(default_factory=list)


class VersionManifest(_Manifest):
    """versions/<version>.yaml: one immutable model version."""

    name: Name
    version: SemVer
    created: AwareDatetime
    author: str = Field(min_length=1)
    description: str = ""
    artifacts: list[Artifact] = Field(min_length=1)
    framework: Framework | None = None
    metrics: Metrics = Field(default_factory=Metrics)
    params: dict[str, Any] = Field(default_factory=dict)
    lineage: Lineage = Field(default_factory=Lineage)
    environment: Environment | None = None
    signature: Signature | None = None
    status: Literal["active", "deprecated"] = "active"

    @field_validator("created")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError(f"{value.isoformat()} is out of range once in UTC") from None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["created"] = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


# --- stages.yaml -----------------------------------------------------------------------------


class Stages(BaseModel):
    """stages.yaml: `{stage: version}` beside `schema: gitreg/v1`."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        defer_build=True,
        json_schema_extra={"propertyNames": {"pattern": NAME_JSON}},
    )
    __pydantic_extra__: dict[str, SemVer] = Field(init=False)
    schema_: Schema = Field(alias="schema")

    @model_validator(mode="after")
    def _stage_names(self) -> Stages:
        for stage in self.__pydantic_extra__ or {}:
            problem = layout.name_problem(stage)
            if problem:
                raise ValueError(f"stage {problem}")
        return self

    @property
    def mapping(self) -> dict[str, str]:
        return dict(self.__pydantic_extra__ or {})
