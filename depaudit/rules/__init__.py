"""The rule registry: one module per rule id under ``depaudit.rules``.

Each module exports ``RULE`` (or ``RULES``, a tuple) implementing
:class:`depaudit.rules.base.Rule`. Modules are imported lazily on first use; a module
that does not exist yet in this checkout is skipped, like collectors.sources does.
Rules that are not modules (DA900 / DA901 are raised by compare and config, DA701-DA704
by the live collector) still have their metadata here, for docs, dashboard and SARIF.
"""

from __future__ import annotations

import functools
import importlib

from depaudit.rules.base import Rule, RuleInfo

# module names under depaudit.rules, in rule-id order
RULE_MODULES: tuple[str, ...] = (
    "training_package_in_serving",  # DA101
    "pinned_version_drift",  # DA102
    "incompatible_specifiers",  # DA103
    "shared_package",  # DA104
    "one_sided_package",  # DA105
    "code_reaches_training",  # DA201
    "training_library_in_serving_code",  # DA202
    "training_call_in_serving",  # DA203
    "undeclared_serving_import",  # DA204
    "unused_serving_dependency",  # DA205
    "inference_code_copies",  # DA206, DA207
    "training_secret_in_serving_config",  # DA301
    "training_config_in_serving",  # DA302
    "config_value_drift",  # DA303
    "shared_config",  # DA304
    "training_network_in_serving",  # DA401
    "tracker_host_in_serving",  # DA402
    "training_bucket_in_serving",  # DA403
    "other_network_targets",  # DA404
    "python_version_drift",  # DA501
    "os_drift",  # DA502
    "base_image_drift",  # DA503
    "gpu_toolchain_in_serving",  # DA504
    "gpu_requested_in_serving",  # DA505
    "oversized_serving_resources",  # DA506
    "shared_runtime",  # DA507
    "build_toolchain_in_serving",  # DA601
    "shared_system_packages",  # DA602
    "live_undeclared_package",  # DA701 (live pairs only)
    "live_missing_package",  # DA702
    "live_version_outside_specifier",  # DA703
    "live_broken_dependency",  # DA704
)

# Findings produced outside the rule modules.
CENTRAL_RULES: tuple[RuleInfo, ...] = (
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


@functools.cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule whose module exists, in rule-id order."""
    found: list[Rule] = []
    for name in RULE_MODULES:
        try:
            module = importlib.import_module(f"depaudit.rules.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"depaudit.rules.{name}":
                continue  # not built yet in this checkout
            raise
        rules = getattr(module, "RULES", None)
        found.extend(rules if rules is not None else (module.RULE,))
    return tuple(sorted(found, key=lambda r: r.info.id))


@functools.cache
def all_rule_infos() -> tuple[RuleInfo, ...]:
    """Metadata of every rule id depaudit can report, sorted by id."""
    infos = {info.id: info for info in CENTRAL_RULES}
    infos.update({rule.info.id: rule.info for rule in all_rules()})
    return tuple(sorted(infos.values(), key=lambda i: i.id))


def rule_info(rule_id: str) -> RuleInfo | None:
    """The metadata of ``rule_id`` (e.g. ``"DA101"``), or None if unknown."""
    wanted = rule_id.upper()
    return next((i for i in all_rule_infos() if i.id == wanted), None)


__all__ = ["CENTRAL_RULES", "RULE_MODULES", "all_rule_infos", "all_rules", "rule_info"]
