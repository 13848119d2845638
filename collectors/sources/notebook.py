"""Jupyter notebooks (``.ipynb``): their code cells read as Python, their installs as packages.

DESIGN.md §5: notebooks are training code unless the config says otherwise (placing the
file is the environment finder's job; this source only reads it). One notebook gives:

- one ``CodeModule``: the code cells, joined in order, read by the Python source's own
  parser (``python_code.SOURCE.parse``: imports, training calls, definitions, app objects);
- ``Package`` / ``Include`` / index facts for ``%pip install``, ``!pip install -q x y``,
  ``!pip install -r requirements.txt``, ``%conda install``, ``!{sys.executable} -m pip
  install`` and shell cells (``%%bash``), read by the Dockerfile source's RUN reader
  (``dockerfile.python_install_facts``);
- a ``ParseError`` per code cell that is not Python even after IPython syntax is set aside
  (``cell 5: Python syntax error: ...``); the other cells still count.

**Lines.** Every fact's ``line`` is a line of the ``.ipynb`` file itself: the JSON line
that holds that source line of the cell. Jupyter, VS Code and Colab write one source line
per JSON line, so ``notebook.ipynb:42`` opens (``less +42``, an editor, GitHub's "raw"
view, a SARIF viewer) on the very code. A cell stored as one JSON string (hand-written or
minified notebooks) points at the line where that string starts. Should the file's string
tokens ever not line up with the parsed document (duplicate keys), lines count within the
joined code cells instead (cell 1 line 1 is line 1, the next cell continues after it).

**IPython syntax** is replaced, keeping every line: line magics (``%time x``), shell
escapes (``!ls``), ``x = !cmd``, help (``obj?``) become ``pass`` at their indentation;
cell magics whose body is Python (``%%time``, ``%%capture``) keep the body, shell cell
magics (``%%bash``) are read as shell, any other cell magic (``%%writefile``, ``%%sql``)
is set aside whole. A cell that parses as plain Python is left untouched.

**Reading.** The standard library's ``json``: nbformat would add four dependencies to
validate a schema we must be lenient about (a notebook with odd metadata still holds
code) and to convert the nbformat 3 shape, which is read here in a few lines (its
``worksheets[].cells[].input``). Outputs (megabytes of images and logs) are never looked
at; nothing of them is kept. Notebooks of another kernel language (R, Julia) give no facts.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from depaudit.collectors.sources.base import error, guarded
from depaudit.collectors.sources.dockerfile import python_install_facts
from depaudit.collectors.sources.python_code import SOURCE as PYTHON
from depaudit.model import CodeModule, Fact, ParseError, SourceResult

# Cell magics whose body is Python code (the magic only times / captures / profiles it).
PYTHON_CELL_MAGICS = frozenset(
    {"time", "timeit", "capture", "prun", "debug", "memit", "python", "python3"}
)
# Cell magics whose body is a shell script.
SHELL_CELL_MAGICS = frozenset({"bash", "sh", "system", "sx", "script"})
# Line magics that run a package manager (``%pip install x`` is ``pip install x``).
INSTALL_MAGICS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_ASSIGNED_ESCAPE = re.compile(r"^[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*([!%])")
_FUTURE = re.compile(r"^(\s*)from\s+__future__\s+import\s+[\w\s,]+$")
_HELP = re.compile(r"^(?:\?{1,2}[\w.*\[\]()]+|[\w.*\[\]()]+\?{1,2})$")
_EXECUTABLE = re.compile(r"^\{[^}]*executable[^}]*\}|^\$\{?[\w.]*executable\}?")


@dataclass
class _Cell:
    number: int  # 1-based position among all cells, as nbformat lists them
    lines: list[str]  # source lines, without line ends
    file_lines: list[int]  # .ipynb line of each source line (0 = unknown)


class NotebookSource:
    name = "notebook"

    def matches(self, path: str) -> bool:
        # Jupyter's autosave copies are not the notebook (often committed by mistake).
        return path.endswith(".ipynb") and ".ipynb_checkpoints/" not in f"/{path}"

    def parse(self, text: str, path: str) -> SourceResult:
        text = text.removeprefix("\ufeff")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            return error(path, f"not a Jupyter notebook: invalid JSON ({exc.msg})", exc.lineno)
        except (ValueError, RecursionError, MemoryError) as exc:
            return error(path, f"not a Jupyter notebook: {type(exc).__name__}")
        cells = _cells_of(document)
        if cells is None:
            return error(path, 'JSON is not a Jupyter notebook (no "cells" list)')
        if not _is_python(document):
            return SourceResult()
        code = _code_cells(document, cells, text)
        del document  # outputs can be megabytes: nothing of them outlives this point
        return SourceResult(tuple(_facts(code, path)))


# ----------------------------------------------------------------------------- document


def _cells_of(document: object) -> list[Any] | None:
    """The cell list of an nbformat 4 (``cells``) or 3 (``worksheets[].cells``) notebook."""
    if not isinstance(document, dict):
        return None
    cells = document.get("cells")
    if isinstance(cells, list):
        return cells
    sheets = document.get("worksheets")
    if isinstance(sheets, list):
        out: list[Any] = []
        for sheet in sheets:
            if isinstance(sheet, dict) and isinstance(sheet.get("cells"), list):
                out.extend(sheet["cells"])
        return out
    return None


def _is_python(document: dict[str, Any]) -> bool:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for key, field in (("kernelspec", "language"), ("language_info", "name")):
        block = metadata.get(key)
        language = block.get(field) if isinstance(block, dict) else None
        if isinstance(language, str) and language.strip():
            return language.strip().lower() in ("python", "python3", "ipython", "ipython3")
    return True


def _source_key(cell: dict[str, Any]) -> str:
    return "source" if "source" in cell else "input"  # nbformat 3 code cells: "input"


def _code_cells(document: Any, cells: list[Any], text: str) -> list[_Cell]:
    """The code cells, each source line with the .ipynb line it is written on."""
    wanted: dict[tuple[int, object], tuple[int, int]] = {}  # token slot -> (cell, line index)
    picked: list[tuple[_Cell, list[int]]] = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if isinstance(cell.get("language"), str) and cell["language"] not in ("python", ""):
            continue  # nbformat 3 per-cell language
        key = _source_key(cell)
        source = cell.get(key)
        raw = source if isinstance(source, list) else [source]
        pieces = [p for p in raw if isinstance(p, str)]
        if len(pieces) != len(raw):
            continue
        lines: list[str] = []
        starts: list[int] = []  # first line index of each piece
        for piece in pieces:
            starts.append(len(lines))
            lines.extend(piece.splitlines() or [""])
        if not "".join(pieces).strip():
            continue
        entry = _Cell(number, lines, [0] * len(lines))
        spans = [*starts, len(lines)]
        owner = id(source) if isinstance(source, list) else id(cell)
        for i in range(len(pieces)):
            slot: object = i if isinstance(source, list) else key
            wanted[(owner, slot)] = (len(picked), i)
        picked.append((entry, spans))
    positions = _token_lines(document, text, set(wanted))
    if positions is not None:
        for token, (cell_index, nth) in wanted.items():
            entry, spans = picked[cell_index]
            line = positions.get(token, 0)
            for i in range(spans[nth], spans[nth + 1]):
                # a piece holding several lines (one-string cells) is one JSON line
                entry.file_lines[i] = line
    else:
        joined = 0
        for entry, _ in picked:
            entry.file_lines = list(range(joined + 1, joined + 1 + len(entry.lines)))
            joined += len(entry.lines)
    return [entry for entry, _ in picked]


def _token_lines(
    document: Any, text: str, wanted: set[tuple[int, object]]
) -> dict[tuple[int, object], int] | None:
    """The .ipynb line of each wanted string value, or None if tokens do not line up.

    Walks the parsed document in file order (json keeps key order) counting string tokens
    -- keys and values alike -- and pairs them with the file's string tokens, found by one
    linear scan. Linear in the file; never looks inside the outputs' values.
    """
    order: dict[tuple[int, object], int] = {}
    count = 0
    stack: list[Any] = [document]
    slots: list[tuple[int, object] | None] = [None]
    while stack:
        node = stack.pop()
        slot = slots.pop()
        if isinstance(node, str):
            if slot in wanted:
                order[slot] = count  # type: ignore[index]
            count += 1
        elif isinstance(node, dict):
            # keys and values in file order, pushed reversed for the stack
            for key, value in reversed(list(node.items())):
                stack.append(value)
                slots.append((id(node), key))
                stack.append(key)
                slots.append(None)
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                stack.append(node[i])
                slots.append((id(node), i))
    lines: list[int] = []
    line, pos = 1, 0
    for match in _JSON_STRING.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        lines.append(line)
    if len(lines) != count:
        return None
    return {slot: lines[index] for slot, index in order.items()}


# -------------------------------------------------------------------------------- facts


def _facts(cells: list[_Cell], path: str) -> list[Fact]:
    out: list[Fact] = []
    joined: list[str] = []
    line_map: list[int] = []  # joined line - 1 -> .ipynb line
    installs: list[Fact] = []
    for cell in cells:
        python: list[str] = cell.lines
        shell: list[tuple[int, str]] = []
        problem = _python_error(python)
        if problem is not None:  # IPython syntax, or not Python at all
            python, shell = _ipython_to_python(cell.lines)
            problem = _python_error(python)
        for index, command in shell:
            installs.extend(python_install_facts(command, path, cell.file_lines[index]))
        if problem is not None:
            message, index = problem
            line = cell.file_lines[min(max(index, 0), len(cell.lines) - 1)]
            out.append(ParseError(path, f"cell {cell.number}: {message}", line))
            continue
        # a later cell's __future__ import would not parse once cells are joined
        joined.extend(_FUTURE.sub(r"\1pass", line) for line in python)
        line_map.extend(cell.file_lines)
    result = PYTHON.parse("\n".join(joined) + "\n", path)

    def line_of(joined_line: int) -> int:
        return line_map[joined_line - 1] if 0 < joined_line <= len(line_map) else 0

    for fact in result.facts:
        if isinstance(fact, CodeModule):
            out.insert(0, _remap(fact, line_of))
        elif isinstance(fact, ParseError):
            out.append(replace(fact, line=line_of(fact.line)))
    # one fact per package and line (a notebook often repeats its install cell)
    return out + list(dict.fromkeys(installs))


def _remap(module: CodeModule, line_of: Callable[[int], int]) -> CodeModule:
    return replace(
        module,
        imports=tuple(replace(r, line=line_of(r.line)) for r in module.imports),
        calls=tuple(replace(c, line=line_of(c.line)) for c in module.calls),
        definitions=tuple(replace(d, line=line_of(d.line)) for d in module.definitions),
        pickled=tuple(replace(c, line=line_of(c.line)) for c in module.pickled),
        saves=tuple(replace(f, line=line_of(f.line)) for f in module.saves),
        loads=tuple(replace(f, line=line_of(f.line)) for f in module.loads),
    )


def _python_error(lines: list[str]) -> tuple[str, int] | None:
    """(message, 0-based line) if the cell is not Python, else None."""
    try:
        ast.parse("\n".join(lines) + "\n")
    except SyntaxError as exc:
        return f"Python syntax error: {exc.msg}", (exc.lineno or 1) - 1
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"cannot parse Python: {type(exc).__name__}", 0
    return None


# ------------------------------------------------------------------------ IPython syntax


def _ipython_to_python(lines: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """(the cell as Python with IPython syntax set aside, [(line index, shell command)]).

    The Python text has exactly as many lines as the cell. Called only for cells that do
    not parse as Python (in one that does, a ``%`` or ``!`` continues an expression).
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    head = lines[first].strip() if lines else ""
    if head.startswith("%%"):
        magic, _, args = head[2:].partition(" ")
        if magic in PYTHON_CELL_MAGICS:
            body, body_shell = _ipython_to_python(lines[first + 1 :])
            return [*([""] * (first + 1)), *body], [(i + first + 1, c) for i, c in body_shell]
        blank = [""] * len(lines)
        is_shell = magic in SHELL_CELL_MAGICS and (
            magic != "script" or args.split()[:1] in (["bash"], ["sh"])
        )
        if is_shell:
            return blank, list(_shell_lines(lines, first + 1))
        return blank, []
    python: list[str] = []
    shell: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        assigned = _ASSIGNED_ESCAPE.match(stripped)
        if stripped.startswith(("!", "%")) or assigned or _HELP.match(stripped):
            command = stripped[assigned.start(1) :] if assigned else stripped
            start = i
            while command.endswith("\\") and i + 1 < len(lines):  # continued escape
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            python.append(f"{indent}pass")
            python.extend([""] * (i - start))
            shell_command = _as_shell(command)
            if shell_command:
                shell.append((start, shell_command))
        else:
            python.append(line)
        i += 1
    return python, shell


def _as_shell(escape: str) -> str:
    """The shell command of ``!cmd`` / ``!!cmd`` / ``%pip ...`` / ``%system cmd``; else ""."""
    if escape.startswith("!"):
        command = escape.lstrip("!").strip()
    elif escape.startswith("%") and not escape.startswith("%%"):
        magic, _, args = escape[1:].partition(" ")
        if magic in INSTALL_MAGICS:
            command = f"{magic} {args}"
        elif magic in ("system", "sx"):
            command = args
        else:
            return ""
    else:
        return ""
    # !{sys.executable} -m pip install x: the kernel's own interpreter
    return _EXECUTABLE.sub("python", command)


def _shell_lines(lines: list[str], start: int) -> list[tuple[int, str]]:
    """Commands of a shell cell's body, backslash continuations joined."""
    out: list[tuple[int, str]] = []
    i = start
    while i < len(lines):
        first, command = i, lines[i].strip()
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        if command and not command.startswith("#"):
            out.append((first, _EXECUTABLE.sub("python", command)))
        i += 1
    return out


SOURCE = guarded(NotebookSource())

__all__ = ["SOURCE", "NotebookSource"]
