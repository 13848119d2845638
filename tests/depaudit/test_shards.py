"""Which shard collects which repository (``collect --repos FILE --shard K/N``).

The properties an operator relies on: every repository in exactly one shard; editing
the repos file (appending, inserting in a sorted file, removing, re-sorting) never moves
another repository; adding a shard moves only what the new shard takes; shards are
about even. Names are shaped like an organisation's ML repositories.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from depaudit.app.shards import Shard, ShardError, jump_hash, resolve_shard, select, shard_of

TEAMS = ["fraud", "ranking", "search", "ads", "pricing", "forecast", "vision", "nlp"]
KINDS = ["api", "model", "training", "features", "serving", "batch-scoring", "embeddings"]


def fleet(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct repository names like ``ads-ctr-serving-12``."""
    rng = random.Random(seed)
    names: set[str] = set()
    while len(names) < n:
        names.add(f"{rng.choice(TEAMS)}-{rng.choice(KINDS)}-{rng.randrange(100)}")
    return sorted(names)


def split(names: list[str], count: int) -> dict[str, int]:
    """name -> the shard number whose selection contains it (checks: exactly one)."""
    owner: dict[str, int] = {}
    for number in range(1, count + 1):
        for name in select(names, Shard(number, count), lambda n: n):
            assert name not in owner, f"{name} in shards {owner[name]} and {number}"
            owner[name] = number
    assert set(owner) == set(names)
    return owner


def test_jump_hash_matches_the_published_algorithm() -> None:
    # reference values of Lamping & Veach's jump consistent hash (other implementations)
    assert jump_hash(10863919174838991, 11) == 6
    assert jump_hash(2016238256797177309, 11) == 3
    assert all(jump_hash(key, 1) == 0 for key in (0, 1, 2**64 - 1))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8])
def test_every_repository_in_exactly_one_shard(count: int) -> None:
    split(fleet(300), count)


def test_editing_the_file_moves_no_other_repository() -> None:
    names = fleet(200)
    before = split(names, 4)
    rng = random.Random(1)
    grown = sorted([*names, "aaa-new-service", "mmm-new-model", "zzz-new-api"])  # sorted file
    shrunk = [n for n in grown if rng.random() > 0.2]
    reordered = rng.sample(shrunk, len(shrunk))
    after = split(reordered, 4)
    assert {n: after[n] for n in reordered if n in before} == {
        n: before[n] for n in reordered if n in before
    }


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_one_more_shard_takes_only_its_share(count: int) -> None:
    names = fleet(1000)
    before, after = split(names, count), split(names, count + 1)
    moved = [n for n in names if before[n] != after[n]]
    assert all(after[n] == count + 1 for n in moved)  # only into the new shard
    share = len(names) / (count + 1)
    assert 0.8 * share < len(moved) < 1.2 * share


# chi-square critical values at p = 0.001 for count - 1 degrees of freedom
CHI2_999 = {2: 10.83, 4: 16.27, 8: 24.32}


@pytest.mark.parametrize(("repos", "count"), [(400, 2), (400, 4), (800, 8)])
def test_shards_are_as_even_as_a_fair_draw(repos: int, count: int) -> None:
    sizes = Counter(split(fleet(repos, seed=count), count).values())
    expected = repos / count
    chi2 = sum((sizes[k] - expected) ** 2 / expected for k in range(1, count + 1))
    assert chi2 < CHI2_999[count], sizes
    # what the operator sees: no shard far above the mean (3 standard deviations)
    sigma = (repos * (1 / count) * (1 - 1 / count)) ** 0.5
    assert max(sizes.values()) < expected + 3 * sigma


def test_the_shard_does_not_depend_on_anything_but_name_and_count() -> None:
    assert shard_of("fraud-api", 3) == shard_of("fraud-api", 3)
    assert select(["b", "a"], None, lambda n: n) == ["b", "a"]  # no shard: everything, in order


@pytest.mark.parametrize(
    ("shard", "count", "environ", "expected"),
    [
        ("1/3", None, {}, Shard(1, 3)),
        (" 3 / 3 ", None, {}, Shard(3, 3)),
        ("2/4", None, {"JOB_COMPLETION_INDEX": "0", "DEPAUDIT_SHARD_COUNT": "9"}, Shard(2, 4)),
        (None, "3", {"JOB_COMPLETION_INDEX": "0"}, Shard(1, 3)),
        (None, "3", {"JOB_COMPLETION_INDEX": "2"}, Shard(3, 3)),
        (None, None, {"JOB_COMPLETION_INDEX": "1", "DEPAUDIT_SHARD_COUNT": "2"}, Shard(2, 2)),
        (None, "4", {"JOB_COMPLETION_INDEX": "3", "DEPAUDIT_SHARD_COUNT": "2"}, Shard(4, 4)),
        (None, None, {}, None),
        (None, None, {"HOSTNAME": "depaudit-collect-0-x7k2p"}, None),
    ],
)
def test_resolve_shard(
    shard: str | None, count: str | None, environ: dict[str, str], expected: Shard | None
) -> None:
    assert resolve_shard(shard, count, environ) == expected


@pytest.mark.parametrize(
    ("shard", "count", "environ", "needle"),
    [
        ("0/3", None, {}, "K must be between 1 and 3"),
        ("4/3", None, {}, "K must be between 1 and 3"),
        ("x/y", None, {}, "expected K/N"),
        ("1/3/5", None, {}, "expected K/N"),
        ("-1/3", None, {}, "expected K/N"),
        ("1/0", None, {}, "shard count must be between 1 and"),
        ("1/99999", None, {}, "shard count must be between 1 and"),
        (None, "3", {"JOB_COMPLETION_INDEX": "3"}, "JOB_COMPLETION_INDEX=3 is out of range"),
        (None, "3", {"JOB_COMPLETION_INDEX": "x"}, "JOB_COMPLETION_INDEX='x' is not a whole"),
        (None, "0", {"JOB_COMPLETION_INDEX": "0"}, "--shard-count: the shard count must be"),
        (None, None, {"JOB_COMPLETION_INDEX": "0"}, "give --shard-count N"),
        (None, None, {"DEPAUDIT_SHARD_COUNT": "3"}, "JOB_COMPLETION_INDEX is not"),
        (None, "3", {}, "--shard-count is set but JOB_COMPLETION_INDEX is not"),
        (
            None,
            None,
            {"JOB_COMPLETION_INDEX": "0", "DEPAUDIT_SHARD_COUNT": "three"},
            "$DEPAUDIT_SHARD_COUNT 'three': expected a whole number",
        ),
    ],
)
def test_bad_shards(
    shard: str | None, count: str | None, environ: dict[str, str], needle: str
) -> None:
    with pytest.raises(ShardError) as info:
        resolve_shard(shard, count, environ)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)
