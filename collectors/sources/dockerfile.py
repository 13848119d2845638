"""Dockerfiles / Containerfiles: base image, OS, Python, CUDA, installs, ENV/ARG, entrypoint.

:mod:`depaudit.collectors.sources.dockerfile_syntax` gives instructions and line numbers (heredoc
bodies handed back to their RUN); everything else is done here:

- ``ARG`` defaults are substituted in ``FROM`` (global ARGs) and ``ARG``/``ENV`` values in
  ``RUN`` (stage variables), since the parser does neither per stage;
- stages are handled here. The FINAL stage is what ships, together with the stages it is
  built ``FROM`` (everything in them counts; ENV is inherited). Of a stage the shipped
  stages ``COPY --from``, only the Python installs the copied paths carry count (a venv,
  site-packages, a ``--prefix`` / ``--target`` / ``--user`` / wheel directory: see
  :mod:`dockerfile_copy`); its apt packages, ENV and CMD do not ship;
- each requirement goes through :func:`pep508.requirement_fact` and each conda spec
  through :func:`conda.conda_spec_facts`, as in requirements files and environment.yml;
- the work per file is bounded (``MAX_*`` below) and every lookup is linear, so a
  hostile file cannot stall a check (SECURITY.md, "Limits").
"""

from __future__ import annotations

import itertools
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field

from depaudit.base_images import implied_packages
from depaudit.collectors.sources import dockerfile_copy, images
from depaudit.collectors.sources.base import error, guarded
from depaudit.collectors.sources.conda import conda_spec_facts
from depaudit.collectors.sources.dockerfile_syntax import Instruction
from depaudit.collectors.sources.dockerfile_syntax import instructions as read_instructions
from depaudit.collectors.sources.network import targets_from_config, targets_from_text
from depaudit.collectors.sources.pep508 import requirement_fact
from depaudit.model import (
    ConfigEntry,
    Entrypoint,
    Fact,
    Include,
    NetworkTarget,
    Package,
    ParseError,
    ProjectInstall,
    Runtime,
    SourceResult,
    SystemPackage,
)
from depaudit.pip_options import PIP_VALUE_OPTIONS
from depaudit.secrets import mask_value, scrub

_NAME = re.compile(
    r"(^|/)(Dockerfile|Containerfile)([._-][^/]*)?$|(^|/)[^/]+\.(Dockerfile|dockerfile|containerfile)$"
)
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
# Bounds on what one Dockerfile can make us read, so a hostile 10 MB file is parsed in
# well under 2 s (each item below costs microseconds to tens of them; a 10 MB file holds
# millions). Real Dockerfiles have dozens of instructions and install hundreds of
# packages. Past a bound the rest is not read, and one error says so.
MAX_LINES = 50_000
MAX_INSTRUCTIONS = 10_000
MAX_SHELL_WORDS = 50_000  # read in RUN scripts (and one per line: heredocs hold many)
MAX_INSTALLS = 10_000  # packages, system packages and -r files, as requirements files
MAX_KEYS = 5_000  # ENV / ARG keys, as configuration files
MAX_URLS = 1_000  # in RUN commands (each is classified: host, bucket, warehouse...)
MAX_FACTS = 20_000
_CUT = {
    "installs": (MAX_INSTALLS, "more than {} packages installed; the rest is not read"),
    "keys": (MAX_KEYS, "more than {} ENV / ARG keys; the rest is not read"),
    "urls": (MAX_URLS, "more than {} URLs in RUN commands; the rest is not read"),
    "words": (MAX_SHELL_WORDS, "RUN commands longer than {} words; the rest is not read"),
}


@dataclass
class _Stage:
    index: int
    base: str  # image or stage name, ARGs substituted
    name: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)
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


# ------------------------------------------------------------------ shell commands


_SHELL_TOKEN = re.compile(r"[();<>|&]+|[^ \t\r\n();<>|&]+")
_NO_QUOTES = str.maketrans("", "", "'\"")


def _shell_words(line: str, limit: int) -> list[str]:
    """At most ``limit`` words and operators of one shell line (shlex's split, without
    its cost when the line has no quotes or escapes: building a shlex lexer is ~15 us,
    and a heredoc can hold a million lines)."""
    if "'" not in line and '"' not in line and "\\" not in line:
        return [m.group(0) for m in itertools.islice(_SHELL_TOKEN.finditer(line), limit)]
    if len(line) > _MAX_SHLEX_CHARS:  # shlex is quadratic in a token's length
        unquoted = line.translate(_NO_QUOTES)
        return [m.group(0) for m in itertools.islice(_SHELL_TOKEN.finditer(unquoted), limit)]
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(itertools.islice(lexer, limit))
    except ValueError:  # unbalanced quotes: plain words
        return line.split()[:limit]


def _commands(script: str, budget: int) -> tuple[list[list[str]], int, bool]:
    """Simple commands of a shell script, as word lists (``&&``, ``;``, ``|``, newlines).

    Reads at most ``budget`` words (a line costs one more); returns the commands, what
    was spent, and whether that was the whole script.
    """
    script = script.replace("\\\r\n", " ").replace("\\\n", " ")
    out: list[list[str]] = []
    spent = 0
    lines = script.split("\n")
    for number, raw_line in enumerate(lines):
        if spent >= budget:
            return out, spent, False
        tokens = _shell_words(raw_line, budget - spent)
        spent += 1 + len(tokens)
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
        if spent > budget and number < len(lines):
            return out, spent, False
    return out, spent, True


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


@dataclass(frozen=True, slots=True)
class _Install:
    """One thing a command installs, and where (see :mod:`dockerfile_copy`)."""

    spec: str  # a requirement, a -r file, an index URL or a system package
    manager: (
        str  # pip | uv | conda | apt | apk | yum | dnf; "requirements" / "constraints" for -r / -c
    )
    location: str = dockerfile_copy.SYSTEM
    editable: bool = False
    installed: bool = True  # False for ``pip wheel`` / ``pip download``: built, not installed


@dataclass
class _Installs:
    packages: list[_Install] = field(default_factory=list)
    includes: list[_Install] = field(default_factory=list)
    indexes: list[_Install] = field(default_factory=list)
    system: list[_Install] = field(default_factory=list)
    envs: set[str] = field(default_factory=set)  # python environments created (venv, conda)
    # installs of the project itself: (extras, groups, all extras, all groups)
    projects: list[tuple[tuple[str, ...], tuple[str, ...], bool, bool]] = field(
        default_factory=list
    )
    active: str = dockerfile_copy.SYSTEM  # where a bare pip installs at this point
    workdir: str = "/"


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


def _python_installs(
    words: list[str], manager: str, found: _Installs, *, prefix: str | None, installed: bool = True
) -> None:
    """``pip install`` / ``uv pip install`` / ``pip wheel`` arguments; ``prefix`` is the
    environment of the program when it was called by path (``/opt/venv/bin/pip``)."""
    opts, args = _options(words, PIP_VALUE_OPTIONS)
    location = prefix if prefix is not None else found.active
    for name, value in opts:
        if name in ("-t", "--target", "--prefix", "--root", "-w", "--wheel-dir", "-d", "--dest"):
            location = dockerfile_copy.absolute(value, found.workdir) if value else location
        elif name == "--user":
            location = dockerfile_copy.USER
        elif name == "--system":
            location = dockerfile_copy.SYSTEM
        elif name in ("--python", "-p") and manager == "uv" and value:
            location = dockerfile_copy.prefix_of_program(value, found.workdir) or (
                dockerfile_copy.absolute(value, found.workdir) if "/" in value else location
            )
    if not installed and not any(n in ("-w", "--wheel-dir", "-d", "--dest") for n, _ in opts):
        location = found.workdir  # pip wheel / download write to the working directory

    def install(spec: str, kind: str, editable: bool = False) -> _Install:
        return _Install(spec, kind, location, editable, installed)

    for name, value in opts:
        if name in ("-r", "--requirement") and value:
            found.includes.append(install(value, "requirements"))
        elif name in ("-c", "--constraint", "--build-constraint") and value:
            found.includes.append(install(value, "constraints"))
        elif name in _INDEX_OPTS and value:
            found.indexes.append(install(value, manager))
        elif name in ("-e", "--editable") and value:
            found.packages.append(install(value, manager, editable=True))
    found.packages.extend(install(arg, manager) for arg in args)
    for word in [*args, *(v for n, v in opts if n in ("-e", "--editable"))]:
        extras = _local_extras(word)
        if extras:
            found.projects.append((extras, (), False, False))


_LOCAL_WITH_EXTRAS = re.compile(r"^(\.{1,2}|\.?/[^\[\]]*|[^\[\]/:]*/)\[([^\]]*)\]$")


def _local_extras(word: str) -> tuple[str, ...]:
    """The extras of a local project install (``.[gpu,serve]``, ``/app[api]``)."""
    match = _LOCAL_WITH_EXTRAS.match(word.strip("'\""))
    if match is None:
        return ()
    return tuple(e.strip() for e in match.group(2).split(",") if e.strip())


def _project_sync(
    rest: list[str], found: _Installs, *, extra_opts: tuple[str, ...], group_opts: tuple[str, ...]
) -> None:
    """``uv sync`` / ``poetry install`` / ``pdm install``: the extras and groups asked for."""
    opts, _ = _options(rest, frozenset((*extra_opts, *group_opts)))
    extras = tuple(v for n, v in opts if n in extra_opts and v)
    groups = tuple(v for n, v in opts if n in group_opts and v)
    all_extras = any(n == "--all-extras" for n, _ in opts)
    all_groups = any(n in ("--all-groups", "--dev") for n, _ in opts)
    split = tuple(x.strip() for e in extras for x in e.replace(",", " ").split() if x.strip())
    found.projects.append((split, groups, all_extras, all_groups))


_PYTHON = re.compile(r"python(\d(\.\d+)?)?")
_PIP = re.compile(r"pip(\d(\.\d+)?)?")


def _parse_command(words: list[str], found: _Installs) -> None:
    words = _strip_prefix(words)
    if not words:
        return
    program = words[0]
    prog = posixpath.basename(program)
    rest = words[1:]
    prefix = dockerfile_copy.prefix_of_program(program, found.workdir)
    if prog in (".", "source") and rest and rest[0].endswith("/bin/activate"):
        found.active = dockerfile_copy.absolute(rest[0], found.workdir).removesuffix(
            "/bin/activate"
        )
        return
    if _PYTHON.fullmatch(prog) and rest[:2] in (["-m", "venv"], ["-m", "virtualenv"]):
        _, args = _options(rest[2:], frozenset({"--prompt"}))
        found.envs.update(dockerfile_copy.absolute(a, found.workdir) for a in args[:1])
        return
    if prog in ("virtualenv", "virtualenv3") or (prog == "uv" and rest[:1] == ["venv"]):
        _, args = _options(rest[1:] if prog == "uv" else rest, PIP_VALUE_OPTIONS)
        found.envs.add(dockerfile_copy.absolute(args[0] if args else ".venv", found.workdir))
        return
    if _PYTHON.fullmatch(prog) and rest[:2] == ["-m", "pip"]:
        prog, rest = "pip", rest[2:]
    if _PIP.fullmatch(prog) and rest[:1] in (["install"], ["wheel"], ["download"]):
        installed = rest[0] == "install"
        _python_installs(rest[1:], "pip", found, prefix=prefix, installed=installed)
    elif prog == "uv" and rest[:2] == ["pip", "install"]:
        _python_installs(rest[2:], "uv", found, prefix=prefix)
    elif prog == "uv" and rest[:2] == ["pip", "sync"]:
        opts, args = _options(rest[2:], PIP_VALUE_OPTIONS)
        found.includes.extend(_Install(arg, "requirements", found.active) for arg in args)
        found.indexes.extend(
            _Install(v, "uv", found.active) for n, v in opts if n in _INDEX_OPTS and v
        )
    elif prog == "uv" and rest[:1] == ["sync"]:
        _project_sync(
            rest[1:], found, extra_opts=("--extra",), group_opts=("--group", "--only-group")
        )
    elif prog == "poetry" and rest[:1] == ["install"]:
        _project_sync(
            rest[1:], found, extra_opts=("-E", "--extras"), group_opts=("--with", "--only")
        )
    elif prog == "pdm" and rest[:1] in (["install"], ["sync"]):
        _project_sync(rest[1:], found, extra_opts=(), group_opts=("-G", "--group"))
    elif prog in ("conda", "mamba", "micromamba") and rest[:1] in (["install"], ["create"]):
        opts, args = _options(rest[1:], _CONDA_VALUE_OPTS)
        location = prefix or dockerfile_copy.CONDA_BASE
        for name, value in opts:
            if name in ("-p", "--prefix") and value:
                location = dockerfile_copy.absolute(value, found.workdir)
                found.envs.add(location)
            elif name in ("-n", "--name") and value:
                location = f"{dockerfile_copy.CONDA_BASE}/envs/{value}"
        found.packages.extend(_Install(arg, "conda", location) for arg in args)
    elif prog in ("apt-get", "apt", "aptitude") and rest[:1] == ["install"]:
        _, args = _options(rest[1:], _APT_VALUE_OPTS)
        found.system.extend(_Install(arg, "apt") for arg in args)
    elif prog == "apk" and rest[:1] == ["add"]:
        _, args = _options(rest[1:], _APK_VALUE_OPTS)
        found.system.extend(_Install(arg, "apk") for arg in args)
    elif prog in ("yum", "dnf", "microdnf", "tdnf") and rest[:1] == ["install"]:
        _, args = _options(rest[1:], _YUM_VALUE_OPTS)
        manager = "yum" if prog == "yum" else "dnf"
        found.system.extend(_Install(arg, manager) for arg in args)


# -------------------------------------------------------------------------- facts


def _package_facts(
    spec: str, manager: str, file: str, line: int, *, editable: bool = False
) -> list[Fact]:
    """What one ``pip install`` / ``conda install`` word asks for, read the way a
    requirements file or an environment.yml reads the same text."""
    requirement = _requirement_word(spec)
    if requirement is None:
        return []
    if manager == "conda":
        # the image's Python and CUDA come from its base image; conda's own picks of them
        # (``conda install python=3.10``) are not packages
        facts = conda_spec_facts(requirement, file, line)
        return [f for f in facts if isinstance(f, (Package, SystemPackage, ParseError))]
    fact = requirement_fact(
        requirement, file, line, manager=manager, editable=editable, pip_forms=True
    )
    return [] if fact is None else [fact]


_NAME_AT_START = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _requirement_word(word: str) -> str | None:
    """``word`` as a requirement, or None when the shell decides what it is.

    A variable left unresolved (an ARG without a default, the environment of the build)
    in the version leaves the name (``torch==${TORCH}`` -> ``torch``); as the name, or a
    glob of local files (``/wheels/*.whl``), the word names nothing we can read.
    """
    if "$" in word or "`" in word:
        name = _NAME_AT_START.match(word)
        if name is None or word[name.end() : name.end() + 1] not in ("=", "<", ">", "!", "~", "["):
            return None
        return name.group(0)
    if ("*" in word or "?" in word) and "://" not in word and ("/" in word or word[:1] in ".~"):
        return None
    return word


def python_install_facts(
    command: str, file: str, line: int
) -> list[Package | Include | NetworkTarget]:
    """Packages, ``-r`` / ``-c`` files and indexes of a shell command's Python installs.

    The reading of a RUN line (pip, ``python -m pip``, uv, conda), for other sources whose
    files run shell commands: notebooks' ``%pip install`` / ``!pip install`` lines.
    """
    found = _Installs()
    commands, _spent, _complete = _commands(command, MAX_SHELL_WORDS)
    for words in commands:
        _parse_command(words, found)
    out: list[Package | Include | NetworkTarget] = []
    for install in found.packages:
        for fact in _package_facts(
            install.spec, install.manager, file, line, editable=install.editable
        ):
            if isinstance(fact, Package):
                out.append(fact)
    for install in found.includes:
        if install.manager == "constraints":
            out.append(Include(install.spec, file, line, kind="constraints"))
        else:
            out.append(Include(install.spec, file, line, kind="requirements"))
    for install in found.indexes:
        for t in targets_from_text(install.spec, file=file, line=line, kind="index"):
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


def _command_words(words: list[str]) -> list[str]:
    """The words of the command itself: prefixes such as ``exec`` or ``env X=1`` dropped,
    and ``sh -c 'python -m x'`` opened to look inside the string."""
    words = _strip_prefix(list(words))
    if (
        len(words) >= 3
        and posixpath.basename(words[0]) in ("sh", "bash")
        and words[1] in ("-c", "-lc", "-ec")
    ):
        return _command_words(words[2].split())
    return words


def python_script_of_command(words: list[str]) -> str:
    """The script file a ``python path/to/x.py`` (or ``streamlit run x.py``) command
    runs, as written (absolute or relative to the working directory); "" if none."""
    words = _command_words(words)
    for i, word in enumerate(words):
        prog = posixpath.basename(word)
        if re.fullmatch(r"python(\d(\.\d+)?)?", prog):
            for arg in words[i + 1 :]:
                if arg.endswith(".py"):
                    return arg
                if not arg.startswith("-"):
                    return ""
            return ""
        if prog == "streamlit" and words[i + 1 : i + 2] == ["run"] and len(words) > i + 2:
            return words[i + 2]
    return ""


def module_of_command(words: list[str]) -> str:
    """The Python module a command starts, when it says: ``python -m pkg.app``,
    ``uvicorn pkg.app:app``, ``gunicorn pkg.wsgi:application``, ``python serve/app.py``."""
    words = _command_words(words)
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


def _stage_ref(ref: str, names: dict[str, int], before: int) -> int | None:
    """The index of the stage ``ref`` names among the first ``before`` stages, if any."""
    index = names.get(ref.lower())
    if index is not None and index < before:
        return index
    if ref.isdigit() and int(ref) < before:
        return int(ref)
    return None


def _ancestry(stages: list[_Stage], index: int) -> list[int]:
    """``index`` and the stages it is built FROM, nearest first."""
    chain = [index]
    seen = {index}
    parent = stages[index].parent
    while parent is not None and parent not in seen:
        chain.append(parent)
        seen.add(parent)
        parent = stages[parent].parent
    return chain


def _context_path_of(copies: dict[str, str], path: str) -> str | None:
    """The build-context path an image path came from: the COPY that put it there
    exactly (``COPY requirements.txt /app/``), else the deepest COPY of a folder above
    it (``COPY ui /app`` then ``-r /app/requirements.txt`` reads ``ui/requirements.txt``)."""
    if path in copies:
        return copies[path]
    folder = path
    while folder not in ("/", "", "."):
        parent = posixpath.dirname(folder)
        if parent == folder:  # "//" is its own dirname: stop at any root
            break
        folder = parent
        source = copies.get(folder)
        if source is not None:
            return posixpath.normpath(posixpath.join(source, posixpath.relpath(path, folder)))
    return None


def _copy_words(value: str) -> list[str]:
    """Words of a COPY / ADD value (JSON form or plain), flags included."""
    value = value.strip()
    if value.startswith("["):
        return _entrypoint_words(value)
    return value.split()


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
            if len(out) > MAX_KEYS:  # the caller reports the cut
                break
    return out


def _short(value: str) -> str:
    return value if len(value) <= _MAX_VALUE else value[: _MAX_VALUE - 1] + "…"


class DockerfileSource:
    name = "dockerfile"

    def matches(self, path: str) -> bool:
        return bool(_NAME.search(path))

    def parse(self, text: str, path: str) -> SourceResult:
        cut: list[Fact] = []
        lines = text.split("\n", MAX_LINES)
        if len(lines) > MAX_LINES:
            text = "\n".join(lines[:MAX_LINES])
            message = f"more than {MAX_LINES} lines; the rest is not read"
            cut.append(ParseError(path, message, MAX_LINES + 1))
        instructions = read_instructions(text, MAX_INSTRUCTIONS)
        if len(instructions) > MAX_INSTRUCTIONS:
            first_unread = instructions.pop()
            message = f"more than {MAX_INSTRUCTIONS} instructions; the rest is not read"
            cut.append(ParseError(path, message, first_unread.start))
        try:
            facts = _DockerfileReader(path, text, instructions).facts()
            return SourceResult(tuple(facts + cut))
        except RecursionError:
            return error(path, "Dockerfile stages nest too deeply")


class _LineFinder:
    """The line of a token inside one (multi-line) instruction, in time linear in its text.

    Words of the instruction's lines are indexed as far as the tokens asked for need
    (each word once): as written (quotes and shell punctuation trimmed), by the value of
    ``--option=value``, by the host and path of a URL, and by a leading name (``torch``
    of ``torch==${V}``, ``PATH`` of ``PATH=/x``). A token no word gives is searched as a substring of the lines, within a
    budget of characters shared by the whole file, so that no input makes the search
    quadratic (rescanning the text for every one of 100k packages took minutes); past
    the budget, the instruction's first line is used.
    """

    def __init__(self, lines: list[str], ins: Instruction, budget: list[int]) -> None:
        self.lines = lines
        self.start = ins.start
        self.end = min(ins.end, len(lines))
        self.budget = budget  # one shared, mutable count of characters left to scan
        self.words: dict[str, int] = {}
        self.pending = (
            (number, raw)
            for number in range(self.start, self.end + 1)
            for raw in lines[number - 1].split()
        )
        self.scanned = 0  # characters read, for tests that count work

    def _index_next_word(self) -> bool:
        item = next(self.pending, None)
        if item is None:
            return False
        number, raw = item
        self.scanned += len(raw) + 1
        word = raw.strip(_WORD_EDGES)
        self.words.setdefault(word, number)
        if word.startswith("--") and "=" in word:
            self.words.setdefault(word.partition("=")[2], number)
        if "://" in word:  # a URL is looked up as host/path, without scheme or credentials
            self.words.setdefault(word.partition("://")[2].rpartition("@")[2], number)
        name = _leading_name(word)
        if name:
            self.words.setdefault(name, number)
        return True

    def line(self, token: str) -> int:
        word = token.strip(_WORD_EDGES)
        keys = [k for k in (word, _leading_name(word)) if k]
        while True:
            for key in keys:
                found = self.words.get(key)
                if found is not None:
                    return found
            if not self._index_next_word():
                break
        for number in range(self.start, self.end + 1):
            line = self.lines[number - 1]
            if not word or self.budget[0] < len(line):
                break
            self.budget[0] -= len(line)
            self.scanned += len(line)
            if word in line:
                return number
        return self.start


def _leading_name(word: str) -> str:
    """``torch`` of ``torch==2.1`` / ``torch[cuda]``, ``PATH`` of ``PATH=/x``, else ""."""
    name = _NAME_AT_START.match(word)
    if name is None or word[name.end() : name.end() + 1] not in _AFTER_NAME:
        return ""
    return name.group(0)


_WORD_EDGES = "\"'\\;&|()`"
_AFTER_NAME = ("", "=", "<", ">", "!", "~", "[", ";", "@")


class _DockerfileReader:
    def __init__(self, path: str, text: str, instructions: list[Instruction]) -> None:
        self.path = path
        self.lines = text.split("\n")
        self.instructions = instructions
        self.facts_out: list[Fact] = []
        self.seen: set[Fact] = set()
        self.finders: dict[int, _LineFinder] = {}  # by first line of the instruction
        self.search_budget = [2 * len(text) + 1_000_000]
        self.left = {what: limit for what, (limit, _) in _CUT.items()}
        self.full = False
        self.stage_env: dict[int, dict[str, str]] = {}  # ENV each stage ends with (inherited)
        self.envs: set[str] = set()  # python environments the file creates
        # what the shipped image holds where: image path -> build-context path (COPY), and
        # its last WORKDIR, so CMD ["python", "/app/app.py"] names the file it runs
        self.image_copies: dict[str, str] = {}
        self.image_workdir = "/"

    def add(self, fact: Fact) -> None:
        if fact in self.seen:
            return
        if len(self.facts_out) >= MAX_FACTS:
            if not self.full:
                self.full = True
                message = f"more than {MAX_FACTS} facts; the rest is not read"
                self.facts_out.append(ParseError(self.path, message, getattr(fact, "line", 0)))
            return
        self.seen.add(fact)
        self.facts_out.append(fact)

    @property
    def room(self) -> int:
        """How many more facts are kept (one more: the caller's next add reports the cut)."""
        return max(MAX_FACTS - len(self.facts_out), 0)

    def spend(self, what: str, line: int, amount: int = 1) -> bool:
        """False once the bound on ``what`` is passed (the first time, with an error)."""
        was = self.left[what]
        self.left[what] -= amount
        if was >= 0 > self.left[what]:
            limit, message = _CUT[what]
            self.add(ParseError(self.path, message.format(limit), line))
        return self.left[what] >= 0

    def line_of(self, token: str, ins: Instruction) -> int:
        """The line of ``token`` inside a (multi-line) instruction, for exact positions."""
        if ins.end <= ins.start:
            return ins.start
        finder = self.finders.get(ins.start)
        if finder is None:
            finder = self.finders[ins.start] = _LineFinder(self.lines, ins, self.search_budget)
        return finder.line(token)

    # -- structure -------------------------------------------------------------

    def facts(self) -> list[Fact]:
        global_args: dict[str, str] = {}
        global_arg_ins: list[Instruction] = []
        stages: list[_Stage] = []
        names: dict[str, int] = {}  # stage name (lower case) -> index of its first stage
        for ins in self.instructions:
            if ins.keyword == "FROM":
                image, name = _split_from(_substitute(ins.value, global_args))
                stage = _Stage(index=len(stages), base=image, name=name, line=ins.start)
                stage.parent = _stage_ref(image, names, len(stages))
                stages.append(stage)
                if name:
                    names.setdefault(name.lower(), stage.index)
            elif not stages:
                if ins.keyword == "ARG":
                    for key, value in _kv_pairs(ins.value) or [(ins.value.strip(), "")]:
                        global_args[key] = _substitute(value, global_args)
                    global_arg_ins.append(ins)
            else:
                stages[-1].instructions.append(ins)
        if not stages:
            return [ParseError(self.path, "no FROM instruction: not a Dockerfile", 0)]

        full = _ancestry(stages, len(stages) - 1)
        copied = self._copied_from(stages, names, set(full))

        for ins in global_arg_ins:
            self._arg(ins)
        root = stages[full[-1]]
        self._runtime(root)
        for package in base_image_packages(root.base, self.path, root.line):
            self.add(package)
        for index in reversed(full):  # root first, so child ENV/CMD come after
            self._stage(stages[index], global_args, carried=None)
        for index in sorted(copied):  # parents first: a parent has the lower index
            self._stage(stages[index], global_args, carried=copied[index])
        self._entrypoint(stages, full)
        return self.facts_out

    def _copied_from(
        self, stages: list[_Stage], names: dict[str, int], full: set[int]
    ) -> dict[int, set[str]]:
        """Stage index -> the paths counted stages copy out of it (``COPY --from``), for
        every stage outside the final stage's ancestry; a copied stage's own copies too.
        Paths are absolute in the source stage (``COPY --from`` reads from its root)."""
        copied: dict[int, set[str]] = {}
        todo = sorted(full)
        done: set[int] = set()
        while todo:
            index = todo.pop()
            if index in done:
                continue
            done.add(index)
            for ins in stages[index].instructions:
                if ins.keyword not in ("COPY", "ADD"):
                    continue
                words = _copy_words(ins.value)
                origin = next((w[len("--from=") :] for w in words if w.startswith("--from=")), "")
                ref = _stage_ref(origin, names, index) if origin else None
                paths = [w for w in words if not w.startswith("--")]
                if ref is None or len(paths) < 2:
                    continue
                sources = {posixpath.normpath("/" + src.lstrip("/")) for src in paths[:-1]}
                for ancestor in _ancestry(stages, ref):
                    if ancestor not in full:
                        copied.setdefault(ancestor, set()).update(sources)
                        todo.append(ancestor)
        return copied

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

    def _arg(self, ins: Instruction) -> None:
        pairs = _kv_pairs(ins.value) or [(ins.value.strip(), "")]
        for key, value in pairs:
            if not key:
                continue
            if not self.spend("keys", ins.start):
                break
            shown, secret = mask_value(key, value)
            self.add(ConfigEntry(f"ARG.{key}", _short(shown), self.path, ins.start, secret=secret))
            for target in targets_from_config(key, value, file=self.path, line=ins.start):
                self.add(target)

    def _stage(
        self, stage: _Stage, global_args: dict[str, str], *, carried: set[str] | None
    ) -> None:
        """Facts of one stage. ``carried`` None: the stage ships (everything counts); else
        the paths shipped stages copy out of it, and only Python installs they carry count."""
        ship = carried is None
        env = dict(self.stage_env.get(stage.parent, {})) if stage.parent is not None else {}
        variables: dict[str, str] = dict(env)
        workdir = "/"
        copies: dict[str, str] = {}  # destination path in the image -> source in the context
        for ins in stage.instructions:
            kw = ins.keyword
            if kw == "ARG":
                for key, value in _kv_pairs(ins.value) or [(ins.value.strip(), "")]:
                    default = value or global_args.get(key, "")
                    if default:  # without one the build decides: ${KEY} stays unresolved
                        variables[key] = default
                if ship:
                    self._arg(ins)
            elif kw == "ENV":
                for key, value in _kv_pairs(ins.value):
                    if not self.spend("keys", ins.start):
                        break
                    variables[key] = env[key] = _substitute(value, variables)
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
                script = _substitute(ins.value, variables)
                self._run(ins, script, variables, workdir, copies, carried=carried)
        self.stage_env[stage.index] = env
        if ship:  # stages are walked root first: the final stage's copies and WORKDIR win
            self.image_copies.update(copies)
            self.image_workdir = workdir

    def _copy(self, ins: Instruction, workdir: str, copies: dict[str, str], *, ship: bool) -> None:
        words = _copy_words(ins.value)
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

    def _installs(
        self, ins: Instruction, script: str, variables: dict[str, str], workdir: str
    ) -> _Installs:
        """What the script installs where, within the file's budget of shell words."""
        found = _Installs(workdir=workdir)
        found.envs = self.envs  # shared: a venv made in one RUN is used by the next
        found.active = dockerfile_copy.active_environment(variables, self.envs, workdir)
        left = max(self.left["words"], 0)
        commands, spent, complete = _commands(script, left)
        self.spend("words", ins.start, min(spent, left) if complete else left + 1)
        for words in commands:
            _parse_command(words, found)
        return found

    def _run(
        self,
        ins: Instruction,
        script: str,
        variables: dict[str, str],
        workdir: str,
        copies: dict[str, str],
        *,
        carried: set[str] | None,
    ) -> None:
        script = re.sub(r"^\s*(--(mount|network|security)=\S+\s+)+", "", script)
        if script.strip().startswith("["):
            script = " ".join(_entrypoint_words(script))
        found = self._installs(ins, script, variables, workdir)

        def counts(install: _Install) -> bool:
            if carried is None:  # a shipped stage: what it installs is in the image
                return install.installed
            return dockerfile_copy.carries(carried, install.location)

        for extras, groups, all_extras, all_groups in found.projects:
            self.add(ProjectInstall(self.path, ins.start, extras, groups, all_extras, all_groups))
        for install in found.packages:
            if not counts(install):
                continue
            if not self.spend("installs", ins.start):
                break
            line = self.line_of(install.spec, ins)
            for fact in _package_facts(
                install.spec, install.manager, self.path, line, editable=install.editable
            ):
                self.add(fact)
        for install in found.includes:
            if not counts(install):
                continue
            if not self.spend("installs", ins.start):
                break
            target = install.spec
            resolved = _context_path_of(copies, posixpath.normpath(posixpath.join(workdir, target)))
            resolved = resolved or target
            line = self.line_of(target, ins)
            if install.manager == "constraints":
                self.add(Include(resolved, self.path, line, kind="constraints"))
            else:
                self.add(Include(resolved, self.path, line, kind="requirements"))
        indexes: set[str] = set()
        for install in found.indexes:
            if not counts(install) and carried is not None:
                continue
            for t in targets_from_text(
                install.spec, file=self.path, line=self.line_of(install.spec, ins), kind="index"
            ):
                indexes.add(t.target)
                self.add(NetworkTarget(t.target, "index", t.file, t.line, key=t.key))
        if carried is not None:
            return
        for install in found.system:
            if not self.spend("installs", ins.start):
                break
            system = _system_package(
                install.spec, install.manager, self.path, self.line_of(install.spec, ins)
            )
            if system is not None:
                self.add(system)
        limit = min(self.room, max(self.left["urls"], 0))
        for t in targets_from_text(script, file=self.path, line=ins.start, limit=limit):
            if not self.spend("urls", ins.start):
                break
            if t.target not in indexes:
                self.add(
                    NetworkTarget(
                        t.target, t.kind, t.file, self.line_of(t.target.split("://")[-1], ins)
                    )
                )

    def _entrypoint(self, stages: list[_Stage], full: list[int]) -> None:
        # walk root -> final stage; an ENTRYPOINT resets a CMD inherited from a parent stage
        entry: Instruction | None = None
        cmd: Instruction | None = None
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
                    module=self._module_run(words),
                )
            )

    def _module_run(self, words: list[str]) -> str:
        """The module the command starts, named by where it is in the build context when
        a COPY put it in the image (``COPY ui /app`` + ``python /app/app.py``: ``ui.app``)."""
        script = python_script_of_command(words)
        if script:
            image_path = posixpath.normpath(posixpath.join(self.image_workdir, script))
            source = _context_path_of(self.image_copies, image_path)
            if source and source.endswith(".py") and not source.startswith(("/", "..")):
                return source[: -len(".py")].lstrip("./").replace("/", ".")
        return module_of_command(words)


SOURCE = guarded(DockerfileSource())

__all__ = [
    "SOURCE",
    "DockerfileSource",
    "base_image_packages",
    "module_of_command",
    "python_install_facts",
]
