"""The manifests of a registry (DESIGN §3) as pydantic models, their loaders and JSON Schemas.

One loader (`parse`) for every kind: YAML through `yamlio.load`, then the model; every error
is a `ManifestError` whose problems name the file and the field path.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from . import layout, yamlio
from .errors import ManifestError, Problem


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
    if not value or value.startswith("/") or "\\" in value or ".." in value.split("/"):
        raise ValueError(f"{value!r} must be a relative path inside the repository, without '..'")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
SemVer = Annotated[str, AfterValidator(_check_version)]
RelPath = Annotated[str, AfterValidator(_check_relpath)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Md5 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}(\.dir)?$")]
Schema = Literal["gitreg/v1"]
OWNER_RE = r"^(@[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+)$"
PICKLE_IMPORT_RE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


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


class RegistryConfig(_Manifest):
    """gitreg.yaml: registry settings."""

    stages: list[StageRule] = Field(min_length=1)
    dvc_remote: str | None = Field(None, description="name of the DVC remote in .dvc/config")
    github: GitHubSettings | None = None
    allow_pickle_imports: list[Annotated[str, Field(pattern=PICKLE_IMPORT_RE)]] = Field(
        default_factory=list,
        description="extra module prefixes or exact globals (module.name) that pickled models "
        "may import, beyond the built-in allow-list of `gitreg evaluate`",
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
    intended_use: str | None = None
    out_of_scope: str | None = None
    limitations: str | None = None
    ethical_considerations: str | None = None
    training_data: str | None = None
    evaluation_data: str | None = None


class MetricPolicy(_Strict):
    goal: Literal["maximize", "minimize"] = "maximize"
    min: Number | None = None
    max: Number | None = None
    max_regression: Annotated[Number, Field(ge=0)] | None = Field(
        None, description="largest allowed move in the wrong direction against the baseline"
    )


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

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Number] = Field(init=False)
    by_slice: dict[str, dict[str, Number]] | None = None

    def flat(self) -> dict[str, float]:
        return dict(self.__pydantic_extra__ or {})


class CodeLineage(_Strict):
    repo: str | None = None
    commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")] | None = None


class DataLineage(_Strict):
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
        return value.astimezone(timezone.utc)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["created"] = self.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        return data


# --- stages.yaml -----------------------------------------------------------------------------


class Stages(BaseModel):
    """stages.yaml: `{stage: version}` beside `schema: gitreg/v1`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
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


KINDS: dict[str, type[BaseModel]] = {
    "gitreg.yaml": RegistryConfig,
    "model.yaml": ModelSpec,
    "stages.yaml": Stages,
    "version.yaml": VersionManifest,
}

M = TypeVar("M", bound=BaseModel)


def _field_path(loc: tuple[int | str, ...], data: Any = None) -> str:
    """`a.b[0].c` from a pydantic location, walking the input to tell list indexes from keys."""
    out = ""
    cur = data
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int) and (isinstance(cur, list) or cur is None):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        if isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            cur = cur[part]
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            cur = None
    return out


def _message(err: dict[str, Any]) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check the spelling; `gitreg schema` lists the fields)"
    elif err["type"] == "missing":
        msg = "field required"
    return msg[:1].lower() + msg[1:]


def validation_problems(path: str, error: ValidationError, data: Any = None) -> list[Problem]:
    return [
        Problem(path, _field_path(tuple(err["loc"]), data), _message(dict(err)))
        for err in error.errors()
    ]


def parse(cls: type[M], data: bytes | str, path: str) -> M:
    """Load one manifest file of kind `cls`; raise ManifestError naming file and fields."""
    obj = yamlio.load(data, path)
    if not isinstance(obj, dict):
        found = "an empty file" if obj is None else f"a {type(obj).__name__}"
        raise ManifestError.single(path, "", f"expected a YAML mapping, found {found}")
    bad_keys = [k for k in obj if not isinstance(k, str)]
    if bad_keys:
        raise ManifestError.single(path, str(bad_keys[0]), "keys must be strings")
    if cls is Stages:
        bad = [(k, layout.name_problem(k)) for k in obj if k != "schema"]
        problems = [Problem(path, k, f"stage {p}") for k, p in bad if p]
        if problems:
            raise ManifestError(problems)
    try:
        return cls.model_validate(obj)
    except ValidationError as e:
        raise ManifestError(validation_problems(path, e, obj)) from None


def version_path_problems(m: VersionManifest, path: str) -> list[Problem]:
    """Cross-checks a version manifest against where it lives."""
    problems = []
    kind = layout.classify(path)
    if kind is not None:
        _, model, version = kind
        if m.name != model:
            problems.append(
                Problem(path, "name", f"{m.name!r} does not match the model directory {model!r}")
            )
        if version is not None and m.version != version:
            problems.append(
                Problem(path, "version", f"{m.version!r} does not match the file name {version!r}")
            )
    root = layout.artifacts_dir(m.name, m.version)
    seen: set[str] = set()
    for i, art in enumerate(m.artifacts):
        if not layout.is_inside(art.path, root):
            problems.append(
                Problem(path, f"artifacts[{i}].path", f"{art.path!r} must lie under {root}/")
            )
        if art.path in seen:
            problems.append(Problem(path, f"artifacts[{i}].path", f"{art.path!r} is listed twice"))
        seen.add(art.path)
    return problems


def json_schemas() -> dict[str, Any]:
    """The JSON Schema of every manifest kind, keyed by file name."""
    out: dict[str, Any] = {}
    for kind, cls in KINDS.items():
        schema = cls.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://gitreg.dev/schema/v1/{kind.replace('.yaml', '.json')}"
        out[kind] = schema
    return out


def schema_json(kind: str | None = None) -> str:
    schemas = json_schemas()
    return json.dumps(schemas[kind] if kind else schemas, indent=2)


_DVC_MD5 = re.compile(r"^[0-9a-f]{32}(\.dir)?$")


def dvc_pointer(data: bytes, path: str) -> tuple[str, int | None]:
    """md5 and size of the single output of a `.dvc` file."""
    obj = yamlio.load(data, path)
    outs = obj.get("outs") if isinstance(obj, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise ManifestError.single(path, "outs", "expected exactly one output in the .dvc file")
    md5 = outs[0].get("md5")
    size = outs[0].get("size")
    if not isinstance(md5, str) or not _DVC_MD5.match(md5):
        raise ManifestError.single(path, "outs[0].md5", "missing or not an md5 hash")
    if size is not None and not isinstance(size, int):
        raise ManifestError.single(path, "outs[0].size", "must be an integer")
    return md5, size
