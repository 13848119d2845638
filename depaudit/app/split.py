"""``depaudit split``: propose, check and apply the edit that separates a serving
environment from its training environment.

The pure planner (:mod:`depaudit.split`) decides the edit from the audit's findings and
the files' texts. This layer does what needs the repository:

1. audit the tree (:func:`depaudit.app.audit.audit_tree`, as ``check`` does) and pick the
   pair (``--project`` / ``--training`` / ``--serving``, or the only one);
2. read the texts of the serving environment's dependency files;
3. check every edit by parsing the edited text with the collector of its format: it must
   read back as the same facts with exactly the intended changes, or the edit (and any
   split it belongs to) is dropped and flagged;
4. predict its effect by auditing the edited tree in memory: the findings of the pair it
   removes and adds;
5. on ``--write``: refuse files with uncommitted changes (unless ``--force``), then write
   every file to a temporary file in its folder and rename them into place, after all
   were written — nothing is half-written, nothing is committed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from depaudit.app.audit import AuditCache, audit_tree
from depaudit.collectors.git import CommitTree, GitWorkTree, RepositoryError, open_tree, run_git
from depaudit.collectors.sources import source_for
from depaudit.collectors.tree import Tree, TreeEntry, TreeReadError
from depaudit.config import AuditConfig
from depaudit.entrypoints import build_analysis
from depaudit.model import (
    EnvironmentSnapshot,
    Fact,
    Finding,
    Include,
    Package,
    Pair,
    ParseError,
    Runtime,
    TreeAudit,
    fact_to_dict,
)
from depaudit.split import (
    Effect,
    FileEdit,
    FindingChange,
    Flag,
    PairEffect,
    Proposal,
    files_to_read,
    plan_split,
)
from depaudit.split.command_edit import repoint_all
from depaudit.split.model import FlagReason
from depaudit.split.planner import IGNORED_GROUPS, file_format

# the changes that name a package (the others name a file or an image)
PACKAGE_ACTIONS = frozenset({"remove", "pin", "declare"})

BOM = b"\xef\xbb\xbf"


class SplitError(Exception):
    """A proposal that cannot be made or written; the message is one line for the user."""


@dataclass(frozen=True)
class SplitResult:
    """A checked proposal and what is needed to write it."""

    proposal: Proposal
    root: Path | None  # the folder the tree's paths are relative to; None: git objects
    in_git: bool  # a git work tree: uncommitted changes can be told apart
    originals: dict[str, bytes] = field(default_factory=dict)  # bytes each edit was made from
    notice: str = ""


# ------------------------------------------------------------------------- pairs


def choose_pair(
    audit: TreeAudit,
    *,
    project: str | None = None,
    training: str | None = None,
    serving: str | None = None,
) -> Pair:
    """The one pair the options name (or the tree's only pair); SplitError listing the
    pairs otherwise."""
    pairs = list(audit.pairs)
    if not pairs:
        raise SplitError("no training x serving pair in this tree (depaudit check shows why)")
    chosen = [
        p
        for p in pairs
        if (project is None or p.project == project or (project == "." and not p.project))
        and (training is None or p.training == training)
        and (serving is None or p.serving == serving)
    ]
    if len(chosen) == 1:
        return chosen[0]
    if not chosen:
        raise SplitError(f"no pair matches the options; the pairs are: {_options(pairs)}")
    if project is training is serving is None:
        raise SplitError(f"this tree has {len(chosen)} pairs; choose one with: {_options(chosen)}")
    raise SplitError(f"{len(chosen)} pairs match the options; choose one with: {_options(chosen)}")


def _options(pairs: Sequence[Pair]) -> str:
    return "; ".join(
        f"--serving {p.serving} --training {p.training}"
        + (f" (--project {p.project})" if p.project else "")
        for p in pairs
    )


# ------------------------------------------------------------------------- trees


class _ListedTree:
    """A tree whose file list is read once (a work tree lists itself with git)."""

    def __init__(self, tree: Tree) -> None:
        self._tree = tree
        self._entries = tree.entries()

    def entries(self) -> list[TreeEntry]:
        return list(self._entries)

    def read(self, entry: TreeEntry) -> bytes:
        return self._tree.read(entry)


class _EditedTree:
    """A tree with the proposal applied, in memory: what the audit of the result sees."""

    def __init__(self, base: Tree, texts: dict[str, bytes]) -> None:
        self._base = base
        self._texts = texts

    def entries(self) -> list[TreeEntry]:
        out: list[TreeEntry] = []
        seen: set[str] = set()
        for entry in self._base.entries():
            seen.add(entry.path)
            data = self._texts.get(entry.path)
            if data is None:
                out.append(entry)
            else:
                out.append(TreeEntry(entry.path, _blob_id(data), len(data)))
        for path, data in sorted(self._texts.items()):
            if path not in seen:
                out.append(TreeEntry(path, _blob_id(data), len(data)))
        return out

    def read(self, entry: TreeEntry) -> bytes:
        data = self._texts.get(entry.path)
        return data if data is not None else self._base.read(entry)


def _blob_id(data: bytes) -> str:
    return "split:" + hashlib.sha256(data).hexdigest()


def _read_texts(
    tree: Tree, entries: Sequence[TreeEntry], wanted: Iterable[str]
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Texts (BOM removed) and bytes of the wanted regular files that are UTF-8."""
    by_path = {e.path: e for e in entries}
    texts: dict[str, str] = {}
    raw: dict[str, bytes] = {}
    for path in sorted(wanted):
        entry = by_path.get(path)
        if entry is None or entry.kind != "file":
            continue
        try:
            data = tree.read(entry)
        except (TreeReadError, OSError):
            continue
        if b"\x00" in data[:8192]:
            continue
        try:
            text = data.removeprefix(BOM).decode("utf-8")
        except UnicodeDecodeError:
            continue
        texts[path], raw[path] = text, data
    return texts, raw


def _encoded(edit: FileEdit, originals: dict[str, bytes]) -> bytes:
    data = edit.after.encode("utf-8")
    return BOM + data if originals.get(edit.path, b"").startswith(BOM) else data


# --------------------------------------------------------------------- proposal


def propose(
    path: str | Path,
    *,
    project: str | None = None,
    training: str | None = None,
    serving: str | None = None,
    config: AuditConfig | None = None,
    rev: str | None = None,
) -> SplitResult:
    """The checked proposal for one pair of the tree at ``path`` (its working tree, HEAD
    for a bare repository, or commit ``rev`` from git objects: a proposal to read, not to
    write)."""
    try:
        opened = open_tree(path, rev)
        tree = _ListedTree(opened.tree)
    except RepositoryError as exc:
        raise SplitError(str(exc)) from None
    cache = AuditCache()
    audit = audit_tree(tree, config=config, cache=cache)
    for err in audit.config_errors:
        raise SplitError(f"{err.file}: {err.message} (fix it first: the environments are guesses)")
    pair = choose_pair(audit, project=project, training=training, serving=serving)
    entries = tree.entries()
    texts, raw = _read_texts(tree, entries, files_to_read(audit.environments, pair))
    proposal = plan_split(
        audit.environments,
        pair,
        audit.findings,
        texts,
        tree_paths=[e.path for e in entries],
        starts=serving_starts(audit.environments, pair),
    )
    proposal = checked(proposal, raw)
    proposal = with_effect(proposal, tree, audit, pair, cache, raw, config)
    inner = opened.tree
    root = None if isinstance(inner, CommitTree) else Path(path)
    return SplitResult(
        proposal,
        root=root,
        in_git=isinstance(inner, GitWorkTree),
        originals={e.path: raw[e.path] for e in proposal.edits if e.path in raw},
        notice=opened.notice,
    )


def serving_starts(environments: Sequence[EnvironmentSnapshot], pair: Pair) -> list[str] | None:
    """The serving modules where execution starts, as the rules find them (its Dockerfile
    CMD, a compose / Kubernetes command, an app object), or None when none is found."""
    by_name = {e.name: e for e in environments}
    analysis = build_analysis(by_name[pair.training], by_name[pair.serving])
    return None if analysis.fallback else [s.module for s in analysis.starts]


def checked(proposal: Proposal, originals: dict[str, bytes]) -> Proposal:
    """The proposal without the edits that do not read back as intended (flagged)."""
    failed: dict[str, str] = {}
    for edit in proposal.edits:
        problem = read_back_problem(edit, originals)
        if problem:
            failed[edit.path] = (
                f"{edit.path}: not edited, the edit did not read back as intended ({problem})"
            )
    return dropped(proposal, failed, "not_safe")


def split_groups(proposal: Proposal) -> dict[str, set[str]]:
    """Each serving copy the proposal creates -> the copy and the files pointed at it: a
    split is one unit, made whole or not at all."""
    return {
        edit.path: {edit.path}
        | {
            e.path
            for e in proposal.edits
            for c in e.changes
            if c.action == "include" and c.item == edit.path
        }
        for edit in proposal.edits
        if edit.is_new
    }


def dropped(proposal: Proposal, failed: dict[str, str], reason: FlagReason) -> Proposal:
    """The proposal without the edits of ``failed`` (path -> why) and the rest of their
    splits; one flag per file not edited, listing the packages it would have changed."""
    if not failed:
        return proposal
    gone = set(failed)
    for group in split_groups(proposal).values():
        if group & gone:
            gone |= group
    # what was said about a copy that is not made no longer holds (its flags name it)
    copies = {e.path: _split_source(e) for e in proposal.edits if e.is_new and e.path in gone}
    flags = [
        f
        for f in proposal.flagged
        if f.file not in copies
        and not (f.reason in ("installer", "unpinned") and f.file in copies.values())
    ]
    kept: list[FileEdit] = []
    for edit in proposal.edits:
        if edit.path not in gone:
            kept.append(edit)
            continue
        why = failed.get(edit.path) or (
            f"{edit.path}: not edited, part of a split whose other file could not be made"
        )
        items = sorted({c.item for c in edit.changes if c.action in PACKAGE_ACTIONS})
        lines = sorted({c.line for c in edit.changes if c.line})
        flags.append(
            Flag(
                reason,
                ", ".join(items),
                copies.get(edit.path) or edit.path,  # a copy not made: the file it copied
                lines[0] if len(lines) == 1 else 0,
                why + (f" ({len(items)} packages: {', '.join(items)})" if len(items) > 1 else ""),
                tuple(sorted({r for c in edit.changes for r in c.rules})),
            )
        )
    return replace(proposal, edits=tuple(kept), flagged=tuple(flags))


def _normal(fact: Fact, repoints: Sequence[tuple[str, str]] = ()) -> tuple[str, ...]:
    """A fact without its line (edits move lines), for comparing files before and after;
    with every ``-r old`` of its values pointed at ``new`` for each of ``repoints``."""
    data = fact_to_dict(fact)
    data.pop("line", None)
    data.pop("file", None)
    for key, value in data.items():
        if isinstance(value, str):
            for old, new in repoints:
                value = repoint_all(value, old, new)
            data[key] = value
    return tuple(sorted(f"{k}={v}" for k, v in data.items()))


def read_back_problem(edit: FileEdit, originals: dict[str, bytes]) -> str:
    """Why the edited text does not parse to the original facts with exactly the intended
    changes, or "" when it does."""
    source = source_for(edit.path)
    if source is None:
        return "depaudit would not read the new file"
    reference = edit.before
    if reference is None:  # a split copy: compared with the file it copies
        split = next((c for c in edit.changes if c.action == "split"), None)
        if split is None or split.item not in originals:
            return "the file it copies is unknown"
        reference = originals[split.item].removeprefix(BOM).decode("utf-8")
    try:
        old = list(source.parse(reference, edit.path).facts)
        new = list(source.parse(edit.after, edit.path).facts)
    except Exception as exc:  # a parser bug must not take the proposal down
        return f"{type(exc).__name__} while reading it back"
    new_errors = Counter(f.message for f in new if isinstance(f, ParseError)) - Counter(
        f.message for f in old if isinstance(f, ParseError)
    )
    if new_errors:
        return f"it would not parse: {next(iter(new_errors))}"
    removed = {c.item for c in edit.changes if c.action == "remove"}
    pinned = {c.item: c.after for c in edit.changes if c.action == "pin"}
    declared = {c.item for c in edit.changes if c.action == "declare"}
    touched = removed | set(pinned) | declared
    repointed = any(c.action == "include" for c in edit.changes)
    image = any(c.action == "base_image" for c in edit.changes)
    # a spec's `pip install -r`: the values that named the original now name the copy
    commands: list[tuple[str, str]] = []
    if file_format(edit.path) == "other":
        commands = [(c.before, c.after) for c in edit.changes if c.action == "include"]
        repointed = False

    def kept(fact: Fact) -> bool:
        if isinstance(fact, ParseError):
            return False
        if isinstance(fact, Package):
            return canonicalize_name(fact.name) not in touched and not (
                image and fact.manager == "image"
            )
        if isinstance(fact, Include):
            return not repointed
        if isinstance(fact, Runtime):
            return not image
        return True

    expected = Counter(_normal(f, commands) for f in old if kept(f))
    if expected != Counter(_normal(f) for f in new if kept(f)):
        return "other lines would read differently"
    for fact in new:
        if not isinstance(fact, Package) or fact.group.lower() in IGNORED_GROUPS:
            continue
        name = canonicalize_name(fact.name)
        if name in removed:
            return f"{name} is still declared"
        if name in pinned and fact.manager != "image" and not fact.version and "==" in pinned[name]:
            return f"{name} is not pinned"
    names = {canonicalize_name(f.name) for f in new if isinstance(f, Package)}
    if declared - names:
        return f"{', '.join(sorted(declared - names))} is not declared"
    if image and any(
        f.item == "cuda" and "devel" in f.detail.lower() for f in new if isinstance(f, Runtime)
    ):
        return "the image is still a devel image"
    return ""


def with_effect(
    proposal: Proposal,
    tree: Tree,
    before: TreeAudit,
    pair: Pair,
    cache: AuditCache,
    originals: dict[str, bytes],
    config: AuditConfig | None,
) -> Proposal:
    """The proposal with the findings of ``pair`` it removes and adds, from an audit of
    the edited tree.

    A serving copy must be read as serving's and nobody else's after the edit (its name
    places it by depaudit's conventions or the config's globs): a copy that is not, with
    the files pointed at it, is dropped and flagged, and the edited tree audited again.
    A split file that is still serving's afterwards (by its place) is flagged; so is an
    edit that changes which environments or pairs there are.
    """
    while True:
        if proposal.is_empty:
            return replace(proposal, effect=Effect())
        edited = _EditedTree(tree, {e.path: _encoded(e, originals) for e in proposal.edits})
        after = audit_tree(edited, config=config, cache=cache)
        misplaced, useless = _misplaced_copies(proposal, after, pair)
        if not misplaced and not useless:
            break
        proposal = dropped(dropped(proposal, misplaced, "environments"), useless, "shared")
    flags = list(proposal.flagged) + _still_placed(proposal, after, pair)
    shape = [(e.name, e.role) for e in before.environments]
    new_shape = [(e.name, e.role) for e in after.environments]
    if shape != new_shape or [(p.training, p.serving) for p in before.pairs] != [
        (p.training, p.serving) for p in after.pairs
    ]:
        flags.append(
            Flag(
                "environments",
                pair.serving,
                "",
                0,
                "after this edit depaudit would find other environments or pairs "
                f"({', '.join(n for n, _ in new_shape)}): check the new file's name and place",
            )
        )
    return replace(
        proposal,
        effect=Effect(
            removed=_difference(before.findings, after.findings, pair),
            added=_difference(after.findings, before.findings, pair),
            other_pairs=tuple(
                effect
                for other in sorted(
                    {(p.training, p.serving) for p in (*before.pairs, *after.pairs)}
                    - {(pair.training, pair.serving)}
                )
                if (effect := _pair_effect(before, after, Pair(*other))).removed or effect.added
            ),
        ),
        flagged=tuple(flags),
    )


def _reads(env: EnvironmentSnapshot, path: str) -> bool:
    """True if ``env`` has ``path`` among its files or facts from it."""
    return any(a.path == path for a in env.files) or any(
        getattr(f, "file", "") == path for f in env.facts
    )


def _split_source(edit: FileEdit) -> str:
    return next((c.item for c in edit.changes if c.action == "split"), "")


def _misplaced_copies(
    proposal: Proposal, after: TreeAudit, pair: Pair
) -> tuple[dict[str, str], dict[str, str]]:
    """Serving copies that would not replace the file they copy -> why: those the edited
    tree's audit does not read as serving's alone (misplaced), and those nothing was
    pointed at while the original stays serving's (useless)."""
    envs = {e.name: e for e in after.environments}
    serving = envs.get(pair.serving)
    groups = split_groups(proposal)
    out: dict[str, str] = {}
    useless: dict[str, str] = {}
    for edit in proposal.edits:
        if not edit.is_new:
            continue
        source = _split_source(edit)
        if serving is None or not _reads(serving, edit.path):
            out[edit.path] = (
                f"{edit.path}: not written, depaudit would not read it as {pair.serving}'s "
                f"(its name or place puts it elsewhere): give {pair.serving} its own copy "
                f"of {source} by hand, or name the environments in .depaudit.toml"
            )
            continue
        others = sorted(n for n, e in envs.items() if n != pair.serving and _reads(e, edit.path))
        if others:
            out[edit.path] = (
                f"{edit.path}: not written, depaudit would read it as {', '.join(others)}'s "
                f"too: give {pair.serving} its own copy of {source} by hand, or name the "
                "environments in .depaudit.toml"
            )
            continue
        repointed = groups.get(edit.path, set()) - {edit.path}
        if not repointed and _reads(serving, source):
            # nothing was pointed at the copy and the original stays serving's: the copy
            # would change neither what serving installs nor what depaudit reports
            reason = next((a.reason for a in serving.files if a.path == source), "an include")
            useless[edit.path] = (
                f"{source}: not split, it stays {pair.serving}'s whatever its copy ({reason}) "
                f"and nothing that installs it for {pair.serving} could be pointed at a copy: "
                f"give {pair.serving} its own dependency file to make these changes in"
            )
    return out, useless


def _still_placed(proposal: Proposal, after: TreeAudit, pair: Pair) -> list[Flag]:
    """A flag for each split file serving still reads after the edit (by its place)."""
    serving = next((e for e in after.environments if e.name == pair.serving), None)
    if serving is None:
        return []
    out: list[Flag] = []
    for edit in proposal.edits:
        source = _split_source(edit)
        if not edit.is_new or not source or not _reads(serving, source):
            continue
        reason = next((a.reason for a in serving.files if a.path == source), "an include")
        out.append(
            Flag(
                "location",
                source,
                source,
                0,
                f"{source} is still {pair.serving}'s after the edit ({reason}): depaudit "
                "keeps reporting its packages until it is not (move it, or name the "
                "environments in .depaudit.toml)",
            )
        )
    return out


def _pair_effect(before: TreeAudit, after: TreeAudit, pair: Pair) -> PairEffect:
    return PairEffect(
        pair.training,
        pair.serving,
        _difference(before.findings, after.findings, pair),
        _difference(after.findings, before.findings, pair),
    )


def _identity(f: Finding) -> tuple[str, str, str, str]:
    return (f.rule, f.status, f.kind, f.item)


def _difference(
    left: Sequence[Finding], right: Sequence[Finding], pair: Pair
) -> tuple[FindingChange, ...]:
    """Findings of ``pair`` in ``left`` whose identity is not in ``right``."""

    def of_pair(findings: Sequence[Finding]) -> list[Finding]:
        return [
            f for f in findings if (f.training_env, f.serving_env) == (pair.training, pair.serving)
        ]

    others = {_identity(f) for f in of_pair(right)}
    out = {
        FindingChange(f.rule, f.status, f.kind, f.item, f.severity)
        for f in of_pair(left)
        if _identity(f) not in others
    }
    return tuple(sorted(out, key=lambda c: (c.rule, c.item, c.status)))


# ------------------------------------------------------------------------- write


def write(result: SplitResult, *, force: bool = False) -> list[str]:
    """Apply the proposal to the working tree; the paths written. SplitError, with nothing
    written, when a file has uncommitted changes (unless ``force``), changed since it was
    read, or cannot be written."""
    edits = result.proposal.edits
    if not edits:
        return []
    if result.root is None:
        raise SplitError(
            "this tree was read from git objects (a bare repository): nothing to write to"
        )
    root = result.root
    if not result.in_git and not force:
        raise SplitError(
            f"{root} is not a git work tree: nothing could restore the files; pass --force to write anyway"
        )
    for edit in edits:
        target = root / edit.path
        if edit.is_new:
            if os.path.lexists(target):
                raise SplitError(f"{edit.path} already exists; not overwritten")
            continue
        try:
            info = os.lstat(target)
        except OSError as exc:
            raise SplitError(f"{edit.path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise SplitError(f"{edit.path} is not a regular file; not written")
        if target.read_bytes() != result.originals.get(edit.path):
            raise SplitError(f"{edit.path} changed while split was reading it; run it again")
    if result.in_git and not force:
        dirty = _uncommitted(root, [e.path for e in edits if not e.is_new])
        if dirty:
            raise SplitError(
                f"{', '.join(dirty)} {'has' if len(dirty) == 1 else 'have'} uncommitted "
                "changes: commit or stash them first, or pass --force"
            )
    temps: list[tuple[str, Path]] = []
    try:
        for edit in edits:
            temps.append(
                (edit.path, _temp_copy(root / edit.path, _encoded(edit, result.originals)))
            )
    except OSError as exc:
        for _, temp in temps:
            temp.unlink(missing_ok=True)
        raise SplitError(
            f"cannot write {edit.path}: {exc.strerror or exc}; nothing was changed"
        ) from None
    for path, temp in temps:
        os.replace(temp, root / path)
    return [path for path, _ in temps]


def _temp_copy(target: Path, data: bytes) -> Path:
    """``data`` in a temporary file next to ``target``, with ``target``'s mode."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".split")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.lstat(target).st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temp, mode)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _uncommitted(root: Path, paths: Sequence[str]) -> list[str]:
    """The paths git reports as modified, staged or untracked."""
    dirty: list[str] = []
    for path in paths:
        proc = run_git(["status", "--porcelain", "-z", "--untracked-files=all", "--", path], root)
        if proc.returncode != 0:
            raise SplitError(
                f"{path}: git status failed, cannot tell whether it has uncommitted changes"
            )
        if proc.stdout.strip(b"\0").strip():
            dirty.append(path)
    return dirty
