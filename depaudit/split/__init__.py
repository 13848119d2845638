"""``depaudit split``: the edit that removes a pair's package leftovers and drift.

Pure: :func:`plan_split` takes a tree's environments and findings (what ``check``
computes and ``collect`` stores) and the texts of the files to edit (a mapping path ->
text, :func:`files_to_read` names them) and returns a :class:`Proposal` — file edits,
items listed for a human (config keys, network targets), and flags (lock files, hashes,
files training installs too). It reads no file, runs no rule and imports no collector,
so the dashboard can call it with texts it was given. The application layer
(:mod:`depaudit.app.split`) reads the texts, checks every edit by parsing it again,
predicts the findings the edit removes by auditing the edited tree, and writes.

Modules: :mod:`~depaudit.split.planner` (what to change where),
:mod:`~depaudit.split.requirements_edit`, :mod:`~depaudit.split.toml_edit`,
:mod:`~depaudit.split.dockerfile_edit` (one editor per format),
:mod:`~depaudit.split.model` (the data), :mod:`~depaudit.split.render` (diff and JSON).
"""

from __future__ import annotations

from depaudit.split.model import (
    Change,
    Effect,
    FileEdit,
    FindingChange,
    Flag,
    Listed,
    Proposal,
)
from depaudit.split.planner import file_format, files_to_read, plan_split
from depaudit.split.render import file_diff, render_diff, render_json

__all__ = [
    "Change",
    "Effect",
    "FileEdit",
    "FindingChange",
    "Flag",
    "Listed",
    "Proposal",
    "file_diff",
    "file_format",
    "files_to_read",
    "plan_split",
    "render_diff",
    "render_json",
]
