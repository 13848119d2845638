"""Dockerfiles / Containerfiles: base image, OS, Python, CUDA, installs, ENV/ARG, entrypoint.

``dockerfile-parse`` gives instructions and line numbers only; everything it gets wrong is
done here (see DESIGN.md §10):

- heredoc bodies (``RUN <<EOF ... EOF``) are blanked out before parsing, keeping line
  numbers, and handed back to their RUN as script text;
- ``ARG`` defaults are substituted in ``FROM`` (global ARGs) and ``ARG``/``ENV`` values in
  ``RUN`` (stage variables), since the parser does neither per stage;
- stages are handled here. The FINAL stage is what ships, together with the stages it is
  built ``FROM`` (everything in them counts). A stage the shipped stages ``COPY --from``
  counts only for its Python installs and requirement files — an approximation: we do not
  know what was copied, but copying a virtualenv / site-packages out of a builder is the
  common case, and its apt packages, ENV and CMD do not ship.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from collectors.sources import images
from collectors.sources.base import MAX_FILE_BYTES, error
from collectors.sources.network import targets_from_config, targets_from_text
from depaudit.base_images import implied_packages
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    Fact,
    Include,
    NetworkTarget,
    Package,
    ParseError,
    Runtime,
    SourceResult,
    SystemPackage,
)
from depaudit.secrets import mask_value, scrub, strip_url_credentials

_NAME = re.compile(
    r"(^|/)(Dockerfile|Containerfile)([._-][^/]*)?$|(^|/)[^/]+\.(Dockerfile|dockerfile|containerfile)$"
)
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<alt>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
_REQUIREMENTS_LIKE = re.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|"
    r"Pipfile(\.lock)?|setup\.cfg|setup\.py|environment[^/]*\.ya?ml|conda[^/]*\.ya?ml)$|"
    r"(^|/)requirements/[^/]+\.(txt|in)$"
)
_MAX_VALUE = 300
# shlex grows each token one character at a time (quadratic); longer lines are split on
# whitespace instead. Real commands are far shorter.
_MAX_SHLEX_CHARS = 20_000


@dataclass
class _Instruction:
    keyword: str
    value: str  # heredoc markers removed, heredoc bodies appended for RUN
    start: int  # 1-based first line
    end: int  # 1-based last line, heredoc body included


@dataclass
class _Stage:
    index: int
    base: str  # image or stage name, ARGs substituted
    name: str
    line: int
    instructions: list[_Instruction] = field(default_factory=list)
    parent: int | None = None  # index of the stage this one is built FROM


def _substitute(text: str, variables: dict[str, str]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("bare")
        value = variables.get(name)
        op = m.group("op") or ""
        if op.endswith("-"):
            return value if value else m.group("alt")
        if op.endswith("+"):
            return m.group("alt") if value else ""
        return value if value is not None else m.group(0)

    return _VAR.sub(repl, text)


def _blank_heredocs(text: str) -> tuple[str, dict[int, tuple[str, int]]]:
    """Text with heredoc bodies replaced by empty lines, and {marker line: (body, end line)}."""
    lines = text.split("\n")
    bodies: dict[int, tuple[str, int]] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        in_instruction = re.match(r"(?i)(RUN|COPY|ADD)\s", stripped) or (
            i > 0 and lines[i - 1].rstrip().endswith("\\")
        )
        markers = _HEREDOC.findall(line) if in_instruction else []
        if not markers:
            i += 1
            continue
        start = i
        body_lines: list[str] = []
        j = i + 1
        for dash, _quote, word in markers:
            while j < len(lines):
                candidate = lines[j].lstrip("\t") if dash else lines[j]
                lines[j] = ""
                j += 1
                if candidate.rstrip("\r") == word:
                    break
                body_lines.append(candidate)
        bodies[start] = ("\n".join(body_lines), j)  # j = 1-based index of the last body line
        i = j
    return "\n".join(lines), bodies


def _instructions(text: str) -> list[_Instruction]:
    from dockerfile_parse import DockerfileParser  # lazily: only Dockerfiles need it

    blanked, bodies = _blank_heredocs(text)
    parser = DockerfileParser(fileobj=io.BytesIO(), env_replace=False)
    parser.content = blanked
    out: list[_Instruction] = []
    for item in parser.structure:
        keyword = str(item["instruction"]).upper()
        if keyword == "COMMENT":
            continue
        value = str(item["value"])
        start, end = int(item["startline"]), int(item["endline"])
        for marker_line, (body, body_end) in bodies.items():
            if start <= marker_line <= end:
                value = _HEREDOC.sub("", value)
                if keyword == "RUN":
                    value = f"{value}\n{body}"
                end = max(end, body_end - 1)
        out.append(_Instruction(keyword, value, start + 1, end + 1))
    return out


# ------------------------------------------------------------------ shell commands


def _commands(script: str) -> list[list[str]]:
    """Simple commands of a shell script, as word lists (``&&``, ``;``, ``|``, newlines)."""
    script = script.replace("\\\r\n", " ").replace("\\\n", " ")
    out: list[list[str]] = []
    for raw_line in script.split("\n"):
        lexer = shlex.shlex(raw_line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        try:
            if len(raw_line) > _MAX_SHLEX_CHARS:
                raise ValueError("too long for shlex")
            tokens = list(lexer)
        except ValueError:  # unbalanced quotes (or a hostile length): fall back to plain words
            tokens = raw_line.split()
        current: list[str] = []
        skip_next = False
        for token in tokens:
            if skip_next:
                skip_next = False
                continue
            if token.startswith("#"):
                break
            if token and set(token) <= set("();&|"):
                if current:
                    out.append(current)
                current = []
                continue
            if token and set(token) <= set("<>"):
                skip_next = True  # redirection target
                continue
            current.append(token)
        if current:
            out.append(current)
    return out


def _strip_prefix(words: list[str]) -> list[str]:
    """Drop ``sudo``, ``env``, ``VAR=value`` assignments, ``time``, ``exec`` before a command."""
    i = 0
    while i < len(words):
        word = words[i]
        if (
            word in ("sudo", "env", "exec", "time", "nohup", "command", "then", "do", "else")
            or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word)
            or (word.startswith("-") and i > 0 and words[i - 1] in ("sudo", "env"))
        ):
            i += 1
        else:
            break
    return words[i:]


_PIP_VALUE_OPTS = frozenset(
    [
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--trusted-host",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--cache-dir",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--progress-bar",
        "--src",
        "--upgrade-strategy",
        "--log",
        "--timeout",
        "--retries",
        "--proxy",
        "--cert",
        "--client-cert",
        "--global-option",
        "--install-option",
        "--config-settings",
        "-C",
        "--report",
        "--python",
        "-p",
        "--only-binary",
        "--no-binary",
        "--exists-action",
        "--keyring-provider",
        "--index-strategy",
        "--resolution",
        "--prerelease",
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "--override",
        "--extra",
        "--group",
        "-b",
        "--build-constraint",
    ]
)
_INDEX_OPTS = frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--index"})
_CONDA_VALUE_OPTS = frozenset(
    [
        "-c",
        "--channel",
        "-n",
        "--name",
        "-p",
        "--prefix",
        "--file",
        "--repodata-fn",
        "--experimental-solver",
        "--solver",
        "-r",
        "--root-prefix",
    ]
)
_APT_VALUE_OPTS = frozenset({"-o", "--option", "-t", "--target-release", "-c", "--config-file"})
_APK_VALUE_OPTS = frozenset(
    {"-t", "--virtual", "-X", "--repository", "--repositories-file", "-p", "--root", "--arch"}
)
_YUM_VALUE_OPTS = frozenset(
    {
        "--setopt",
        "--enablerepo",
        "--disablerepo",
        "--releasever",
        "-c",
        "--config",
        "--installroot",
        "--exclude",
        "-x",
    }
)


@dataclass
class _Installs:
    packages: list[tuple[str, str]] = field(default_factory=list)  # (spec, manager)
    includes: list[tuple[str, str]] = field(default_factory=list)  # (path, kind)
    indexes: list[str] = field(default_factory=list)
    system: list[tuple[str, str]] = field(default_factory=list)  # (spec, manager)


def _options(
    words: list[str], value_opts: frozenset[str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """(options with their values, positional words) of a command's argument list."""
    opts: list[tuple[str, str]] = []
    args: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            opts.append((name, value))
        elif word in value_opts:
            opts.append((word, words[i + 1] if i + 1 < len(words) else ""))
            i += 1
        elif (
            word.startswith("-")
            and not word.startswith("--")
            and len(word) > 2
            and word[:2] in value_opts
        ):
            opts.append((word[:2], word[2:]))  # -rrequirements.txt
        elif word.startswith("-"):
            opts.append((word, ""))
        else:
            args.append(word)
        i += 1
    return opts, args


def _python_installs(words: list[str], manager: str, found: _Installs) -> None:
    opts, args = _options(words, _PIP_VALUE_OPTS)
    for name, value in opts:
        if name in ("-r", "--requirement") and value:
            found.includes.append((value, "requirements"))
        elif name in ("-c", "--constraint", "--build-constraint") and value:
            found.includes.append((value, "constraints"))
        elif name in _INDEX_OPTS and value:
            found.indexes.append(value)
    found.packages.extend((arg, manager) for arg in args)


def _parse_command(words: list[str], found: _Installs) -> None:
    words = _strip_prefix(words)
    if not words:
        return
    prog = posixpath.basename(words[0])
    rest = words[1:]
    if re.fullmatch(r"python(\d(\.\d+)?)?", prog) and rest[:2] == ["-m", "pip"]:
        prog, rest = "pip", rest[2:]
    if re.fullmatch(r"pip(\d(\.\d+)?)?", prog) and rest[:1] == ["install"]:
        _python_installs(rest[1:], "pip", found)
    elif prog == "uv" and rest[:2] == ["pip", "install"]:
        _python_installs(rest[2:], "uv", found)
    elif prog == "uv" and rest[:2] == ["pip", "sync"]:
        opts, args = _options(rest[2:], _PIP_VALUE_OPTS)
        found.includes.extend((arg, "requirements") for arg in args)
        found.indexes.extend(v for n, v in opts if n in _INDEX_OPTS and v)
    elif prog in ("conda", "mamba", "micromamba") and rest[:1] in (["install"], ["create"]):
        opts, args = _options(rest[1:], _CONDA_VALUE_OPTS)
        found.packages.extend((arg, "conda") for arg in args)
    elif prog in ("apt-get", "apt", "aptitude") and rest[:1] == ["install"]:
        _, args = _options(rest[1:], _APT_VALUE_OPTS)
        found.system.extend((arg, "apt") for arg in args)
    elif prog == "apk" and rest[:1] == ["add"]:
        _, args = _options(rest[1:], _APK_VALUE_OPTS)
        found.system.extend((arg, "apk") for arg in args)
    elif prog in ("yum", "dnf", "microdnf", "tdnf") and rest[:1] == ["install"]:
        _, args = _options(rest[1:], _YUM_VALUE_OPTS)
        manager = "yum" if prog == "yum" else "dnf"
        found.system.extend((arg, manager) for arg in args)


def _installs(script: str) -> _Installs:
    found = _Installs()
    for words in _commands(script):
        _parse_command(words, found)
    return found


# -------------------------------------------------------------------------- facts


def _python_package(spec: str, manager: str, file: str, line: int) -> Package | None:
    if "$" in spec and not re.search(r"[<>=!~]", spec):
        return None  # an unresolved variable as the whole name
    if manager == "conda":
        return _conda_package(spec, file, line)
    if spec.startswith((".", "/")) or (
        spec.endswith((".whl", ".tar.gz", ".zip")) and "://" not in spec
    ):
        return None  # a local path or wheel file
    url = ""
    if "://" in spec and "@" not in spec.split("://", 1)[0]:
        egg = re.search(r"[#&]egg=([A-Za-z0-9_.\-]+)", spec)
        if not egg:
            return None
        url = strip_url_credentials(spec)
        spec = egg.group(1)
    try:
        req = Requirement(spec)
    except InvalidRequirement:
        return None
    specifier = str(req.specifier)
    if "$" in specifier:
        specifier = ""
    version = ""
    pins = list(req.specifier)
    if len(pins) == 1 and pins[0].operator in ("==", "===") and "*" not in pins[0].version:
        version = pins[0].version
    return Package(
        name=canonicalize_name(req.name),
        file=file,
        line=line,
        specifier=specifier,
        version=version,
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker else "",
        url=url or (strip_url_credentials(req.url) if req.url else ""),
        manager=manager,
    )


def _conda_package(spec: str, file: str, line: int) -> Package | None:
    spec = spec.split("::", 1)[-1]
    match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(==|>=|<=|!=|~=|=|>|<)?\s*([^=\s]*)(=\S+)?", spec)
    if not match or "$" in match.group(1):
        return None
    name, op, version = match.group(1), match.group(2) or "", match.group(3) or ""
    if op == "=":
        op = "=="
    specifier = f"{op}{version}" if op and version and "$" not in version else ""
    pinned = version if op == "==" and "*" not in version and specifier else ""
    return Package(
        name=canonicalize_name(name),
        file=file,
        line=line,
        specifier=specifier,
        version=pinned,
        manager="conda",
    )


def python_install_facts(
    command: str, file: str, line: int
) -> list[Package | Include | NetworkTarget]:
    """Packages, ``-r`` / ``-c`` files and indexes of a shell command's Python installs.

    The reading of a RUN line (pip, ``python -m pip``, uv, conda), for other sources whose
    files run shell commands: notebooks' ``%pip install`` / ``!pip install`` lines.
    """
    found = _installs(command)
    out: list[Package | Include | NetworkTarget] = []
    for spec, manager in found.packages:
        package = _python_package(spec, manager, file, line)
        if package is not None:
            out.append(package)
    for target, kind in found.includes:
        out.append(Include(target, file, line, kind=kind))  # type: ignore[arg-type]
    for url in found.indexes:
        for t in targets_from_text(url, file=file, line=line, kind="index"):
            out.append(NetworkTarget(t.target, "index", file, line, key=t.key))
    return out


def base_image_packages(image: str, file: str, line: int) -> list[Package]:
    """What the shipped image's base installs (torch for ``pytorch/pytorch:2.1.0-...``).

    Only the root of the final stage's chain is asked: a builder stage's image does not
    ship. The facts point at the FROM line; ``manager="image"`` lets later installs of the
    same package win (DESIGN.md §5, effective version). Data and reasons:
    ``depaudit/data/base_images.toml``.
    """
    return [
        Package(
            name=implied.name,
            file=file,
            line=line,
            specifier=implied.specifier,
            version=implied.version,
            direct=implied.direct,
            manager="image",
        )
        for implied in implied_packages(image)
    ]


def _system_package(spec: str, manager: str, file: str, line: int) -> SystemPackage | None:
    if spec.startswith(("/", ".")) or spec.endswith((".deb", ".rpm", ".apk")):
        return None
    name, version = spec, ""
    for sep in ("=", "~"):
        if sep in spec:
            name, _, version = spec.partition(sep)
            version = version.lstrip("=~")
            break
    name = name.split(":", 1)[0] if manager == "apt" else name  # libfoo:amd64
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9+_.\-]*", name):
        return None
    return SystemPackage(name=name, file=file, line=line, manager=manager, version=version)


def _entrypoint_words(value: str) -> list[str]:
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(w, str) for w in parsed):
            return list(parsed)
    return text.split()


def module_of_command(words: list[str]) -> str:
    """The Python module a command starts, when it says: ``python -m pkg.app``,
    ``uvicorn pkg.app:app``, ``gunicorn pkg.wsgi:application``, ``python serve/app.py``."""
    words = _strip_prefix(list(words))
    # "sh -c 'python -m x'" -> look inside the string
    if (
        len(words) >= 3
        and posixpath.basename(words[0]) in ("sh", "bash")
        and words[1] in ("-c", "-lc", "-ec")
    ):
        return module_of_command(words[2].split())
    for i, word in enumerate(words):
        prog = posixpath.basename(word)
        if re.fullmatch(r"python(\d(\.\d+)?)?", prog):
            tail = words[i + 1 :]
            for j, arg in enumerate(tail):
                if arg == "-m" and j + 1 < len(tail):
                    return tail[j + 1]
                if arg.endswith(".py") and not arg.startswith("/"):
                    return arg[: -len(".py")].lstrip("./").replace("/", ".")
                if not arg.startswith("-"):
                    break
            return ""
        if prog in ("uvicorn", "gunicorn", "hypercorn", "daphne", "waitress-serve", "granian"):
            for arg in words[i + 1 :]:
                if not arg.startswith("-") and ":" in arg:
                    return arg.split(":", 1)[0]
                if (
                    not arg.startswith("-")
                    and re.fullmatch(r"[A-Za-z_][\w.]*", arg)
                    and prog != "gunicorn"
                ):
                    return arg
            return ""
        if prog in ("streamlit",) and words[i + 1 : i + 2] == ["run"] and len(words) > i + 2:
            return words[i + 2].removesuffix(".py").lstrip("./").replace("/", ".")
    return ""


def _is_stage_ref(ref: str, stages: list[_Stage]) -> int | None:
    for stage in stages:
        if stage.name and stage.name.lower() == ref.lower():
            return stage.index
    if ref.isdigit() and int(ref) < len(stages):
        return int(ref)
    return None


def _split_from(value: str) -> tuple[str, str]:
    words = [w for w in value.split() if not w.startswith("--platform")]
    image = words[0] if words else ""
    name = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
    return image, name


def _kv_pairs(value: str) -> list[tuple[str, str]]:
    """``ENV A=1 B="two words"`` or legacy ``ENV A value with spaces``."""
    first = value.split(None, 1)
    if not first:
        return []
    if "=" not in first[0]:
        return [(first[0], first[1].strip() if len(first) > 1 else "")]
    try:
        if len(value) > _MAX_SHLEX_CHARS:
            raise ValueError("too long for shlex")
        words = shlex.split(value, posix=True)
    except ValueError:
        words = value.split()
    out: list[tuple[str, str]] = []
    for word in words:
        key, sep, val = word.partition("=")
        if sep and key:
            out.append((key, val))
    return out


def _short(value: str) -> str:
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


class DockerfileSource:
    name = "dockerfile"

    def matches(self, path: str) -> bool:
        return bool(_NAME.search(path))

    def parse(self, text: str, path: str) -> SourceResult:
        if len(text) > MAX_FILE_BYTES:  # the snapshot builder checks first; direct callers too
            return error(path, f"file too large ({len(text)} characters, limit {MAX_FILE_BYTES})")
        if "\x00" in text:
            return error(path, "binary content (NUL byte), not a Dockerfile")
        try:
            instructions = _instructions(text)
        except Exception as exc:  # dockerfile-parse on hostile input
            return error(path, f"cannot parse Dockerfile: {type(exc).__name__}: {exc}")
        try:
            return SourceResult(tuple(_DockerfileReader(path, text, instructions).facts()))
        except RecursionError:
            return error(path, "Dockerfile stages nest too deeply")


class _DockerfileReader:
    def __init__(self, path: str, text: str, instructions: list[_Instruction]) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.instructions = instructions
        self.facts_out: list[Fact] = []
        self.seen: set[Fact] = set()

    def add(self, fact: Fact) -> None:
        if fact not in self.seen:
            self.seen.add(fact)
            self.facts_out.append(fact)

    def line_of(self, token: str, ins: _Instruction) -> int:
        """The line of ``token`` inside a (multi-line) instruction, for exact positions."""
        for number in range(ins.start, min(ins.end, len(self.lines)) + 1):
            if token and token in self.lines[number - 1]:
                return number
        return ins.start

    # -- structure -------------------------------------------------------------

    def facts(self) -> list[Fact]:
        global_args: dict[str, str] = {}
        global_arg_ins: list[_Instruction] = []
        stages: list[_Stage] = []
        for ins in self.instructions:
            if ins.keyword == "FROM":
                image, name = _split_from(_substitute(ins.value, global_args))
                stage = _Stage(index=len(stages), base=image, name=name, line=ins.start)
                stage.parent = _is_stage_ref(image, stages)
                stages.append(stage)
            elif not stages:
                if ins.keyword == "ARG":
                    for key, value in _kv_pairs(ins.value) or [(ins.value.strip(), "")]:
                        global_args[key] = _substitute(value, global_args)
                    global_arg_ins.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            return [ParseError(self.path, "no FROM instruction: not a Dockerfile", 0)]

        full = self._ancestry(stages, len(stages) - 1) if stages else []
        partial = self._copied_from(stages, full)

        for ins in global_arg_ins:
            self._arg(ins)
        if stages:
            root = stages[full[-1]]
            self._runtime(root)
            for package in base_image_packages(root.base, self.path, root.line):
                self.add(package)
        for index in reversed(full):  # root first, so child ENV/CMD come after
            self._stage(stages[index], global_args, ship=True)
        for index in sorted(partial):
            self._stage(stages[index], global_args, ship=False)
        self._entrypoint(stages, full)
        return self.facts_out

    def _ancestry(self, stages: list[_Stage], index: int) -> list[int]:
        chain = [index]
        while stages[chain[-1]].parent is not None:
            parent = stages[chain[-1]].parent
            assert parent is not None
            if parent in chain:
                break
            chain.append(parent)
        return chain

    def _copied_from(self, stages: list[_Stage], full: list[int]) -> set[int]:
        partial: set[int] = set()
        todo = list(full)
        done: set[int] = set()
        while todo:
            index = todo.pop()
            if index in done:
                continue
            done.add(index)
            for ins in stages[index].instructions:
                if ins.keyword not in ("COPY", "ADD"):
                    continue
                match = re.search(r"--from=(\S+)", ins.value)
                if not match:
                    continue
                ref = _is_stage_ref(match.group(1), stages[:index])
                if ref is None:
                    continue
                for ancestor in self._ancestry(stages, ref):
                    if ancestor not in full:
                        partial.add(ancestor)
                        todo.append(ancestor)
        return partial

    # -- facts -----------------------------------------------------------------

    def _runtime(self, root: _Stage) -> None:
        facts = images.runtime_facts(root.base, file=self.path, line=root.line)
        if not facts and root.base:
            # unresolved ARG in FROM: keep what was written, masked of nothing secret
            self.add(
                Runtime("base_image", scrub(root.base), self.path, root.line, detail="unresolved")
            )
        for fact in facts:
            self.add(fact)

    def _arg(self, ins: _Instruction) -> None:
        pairs = _kv_pairs(ins.value) or [(ins.value.strip(), "")]
        for key, value in pairs:
            if not key:
                continue
            shown, secret = mask_value(key, value)
            self.add(ConfigEntry(f"ARG.{key}", _short(shown), self.path, ins.start, secret=secret))
            for target in targets_from_config(key, value, file=self.path, line=ins.start):
                self.add(target)

    def _stage(self, stage: _Stage, global_args: dict[str, str], *, ship: bool) -> None:
        variables: dict[str, str] = {}
        workdir = "/"
        copies: dict[str, str] = {}  # destination path in the image -> source in the context
        for ins in stage.instructions:
            kw = ins.keyword
            if kw == "ARG":
                for key, value in _kv_pairs(ins.value) or [(ins.value.strip(), "")]:
                    variables[key] = value or global_args.get(key, "")
                if ship:
                    self._arg(ins)
            elif kw == "ENV":
                for key, value in _kv_pairs(ins.value):
                    variables[key] = _substitute(value, variables)
                    if ship:
                        shown, secret = mask_value(key, value)
                        line = self.line_of(key, ins)
                        self.add(
                            ConfigEntry(f"ENV.{key}", _short(shown), self.path, line, secret=secret)
                        )
                        for target in targets_from_config(key, value, file=self.path, line=line):
                            self.add(target)
            elif kw == "WORKDIR":
                workdir = posixpath.join(workdir, _substitute(ins.value.strip(), variables))
            elif kw == "EXPOSE" and ship:
                self.add(
                    ConfigEntry("EXPOSE", _short(scrub(ins.value.strip())), self.path, ins.start)
                )
            elif kw in ("COPY", "ADD"):
                self._copy(ins, workdir, copies, ship=ship)
            elif kw == "RUN":
                self._run(ins, _substitute(ins.value, variables), workdir, copies, ship=ship)

    def _copy(self, ins: _Instruction, workdir: str, copies: dict[str, str], *, ship: bool) -> None:
        value = ins.value.strip()
        words = _entrypoint_words(value) if value.startswith("[") else value.split()
        from_stage = any(w.startswith("--from=") for w in words)
        words = [w for w in words if not w.startswith("--")]
        if len(words) < 2 or from_stage:
            return
        *sources, dest = words
        dest_abs = posixpath.normpath(posixpath.join(workdir, dest))
        into_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
        for src in sources:
            if "://" in src:
                continue
            target = (
                posixpath.join(dest_abs, posixpath.basename(src.rstrip("/")))
                if into_dir
                else dest_abs
            )
            copies[posixpath.normpath(target)] = src
            if ship and _REQUIREMENTS_LIKE.search(src.lstrip("./")):
                self.add(Include(src, self.path, ins.start, kind="copy"))

    def _run(
        self, ins: _Instruction, script: str, workdir: str, copies: dict[str, str], *, ship: bool
    ) -> None:
        script = re.sub(r"^\s*(--(mount|network|security)=\S+\s+)+", "", script)
        if script.strip().startswith("["):
            script = " ".join(_entrypoint_words(script))
        found = _installs(script)
        for spec, manager in found.packages:
            package = _python_package(
                spec, manager, self.path, self.line_of(spec.split("==")[0], ins)
            )
            if package is not None:
                self.add(package)
        for target, kind in found.includes:
            resolved = copies.get(posixpath.normpath(posixpath.join(workdir, target)), target)
            self.add(Include(resolved, self.path, self.line_of(target, ins), kind=kind))  # type: ignore[arg-type]
        indexes: set[str] = set()
        for url in found.indexes:
            for t in targets_from_text(
                url, file=self.path, line=self.line_of("index", ins), kind="index"
            ):
                indexes.add(t.target)
                self.add(NetworkTarget(t.target, "index", t.file, t.line, key=t.key))
        if not ship:
            return
        for spec, manager in found.system:
            system = _system_package(spec, manager, self.path, self.line_of(spec, ins))
            if system is not None:
                self.add(system)
        for t in targets_from_text(script, file=self.path, line=ins.start):
            if t.target not in indexes:
                self.add(
                    NetworkTarget(
                        t.target, t.kind, t.file, self.line_of(t.target.split("://")[-1], ins)
                    )
                )

    def _entrypoint(self, stages: list[_Stage], full: list[int]) -> None:
        # walk root -> final stage; an ENTRYPOINT resets a CMD inherited from a parent stage
        entry: _Instruction | None = None
        cmd: _Instruction | None = None
        for index in reversed(full):
            cmd_here = False
            for ins in stages[index].instructions:
                if ins.keyword == "CMD":
                    cmd, cmd_here = ins, True
                elif ins.keyword == "ENTRYPOINT":
                    entry = ins
                    if not cmd_here:
                        cmd = None
        words: list[str] = []
        line = 0
        for part in (entry, cmd):
            if part is not None:
                words += _entrypoint_words(part.value)
                line = line or part.start
        if words:
            self.add(
                Entrypoint(
                    command=_short(scrub(" ".join(words))),
                    file=self.path,
                    line=line,
                    module=module_of_command(words),
                )
            )


SOURCE = DockerfileSource()

__all__ = [
    "SOURCE",
    "DockerfileSource",
    "base_image_packages",
    "module_of_command",
    "python_install_facts",
]
