"""Split a repos file between N collector processes: ``collect --repos FILE --shard K/N``.

Shards are numbered from 1 (``--shard 1/3`` is the first of three). A Kubernetes Indexed
Job sets ``JOB_COMPLETION_INDEX`` (0 .. completions-1) in each pod; when ``--shard`` is
not given that index + 1 is the shard, and N comes from ``--shard-count`` or
``$DEPAUDIT_SHARD_COUNT`` (Kubernetes does not expose ``completions`` to the pod).

A repository's shard is the jump consistent hash (Lamping & Veach, 2014) of the sha256
of its name into N buckets. It depends on the repository's own name and N only, never on
the other entries of the file or their order. So

- every repository is in exactly one of the N shards, even when shards read different
  versions of the file (a pod retried after its ConfigMap changed);
- adding, removing or re-sorting entries never moves another repository to another shard
  (splitting by position would move every entry below an insertion, and a sorted file
  inserts in the middle), so a shard running on its own machine keeps its mirrors;
- growing from N to N+1 shards moves only the 1/(N+1) of the repositories that the new
  shard takes; ``sha256 mod N`` would move N/(N+1) of them;
- shards are balanced in expectation, by count: with 100 repositories per shard the
  largest is typically within 10-15 % of the mean, with 25 per shard within 30 %. Nothing
  static balances work anyway: repositories differ in size far more than that.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

INDEX_ENV = "JOB_COMPLETION_INDEX"
COUNT_ENV = "DEPAUDIT_SHARD_COUNT"
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
_COUNT = re.compile(r"\s*(\d+)\s*")
MAX_SHARDS = 10_000  # a bound for nonsense, far above any fleet

T = TypeVar("T")


class ShardError(Exception):
    """A wrong ``--shard`` / ``--shard-count`` / ``JOB_COMPLETION_INDEX``; one line."""


@dataclass(frozen=True, slots=True)
class Shard:
    number: int  # 1 .. count
    count: int

    def __str__(self) -> str:
        return f"{self.number}/{self.count}"

    def owns(self, name: str) -> bool:
        return shard_of(name, self.count) == self.number


def shard_of(name: str, count: int) -> int:
    """The shard (1 .. count) that collects the repository stored as ``name``."""
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    return jump_hash(key, count) + 1


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash of a 64-bit key into 0 .. buckets-1 (Lamping & Veach, 2014).

    Raising ``buckets`` by one moves a key only to the new bucket, and each key with
    probability 1/buckets.
    """
    bucket, jump = -1, 0
    while jump < buckets:
        bucket = jump
        key = (key * 2862933555777941757 + 1) & 0xFFFF_FFFF_FFFF_FFFF
        jump = int((bucket + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return bucket


def select(items: Sequence[T], shard: Shard | None, name_of: Callable[[T], str]) -> list[T]:
    """The items of this shard, in file order (all of them without a shard)."""
    if shard is None:
        return list(items)
    return [item for item in items if shard.owns(name_of(item))]


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N."""
    match = _SHARD.fullmatch(text)
    if match is None:
        raise ShardError(
            f"--shard {text!r}: expected K/N, two whole numbers with 1 <= K <= N (e.g. --shard 1/3)"
        )
    number, count = int(match.group(1)), int(match.group(2))
    _check_count(count, "--shard")
    if not 1 <= number <= count:
        raise ShardError(
            f"--shard {text.strip()}: K must be between 1 and {count} (shards are numbered from 1)"
        )
    return Shard(number, count)


def _check_count(count: int, where: str) -> None:
    if not 1 <= count <= MAX_SHARDS:
        raise ShardError(f"{where}: the shard count must be between 1 and {MAX_SHARDS}")


def _parse_count(text: str, where: str) -> int:
    match = _COUNT.fullmatch(text)
    if match is None:
        raise ShardError(f"{where} {text!r}: expected a whole number of shards (e.g. 3)")
    count = int(match.group(1))
    _check_count(count, where)
    return count


def resolve_shard(
    shard: str | None, shard_count: str | None, environ: Mapping[str, str]
) -> Shard | None:
    """The shard this process collects, or None for the whole file.

    ``--shard`` wins; else ``JOB_COMPLETION_INDEX`` with the count from ``--shard-count``
    or ``$DEPAUDIT_SHARD_COUNT``. Half a configuration is an error, not a silent
    "collect everything" that would make every pod of the Job collect every repository.
    """
    if shard is not None:
        return parse_shard(shard)
    index_text = environ.get(INDEX_ENV)
    count_text: str | None = shard_count
    where = "--shard-count"
    if count_text is None:
        count_text, where = environ.get(COUNT_ENV), f"${COUNT_ENV}"
    if index_text is None:
        if count_text is None:
            return None
        raise ShardError(
            f"{where} is set but {INDEX_ENV} is not: run as a Kubernetes Indexed Job "
            "(completionMode: Indexed) or give --shard K/N"
        )
    if count_text is None:
        raise ShardError(
            f"{INDEX_ENV}={index_text} is set (a Kubernetes Indexed Job) but the shard count "
            f"is not: give --shard-count N or ${COUNT_ENV} (N = the Job's completions)"
        )
    count = _parse_count(count_text, where)
    match = _COUNT.fullmatch(index_text)
    if match is None:
        raise ShardError(f"{INDEX_ENV}={index_text!r} is not a whole number")
    index = int(match.group(1))
    if index >= count:
        raise ShardError(
            f"{INDEX_ENV}={index} is out of range for {count} shards (0..{count - 1}): "
            f"the Job's completions and {where} must be the same number"
        )
    return Shard(index + 1, count)
