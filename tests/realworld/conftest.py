"""Known gaps: real-world fixture expectations today's semantics do not meet yet.

Each is marked ``xfail(strict=True)`` with what is missing, so the suite stays green while
the gap is open and fails the day a change closes it (then delete its line here). The
list is the open part of issue 11; keep it short and each reason specific.
"""

from __future__ import annotations

import pytest

_F = "tests/realworld/"
KNOWN_GAPS: dict[str, str] = {
    # F2: hydra-colorlog is loaded by Hydra from config (``hydra/job_logging: colorlog``),
    # never imported, so usage cannot see that only training needs it
    _F + "test_rw_f2_shared_requirements.py::test_exact_package_and_runtime_leftovers_and_drift": (
        "a plugin Hydra loads from config is not seen as used by training"
    ),
    # F4: a project-folder Dockerfile that runs `pipenv install --deploy` is shared by the
    # notebook side instead of belonging to the serving side that installs the lock
    _F + "test_rw_f4_notebook_training.py::test_what_the_dockerfile_installs_is_serving_only": (
        "a Dockerfile in a project folder is shared, not given to the side whose entrypoint it runs"
    ),
    _F + "test_rw_f4_notebook_training.py::test_exact_package_and_runtime_leftovers_and_drift": (
        "drift evidence points at the Pipfile, not the Pipfile.lock line that pins the version"
    ),
    # F7: the training Dockerfile installs serving's requirements file too, so a package
    # pinned in training and unpinned in serving is reported as a usage leftover instead
    # of DA107 drift, and pandas' training-only usage is not linked to the script
    **{
        _F + f"test_rw_f7_training_installs_serving_file.py::{name}": (
            "a file installed by both sides: usage judged before the pin comparison"
        )
        for name in (
            "test_exact_package_and_runtime_leftovers_and_drift",
            "test_ktext_is_drift_with_training_pin_not_shared",
            "test_pandas_evidence_is_the_training_script",
            "test_what_serving_uses_is_not_a_leftover",
        )
    },
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        reason = KNOWN_GAPS.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known gap: {reason}"))
