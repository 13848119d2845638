"""Merged packages: what a base image installs yields to the environment's own installs."""

from __future__ import annotations

from depaudit.model import Package
from depaudit.rules.merged_packages import merged_packages
from tests.depaudit.rules.rulekit import env

IMAGE = Package("torch", "serving/Dockerfile", 1, version="2.1.0", manager="image")


def merged(*facts: Package) -> tuple[str, str, str]:
    pkg = merged_packages(env("serving", facts))["torch"]
    return pkg.version, pkg.specifier, f"{pkg.fact.file}:{pkg.fact.line}"


def test_the_image_version_stands_alone_and_under_an_unpinned_or_satisfied_declaration() -> None:
    assert merged(IMAGE) == ("2.1.0", "", "serving/Dockerfile:1")
    unpinned = Package("torch", "serving/requirements.txt", 4)
    assert merged(IMAGE, unpinned) == ("2.1.0", "", "serving/Dockerfile:1")
    satisfied = Package("torch", "serving/requirements.txt", 4, specifier=">=2.0")
    assert merged(IMAGE, satisfied) == ("2.1.0", ">=2.0", "serving/Dockerfile:1")


def test_a_pin_or_an_unsatisfied_range_of_the_files_overrides_the_image() -> None:
    pinned = Package("torch", "serving/requirements.txt", 4, specifier="==2.2.0", version="2.2.0")
    assert merged(IMAGE, pinned) == ("2.2.0", "==2.2.0", "serving/requirements.txt:4")
    upgraded = Package("torch", "serving/requirements.txt", 4, specifier=">=2.2")
    assert merged(IMAGE, upgraded) == ("", ">=2.2", "serving/requirements.txt:4")
    series = Package("torch", "serving/Dockerfile", 1, specifier="==2.1.*", manager="image")
    assert merged(series, upgraded) == ("", ">=2.2", "serving/requirements.txt:4")
