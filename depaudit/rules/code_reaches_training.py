"""DA201: serving code reaches a module that only the training environment has."""

from __future__ import annotations

from collections.abc import Iterator

from depaudit.code_graph import format_chain
from depaudit.entrypoints import analyse
from depaudit.model import Finding
from depaudit.rules.base import RuleContext, RuleInfo
from depaudit.rules.findings import finding


class CodeReachesTraining:
    info = RuleInfo(
        id="DA201",
        title="Serving code imports training code",
        kind="code",
        severity="medium",
        summary="An import chain from a serving entrypoint ends in a training-only module, "
        "so the service ships and runs training code.",
    )

    def check(self, ctx: RuleContext) -> Iterator[Finding]:
        code = analyse(ctx.training, ctx.serving)
        training_only = code.training_only
        allow = set(ctx.allow(self.info.id))
        reached = [m for m in code.reach if m in training_only]
        # One finding per place where a chain *enters* training code; the training modules
        # it pulls in behind it are listed in the message rather than reported again.
        for module in sorted(reached):
            chain = code.reach[module]
            if len(chain) < 2 or chain[-2].module in training_only or module in allow:
                continue
            behind = sorted(
                m for m in reached if m != module and any(s.module == module for s in code.reach[m])
            )
            more = (
                f"; it pulls in {len(behind)} more training module(s): {', '.join(behind[:5])}"
                if behind
                else ""
            )
            entering = chain[-2]
            yield finding(
                self.info,
                "leftover",
                module,
                f"serving code imports training module {module} ({chain[-1].file}) "
                f"from {entering.file}:{chain[-1].line}{more}{code.note()}",
                training=chain[-1].file,
                serving=entering.module,
                file=entering.file,
                line=chain[-1].line,
                evidence=format_chain(chain),
            )


RULE = CodeReachesTraining()
