from __future__ import annotations

import pytest

from gitreg.model.semver import Version, is_semver, latest, sort_versions


@pytest.mark.parametrize("text", ["1.0.0", "0.0.1", "2.0.0-rc.1", "1.0.0-alpha.beta+build.5"])
def test_valid(text: str) -> None:
    assert is_semver(text) and str(Version.parse(text)) == text


@pytest.mark.parametrize("text", ["v1.0.0", "1.0", "01.0.0", "1.0.0-", "", "1.0.0-01", "a.b.c"])
def test_invalid(text: str) -> None:
    assert not is_semver(text)
    with pytest.raises(ValueError):
        Version.parse(text)


def test_order_follows_semver_precedence() -> None:
    given = [
        "1.0.0",
        "1.0.0-rc.1",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta.11",
        "1.0.0-beta.2",
        "0.9.0",
        "1.10.0",
        "1.2.0",
    ]
    assert sort_versions(given) == [
        "0.9.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.2.0",
        "1.10.0",
    ]


def test_latest_skips_prereleases() -> None:
    assert latest(["1.0.0", "2.0.0-rc.1", "1.10.0"]) == "1.10.0"
    assert latest(["1.0.0", "2.0.0-rc.1"], include_prerelease=True) == "2.0.0-rc.1"
    assert latest(["2.0.0-rc.1"]) is None


def test_latest_of_sorted_agrees_with_latest() -> None:
    """The fast path list and show use on an already sorted list gives `latest`'s answer,
    prereleases skipped and the first of equals (build metadata) kept."""
    import random

    from gitreg.model.semver import latest, latest_of_sorted, sort_versions

    pool = [
        "1.0.0",
        "1.0.0+b",
        "1.0.0+a",
        "2.0.0-rc.1",
        "1.10.0",
        "1.9.0",
        "0.1.0-alpha",
        "3.0.0-x",
    ]
    rng = random.Random(7)
    for _ in range(300):
        picked = rng.sample(pool, rng.randint(0, len(pool)))
        assert latest_of_sorted(sort_versions(picked)) == latest(sort_versions(picked)), picked
    assert latest_of_sorted(sort_versions(["1.0.0+b", "1.0.0+a"])) == "1.0.0+b"
    assert latest_of_sorted(["2.0.0-rc.1"]) is None and latest_of_sorted([]) is None
