"""DA203: a training-specific call (fit, train_test_split, wandb.init, .backward) in serving code."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.catalog import rule_info
from depaudit.code_graph import format_chain, training_call_key
from depaudit.model import CallRef, Finding
from depaudit.rules.findings import because, finding
from depaudit.rules.view import PairView


class TrainingCallInServing:
    info = rule_info("DA203")

    def check(self, view: PairView) -> Iterator[Finding]:
        code = view.code
        calls = view.knowledge.training_calls
        allow = set(view.allow(self.info.id))
        sites: dict[str, list[tuple[str, str, CallRef]]] = {}
        for mod in code.reached_serving():
            for call in mod.calls:
                key = training_call_key(call.name, calls)
                if key is None:
                    continue
                item = key.lstrip(".")  # ".fit" -> "fit"; "wandb.init" stays dotted
                if item in allow:
                    continue
                sites.setdefault(key, []).append((mod.module, mod.file, call))
        for key in sorted(sites):
            entry = calls[key]
            module, file, call = sites[key][0]
            where = ", ".join(f"{f}:{c.line}" for _, f, c in sites[key][:10])
            yield finding(
                self.info,
                "leftover",
                key.lstrip("."),
                f"serving code calls {call.name.lstrip('.')}() at {where}"
                f"{because(entry.reason)[:-1]}{code.note()}.",
                severity=entry.severity,
                serving=call.name,
                file=file,
                line=call.line,
                evidence=format_chain(code.reach[module])
                + f" calls {call.name}() at line {call.line}",
            )


RULE = TrainingCallInServing()
