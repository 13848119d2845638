"""Every rule id depaudit can report, with its title, kind, default severity and summary.

This is the one source of rule metadata: the rule modules bind to their entry by id
(``rule_info("DA101")``), and reports, SARIF, the docs page and the dashboard read titles
from here. It imports only the model, so any layer may use it (the dashboard shows titles
without importing a rule). The long explanation of each id (what, why, example, fix) is
``depaudit/docs/rules.md``, shipped inside the package so an installed depaudit has it;
a test checks that its headings and this catalog agree both ways.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from depaudit.model import Kind, Severity


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str  # stable id, e.g. "DA101"; a "## DA101 — title" section in depaudit/docs/rules.md
    title: str  # short, e.g. "Training-only package in serving"
    kind: Kind
    severity: Severity  # default severity (rules may use a knowledge entry's severity instead)
    summary: str  # one sentence: what it finds and why it matters


RULE_INFOS: tuple[RuleInfo, ...] = (
    RuleInfo(
        "DA101",
        "Training-only package in serving",
        "package",
        "medium",
        "A package that only training, experiments or development need is installed in the serving environment.",
    ),
    RuleInfo(
        "DA102",
        "Pinned versions differ",
        "package",
        "low",
        "Training and serving pin or lock different versions of the same package.",
    ),
    RuleInfo(
        "DA103",
        "Specifiers with no common version",
        "package",
        "medium",
        "Training and serving require versions of a package that no single release satisfies.",
    ),
    RuleInfo(
        "DA104",
        "Package shared by training and serving",
        "package",
        "info",
        "Both environments declare the package with the same version or compatible requirements.",
    ),
    RuleInfo(
        "DA105",
        "Package on one side only",
        "package",
        "info",
        "A package is declared directly in only one of the two environments.",
    ),
    RuleInfo(
        "DA106",
        "Serving dependency only training code uses",
        "package",
        "medium",
        "A package the serving environment installs is imported only by training code or notebooks, never by code reachable from the serving entrypoints.",
    ),
    RuleInfo(
        "DA107",
        "Pinned in training, unpinned or looser in serving",
        "package",
        "low",
        "Training pins a version that serving leaves open: serving installs whatever release is newest when its image is built.",
    ),
    RuleInfo(
        "DA201",
        "Serving code imports training code",
        "code",
        "medium",
        "An import chain from a serving entrypoint ends in a training-only module, so the service ships and runs training code.",
    ),
    RuleInfo(
        "DA202",
        "Serving code imports a training library",
        "code",
        "medium",
        "Code reachable from a serving entrypoint imports a training-only library or a training API module (optuna, wandb, sklearn.model_selection, torch.optim...).",
    ),
    RuleInfo(
        "DA203",
        "Training call in serving code",
        "code",
        "low",
        "Code reachable from a serving entrypoint calls something that trains, tunes or tracks experiments (fit, fit_transform, backward, train_test_split, wandb.init...).",
    ),
    RuleInfo(
        "DA204",
        "Serving code imports an undeclared package",
        "code",
        "medium",
        "Code reachable from a serving entrypoint imports a third-party package that no serving dependency file declares: it works only while something else installs it. Imports guarded by try/except ImportError have a fallback and are not reported.",
    ),
    RuleInfo(
        "DA205",
        "Serving dependency no serving code imports",
        "code",
        "low",
        "A package the serving environment declares is imported by no serving code: a training leftover or dead weight in the image.",
    ),
    RuleInfo(
        "DA206",
        "Copied code in training and serving",
        "code",
        "info",
        "The same function or class is copied into training and serving code; it matches today, but copies drift: it should be one shared module both import.",
    ),
    RuleInfo(
        "DA207",
        "Diverged copies of inference code",
        "code",
        "medium",
        "A function or class copied into training and serving code has diverged: serving no longer computes what the model was trained on (training/serving skew).",
    ),
    RuleInfo(
        "DA301",
        "Training credential in serving config",
        "config",
        "high",
        "Serving configuration carries a credential or connection setting for a warehouse, tracker or training identity.",
    ),
    RuleInfo(
        "DA302",
        "Training-specific config key in serving",
        "config",
        "medium",
        "Serving configuration sets a key that only training uses (tracker settings, hyperparameters).",
    ),
    RuleInfo(
        "DA303",
        "Config value differs",
        "config",
        "low",
        "The same configuration key has a different value in training and serving.",
    ),
    RuleInfo(
        "DA304",
        "Config value shared",
        "config",
        "info",
        "The same configuration key has the same value in training and serving.",
    ),
    RuleInfo(
        "DA401",
        "Warehouse or internal network target in serving",
        "network",
        "high",
        "Serving reaches a data warehouse or an internal-network host that only training should reach.",
    ),
    RuleInfo(
        "DA402",
        "Experiment-tracker host in serving",
        "network",
        "medium",
        "Serving reaches an experiment-tracking service that only training runs report to.",
    ),
    RuleInfo(
        "DA403",
        "Training data bucket in serving",
        "network",
        "high",
        "Serving reaches a storage bucket that holds raw or training data.",
    ),
    RuleInfo(
        "DA404",
        "Other network targets",
        "network",
        "info",
        "Network targets that are not training-specific, listed per side so access can be reviewed.",
    ),
    RuleInfo(
        "DA501",
        "Python version differs",
        "runtime",
        "medium",
        "Training and serving run different Python versions.",
    ),
    RuleInfo(
        "DA502",
        "Operating system differs",
        "runtime",
        "medium",
        "Training and serving images are built on different OS families or releases.",
    ),
    RuleInfo(
        "DA503",
        "Base image differs",
        "runtime",
        "low",
        "Training and serving use different base images on the same OS.",
    ),
    RuleInfo(
        "DA504",
        "CUDA devel toolchain or training image in serving",
        "runtime",
        "medium",
        "The serving image is a CUDA devel or training image (compilers, notebooks) instead of a runtime image.",
    ),
    RuleInfo(
        "DA505",
        "GPU requested in serving",
        "resource",
        "medium",
        "The serving deployment requests GPUs, which are costly and usually only needed to train.",
    ),
    RuleInfo(
        "DA506",
        "Oversized CPU or memory in serving",
        "resource",
        "medium",
        "A serving CPU or memory request / limit exceeds the configured ceiling, as training jobs do.",
    ),
    RuleInfo(
        "DA507",
        "Runtime shared",
        "runtime",
        "info",
        "Training and serving run the same Python version, OS or base image.",
    ),
    RuleInfo(
        "DA601",
        "Build or GPU toolchain system package in serving",
        "system_package",
        "low",
        "The serving image installs compilers or GPU development toolchains that only builds and training need.",
    ),
    RuleInfo(
        "DA602",
        "System package on both sides",
        "system_package",
        "info",
        "A system package is installed in both images; pinned versions that differ are drift.",
    ),
    RuleInfo(
        "DA701",
        "Installed but not declared",
        "package",
        "medium",
        "A package is installed in the live environment but declared in no dependency file.",
    ),
    RuleInfo(
        "DA702",
        "Declared but not installed",
        "package",
        "medium",
        "A declared package is missing from the live environment.",
    ),
    RuleInfo(
        "DA703",
        "Installed version outside the declared specifier",
        "package",
        "medium",
        "The live environment has a version the dependency files do not allow.",
    ),
    RuleInfo(
        "DA704",
        "Broken dependency in the installed tree",
        "package",
        "medium",
        "An installed package's own requirement is missing or unsatisfied (pipdeptree conflict).",
    ),
    RuleInfo(
        "DA900",
        "File could not be read",
        "config",
        "low",
        "An environment file could not be read or parsed; its facts are missing from the comparison.",
    ),
    RuleInfo(
        "DA901",
        "Invalid depaudit configuration",
        "config",
        "low",
        "The repository's .depaudit.toml is invalid at this commit; conventions were used instead.",
    ),
)

_BY_ID: dict[str, RuleInfo] = {info.id: info for info in RULE_INFOS}
RULE_IDS: frozenset[str] = frozenset(_BY_ID)

# Ids produced outside the rule modules: by depaudit.compare (a file that could not be
# read) and by the audit of a tree (an invalid .depaudit.toml).
PARSE_ERROR_RULE = "DA900"
CONFIG_ERROR_RULE = "DA901"


def rule_info(rule_id: str) -> RuleInfo:
    """The metadata of ``rule_id`` (``"DA101"``, any case); KeyError for an unknown id, so
    a rule module that names a wrong id fails at import instead of going missing."""
    return _BY_ID[rule_id.upper()]


def rule_title(rule_id: str) -> str:
    """The title of ``rule_id``, or the id itself when unknown (an older store's id)."""
    info = _BY_ID.get(rule_id.upper())
    return info.title if info else rule_id


DOCS_URL_FRAGMENT = "depaudit/docs/rules.md"
_RULE_HEADING = re.compile(r"^#{2,3}\s+(DA\d{3})\b.*$", re.MULTILINE)


@functools.cache
def rules_doc() -> str:
    """The text of the rules documentation shipped with the package."""
    return resources.files("depaudit").joinpath("docs", "rules.md").read_text("utf-8")


def rules_doc_sections(text: str | None = None) -> dict[str, str]:
    """The rules documentation split at its ``## DA101 ...`` headings: id -> section body."""
    text = rules_doc() if text is None else text
    sections: dict[str, str] = {}
    matches = list(_RULE_HEADING.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        sections.setdefault(match.group(1), text[match.end() : end].strip())
    return sections
