"""Secrets in Python source, masked on the syntax tree before a function body is stored.

The stored body of a definition (``Definition.body``) is source text, and DA207 shows it
in its diff. Text patterns alone cannot mask it well: ``password = "Tr0ub4dor&3"`` has
punctuation a ``key=value`` pattern stops at, ``pwd = "..."`` or
``os.environ["DB_PASSWORD"] = "..."`` name the secret in a way free text does not, and
``password = settings.db_password`` is a reference that must stay readable.

So the tree decides. A string literal is a secret, and is replaced whole by
``"***masked:<fingerprint>***"`` (the fingerprint of its value, as for a config value),
when it sits in a position named by a secret-looking name (``depaudit.secrets``):

* assigned to a name, attribute or subscript: ``pwd = "..."``, ``self.api_key = "..."``,
  ``os.environ["DB_PASSWORD"] = "..."``, ``password: str = "..."``, ``(token := "...")``;
* passed as a keyword argument or used as a parameter default: ``connect(password="...")``,
  ``def login(user, password="...")``;
* a dict value under a secret key, nested keys included: ``{"auth": {"basic": "..."}}``;
* a positional argument after a secret name (``os.getenv("API_TOKEN", "...")``,
  ``environ.setdefault("DB_PASSWORD", "...")``) or of a secret-named call
  (``HTTPBasicAuth("u", "...")``, ``jwt.encode(payload, "...")``);
* compared with a secret name or its fallback: ``if password == "..."``,
  ``os.environ.get("API_TOKEN") or "..."``.

Inside a tuple, list, ``+`` / ``%`` expression, conditional or ``or`` / ``and`` every literal
is masked. Every other string literal and every comment is scrubbed as free text, so
``"mysql --password=..."`` inside a string is still masked; code outside literals and
comments is scrubbed for secret shapes only (AWS keys, tokens, URLs with passwords).
"""

from __future__ import annotations

import ast
import re

from depaudit.secrets import SECRET_WORDS, is_masked, is_secret_key, mask, may_name_secret, scrub

_SECRET_WORD = re.compile(f"(?:{SECRET_WORDS})", re.IGNORECASE)
# a literal that names something (an environment variable, a key, a flag), not a value
_NAME_LITERAL = re.compile(r"-{0,2}[A-Za-z_][A-Za-z0-9_\-]*")
_LITERAL_PREFIX = re.compile(r"[A-Za-z]*")
# Calls that look a secret up by name take names, not values: os.getenv("DB_PASSWORD"),
# keyring.get_password("svc", "user"), read_secret("db"), getpass("Password: ").
_LOOKUP_VERBS = (
    "get",
    "read",
    "load",
    "fetch",
    "lookup",
    "retrieve",
    "find",
    "has",
    "exists",
    "delete",
    "remove",
    "pop",
    "require",
)
_STRING_NODES = (ast.Constant, ast.JoinedStr)


def _mentions_secret_name(text: str) -> bool:
    """True if a word of ``text`` is a secret name (``pwd``, ``DB_PASSWORD``, ``auth``).

    Exact for what the tree walk looks for, and much cheaper: ``tokenizer``, ``max_tokens``
    and the ``pass`` statement are not secret names, so most definitions skip the walk.
    """
    if not may_name_secret(text):
        return False  # substring tests: the regex below is slow on text that has none
    for m in _SECRET_WORD.finditer(text):
        start, end = m.start(), m.end()
        while start and (text[start - 1].isalnum() or text[start - 1] in "_-"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
            end += 1
        word = text[start:end]
        if word == "pass":
            before = text[start - 1] if start else "\n"
            after = text[end] if end < len(text) else "\n"
            if before in " \t\n:;" and after in " \t\r\n;#":
                continue  # the statement
        if is_secret_key(word.strip("-")):
            return True
    return False


# Fields that never hold a node worth visiting (contexts, operators).
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_ignores", "type_comment"})
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _nodes(root: ast.AST) -> list[ast.AST]:
    """Every node under ``root`` except the inside of f-strings (``ast.walk`` is slower).

    Parts of an f-string have no usable positions before Python 3.12, and the f-string is
    judged as a whole.
    """
    out: list[ast.AST] = []
    stack = [root]
    while stack:
        node = stack.pop()
        out.append(node)
        kind = type(node)
        if kind is ast.JoinedStr:
            continue
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _SKIP_FIELDS)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)
    return out


def _name_of(node: ast.expr) -> str:
    """Dotted name of an assignment target or an operand: ``os.environ.DB_PASSWORD``."""
    kind = type(node)
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined,no-any-return]
    if kind is ast.Attribute:
        base = _name_of(node.value)  # type: ignore[attr-defined]
        return f"{base}.{node.attr}" if base else node.attr  # type: ignore[attr-defined]
    if kind is ast.Subscript:
        base = _name_of(node.value)  # type: ignore[attr-defined]
        index = node.slice  # type: ignore[attr-defined]
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return f"{base}.{index.value}" if base else index.value
        return base
    if kind is ast.Starred:
        return _name_of(node.value)  # type: ignore[attr-defined]
    if kind is ast.Call:
        return _name_of(node.func)  # type: ignore[attr-defined]
    return ""


def _is_name_literal(node: ast.expr) -> str | None:
    """The text of a string literal that reads as a name (``"DB_PASSWORD"``, ``"--token"``)."""
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _NAME_LITERAL.fullmatch(node.value)
    ):
        return node.value.lstrip("-")
    return None


def _operand_name(node: ast.expr) -> str:
    """The secret name an operand stands for: ``password``, ``os.environ["X_TOKEN"]``,
    ``os.getenv("X_TOKEN")``; "" when it names no secret."""
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
        name = _name_of(node)
        return name if name and is_secret_key(name) else ""
    if isinstance(node, ast.Call):
        for arg in node.args:
            literal = _is_name_literal(arg)
            if literal and is_secret_key(literal):
                return literal
    return ""


def _looks_up(call: ast.Call) -> bool:
    """True for a call that takes the names of secrets rather than their values."""
    leaf = _name_of(call.func).rsplit(".", 1)[-1].lower()
    return leaf.startswith(_LOOKUP_VERBS)


class _SecretLiterals:
    """Collects the string literals of a tree that hold secrets (see the module docstring)."""

    def __init__(self) -> None:
        self.found: dict[int, ast.expr] = {}

    def value(self, node: ast.expr | None, key: str) -> None:
        """``node`` sits in a position named ``key`` (``""``: no name)."""
        if node is None:
            return
        kind = type(node)
        if kind is ast.Constant:
            literal = node.value  # type: ignore[attr-defined]
            if (
                isinstance(literal, str | bytes)
                and literal
                and not (isinstance(literal, str) and is_masked(literal))
                and key
                and is_secret_key(key)
            ):
                self.found[id(node)] = node
        elif kind is ast.JoinedStr:
            if key and is_secret_key(key):
                self.found[id(node)] = node
        elif kind is ast.Dict:
            for k, v in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
                if isinstance(k, ast.Constant) and isinstance(k.value, str | int):
                    self.value(v, f"{key}.{k.value}" if key else str(k.value))
        elif kind in (ast.Tuple, ast.List, ast.Set):
            for element in node.elts:  # type: ignore[attr-defined]
                self.value(element, key)
        elif kind is ast.Starred:
            self.value(node.value, key)  # type: ignore[attr-defined]
        elif kind is ast.BinOp:
            self.value(node.left, key)  # type: ignore[attr-defined]
            self.value(node.right, key)  # type: ignore[attr-defined]
        elif kind is ast.IfExp:
            self.value(node.body, key)  # type: ignore[attr-defined]
            self.value(node.orelse, key)  # type: ignore[attr-defined]
        elif kind is ast.BoolOp:
            for v in node.values:  # type: ignore[attr-defined]
                self.value(v, key)
        elif kind is ast.Call and key and is_secret_key(key):
            # password = SecretStr("..."), token = b64decode("..."), Field(default="...");
            # not the name in password = os.getenv("DB_PASSWORD")
            if not _looks_up(node):  # type: ignore[arg-type]
                for arg in node.args:  # type: ignore[attr-defined]
                    self.value(arg, key)
            for kw in node.keywords:  # type: ignore[attr-defined]
                if kw.arg in ("default", "value"):
                    self.value(kw.value, key)

    def assign(self, target: ast.expr, value: ast.expr | None) -> None:
        if (
            isinstance(target, ast.Tuple | ast.List)
            and isinstance(value, ast.Tuple | ast.List)
            and len(target.elts) == len(value.elts)
        ):
            for t, v in zip(target.elts, value.elts, strict=True):
                self.assign(t, v)
            return
        self.value(value, _name_of(target))

    def call(self, node: ast.Call) -> None:
        for kw in node.keywords:
            if kw.arg:
                self.value(kw.value, kw.arg)
        func = _name_of(node.func)
        if func and is_secret_key(func) and not _looks_up(node):
            for arg in node.args:
                self.value(arg, func)
        named = ""
        for arg in node.args:
            if named:
                self.value(arg, named)
            else:
                name = _is_name_literal(arg)
                if name and is_secret_key(name):
                    named = name
        if named:
            for kw in node.keywords:
                if kw.arg in ("default", "value"):
                    self.value(kw.value, named)

    def operands(self, operands: list[ast.expr]) -> None:
        """``password == "..."``, ``os.getenv("API_TOKEN") or "..."``: the others are secret."""
        for operand in operands:
            name = _operand_name(operand)
            if name:
                for other in operands:
                    if other is not operand:
                        self.value(other, name)

    def arguments(self, args: ast.arguments) -> None:
        positional = [*args.posonlyargs, *args.args]
        with_default = positional[len(positional) - len(args.defaults) :]
        for arg, default in zip(with_default, args.defaults, strict=True):
            self.value(default, arg.arg)
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            self.value(kw_default, arg.arg)


def _char_col(line: str, byte_col: int) -> int:
    """``ast`` columns count UTF-8 bytes; text is sliced by characters."""
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "ignore"))


def _masked_literal(node: ast.expr, source: str) -> str:
    """A literal of the same kind holding the mask of the secret it replaces."""
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return "b" + repr(mask(node.value.decode("utf-8", "replace")))
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        secret = node.value
    else:
        secret = source  # an f-string: its text is what is there to fingerprint
    prefix = _LITERAL_PREFIX.match(source)
    quote = source[prefix.end() : prefix.end() + 1] if prefix else '"'
    quote = quote if quote in ("'", '"') else '"'
    return f"{quote}{mask(secret)}{quote}"


def mask_definition(node: ast.stmt, lines: list[str], start: int, end: int) -> str:
    """Source text of lines ``start..end`` (1-based, inclusive) of ``node``, secrets masked."""
    segment = lines[start - 1 : end]
    text = "\n".join(segment)
    if _mentions_secret_name(text):
        text = _mask_on_tree(node, segment, start, text)
    return scrub(text, assignments=False)


def _mask_on_tree(node: ast.stmt, segment: list[str], start: int, text: str) -> str:
    offsets = [0]
    for line in segment:
        offsets.append(offsets[-1] + len(line) + 1)

    def offset(lineno: int, byte_col: int) -> int | None:
        row = lineno - start
        if not 0 <= row < len(segment):
            return None  # not expected: the tree is the definition's own
        return offsets[row] + _char_col(segment[row], byte_col)

    finder = _SecretLiterals()
    strings: list[ast.expr] = []
    for child in _nodes(node):
        kind = type(child)
        if kind is ast.Assign:
            for target in child.targets:  # type: ignore[attr-defined]
                finder.assign(target, child.value)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign or kind is ast.AugAssign or kind is ast.NamedExpr:
            finder.assign(child.target, child.value)  # type: ignore[attr-defined]
        elif kind is ast.Call:
            finder.call(child)  # type: ignore[arg-type]
        elif kind is ast.Dict:
            finder.value(child, "")  # type: ignore[arg-type]
        elif kind is ast.Compare:
            finder.operands([child.left, *child.comparators])  # type: ignore[attr-defined]
        elif kind is ast.BoolOp:
            finder.operands(child.values)  # type: ignore[attr-defined]
        elif kind is ast.arguments:
            finder.arguments(child)  # type: ignore[arg-type]
        elif kind is ast.JoinedStr or (
            kind is ast.Constant and isinstance(child.value, str | bytes)  # type: ignore[attr-defined]
        ):
            strings.append(child)  # type: ignore[arg-type]

    edits: list[tuple[int, int, str]] = []
    spans: list[tuple[int, int]] = []
    for literal in strings:
        if literal.end_lineno is None or literal.end_col_offset is None:
            continue
        a = offset(literal.lineno, literal.col_offset)
        b = offset(literal.end_lineno, literal.end_col_offset)
        if a is None or b is None:
            continue
        spans.append((a, b))
        source = text[a:b]
        if id(literal) in finder.found:
            edits.append((a, b, _masked_literal(literal, source)))
        elif may_name_secret(source):
            scrubbed = scrub(source)
            if scrubbed != source:
                edits.append((a, b, scrubbed))
    edits.extend(_comment_edits(text, spans))
    out: list[str] = []
    cursor = 0
    for a, b, replacement in sorted(edits):
        if a < cursor:
            continue  # overlapping edits are not expected; keep the first
        out.append(text[cursor:a])
        out.append(replacement)
        cursor = b
    out.append(text[cursor:])
    return "".join(out)


def _comment_edits(text: str, strings: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Scrubbed comments: a ``#`` outside every string literal runs to the end of its line."""
    if "#" not in text:
        return []
    strings = sorted(strings)
    edits: list[tuple[int, int, str]] = []
    pos = text.find("#")
    index = 0
    while pos >= 0:
        while index < len(strings) and strings[index][1] <= pos:
            index += 1
        if index < len(strings) and strings[index][0] <= pos:
            pos = text.find("#", strings[index][1])  # inside a string: not a comment
            continue
        eol = text.find("\n", pos)
        eol = len(text) if eol < 0 else eol
        comment = text[pos:eol]
        if may_name_secret(comment):
            scrubbed = scrub(comment)
            if scrubbed != comment:
                edits.append((pos, eol, scrubbed))
        pos = text.find("#", eol)
    return edits


__all__ = ["mask_definition"]
