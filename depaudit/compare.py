"""Comparing environments: run the rules on each compared pair, and live environments.

Pure: snapshots, pairs and settings in, findings out. Each environment gets one
:class:`~depaudit.rules.view.EnvironmentView` and each pair one
:class:`~depaudit.rules.view.PairView`, shared by all rules. Ignoring rules and severity
overrides from the repository's ``[rules]`` table are applied here, centrally, so no rule
has to know about them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence

from depaudit.catalog import PARSE_ERROR_RULE
from depaudit.config import RulesConfig
from depaudit.identity_memo import IdentityMemo
from depaudit.knowledge import Knowledge
from depaudit.model import (
    SEVERITIES,
    CodeModule,
    EnvironmentSnapshot,
    Finding,
    Kind,
    Pair,
    ParseError,
    Severity,
    content_hash,
    fact_json,
    fact_to_dict,
    sort_findings,
)
from depaudit.rules import DETAIL_RULES, LIVE_RULES, RULES
from depaudit.rules.base import LiveContext, Rule
from depaudit.rules.view import EnvironmentView, PairView

_DEPENDENCY_FILES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "setup.py",
        "pipfile",
        "pipfile.lock",
        "poetry.lock",
        "uv.lock",
        "environment.yml",
        "environment.yaml",
        "conda.yml",
        "conda.yaml",
    }
)
_RUNTIME_FILES = frozenset({".python-version", "runtime.txt", ".tool-versions"})


class CompareMemo:
    """What comparing the states of one history can reuse from state to state.

    The snapshot builder hands out the same snapshot object for an environment none of
    whose files changed (depaudit.collectors.snapshot.BlobCache), so views and pair findings are
    kept by the identity of the snapshots (the memo holds them, so ids are not reused):
    a commit that changed one project's files re-runs the rules of that project's pairs
    only, and an environment's merged packages, config and targets are built once.
    """

    MAX_ENTRIES = 256  # views hold whole snapshots: a few states' worth is what recurs

    def __init__(self) -> None:
        self._views: dict[tuple[int, int], tuple[EnvironmentSnapshot, EnvironmentView]] = {}
        self._pairs: dict[tuple[Pair, int, int, str], tuple[object, object, list[Finding]]] = {}
        # (pair, each side without the details the group ignores, settings, group)
        #   -> what the group's rules found
        self._groups: dict[
            tuple[Pair, str, str, str, frozenset[str]], tuple[Knowledge, list[Finding]]
        ] = {}
        self._outlines = {
            ignored: IdentityMemo(functools.partial(_outline, ignored), self.MAX_ENTRIES)
            for ignored, _rules in _RULE_GROUPS
        }

    def findings_of_group(
        self,
        view: PairView,
        rules_key: str,
        ignored: frozenset[str],
        run: Callable[[], list[Finding]],
    ) -> list[Finding]:
        """The findings of the rules that read none of the module details ``ignored``,
        reused from an earlier state whose two environments differ from these only in
        those details (DETAIL_RULES)."""
        outline = self._outlines[ignored]
        key = (
            view.pair,
            outline(view.training.snapshot),
            outline(view.serving.snapshot),
            rules_key,
            ignored,
        )
        known = self._groups.get(key)
        if known is not None and known[0] is view.knowledge:
            return known[1]
        found = run()
        if len(self._groups) >= self.MAX_ENTRIES:
            self._groups.clear()
        self._groups[key] = (view.knowledge, found)
        return found

    def view(self, env: EnvironmentSnapshot, knowledge: Knowledge) -> EnvironmentView:
        key = (id(env), id(knowledge))
        known = self._views.get(key)
        if known is not None and known[0] is env:
            return known[1]
        if len(self._views) >= self.MAX_ENTRIES:
            self._views.clear()
        view = EnvironmentView(env, knowledge)
        self._views[key] = (env, view)
        return view

    def findings(
        self, pair: Pair, training: EnvironmentView, serving: EnvironmentView, rules_key: str
    ) -> list[Finding] | None:
        known = self._pairs.get((pair, id(training), id(serving), rules_key))
        return known[2] if known is not None else None

    def remember(
        self,
        pair: Pair,
        training: EnvironmentView,
        serving: EnvironmentView,
        rules_key: str,
        findings: list[Finding],
    ) -> None:
        if len(self._pairs) >= self.MAX_ENTRIES:
            self._pairs.clear()
        self._pairs[(pair, id(training), id(serving), rules_key)] = (training, serving, findings)


def compare_pairs(
    environments: Sequence[EnvironmentSnapshot],
    pairs: Sequence[Pair],
    *,
    rules: RulesConfig,
    knowledge: Knowledge,
    memo: CompareMemo | None = None,
) -> list[Finding]:
    """Findings of every pair (environments named by the pairs), sorted."""
    memo = memo if memo is not None else CompareMemo()
    views = {env.name: memo.view(env, knowledge) for env in environments if not env.observed}
    rules_key = repr(rules)
    findings: list[Finding] = []
    for pair in pairs:
        training, serving = views.get(pair.training), views.get(pair.serving)
        if training is None or serving is None:
            continue
        known = memo.findings(pair, training, serving, rules_key)
        if known is None:
            view = PairView(pair, training, serving, knowledge, _allow(rules))
            found = []
            for ignored, group in _RULE_GROUPS:
                run = functools.partial(_run, view, group, rules)
                # definitions change with almost every edit of code: not worth an outline
                found += (
                    run()
                    if "definitions" not in ignored
                    else memo.findings_of_group(view, rules_key, ignored, run)
                )
            known = _settle(
                _one_row_per_package(found), pair, rules, training.snapshot, serving.snapshot
            )
            memo.remember(pair, training, serving, rules_key, known)
        findings.extend(known)
    return sort_findings(_without_contradictions(findings))


# What a leftover package of a serving side must not also be, in another pair of that side:
# shared, serving-only, unused, or a version to align (it is to be removed, not pinned).
_SAID_OTHERWISE = frozenset({"DA102", "DA103", "DA104", "DA105", "DA107", "DA205"})


def _one_row_per_package(found: list[Finding]) -> list[Finding]:
    """A serving package no serving code imports (DA205, with where it is declared) is not
    also "declared for serving only" (DA105) in the same pair: one row for one line."""
    unused = {f.item for f in found if f.rule == "DA205"}
    if not unused:
        return found
    return [
        f
        for f in found
        if not (f.rule == "DA105" and f.status == "serving_only" and f.item in unused)
    ]


def _without_contradictions(findings: list[Finding]) -> list[Finding]:
    """One serving side, one verdict per package. A serving dependency that one training
    side uses (or that is training-only by what it is) is a leftover of that pair (DA101 /
    DA106); the other pairs of the same serving side must not call it shared (DA104),
    serving-only (DA105), unused by anyone (DA205) or a version to align with theirs (DA102 /
    DA103 / DA107) at the same time — several rows for one requirements line, all but one
    wrong about the project."""
    leftovers = {
        (f.serving_env, f.item) for f in findings if f.status == "leftover" and f.kind == "package"
    }
    if not leftovers:
        return findings
    return [
        f
        for f in findings
        if not (f.rule in _SAID_OTHERWISE and (f.serving_env, f.item) in leftovers)
    ]


def _outline(ignored: frozenset[str], env: EnvironmentSnapshot) -> str:
    """Hash of an environment with the module details ``ignored`` left out."""
    header = content_hash(env.to_dict_without_facts())
    module_text = _module_texts[ignored]
    texts = [
        module_text(fact) if isinstance(fact, CodeModule) else fact_json(fact) for fact in env.facts
    ]
    return hashlib.sha256("\0".join([header, *texts]).encode()).hexdigest()


def _module_text_without(ignored: frozenset[str], module: CodeModule) -> str:
    data = fact_to_dict(module)
    for name in ignored:
        data.pop(name, None)
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _rule_groups() -> tuple[tuple[frozenset[str], tuple[Rule, ...]], ...]:
    """The rules grouped by the module details they do not read, in RULES order."""
    details = frozenset(DETAIL_RULES)
    groups: dict[frozenset[str], list[Rule]] = {}
    for rule in RULES:
        read = {d for d, ids in DETAIL_RULES.items() if rule.info.id in ids}
        groups.setdefault(details - read, []).append(rule)
    return tuple((ignored, tuple(rules)) for ignored, rules in groups.items())


_RULE_GROUPS = _rule_groups()
_module_texts: dict[frozenset[str], IdentityMemo[CodeModule, str]] = {
    ignored: IdentityMemo(functools.partial(_module_text_without, ignored), 50_000)
    for ignored, _rules in _RULE_GROUPS
}


def every_pair(environments: Sequence[EnvironmentSnapshot]) -> tuple[Pair, ...]:
    """Every training x serving pair of declared environments (no project information)."""
    declared = [env for env in environments if not env.observed]
    return tuple(
        Pair(t.name, s.name, reason="every training x serving pair")
        for t in declared
        if t.role == "training"
        for s in declared
        if s.role == "serving"
    )


def compare_live(
    declared: EnvironmentSnapshot,
    observed: EnvironmentSnapshot,
    knowledge: Knowledge,
    *,
    training: Sequence[EnvironmentSnapshot] = (),
    rules: RulesConfig | None = None,
) -> list[Finding]:
    """Findings of the live environment ``observed`` against the declared ``declared``.

    - declared serving x observed serving: the live rules DA701-DA704 (what is installed
      against what the files say, and whether the installed tree is whole);
    - each training environment x observed serving: the ordinary rules, so a training-only
      package really installed in production is a DA101 leftover with the live version,
      and the interpreter's real Python / OS drift is DA501 / DA502.
    """
    settings = rules if rules is not None else RulesConfig()
    allow = _allow(settings)
    observed_view = EnvironmentView(observed, knowledge)
    ctx = LiveContext(EnvironmentView(declared, knowledge), observed_view, knowledge, allow)
    live_pair = Pair(declared.name, observed.name, reason="live observation of this environment")
    ignored = _ignored(settings)
    found = [f for rule in LIVE_RULES if rule.info.id not in ignored for f in rule.check(ctx)]
    findings = _settle(found, live_pair, settings, declared, observed)
    for env in training:
        if env.role != "training" or env.observed:
            continue
        pair = Pair(env.name, observed.name, reason="training against the live environment")
        view = PairView(pair, EnvironmentView(env, knowledge), observed_view, knowledge, allow)
        findings.extend(_settle(_run(view, RULES, settings), pair, settings, env, observed))
    return sort_findings(findings)


def _allow(rules: RulesConfig) -> dict[str, tuple[str, ...]]:
    return {k.upper(): tuple(v) for k, v in rules.allow.items()}


def _ignored(rules: RulesConfig) -> set[str]:
    return {r.upper() for r in rules.ignore}


def _run(view: PairView, rule_set: Iterable[Rule], rules: RulesConfig) -> list[Finding]:
    ignored = _ignored(rules)
    return [f for rule in rule_set if rule.info.id not in ignored for f in rule.check(view)]


def _settle(
    found: list[Finding],
    pair: Pair,
    rules: RulesConfig,
    training: EnvironmentSnapshot,
    serving: EnvironmentSnapshot,
) -> list[Finding]:
    """The pair's findings with its parse errors, environment names and severity overrides."""
    ignored = _ignored(rules)
    overrides = {k.upper(): v for k, v in rules.severity.items() if v in SEVERITIES}
    out = []
    for f in [*found, *parse_error_findings(training, serving)]:
        if f.rule in ignored:
            continue
        # built directly: dataclasses.replace costs more than the rules on long histories
        out.append(
            Finding(
                status=f.status,
                kind=f.kind,
                item=f.item,
                severity=overrides.get(f.rule, f.severity),  # type: ignore[arg-type]
                rule=f.rule,
                message=f.message,
                training_env=pair.training,
                serving_env=pair.serving,
                training=f.training,
                serving=f.serving,
                file=f.file,
                line=f.line,
                evidence=f.evidence,
            )
        )
    return out


def parse_error_findings(*snapshots: EnvironmentSnapshot) -> list[Finding]:
    """One DA900 error per unreadable file of the pair (a shared file counts once)."""
    first: dict[str, ParseError] = {}
    sides: dict[str, list[str]] = {}
    for snapshot in snapshots:
        for fact in snapshot.of_type(ParseError):
            first.setdefault(fact.file, fact)
            if snapshot.role not in sides.setdefault(fact.file, []):
                sides[fact.file].append(snapshot.role)
    return [
        Finding(
            status="error",
            kind=kind_of_file(path),
            item=path,
            severity="low",
            rule=PARSE_ERROR_RULE,
            message=fact.message,
            training=fact.message if "training" in sides[path] else "",
            serving=fact.message if "serving" in sides[path] else "",
            file=path,
            line=fact.line,
        )
        for path, fact in first.items()
    ]


def kind_of_file(path: str) -> Kind:
    """The finding kind of an unreadable file, guessed from its name."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith((".py", ".ipynb")):
        return "code"
    if (
        name in _DEPENDENCY_FILES
        or name.endswith((".lock", ".in"))
        or (name.endswith(".txt") and ("requirements" in name or "constraints" in name))
    ):
        return "package"
    if name in _RUNTIME_FILES or name.startswith(("dockerfile", "containerfile")):
        return "runtime"
    if name.endswith((".dockerfile", ".containerfile")):
        return "runtime"
    return "config"


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (None when empty)."""
    ranked = [f for f in findings]
    severities = {f.severity for f in ranked}
    return next((s for s in SEVERITIES if s in severities), None)
