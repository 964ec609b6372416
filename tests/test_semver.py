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


def _version_pool() -> list[str]:
    """Plain releases of every width, prereleases (numeric, alphanumeric, mixed), build
    metadata, and near misses: leading zeros, non-ASCII digits, a trailing newline, `v`."""
    import itertools

    cores = ["0.0.0", "0.0.1", "1.0.0", "1.2.3", "1.10.0", "1.9.10", "10.0.0", "2.0.0", "99.99.99"]
    pres = ["", "-alpha", "-alpha.1", "-alpha.beta", "-beta.2", "-beta.11", "-rc.1", "-1", "-0a",
            "-x-y.0", "-01", "-a..b"]  # fmt: skip
    builds = ["", "+b", "+001", "+exp.sha.5114f85", "+a+b"]
    pool = [c + p + b for c, p, b in itertools.product(cores, pres, builds)]
    arabic = "1\u0662.0.0"  # 1, ARABIC-INDIC 2: SEMVER_PATTERN's `\d` takes it, int() reads 12
    near = ["01.0.0", "1.00.0", "1.0.01", arabic, "1.\u0662.0", "1.0.0\n", "v1.0.0", "1.0",
            "1.0.0.0", "", "1.0.0-", "1.0.0+", " 1.0.0", "1.0.0 "]  # fmt: skip
    return [*pool, *near]


def test_sort_key_is_the_full_rule_on_every_kind_of_version() -> None:
    """The plain MAJOR.MINOR.PATCH fast path gives `Version`'s own key, and declines to the
    full pattern everything else (so Unicode digits and `1.0.0\\n` read as before)."""
    from gitreg.model.semver import sort_key

    for text in _version_pool():
        expected = Version.parse(text)._key() if is_semver(text) else None
        assert sort_key(text) == expected, repr(text)


def test_sort_each_orders_as_version_precedence() -> None:
    """`sort_each` (keys computed once per distinct string, over many groups) gives each
    group in `Version`'s order, equals in their given order, invalid strings dropped: as a
    stable sort by `Version` does, group by group."""
    import random

    from gitreg.model.semver import sort_each

    pool = _version_pool()
    rng = random.Random(14)
    groups = [rng.sample(pool, rng.randint(0, 60)) for _ in range(200)]
    expected = [sorted((v for v in g if is_semver(v)), key=Version.parse) for g in groups]
    assert sort_each(groups) == expected
    assert [sort_versions(g) for g in groups] == expected
    assert sort_each([]) == [] and sort_each([[], ["x"], ["1.0.0"]]) == [[], [], ["1.0.0"]]
