"""`gitreg doctor --json` (gitreg.ops.doctor): each kind of bad tag, named, on stdout only."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Registry
from conftest import set_stages as _stages


def _tag(reg: Registry, name: str, commit: str, **trailers: str) -> None:
    """An annotated tag as `gitreg release` writes it (trailers given by keyword)."""
    body = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in trailers.items())
    reg.git("tag", "-a", "-m", f"made by the test\n\n{body}", name, commit)


def _doctor(reg: Registry) -> tuple[int, dict[str, Any], str]:
    res = reg.run("doctor", "--json")
    data = res.json()
    assert isinstance(data, dict)
    return res.code, data, res.err


def _findings(reg: Registry) -> list[tuple[str, str]]:
    """The findings, asserting the contract of a failed doctor: exit 1, stderr empty."""
    code, data, err = _doctor(reg)
    assert code == 1, data
    assert err == ""
    assert data["ok"] is False and data["findings"]
    return [(f["tag"], f["message"]) for f in data["findings"]]


@pytest.fixture
def staged(registered: Registry) -> Registry:
    """churn@1.0.0 in staging, released: `churn@v1.0.0` and `churn#staging#1`."""
    _stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    assert registered.run("release").code == 0
    return registered


def test_clean_registry_is_ok(staged: Registry) -> None:
    code, data, err = _doctor(staged)
    assert (code, err) == (0, "")
    assert data == {"ok": True, "ref": "HEAD", "checked": 2, "findings": []}
    text = staged.run("doctor")
    assert text.code == 0 and text.err == ""


def test_unreleased_registry_is_ok(registered: Registry) -> None:
    # a version on main with no tags yet and no stages: nothing for doctor to flag
    code, data, _ = _doctor(registered)
    assert code == 0 and data["findings"] == [] and data["checked"] == 0


def test_lightweight_tag(staged: Registry) -> None:
    v1 = staged.git("rev-parse", "churn@v1.0.0^{commit}")
    staged.git("tag", "churn#staging#2", v1)
    found = _findings(staged)
    assert len(found) == 1
    tag, message = found[0]
    assert tag == "churn#staging#2"
    assert message.startswith("lightweight tag")


def test_stage_tag_off_main(staged: Registry) -> None:
    side = staged.git("commit-tree", "-p", "HEAD", "-m", "side", "HEAD^{tree}")
    promoted = staged.git("rev-parse", "HEAD")
    _tag(staged, "churn#staging#2", side, Version="1.0.0", Stage="staging", Promoted_in=promoted)
    found = _findings(staged)
    assert ("churn#staging#2", f"points to {side[:12]}, which is not on main") in found
    assert ("churn#staging#2", "not on the commit of its version's registration tag") in found
    # by GTO's rule a stage tag means the version registered on its commit: none here, so
    # the released state no longer holds staging, and doctor says so too
    assert {t for t, _ in found} == {"churn#staging#2", "churn#*"}


def test_stage_tag_disagrees_with_promoted_in(staged: Registry) -> None:
    v1 = staged.git("rev-parse", "churn@v1.0.0^{commit}")
    promoted = staged.git("rev-parse", "HEAD")  # its stages.yaml: staging only
    _tag(
        staged, "churn#production#2", v1, Version="1.0.0", Stage="production", Promoted_in=promoted
    )
    found = _findings(staged)
    expected = (
        "churn#production#2",
        f"says production=1.0.0, but stages.yaml at {promoted[:12]} says nothing",
    )
    assert expected in found
    # the released state now has production, main does not
    assert any(t == "churn#*" and "main says {'staging': '1.0.0'}" in m for t, m in found)


def test_unassign_kept_in_promoted_in(staged: Registry) -> None:
    v1 = staged.git("rev-parse", "churn@v1.0.0^{commit}")
    promoted = staged.git("rev-parse", "HEAD")
    _tag(staged, "churn#staging!#2", v1, Version="1.0.0", Stage="staging", Promoted_in=promoted)
    found = _findings(staged)
    assert (
        "churn#staging!#2",
        f"removes 1.0.0 from staging, but stages.yaml at {promoted[:12]} keeps it there",
    ) in found


def test_counter_gap(staged: Registry) -> None:
    v1 = staged.git("rev-parse", "churn@v1.0.0^{commit}")
    promoted = staged.git("rev-parse", "HEAD")
    # a well-formed tag in every other way: only the skipped counter is wrong
    _tag(staged, "churn#staging#4", v1, Version="1.0.0", Stage="staging", Promoted_in=promoted)
    found = _findings(staged)
    assert found == [("churn#*", "stage counters have gaps: missing [2, 3]")]


def test_repeated_counter(staged: Registry) -> None:
    v1 = staged.git("rev-parse", "churn@v1.0.0^{commit}")
    promoted = staged.git("rev-parse", "HEAD")
    _tag(staged, "churn#canary#1", v1, Version="1.0.0", Stage="canary", Promoted_in=promoted)
    found = _findings(staged)
    assert ("churn#*", "stage counters have gaps: repeated [1]") in found


def test_stage_changed_on_main_not_released(staged: Registry, train: Any) -> None:
    staged.register("1.1.0", train / "model.pkl")
    _stages(staged, {"staging": "1.1.0", "production": "1.0.0"}, "promote, not released")
    found = _findings(staged)
    assert found == [
        (
            "churn#*",
            "tags say {'staging': '1.0.0'}, main says {'staging': '1.1.0', "
            "'production': '1.0.0'}: run `gitreg release`",
        )
    ]
    # release fixes it
    assert staged.run("release").code == 0
    code, data, _ = _doctor(staged)
    assert code == 0 and data["findings"] == [], data


def test_text_report_on_stdout_only(staged: Registry) -> None:
    staged.git("tag", "churn#staging#2", "churn@v1.0.0^{commit}")
    res = staged.run("doctor")
    assert res.code == 1
    assert res.err == ""
    assert "churn#staging#2" in res.out and "lightweight tag" in res.out


def test_other_models_tags_checked_too(staged: Registry) -> None:
    # a tag of a model main does not have is still audited (it sits in the namespace)
    staged.git("tag", "ghost@v1.0.0", "HEAD")
    found = _findings(staged)
    assert [t for t, _ in found] == ["ghost@v1.0.0"]
    assert found[0][1].startswith("lightweight tag")
