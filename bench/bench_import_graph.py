"""Benchmark: Python code facts and the import graph on a 2,000-module repository.

Generates realistic modules in memory (~70 lines: imports of stdlib, third-party and
sibling repo modules, a few functions and a class with a docstring), then times

* baseline: plain ``ast.parse`` of every text (the floor any AST reader pays);
* full build: ``PythonCodeSource.parse`` for every file (one parse + one walk, facts,
  definition hashes) + ``ImportGraph`` + reachability from the serving entrypoints;
* incremental: re-parse only 1 / 10 / 100 changed files and rebuild graph + reach
  (the history walker parses each distinct blob once, so this is the per-commit cost).

Run: ``.venv/bin/python bench/bench_import_graph.py [--modules 2000] [--repeat 3]``.
Target: full build under 5 s on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import ast
import functools
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depaudit.code_graph import ImportGraph
from depaudit.collectors.sources.python_code import SOURCE
from depaudit.model import CodeModule
from depaudit.secrets import scrub

PACKAGES = ("serving", "common", "training", "features", "models")
THIRD_PARTY = ("numpy as np", "pandas as pd", "sklearn.preprocessing", "torch", "fastapi", "yaml")


def module_text(i: int, names: list[str], rng: random.Random) -> str:
    pkg = names[i].rsplit(".", 1)[0]
    lines = [f'"""Module {i}: helpers for {pkg}."""', "", "from __future__ import annotations", ""]
    lines += ["import logging", "import os", f"import {rng.choice(THIRD_PARTY)}"]
    for j in rng.sample(range(len(names)), 4):
        if j != i:
            lines.append(f"from {names[j]} import helper_{j}_0")
    if i % 50 == 0:
        lines.append("from sklearn.model_selection import train_test_split")
    lines += ["", "log = logging.getLogger(__name__)", f"THRESHOLD = {i % 7}.5", ""]
    for k in range(3):
        lines += [
            "",
            f"def helper_{i}_{k}(frame, column: str = 'x', scale: float = 1.0):",
            f'    """Scale {{column}} of a frame (variant {k})."""',
            "    if frame is None:",
            "        raise ValueError('no frame')",
            "    values = [v * scale for v in frame[column] if v is not None]",
            "    total = sum(values)",
            "    # normalise so that the values sum to one",
            "    out = [v / total for v in values] if total else values",
            f"    log.debug('helper {i} %s', len(out))",
            "    return out",
        ]
    lines += [
        "",
        "",
        f"class Model{i}:",
        '    """A small model wrapper."""',
        "",
        "    def __init__(self, path: str) -> None:",
        "        self.path = os.path.join('/models', path)",
        "        self.loaded = False",
        "",
        "    def load(self) -> None:",
        "        self.loaded = True",
        "",
        "    def predict(self, rows):",
        "        if not self.loaded:",
        "            self.load()",
        "        return [r for r in rows]",
    ]
    if i % 40 == 0:
        lines += [
            "",
            "    def refit(self, x, y):",
            "        self.scaler.fit_transform(x)",
            "        return self",
        ]
    return "\n".join(lines) + "\n"


def make_repo(n: int, seed: int = 7) -> dict[str, str]:
    rng = random.Random(seed)
    names = [f"{PACKAGES[i % len(PACKAGES)]}.mod{i}" for i in range(n)]
    return {
        name.replace(".", "/") + ".py": module_text(i, names, rng) for i, name in enumerate(names)
    }


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def parse_all(files: dict[str, str]) -> list[CodeModule]:
    out = []
    for path, text in files.items():
        (fact,) = SOURCE.parse(text, path).facts
        assert isinstance(fact, CodeModule)
        out.append(fact)
    return out


def graph_and_reach(mods: list[CodeModule]) -> int:
    graph = ImportGraph(mods)
    starts = [m.module for m in mods if m.module.startswith("serving.")][:20]
    return len(graph.reachable(starts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modules", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    files = make_repo(args.modules)
    texts = list(files.values())
    lines = sum(t.count("\n") for t in texts)
    print(f"{len(files)} modules, {lines} lines ({lines / len(files):.0f} per module)")

    def parse_texts(texts: list[str] = texts) -> None:
        for t in texts:  # drop each tree, as the source does: keeping 2,000 trees alive
            ast.parse(t)  # makes the cyclic GC, not parsing, dominate the baseline

    baseline = best_of(args.repeat, parse_texts)
    facts = best_of(args.repeat, lambda: parse_all(files))
    mods = parse_all(files)
    graph = best_of(args.repeat, lambda: graph_and_reach(mods))
    full = facts + graph
    bodies = [d.body for m in mods for d in m.definitions]
    scrubbing = best_of(args.repeat, lambda: [scrub(b) for b in bodies])
    print(f"baseline ast.parse          {baseline:7.3f} s")
    print(f"facts (parse+walk+hashes)   {facts:7.3f} s  ({facts / baseline:.2f}x baseline)")
    print(
        f"  of which secret scrubbing {scrubbing:7.3f} s  (depaudit.secrets.scrub of every stored body)"
    )
    print(f"graph build + reachability  {graph:7.3f} s  (reached {graph_and_reach(mods)} modules)")
    print(
        f"full build                  {full:7.3f} s  ({full / baseline:.2f}x baseline; target < 5 s)"
    )

    by_path = dict(zip(files, mods, strict=True))
    paths = list(files)
    for changed in (1, 10, 100):
        subset = paths[:changed]
        edited = {p: files[p] + "\nEXTRA = 1\n" for p in subset}

        def incremental(edited: dict[str, str] = edited) -> int:
            updated = dict(by_path)
            for p, text in edited.items():
                (fact,) = SOURCE.parse(text, p).facts
                updated[p] = fact  # type: ignore[assignment]
            return graph_and_reach(list(updated.values()))

        base = best_of(args.repeat, functools.partial(parse_texts, list(edited.values())))
        inc = best_of(args.repeat, incremental)
        print(
            f"incremental {changed:3d} changed      {inc:7.3f} s  "
            f"(ast.parse of those {base:.4f} s; {inc / full * 100:.1f}% of full build)"
        )


if __name__ == "__main__":
    main()
