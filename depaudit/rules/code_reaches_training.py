"""DA201: serving code reaches a module that only the training environment has."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from depaudit.catalog import rule_info
from depaudit.code_graph import format_chain
from depaudit.model import Finding
from depaudit.rules.findings import finding
from depaudit.rules.view import PairView


class CodeReachesTraining:
    info = rule_info("DA201")

    def check(self, view: PairView) -> Iterator[Finding]:
        code = view.code
        training_only = code.training_only
        allow = set(view.allow(self.info.id))
        reached = [m for m in code.reach if m in training_only]
        # One finding per place where a chain *enters* training code; the training modules
        # it pulls in behind it are listed in the message rather than reported again.
        # Parent packages (``training/__init__.py``) are imported implicitly on the way to
        # ``training.features``: the finding names the module the code asked for.
        entries = {m: _entry_index(code.reach[m], training_only) for m in reached}
        for module in sorted(reached):
            chain = code.reach[module]
            at = entries[module]
            if at < 0 or module in allow:
                continue
            if any(
                other.startswith(module + ".")
                and entries[other] >= 0
                and code.reach[other][entries[other]].module == chain[at].module
                for other in reached
            ):
                continue  # a parent package of the module actually imported
            behind = sorted(
                m for m in reached if m != module and any(s.module == module for s in code.reach[m])
            )
            more = (
                f"; it pulls in {len(behind)} more training module(s): {', '.join(behind[:5])}"
                if behind
                else ""
            )
            entering = chain[at]
            entry_line = chain[at + 1].line
            yield finding(
                self.info,
                "leftover",
                module,
                f"serving code imports training module {module} ({chain[-1].file}) "
                f"from {entering.file}:{entry_line}{more}{code.note()}",
                training=chain[-1].file,
                serving=entering.module,
                file=entering.file,
                line=entry_line,
                evidence=format_chain(chain),
            )


def _entry_index(chain: Sequence[Any], training_only: Collection[str]) -> int:
    """Index of the serving-side module whose import enters training code, or -1.

    Walks back over the target's parent packages (implicitly imported ``__init__``s);
    -1 when the chain enters training code earlier, through another training module.
    """
    if len(chain) < 2:
        return -1
    target = chain[-1].module
    i = len(chain) - 2
    while i >= 0 and chain[i].module in training_only and target.startswith(chain[i].module + "."):
        i -= 1
    if i < 0 or chain[i].module in training_only:
        return -1
    return i


RULE = CodeReachesTraining()
