"""The copy search (DA206 / DA207) keeps its serving index across states: same copies.

``find_copies`` keeps the serving side's index by the identity of its modules, and each
training module's lookups in it, so a state that changed one side's code does not index
the other again. This checks it against a plain search (the one it replaced, kept here as
the reference) on random code histories: definitions copied, renamed, edited, moved
between files, many identical copies (more than the index's margin of used serving
definitions) and common lines shared by many definitions.
"""

from __future__ import annotations

import random

import pytest

from depaudit.model import CodeModule, Definition
from depaudit.rules.inference_code_copies import (
    _COMMON_LINE,
    MIN_LINES,
    RENAMED_SIMILARITY,
    SAME_NAME_SIMILARITY,
    Copy,
    Side,
    _line_set,
    _lines,
    _ratio,
    find_copies,
)


def reference_copies(training: list[CodeModule], serving: list[CodeModule]) -> list[Copy]:
    """The search as written before the index was kept (every state indexed afresh)."""
    shared = {m.file for m in training} & {m.file for m in serving}

    def sides(modules: list[CodeModule]) -> tuple[list[Side], list[tuple[str, ...]]]:
        out = [
            (Side(m, d), _lines(d.body))
            for m in sorted(modules, key=lambda m: m.file)
            if m.file not in shared
            for d in m.definitions
        ]
        return [s for s, _ in out], [ln for _, ln in out]

    train, lines_t = sides(training)
    serve, lines_s = sides(serving)
    used_t: set[int] = set()
    used_s: set[int] = set()
    out: list[Copy] = []

    def take(i: int, j: int, identical: bool) -> None:
        used_t.add(i)
        used_s.add(j)
        out.append(Copy(train[i], serve[j], identical))

    by_hash: dict[tuple[str, str], list[int]] = {}
    for j, s in enumerate(serve):
        by_hash.setdefault((s.definition.kind, s.definition.body_hash), []).append(j)
    for same_name in (True, False):
        for i, t in enumerate(train):
            if i in used_t:
                continue
            for j in by_hash.get((t.definition.kind, t.definition.body_hash), []):
                if j in used_s or (t.definition.name == serve[j].definition.name) != same_name:
                    continue
                if same_name or len(lines_t[i]) >= MIN_LINES:
                    take(i, j, True)
                    break
    by_name: dict[tuple[str, str], list[int]] = {}
    for j, s in enumerate(serve):
        by_name.setdefault((s.definition.kind, s.definition.name), []).append(j)
    for i, t in enumerate(train):
        if i in used_t:
            continue
        best: tuple[float, int] | None = None
        for j in by_name.get((t.definition.kind, t.definition.name), []):
            if j in used_s:
                continue
            r = _ratio(lines_t[i], lines_s[j])
            if r >= SAME_NAME_SIMILARITY and (best is None or r > best[0]):
                best = (r, j)
        if best is not None:
            take(i, best[1], False)
    index: dict[str, set[int]] = {}
    for j, lines in enumerate(lines_s):
        if j in used_s or len(lines) < MIN_LINES:
            continue
        for ln in _line_set(lines):
            index.setdefault(ln, set()).add(j)
    for i, lines in enumerate(lines_t):
        if i in used_t or len(lines) < MIN_LINES:
            continue
        counts: dict[int, int] = {}
        for ln in _line_set(lines):
            hits = index.get(ln, ())
            if len(hits) > _COMMON_LINE:
                continue
            for j in hits:
                counts[j] = counts.get(j, 0) + 1
        best = None
        for j, shared_lines in sorted(counts.items()):
            if j in used_s or serve[j].definition.kind != train[i].definition.kind:
                continue
            if shared_lines < RENAMED_SIMILARITY * min(len(lines), len(lines_s[j])) / 2:
                continue
            r = _ratio(lines, lines_s[j])
            if r >= RENAMED_SIMILARITY and (best is None or r > best[0]):
                best = (r, j)
        if best is not None:
            take(i, best[1], False)
    return sorted(out, key=lambda c: (c.serving.qualname, c.training.qualname))


COMMON = ["return result", "result = []", "x = x + 1", "logger.info(x)"]


def definition(rng: random.Random, name: str, pool: list[str]) -> Definition:
    body_lines = rng.sample(pool, rng.randint(2, 7)) + rng.sample(COMMON, rng.randint(0, 2))
    body_lines.append(f"own_{rng.randrange(10**9)} = x")  # a line no other definition has
    body = f"def {name}(x):\n" + "\n".join("    " + ln for ln in body_lines)
    return Definition(name, "function", 1, str(hash(tuple(body_lines))), body)


def module(path: str, defs: list[Definition]) -> CodeModule:
    return CodeModule(path.removesuffix(".py").replace("/", "."), path, definitions=tuple(defs))


def history(seed: int, steps: int) -> list[tuple[list[CodeModule], list[CodeModule]]]:
    """States of a random codebase: each step replaces one module of one side."""
    rng = random.Random(seed)
    pool = [f"v{k} = f{k}(x, {k % 7})" for k in range(40)]
    names = [f"fn{k}" for k in range(30)]
    dup = definition(rng, "dup", pool)  # copied many times on both sides

    def fresh(side: str, k: int) -> CodeModule:
        defs = [definition(rng, rng.choice(names), pool) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.4:  # many identical copies: more than the index's margin used
            defs += [Definition(f"dup{n}", "function", 1, dup.body_hash, dup.body)
                     for n in range(rng.randint(10, 80))]  # fmt: skip
        return module(f"{side}/m{k}.py", defs)

    training = [fresh("training", k) for k in range(6)]
    serving = [fresh("serving", k) for k in range(6)]
    serving.append(module("common/util.py", [definition(rng, "helper", pool)]))
    training.append(serving[-1])  # a file both sides hold: never a copy
    # copies: a training definition appears in serving, renamed or edited
    for _ in range(8):
        t = rng.choice(training[:-1])
        d = rng.choice(t.definitions)
        edited = d.body + ("\n    extra = 1" if rng.random() < 0.5 else "")
        name = d.name if rng.random() < 0.5 else d.name + "_copy"
        k = rng.randrange(6)
        s = serving[k]
        copied = Definition(name, "function", 2, d.body_hash if edited == d.body else "e", edited)
        serving[k] = module(s.file, [*s.definitions, copied])
    states = [(list(training), list(serving))]
    for _ in range(steps):
        side = training if rng.random() < 0.5 else serving
        k = rng.randrange(len(side) - 1)
        if side is serving and rng.random() < 0.4:
            # serving copies a training definition now: lines the index never held
            d = rng.choice([d for m in training[:-1] for d in m.definitions])
            renamed = Definition(d.name + "_v2", "function", 3, "r", d.body + "\n    y = 2")
            side[k] = module(side[k].file, [*side[k].definitions, renamed])
            states.append((list(training), list(serving)))
            continue
        side[k] = (
            fresh(side[k].file.split("/")[0], k)
            if rng.random() < 0.5
            else module(side[k].file, [*side[k].definitions[1:], definition(rng, "late", pool)])
        )
        states.append((list(training), list(serving)))
    return states


@pytest.mark.parametrize("seed", range(12))
def test_kept_index_finds_what_a_fresh_search_finds(seed: int) -> None:
    found_any = False
    for training, serving in history(seed, steps=25):
        expected = reference_copies(training, serving)
        assert find_copies(training, serving) == expected
        found_any |= bool(expected)
    assert found_any  # the histories do hold copies to find
