"""Hypothesis profiles for the reliability and security tests.

``HYPOTHESIS_PROFILE=ci`` (default) keeps ``make test`` fast; ``HYPOTHESIS_PROFILE=fuzz``
(``make fuzz``) runs 2,000 examples per property. ``HYPOTHESIS_MAX_EXAMPLES`` overrides the
example count of either profile, for a run with a budget in between.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
_override = os.environ.get("HYPOTHESIS_MAX_EXAMPLES")

settings.register_profile(
    "ci",
    max_examples=int(_override or 60),
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    derandomize=True,  # the suite stays reproducible; `make fuzz` explores
    print_blob=True,
)
settings.register_profile(
    "fuzz",
    max_examples=int(_override or 2000),
    deadline=None,
    suppress_health_check=_SUPPRESSED,
    print_blob=True,
)
# Not ``settings.load_profile``: that would change the settings of every other test
# directory's properties in a full run. The tests here use ``FUZZ_SETTINGS`` explicitly.
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "fuzz"):
    PROFILE = "ci"
