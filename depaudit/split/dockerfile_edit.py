"""Edits of Dockerfiles: package words of ``pip install`` lines, the CUDA base image,
and the paths of a requirements file that serving now installs from its own copy.

The unit is one instruction (its physical lines, continuations included). A ``RUN`` is
read into shell words and commands (``&&`` / ``;``) by a small scanner that knows quotes,
escapes and Dockerfile continuations; anything it does not understand (heredocs, command
substitution, subshells, ``||`` / ``|`` chains, the ``# escape=`` directive) is left
alone and flagged, never guessed. Removing the last package of an install removes that
command, and removing the last command removes the instruction. Every edited Dockerfile
is parsed again by the application layer before anything is written.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from depaudit.pip_options import PIP_VALUE_OPTIONS
from depaudit.secrets import scrub
from depaudit.split.model import Change, Flag
from depaudit.split.requirements_edit import EditResult, repin

_INSTALL_SOURCES = frozenset({"-r", "--requirement", "-e", "--editable"})
_PREFIX_WORDS = frozenset({"sudo", "env", "exec", "time", "nohup", "command"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_SPECIAL = re.compile(r"[\s<>|&;()$`'\"\\*?]")
_ESCAPE_DIRECTIVE = re.compile(r"^\s*#\s*escape\s*=", re.IGNORECASE)
_RUNTIME_TWINS = ("nvidia/cuda", "pytorch/pytorch")


@dataclass(frozen=True, slots=True)
class DockerOp:
    """``remove`` / ``pin`` a package word of the ``RUN`` at ``line``; ``runtime``: the
    ``FROM`` at ``line`` to its ``-runtime`` twin; ``repoint``: COPY sources and ``-r``
    words naming the file ``old`` (repo-relative) to its sibling ``new``."""

    kind: Literal["remove", "pin", "runtime", "repoint"]
    name: str = ""
    line: int = 0
    spec: str = ""
    old: str = ""
    new: str = ""
    rules: tuple[str, ...] = ()


class _Unsupported(Exception):
    """Shell the scanner does not read; the message says what."""


@dataclass
class _Word:
    raw: str  # as written, quotes included
    value: str  # quotes removed
    start: int  # offsets in the instruction's text
    end: int


@dataclass
class _Command:
    words: list[_Word]
    op_before: str = ""
    op_after: str = ""


def _body(line: str) -> str:
    parts = line.splitlines()
    return parts[0] if parts else ""


def _is_skipped(line: str) -> bool:
    """A comment or blank line inside a continued instruction (Docker drops it)."""
    stripped = _body(line).strip()
    return not stripped or stripped.startswith("#")


def instruction_spans(lines: list[str]) -> list[tuple[int, int]]:
    """[start, end) line indexes of every instruction (continuations followed)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if _is_skipped(lines[i]):
            i += 1
            continue
        start = i
        while i < len(lines):
            continued = _body(lines[i]).rstrip().endswith("\\")
            i += 1
            if not continued:
                break
            while i < len(lines) and _is_skipped(lines[i]):
                i += 1
        out.append((start, i))
    return out


def _scan(block: str) -> list[_Command]:
    """The commands of a RUN instruction's text (first word: ``RUN``)."""
    commands: list[_Command] = [_Command([])]
    i, n = 0, len(block)
    word_start = -1
    raw: list[str] = []
    value: list[str] = []

    def finish(at: int) -> None:
        nonlocal word_start
        if word_start >= 0:
            commands[-1].words.append(_Word("".join(raw), "".join(value), word_start, at))
        word_start = -1
        raw.clear()
        value.clear()

    def begin(at: int) -> None:
        nonlocal word_start
        if word_start < 0:
            word_start = at

    while i < n:
        ch = block[i]
        if ch == "\\" and block.startswith(("\\\n", "\\\r\n"), i):
            finish(i)
            i = block.index("\n", i) + 1
            while i < n:  # comment and blank lines inside the continuation
                eol = block.find("\n", i)
                eol = n if eol < 0 else eol + 1
                if not _is_skipped(block[i:eol]):
                    break
                if block[i:eol].strip():
                    raise _Unsupported("a comment inside a continued RUN")
                i = eol
            continue
        if ch in " \t\r\n":
            finish(i)
            i += 1
            continue
        if ch == "\\":
            begin(i)
            raw.append(block[i : i + 2])
            value.append(block[i + 1 : i + 2])
            i += 2
            continue
        if ch in "'\"":
            end = _quote_end(block, i)
            begin(i)
            raw.append(block[i:end])
            inner = block[i + 1 : end - 1]
            value.append(inner if ch == "'" else re.sub(r"\\(.)", r"\1", inner))
            i = end
            continue
        if ch == "`" or block.startswith("$(", i):
            raise _Unsupported("command substitution")
        if block.startswith("<<", i):
            raise _Unsupported("a heredoc")
        if ch in "()":
            raise _Unsupported("a subshell")
        if ch == "#" and word_start < 0:
            raise _Unsupported("a shell comment")
        if ch in "&|;":
            finish(i)
            op = block[i : i + 2] if block[i : i + 2] in ("&&", "||") else ch
            commands[-1].op_after = op
            commands.append(_Command([], op_before=op))
            i += len(op)
            continue
        begin(i)
        raw.append(ch)
        value.append(ch)
        i += 1
    finish(n)
    return [c for c in commands if c.words]


def programs(words: list[str]) -> list[str]:
    """The programs a shell command's words run: its first word after ``sudo`` / ``env``
    and ``NAME=value``, and the module of ``python -m MODULE``."""
    while words and (words[0] in _PREFIX_WORDS or _ASSIGNMENT.match(words[0])):
        words = words[1:]
    if not words:
        return []
    first = posixpath.basename(words[0])
    out = [first]
    if first.startswith("python") and "-m" in words[1:-1]:
        out.append(words[words.index("-m", 1) + 1].split(".")[0])
    return out


def programs_run(text: str) -> list[tuple[int, str]]:
    """(line, program) of every command the ``RUN``, ``CMD`` and ``ENTRYPOINT`` lines of a
    Dockerfile run: a package whose program a later step runs (``RUN dvc pull``) is
    needed to build or start the image."""
    lines = text.splitlines(keepends=True)
    out: list[tuple[int, str]] = []
    for start, end in instruction_spans(lines):
        block = "".join(lines[start:end])
        keyword = block.split(None, 1)[0].upper() if block.strip() else ""
        if keyword not in ("RUN", "CMD", "ENTRYPOINT"):
            continue
        body = block.strip()[len(keyword) :].strip()
        if body.startswith("["):  # exec form: a JSON list
            words = [w.strip(" \"'") for w in body.strip("[] \n").split(",")]
            out.extend((start + 1, p) for p in programs([w for w in words if w]))
            continue
        try:
            commands = [[w.value for w in c.words] for c in _scan(block)]
            if commands and keyword == "RUN":
                commands[0] = commands[0][1:]
                while commands[0] and commands[0][0].startswith("--"):
                    commands[0] = commands[0][1:]
            elif commands:
                commands[0] = commands[0][1:]
        except _Unsupported:
            commands = [c.split() for c in re.split(r"&&|\|\||;|\|", body)]
        for words in commands:
            out.extend((start + 1, p) for p in programs(words))
    return out


def _quote_end(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise _Unsupported("an unterminated quote")


@dataclass
class _Install:
    command: _Command
    packages: list[_Word]  # positional arguments: what pip installs
    sources: int  # -r / -e options: installs too


def _install_of(command: _Command, first: bool) -> _Install | None:
    words = list(command.words)
    if first:  # RUN and its flags (--mount=..., --network=...)
        words = words[1:]
        while words and words[0].value.startswith("--"):
            words = words[1:]
    while words and (words[0].value in _PREFIX_WORDS or _ASSIGNMENT.match(words[0].value)):
        words = words[1:]
    values = [w.value for w in words]
    prog = posixpath.basename(values[0]) if values else ""
    rest: list[_Word]
    if re.fullmatch(r"python(\d(\.\d+)?)?", prog) and values[1:3] == ["-m", "pip"]:
        prog, words = "pip", words[3:]
        values = values[3:]
        rest = words[1:] if values[:1] == ["install"] else []
    elif re.fullmatch(r"pip(\d(\.\d+)?)?", prog) and values[1:2] == ["install"]:
        rest = words[2:]
    elif prog == "uv" and values[1:3] == ["pip", "install"]:
        rest = words[3:]
    else:
        return None
    if not rest and prog != "pip":
        return None
    packages: list[_Word] = []
    sources = 0
    i = 0
    while i < len(rest):
        word = rest[i].value
        if word.startswith("--") and "=" in word:
            sources += word.split("=", 1)[0] in _INSTALL_SOURCES
        elif word in PIP_VALUE_OPTIONS:
            sources += word in _INSTALL_SOURCES
            i += 1
        elif word.startswith("-") and not word.startswith("--") and word[:2] in PIP_VALUE_OPTIONS:
            sources += word[:2] in _INSTALL_SOURCES and len(word) > 2
        elif not word.startswith("-"):
            packages.append(rest[i])
        i += 1
    return _Install(command, packages, sources)


def _package_name(value: str) -> str:
    try:
        return canonicalize_name(Requirement(value).name)
    except InvalidRequirement:
        return ""


def _quoted_like(old: _Word, value: str) -> str:
    if old.raw[:1] in ("'", '"'):
        return old.raw[0] + value + old.raw[0]
    if _SHELL_SPECIAL.search(value) and not _SHELL_SPECIAL.search(old.value):
        return "'" + value + "'"
    return value


def edit_dockerfile(text: str, path: str, ops: list[DockerOp]) -> EditResult:
    """Apply ``ops`` to a Dockerfile; what cannot be done safely becomes a flag."""
    result = EditResult(text)
    lines = text.splitlines(keepends=True)
    if any(_ESCAPE_DIRECTIVE.match(_body(line)) for line in lines[:5]):
        for op in ops:
            _flag(result, path, op, "not_safe", "uses an # escape= directive; not edited")
        return result
    spans = instruction_spans(lines)
    blocks: dict[int, str] = {}  # instruction start -> its new text ("" removes it)

    def span_of(line: int) -> tuple[int, int] | None:
        return next(((s, e) for s, e in spans if s <= line - 1 < e), None)

    for op in ops:
        if op.kind == "repoint":
            _repoint(lines, spans, blocks, path, op, result)
            continue
        span = span_of(op.line)
        if span is None:
            _flag(result, path, op, "not_safe", f"line {op.line} holds no instruction")
            continue
        start, end = span
        block = blocks.get(start, "".join(lines[start:end]))
        if block == "":
            _flag(result, path, op, "not_safe", "the instruction was already removed")
            continue
        try:
            if op.kind == "runtime":
                new_block, change = _runtime(block, path, op)
            else:
                new_block, change = _run_edit(block, path, op)
        except _Unsupported as exc:
            _flag(result, path, op, "not_safe", f"line {op.line}: {exc}; not edited")
            continue
        blocks[start] = new_block
        result.changes.append(change)
    out: list[str] = []
    index = 0
    starts = dict(spans)
    while index < len(lines):
        if index in blocks:
            out.append(blocks[index])
            index = starts[index]
            continue
        out.append(lines[index])
        index += 1
    result.text = "".join(out)
    return result


def _flag(result: EditResult, path: str, op: DockerOp, reason: str, message: str) -> None:
    result.flags.append(
        Flag(reason, op.name or op.old, path, op.line, f"{path}: {message}", op.rules)  # type: ignore[arg-type]
    )


def _runtime(block: str, path: str, op: DockerOp) -> tuple[str, Change]:
    match = re.match(r"(\s*FROM\s+(?:--\S+\s+)*)(\S+)", block, re.IGNORECASE)
    if match is None:
        raise _Unsupported("not a FROM instruction")
    image = match.group(2)
    name, _, tag = image.partition(":")
    tag_only = tag.split("@", 1)[0]
    if not any(name == twin or name.endswith("/" + twin) for twin in _RUNTIME_TWINS):
        raise _Unsupported(f"{scrub(image)} has no known -runtime image")
    parts = tag_only.split("-")
    if parts.count("devel") != 1 or "@" in tag:
        raise _Unsupported(f"cannot tell the -runtime tag of {scrub(image)}")
    new_tag = "-".join("runtime" if p == "devel" else p for p in parts)
    new_image = f"{name}:{new_tag}"
    new_block = block[: match.start(2)] + new_image + block[match.end(2) :]
    note = (
        "same CUDA version without compilers and headers; if this stage compiles CUDA code, "
        "build in a devel stage and COPY --from it"
    )
    return new_block, Change(
        "base_image", image, path, op.line, scrub(image), scrub(new_image), op.rules, note
    )


def _run_edit(block: str, path: str, op: DockerOp) -> tuple[str, Change]:
    if not re.match(r"\s*RUN\s", block, re.IGNORECASE):
        raise _Unsupported("not a RUN instruction")
    if re.match(r"\s*RUN\s+\[", block, re.IGNORECASE):
        raise _Unsupported("a RUN in exec (JSON) form")
    commands = _scan(block)
    for index, command in enumerate(commands):
        install = _install_of(command, first=index == 0)
        if install is None:
            continue
        hits = [w for w in install.packages if _package_name(w.value) == op.name]
        if not hits:
            continue
        word = hits[0]
        if op.kind == "pin":
            pinned = repin(word.value, op.spec)
            if pinned is None:
                raise _Unsupported(f"{op.name} is installed from a URL")
            new_word = _quoted_like(word, pinned)
            new_block = block[: word.start] + new_word + block[word.end :]
            return new_block, Change(
                "pin", op.name, path, op.line, scrub(word.raw), scrub(new_word), op.rules
            )
        left = len(install.packages) - len(hits) + install.sources
        if left > 0:
            cut = word.start
            while cut > 0 and block[cut - 1] in " \t":
                cut -= 1
            new_block = block[:cut] + block[word.end :]
            for other in hits[1:]:  # the same package twice on one line: both go
                new_block = new_block.replace(" " + other.raw, "", 1)
            note = ""
        else:
            new_block = _without_command(block, commands, index)
            note = "the install had nothing else left to install"
        return _tidy(new_block), Change(
            "remove", op.name, path, op.line, scrub(word.raw), "", op.rules, note
        )
    raise _Unsupported(f"no pip install of {op.name} found")


def _without_command(block: str, commands: list[_Command], index: int) -> str:
    command = commands[index]
    first_word = command.words[0]
    if index == 0:  # skip RUN and its flags: they stay with the next command
        skipped = 1
        while skipped < len(command.words) and command.words[skipped].value.startswith("--"):
            skipped += 1
        first_word = command.words[skipped]
    if len(commands) == 1:
        return ""
    if command.op_after in ("&&", ";") and index + 1 < len(commands):
        return block[: first_word.start] + block[commands[index + 1].words[0].start :]
    if command.op_before in ("&&", ";") and index > 0:
        previous = commands[index - 1].words[-1]
        return block[: previous.end] + block[command.words[-1].end :]
    raise _Unsupported("an install chained with || or |")


def _tidy(block: str) -> str:
    """Drop lines an edit emptied, and the continuation of a new last line."""
    if not block.strip():
        return ""
    lines = block.splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:] if _body(line).strip() not in ("", "\\")]
    last = kept[-1]
    body = _body(last)
    if body.rstrip().endswith("\\"):
        kept[-1] = body.rstrip()[:-1].rstrip() + last[len(body) :]
    return "".join(kept)


def _repoint(
    lines: list[str],
    spans: list[tuple[int, int]],
    blocks: dict[int, str],
    path: str,
    op: DockerOp,
    result: EditResult,
) -> None:
    """COPY sources naming ``op.old`` and ``-r`` words naming the copied file get the
    basename of ``op.new`` (its sibling). A COPY to an explicit file of the same name
    (``COPY requirements.txt /srv/requirements.txt``) gets the new name there too, so the
    image keeps the repository's names (a ``-r`` line of another copied file still finds
    it); one that renames the file keeps its destination and the ``-r`` words naming it."""
    old_base, new_base = posixpath.basename(op.old), posixpath.basename(op.new)
    renamed = False
    touched = False
    landed: list[str] = []  # where the COPY lines put the file in the image
    workdir: dict[int, str] = {}  # the WORKDIR in force at each instruction
    current = "/"
    for start, end in spans:
        block = blocks.get(start, "".join(lines[start:end]))
        words = block.split()
        if words and words[0].upper() == "WORKDIR" and len(words) > 1:
            current = posixpath.normpath(posixpath.join(current, words[1].strip("\"'")))
        workdir[start] = current
    for start, end in spans:
        block = blocks.get(start, "".join(lines[start:end]))
        keyword = block.split(None, 1)[0].upper() if block.strip() else ""
        if keyword not in ("COPY", "ADD") or "--from" in block:
            continue
        words = block.split()
        sources = [w for w in words[1:-1] if not w.startswith("--")]
        dest = words[-1] if len(words) > 2 else ""
        for source in sources:
            value = source.strip("\"'")
            if not _names(op.old, value):
                continue
            into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
            same_name = not into_dir and posixpath.basename(dest.strip("\"'")) == old_base
            if same_name:
                at = block.rfind(dest)
                new_dest = dest.replace(old_base, new_base) if dest.count(old_base) == 1 else dest
                block = block[:at] + new_dest + block[at + len(dest) :]
                same_name = new_dest != dest
            renamed = renamed or not (into_dir or same_name)
            clean_dest = dest.strip("\"'")
            place = clean_dest if same_name else posixpath.join(clean_dest, old_base)
            landed.append(posixpath.normpath(posixpath.join(workdir[start], place)))
            new_value = value[: len(value) - len(old_base)] + new_base
            block = re.sub(
                r"(?<=\s)" + re.escape(source) + r"(?=\s)",
                source.replace(value, new_value),
                block,
                count=1,
            )
            blocks[start] = block
            touched = True
            result.changes.append(
                Change("include", op.new, path, start + 1, scrub(value), scrub(new_value), op.rules)
            )
    if not renamed:
        for start, end in spans:
            block = blocks.get(start, "".join(lines[start:end]))
            if not re.match(r"\s*RUN\s", block, re.IGNORECASE):
                continue
            try:
                commands = _scan(block)
            except _Unsupported:
                continue
            for command in reversed(commands):
                for i, word in reversed(list(enumerate(command.words))):
                    target = _include_value(command.words, i)
                    if target is None or posixpath.basename(target) != old_base:
                        continue
                    where = posixpath.normpath(posixpath.join(workdir[start], target))
                    if landed and not any(_same_file(where, place) for place in landed):
                        continue  # another file of that name (api/requirements.txt)
                    if not landed and not _names(op.old, target):
                        continue
                    new_raw = word.raw.replace(
                        target, target[: len(target) - len(old_base)] + new_base
                    )
                    block = block[: word.start] + new_raw + block[word.end :]
                    touched = True
                    result.changes.append(
                        Change(
                            "include",
                            op.new,
                            path,
                            start + 1,
                            scrub(word.raw),
                            scrub(new_raw),
                            op.rules,
                        )
                    )
            blocks[start] = block
    if not touched:
        _flag(result, path, op, "not_safe", f"no COPY or pip install -r of {op.old} found")


def _same_file(target: str, place: str) -> bool:
    """True if a ``-r`` target and a COPY destination (both resolved against their
    WORKDIR) may be one image file: the same path, or, when a WORKDIR holds a variable
    (``$HOME/app``), the same path below it."""
    if target == place:
        return True
    if "$" not in target + place:
        return False

    def below_variable(path: str) -> str:
        return path.rsplit("$", 1)[-1].split("/", 1)[-1]

    return below_variable(target) == below_variable(place)


def _names(path: str, value: str) -> bool:
    """True if a COPY source ``value`` (relative to an unknown build context) is ``path``."""
    value = posixpath.normpath(value.lstrip("/"))
    return path == value or path.endswith("/" + value)


def _include_value(words: list[_Word], index: int) -> str | None:
    """The requirements file a ``-r`` word names, if ``words[index]`` is (or holds) one."""
    value = words[index].value
    if index > 0 and words[index - 1].value in ("-r", "--requirement", "-c", "--constraint"):
        return value
    for flag in ("--requirement=", "--constraint="):
        if value.startswith(flag):
            return value[len(flag) :]
    if value.startswith(("-r", "-c")) and len(value) > 2 and not value.startswith("--"):
        return value[2:]
    return None
