"""Known gaps: real-world fixture expectations today's semantics do not meet yet.

Each is marked ``xfail(strict=True)`` with what is missing, so the suite stays green while
the gap is open and fails the day a change closes it (then delete its line here). The
list is the open part of issue 11; keep it short and each reason specific.
"""

from __future__ import annotations

import pytest

# none open today: add "tests/realworld/test_x.py::test_y": "what is missing" entries here
KNOWN_GAPS: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        reason = KNOWN_GAPS.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known gap: {reason}"))
