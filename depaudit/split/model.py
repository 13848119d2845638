"""What a split proposal is made of: file edits, items listed for a human, flags.

Plain frozen dataclasses with a JSON form (:meth:`Proposal.to_dict` /
:meth:`Proposal.from_dict`), so a proposal can be printed, stored with a commit's state and
shown later by a reader that has no access to the repository's files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["remove", "pin", "declare", "base_image", "split", "include"]
ACTIONS: tuple[Action, ...] = ("remove", "pin", "declare", "base_image", "split", "include")

# Why an item needs a human instead of an edit (the ``reason`` of a :class:`Flag`).
FlagReason = Literal[
    "hashes",  # a pin change in a file with --hash lines: new hashes cannot be guessed
    "lock",  # a lock file records the old state: regenerate it
    "generated",  # a pip-compile output: regenerate it from its input
    "transitive",  # serving gets the package only through another one: left alone
    "image",  # serving's version comes from its base image
    "imported",  # serving code imports the package: removing it would break the service
    "shared",  # a file training installs too, that this proposal cannot split
    "location",  # a split file stays in serving by depaudit's placement (root, config)
    "unparseable",  # depaudit could not read the file: left untouched
    "unreadable",  # no text for the file (binary, not UTF-8, missing)
    "unsupported",  # a format split does not edit (conda, setup.cfg, notebooks)
    "url",  # a URL / VCS / editable requirement: no version to pin
    "no_target",  # nowhere to declare the package
    "unpinned",  # declared without a version: training has none to copy
    "not_safe",  # the edit could not be made or checked safely
    "environments",  # the edit would change which files belong to which environment
]


@dataclass(frozen=True, slots=True)
class Change:
    """One edit in one file, and the findings it answers."""

    action: Action
    item: str  # package name, image reference, or the shared file being split
    file: str  # the file edited (for ``split``: the new file)
    line: int  # line in the file as it was (0: appended, or a new file)
    before: str = ""  # as written before ("wandb==0.16.3"); "" when added
    after: str = ""  # as written after; "" when removed
    rules: tuple[str, ...] = ()  # the rule ids of the findings this change answers
    note: str = ""


@dataclass(frozen=True, slots=True)
class FileEdit:
    """The new text of one file; ``before`` is None for a file the proposal creates."""

    path: str
    before: str | None
    after: str
    changes: tuple[Change, ...] = ()

    @property
    def is_new(self) -> bool:
        return self.before is None


@dataclass(frozen=True, slots=True)
class Listed:
    """A training leftover the proposal does not edit (config keys, network targets):
    deleting a setting silently could break the service, so it is shown to a human."""

    rule: str
    kind: str
    item: str
    file: str
    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the proposal could not do by itself, and what to do instead."""

    reason: FlagReason
    item: str
    file: str
    line: int
    message: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingChange:
    """A finding of the pair the proposal removes or adds (predicted by auditing the
    edited tree)."""

    rule: str
    status: str
    kind: str
    item: str
    severity: str


@dataclass(frozen=True, slots=True)
class Effect:
    removed: tuple[FindingChange, ...] = ()
    added: tuple[FindingChange, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """The edits that separate one serving environment from its training environment."""

    training: str
    serving: str
    project: str = ""
    edits: tuple[FileEdit, ...] = ()
    listed: tuple[Listed, ...] = ()
    flagged: tuple[Flag, ...] = ()
    effect: Effect | None = None  # None until the edited tree has been audited
    notes: tuple[str, ...] = field(default=())

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for e in self.edits for c in e.changes)

    @property
    def is_empty(self) -> bool:
        return not self.edits

    def to_dict(self, *, diffs: Mapping[str, str] | None = None) -> dict[str, Any]:
        """JSON-ready form. File texts are left out (they may hold secrets); ``diffs``
        (path -> masked unified diff, see :func:`depaudit.split.render.file_diff`) are
        put next to each edit when given."""
        return {
            "pair": {"training": self.training, "serving": self.serving, "project": self.project},
            "edits": [
                {
                    "path": e.path,
                    "new_file": e.is_new,
                    "changes": [asdict(c) for c in e.changes],
                    **({"diff": diffs[e.path]} if diffs and e.path in diffs else {}),
                }
                for e in self.edits
            ],
            "listed": [asdict(item) for item in self.listed],
            "flagged": [asdict(flag) for flag in self.flagged],
            "effect": None
            if self.effect is None
            else {
                "removed": [asdict(f) for f in self.effect.removed],
                "added": [asdict(f) for f in self.effect.added],
            },
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proposal:
        """The proposal as stored (edits without their texts: ``before`` and ``after``
        are empty, the changes and any diff say what the edit is)."""
        pair = data.get("pair", {})
        effect = data.get("effect")
        return cls(
            training=str(pair.get("training", "")),
            serving=str(pair.get("serving", "")),
            project=str(pair.get("project", "")),
            edits=tuple(
                FileEdit(
                    path=e["path"],
                    before=None if e.get("new_file") else "",
                    after="",
                    changes=tuple(_change(c) for c in e.get("changes", [])),
                )
                for e in data.get("edits", [])
            ),
            listed=tuple(Listed(**item) for item in data.get("listed", [])),
            flagged=tuple(
                Flag(**{**flag, "rules": tuple(flag.get("rules", ()))})
                for flag in data.get("flagged", [])
            ),
            effect=None
            if effect is None
            else Effect(
                removed=tuple(FindingChange(**f) for f in effect.get("removed", [])),
                added=tuple(FindingChange(**f) for f in effect.get("added", [])),
            ),
            notes=tuple(data.get("notes", ())),
        )


def _change(data: Mapping[str, Any]) -> Change:
    return Change(**{**data, "rules": tuple(data.get("rules", ()))})
