"""The rule registry: every rule, imported statically, in rule-id order.

A tuple of imports (as deptry's ``_VIOLATIONS_FINDERS``): a misspelt module is an
ImportError at start-up, never a silently missing rule. Metadata (ids, titles, kinds,
severities) comes from :mod:`depaudit.catalog`; a test checks that every catalog id is
produced by exactly one rule here or by the pipeline (DA900, DA901).
"""

from __future__ import annotations

from depaudit.rules import (
    base_image_drift,
    build_toolchain_in_serving,
    code_reaches_training,
    config_value_drift,
    gpu_requested_in_serving,
    gpu_toolchain_in_serving,
    incompatible_specifiers,
    inference_code_copies,
    live_broken_dependency,
    live_missing_package,
    live_undeclared_package,
    live_version_outside_specifier,
    one_sided_package,
    os_drift,
    other_network_targets,
    oversized_serving_resources,
    pinned_version_drift,
    python_version_drift,
    shared_config,
    shared_package,
    shared_runtime,
    shared_system_packages,
    tracker_host_in_serving,
    training_bucket_in_serving,
    training_call_in_serving,
    training_config_in_serving,
    training_library_in_serving_code,
    training_network_in_serving,
    training_only_usage_in_serving,
    training_package_in_serving,
    training_secret_in_serving_config,
    undeclared_serving_import,
    unpinned_in_serving,
    unused_serving_dependency,
)
from depaudit.rules.base import LiveRule, Rule

# Rules of a training x serving pair.
RULES: tuple[Rule, ...] = (
    training_package_in_serving.RULE,  # DA101
    pinned_version_drift.RULE,  # DA102
    incompatible_specifiers.RULE,  # DA103
    shared_package.RULE,  # DA104
    one_sided_package.RULE,  # DA105
    training_only_usage_in_serving.RULE,  # DA106
    unpinned_in_serving.RULE,  # DA107
    code_reaches_training.RULE,  # DA201
    training_library_in_serving_code.RULE,  # DA202
    training_call_in_serving.RULE,  # DA203
    undeclared_serving_import.RULE,  # DA204
    unused_serving_dependency.RULE,  # DA205
    *inference_code_copies.RULES,  # DA206, DA207
    training_secret_in_serving_config.RULE,  # DA301
    training_config_in_serving.RULE,  # DA302
    config_value_drift.RULE,  # DA303
    shared_config.RULE,  # DA304
    training_network_in_serving.RULE,  # DA401
    tracker_host_in_serving.RULE,  # DA402
    training_bucket_in_serving.RULE,  # DA403
    other_network_targets.RULE,  # DA404
    python_version_drift.RULE,  # DA501
    os_drift.RULE,  # DA502
    base_image_drift.RULE,  # DA503
    gpu_toolchain_in_serving.RULE,  # DA504
    gpu_requested_in_serving.RULE,  # DA505
    oversized_serving_resources.RULE,  # DA506
    shared_runtime.RULE,  # DA507
    build_toolchain_in_serving.RULE,  # DA601
    shared_system_packages.RULE,  # DA602
)

# Rules of a declared serving environment against a live (observed) one.
# The module details (CodeModule fields) only a few rules read, and those rules: a
# module's definitions (names, bodies, lines of functions and classes) and the calls it
# makes. Every other rule's findings follow from the rest of the facts, so a state that
# differs from the last only in these (a function added or edited, its calls with it)
# re-runs only the rules that read what changed.
DETAIL_RULES: dict[str, frozenset[str]] = {
    "definitions": frozenset(r.info.id for r in inference_code_copies.RULES),
    "calls": frozenset({training_call_in_serving.RULE.info.id}),
}

LIVE_RULES: tuple[LiveRule, ...] = (
    live_undeclared_package.RULE,  # DA701
    live_missing_package.RULE,  # DA702
    live_version_outside_specifier.RULE,  # DA703
    live_broken_dependency.RULE,  # DA704
)

__all__ = ["DETAIL_RULES", "LIVE_RULES", "RULES", "LiveRule", "Rule"]
