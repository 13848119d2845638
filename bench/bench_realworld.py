"""Benchmark depaudit on real repositories, as a new user runs it (no config).

    .venv/bin/python bench/bench_realworld.py /tmp/rw/kubeflow+examples /tmp/rw/other-clone ...
    .venv/bin/python bench/bench_realworld.py --repeat 3 --quiet /tmp/rw/*

Each PATH is a local git clone (its HEAD is audited; a ``git clone --no-checkout`` of a mirror,
or a partial clone with missing large blobs, is fine: that is what CI has). For each one, in one
run, it measures (``--repeat N`` times each, keeping the run with the least CPU time):

1. ``depaudit check PATH --rev HEAD --format json``: environments, pairs, rows, distinct rows
   (status, rule, item, file, line) and seconds;
2. ``depaudit collect PATH --db <fresh temporary SQLite>``: seconds, commits walked
   (first-parent), seconds per commit, peak RSS and the store's size after a WAL checkpoint;
3. the floor: ``git log --raw --no-renames --first-parent`` over the same history, and the
   ratio collect / floor.

Seconds are CPU seconds (user + system of the child and the git processes it ran, from
``os.wait4``): the machine is shared and CPU time is what other load disturbs least; the
collect's wall time is printed next to it. With ``--repeat`` the spread (largest / least CPU)
shows how steady the numbers are.

The JSON report is read tolerantly: a top-level ``environments``, ``projects`` or ``pairs`` entry
is used (and pairs are printed with their reasons) when the report has one; otherwise
environments come from check's stderr listing and pairs from the findings' env columns.
Nothing is timed in the test suite: this script prints numbers and ratios for a human.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import DEPAUDIT, Run, collect, commit_count, git_log_floor, load_note, run, store_mb

# check's stderr lists each environment as "  NAME [role, how]".
_ENV_LINE = re.compile(r"^  (\S+) \[(\w[\w-]*)", re.MULTILINE)


@dataclass
class Result:
    """Everything measured for one repository."""

    path: str
    environments: list[str] = field(default_factory=list)
    projects: int | None = None
    pairs: list[str] = field(default_factory=list)
    rows: int = 0
    distinct_rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    runs: int = 0  # how many times check and collect were run (the least CPU is kept)
    check_seconds: float = 0.0  # CPU
    check_error: str = ""
    collect_seconds: float = 0.0  # CPU
    collect_wall: float = 0.0
    collect_spread: float = 1.0  # largest / least CPU over the runs
    collect_error: str = ""
    collect_rss_mb: float = 0.0  # the largest over the runs
    store_mb: float = 0.0
    commits: int = 0
    git_log_seconds: float = 0.0  # CPU

    @property
    def seconds_per_commit(self) -> float:
        return self.collect_seconds / self.commits if self.commits else 0.0

    @property
    def ratio(self) -> float:
        return self.collect_seconds / self.git_log_seconds if self.git_log_seconds else 0.0


def _one_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _pair_label(pair: Any) -> str:
    """A pair from a report's ``pairs`` list, whatever its exact shape."""
    if isinstance(pair, dict):
        training = pair.get("training_env") or pair.get("training") or "?"
        serving = pair.get("serving_env") or pair.get("serving") or "?"
        project = pair.get("project")
        reason = pair.get("reason") or pair.get("reasons")
        if isinstance(reason, list):
            reason = "; ".join(str(r) for r in reason)
        label = f"{training} x {serving}"
        if project:
            label = f"[{project}] {label}"
        return f"{label} ({reason})" if reason else label
    if isinstance(pair, list | tuple) and len(pair) >= 2:
        return f"{pair[0]} x {pair[1]}"
    return str(pair)


def read_check(result: Result, report: Run) -> None:
    """Fill environments, pairs and rows from check's JSON (tolerant of format changes)."""
    result.check_seconds = report.cpu
    if report.returncode not in (0, 1):
        result.check_error = _one_line(report.stderr) or f"exit {report.returncode}"
        return
    try:
        data = json.loads(report.stdout)
    except json.JSONDecodeError as exc:
        result.check_error = f"report is not JSON: {exc}"
        return
    findings: list[dict[str, Any]] = []
    if isinstance(data, dict):
        findings = [f for f in data.get("findings", []) if isinstance(f, dict)]
        envs = data.get("environments")
        if isinstance(envs, list):
            result.environments = [
                str(e.get("name", e)) if isinstance(e, dict) else str(e) for e in envs
            ]
        elif isinstance(envs, dict):
            result.environments = [str(name) for name in envs]
        projects = data.get("projects")
        if isinstance(projects, list | dict):
            result.projects = len(projects)
        if isinstance(data.get("pairs"), list):
            result.pairs = [_pair_label(p) for p in data["pairs"]]
    elif isinstance(data, list):
        findings = [f for f in data if isinstance(f, dict)]
    if not result.environments:
        result.environments = [m.group(1) for m in _ENV_LINE.finditer(report.stderr)]
    if not result.pairs:
        result.pairs = sorted(
            {
                f"{f.get('training_env')} x {f.get('serving_env')}"
                for f in findings
                if f.get("training_env") and f.get("serving_env")
            }
        )
    result.rows = len(findings)
    result.distinct_rows = len(
        {
            (f.get("status"), f.get("rule"), f.get("item"), f.get("file"), f.get("line"))
            for f in findings
        }
    )
    for f in findings:
        status = str(f.get("status", "?"))
        result.statuses[status] = result.statuses.get(status, 0) + 1


def measure(path: Path, verbose: bool, repeat: int = 1) -> Result:
    result = Result(path=str(path), runs=repeat)
    # Without -q check prints the environment listing on stderr: used when the JSON lacks it.
    checks = [
        run([DEPAUDIT, "check", str(path), "--rev", "HEAD", "--format", "json"])
        for _ in range(repeat)
    ]
    read_check(result, min(checks, key=lambda r: r.cpu))
    result.commits = commit_count(path)
    result.git_log_seconds = git_log_floor(path).cpu

    collects: list[Run] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-realworld-") as tmp:
            db = Path(tmp) / "store.sqlite"
            done = collect(path, db)
            collects.append(done)
            if done.returncode != 0:
                result.collect_error = _one_line(done.stderr) or f"exit {done.returncode}"
                break
            result.store_mb = store_mb(db)
    best = min(collects, key=lambda r: r.cpu)
    result.collect_seconds, result.collect_wall = best.cpu, best.wall
    result.collect_spread = max(r.cpu for r in collects) / max(best.cpu, 1e-9)
    result.collect_rss_mb = max(r.max_rss_mb for r in collects)
    if verbose:
        print_detail(result)
    return result


def print_detail(result: Result) -> None:
    print(f"== {result.path}")
    print(f"   environments ({len(result.environments)}): {', '.join(result.environments)}")
    if result.projects is not None:
        print(f"   projects: {result.projects}")
    print(f"   pairs ({len(result.pairs)}):")
    for pair in result.pairs:
        print(f"     {pair}")
    if result.statuses:
        print(f"   rows by status: {dict(sorted(result.statuses.items()))}")
    for label, error in (("check", result.check_error), ("collect", result.collect_error)):
        if error:
            print(f"   {label} failed: {error}")


def print_table(results: list[Result]) -> None:
    header = (
        f"{'repository':<40} {'envs':>4} {'pairs':>5} {'rows':>6} {'distinct':>8} "
        f"{'check s':>7} {'collect s':>9} {'wall s':>7} {'spread':>6} {'commits':>7} "
        f"{'ms/commit':>9} {'rss MB':>6} {'store MB':>8} {'git log s':>9} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        name = Path(r.path).name[:40]
        flag = " !" if r.check_error or r.collect_error else ""
        print(
            f"{name:<40} {len(r.environments):>4} {len(r.pairs):>5} {r.rows:>6} "
            f"{r.distinct_rows:>8} {r.check_seconds:>7.2f} {r.collect_seconds:>9.2f} "
            f"{r.collect_wall:>7.1f} {r.collect_spread:>6.2f} {r.commits:>7} "
            f"{1000 * r.seconds_per_commit:>9.2f} {r.collect_rss_mb:>6.0f} "
            f"{r.store_mb:>8.1f} {r.git_log_seconds:>9.3f} {r.ratio:>6.0f}{flag}"
        )
    runs = results[0].runs if results else 1
    print(
        "(! = check or collect failed, see the detail above. check s, collect s, git log s: CPU "
        "seconds (user + system, git children included); wall s: the collect's wall time; "
        f"best of {runs} run(s), spread = largest / least collect CPU; ms/commit = collect CPU "
        "per first-parent commit; rss MB: peak resident memory of the collect; store MB: SQLite "
        "after a WAL checkpoint; ratio = collect s / git log s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Make a clone of a bare mirror with: git clone --no-checkout MIRROR /tmp/rw/NAME",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="local git clones to audit")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run check and collect N times each and keep the least CPU (default 1)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary table")
    parser.add_argument("--json-out", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    missing = [p for p in args.paths if not (p / ".git").exists() and not (p / "HEAD").exists()]
    if missing:
        print(f"bench_realworld: not a git repository: {missing[0]}", file=sys.stderr)
        return 2
    print(f"machine: {load_note()} (seconds are CPU time; wall time depends on that load)")
    results = [measure(p, verbose=not args.quiet, repeat=args.repeat) for p in args.paths]
    print()
    print_table(results)
    if args.json_out:
        rows = [
            {**vars(r), "seconds_per_commit": r.seconds_per_commit, "ratio": r.ratio}
            for r in results
        ]
        args.json_out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
