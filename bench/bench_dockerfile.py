"""Benchmark: the Dockerfile source on installs of 5k to 200k packages (hostile inputs).

A pull request can add a Dockerfile whose ``RUN pip install`` / ``apt-get install``
names hundreds of thousands of packages; SECURITY.md promises every parser call ends in
under 2 s on any file within the 10 MB limit. Each shape is timed at every size,
against baselines measured in the same run on the same text:

* floor: ``text.split()``, reading every word once, the least any reader does;
* dockerfile-parse: the library's instruction split alone (what the source used
  before). It is quadratic on continued lines (``\\`` at the end of each), so it is
  skipped where it would take more than ``--max-reference`` seconds;
* source: ``DockerfileSource.parse`` through the registry (guard, stages, installs,
  facts). Past 10,000 packages it reads no more (one error says so).

``growth`` is the source's time ratio to the previous size: about 2 per doubling is
linear, about 4 quadratic, about 1 flat (the 10,000-package bound). The last rows time
the largest file of each shape the 10 MB limit admits.

Run: ``.venv/bin/python bench/bench_dockerfile.py [--sizes 5000,10000,25000,50000,100000,200000]
[--repeat 3] [--shapes pip-line,pip-continued,apt-line] [--no-limit] [--max-reference 30]``.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depaudit.collectors.sources import source_for
from depaudit.collectors.sources.base import MAX_FILE_BYTES

PATH = "serving/Dockerfile"


def one_line_pip(n: int) -> str:
    return "FROM python:3.10\nRUN pip install " + " ".join(f"pkg{i}" for i in range(n)) + "\n"


def continued_pip(n: int) -> str:
    body = " \\\n    ".join(f"pkg{i}=={i % 9}.{i % 7}" for i in range(n))
    return f"FROM python:3.10-slim\nRUN pip install --no-cache-dir \\\n    {body}\n"


def one_line_apt(n: int) -> str:
    names = " ".join(f"lib{i}-dev" for i in range(n))
    return f"FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y {names}\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "pip-line": one_line_pip,
    "pip-continued": continued_pip,
    "apt-line": one_line_apt,
}


def floor(text: str) -> None:
    text.split()


def dockerfile_parse(text: str) -> None:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(), env_replace=False)
    parser.content = text
    _ = parser.structure


def best_of(repeat: int, call: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def largest_within_limit(make: Callable[[int], str]) -> int:
    low, high = 1, 8_000_000
    while low < high:  # most packages whose text stays within the limit
        mid = (low + high + 1) // 2
        low, high = (mid, high) if len(make(mid)) <= MAX_FILE_BYTES else (low, mid - 1)
    return low


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="5000,10000,25000,50000,100000,200000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shape names")
    ap.add_argument("--no-limit", action="store_true", help="skip the 10 MB rows")
    ap.add_argument("--max-reference", type=float, default=30.0)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = {name: SHAPES[name] for name in args.shapes.split(",")}
    source = source_for(PATH)
    assert source is not None

    print(
        f"{'shape':22} {'packages':>9} {'MB':>6} {'floor s':>8} {'d-parse s':>10} "
        f"{'source s':>9} {'x floor':>8} {'growth':>7}"
    )

    def row(shape: str, n: int, text: str, repeat: int, reference: float | None) -> float:
        base = best_of(repeat, lambda: floor(text))
        took = best_of(repeat, lambda: source.parse(text, PATH))
        shown = f"{reference:.3f}" if reference is not None else "skipped"
        print(
            f"{shape:22} {n:>9} {len(text) / 1e6:>6.2f} {base:>8.3f} {shown:>10} "
            f"{took:>9.3f} {took / base:>8.0f}",
            end="",
        )
        return took

    for shape, make in shapes.items():
        previous = 0.0
        reference_took = 0.0
        for n in sizes:
            text = make(n)
            # dockerfile-parse is quadratic on continued lines: predict before running it
            reference = None
            if reference_took * 4.5 < args.max_reference:
                reference_took = best_of(args.repeat, lambda text=text: dockerfile_parse(text))
                reference = reference_took
            took = row(shape, n, text, args.repeat, reference)
            print(f" {took / previous:>7.1f}" if previous else f" {'-':>7}")
            previous = took
    if args.no_limit:
        return
    for shape, make in shapes.items():
        n = largest_within_limit(make)
        text = make(n)
        row(f"{shape} (10 MB)", n, text, 1, None)
        print(f" {'-':>7}")


if __name__ == "__main__":
    main()
