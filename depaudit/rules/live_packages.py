"""Shared helpers of the live rules DA701-DA704 (declared serving vs observed serving).

A live rule's :class:`~depaudit.rules.base.LiveContext` holds the *declared* serving
environment and the *observed* (pipdeptree) one; they run only in that pairing.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from depaudit.model import EnvironmentSnapshot, Package
from depaudit.rules.runtime_facts import preferred

# Installers every virtualenv has; nobody declares them and they are not served.
PACKAGING_TOOLS = frozenset({"pip", "setuptools", "wheel", "pkg-resources", "distribute"})


@dataclass(frozen=True, slots=True)
class Installed:
    name: str
    version: str
    top_level: bool
    fact: Package


def installed(snapshot: EnvironmentSnapshot) -> dict[str, Installed]:
    """Canonical name -> installed package of an observed snapshot."""
    out: dict[str, Installed] = {}
    for fact in snapshot.of_type(Package):
        if fact.origin == "installed" and fact.name not in out:
            out[fact.name] = Installed(fact.name, fact.version, fact.direct, fact)
    return out


def marker_applies(marker: str, observed: EnvironmentSnapshot) -> bool:
    """Whether a declared marker holds in the observed environment.

    The observed interpreter's Python version replaces this machine's; other marker
    variables (platform, implementation) are this machine's, which is right for
    ``--python`` and a fair guess for a captured file. An invalid marker counts as not
    applying: we only claim a package is missing when we can show it should be there.
    """
    if not marker.strip():
        return True
    env: dict[str, str] = {}
    python = preferred(observed, "python")
    if python is not None and python.value[:1].isdigit():
        parts = python.value.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python.value
    try:
        return bool(Marker(marker).evaluate(env or None))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName, ValueError):
        return False


def observed_label(pkg: Installed) -> str:
    return pkg.version or "installed"
