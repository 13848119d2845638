"""Secret literals in Python code are masked whole, on the syntax tree, before a body is stored.

Each case plants a value in one code shape under one secret-looking name, parses the file
as the collector does and reads the stored ``Definition.body``: no piece of the value may
remain, and the mask carries the value's fingerprint (the same as a config value's).
Values are built from marked pieces joined by punctuation, so a mask that stops at ``&``,
``#`` or a quote leaves a marker behind and fails the test.
"""

from __future__ import annotations

import ast
import itertools
import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.collectors.sources.python_code import SOURCE
from depaudit.model import CodeModule
from depaudit.secrets import mask, mask_value

MARK = "Qz"  # every piece of a planted value starts with it; nothing else in the code does


def bodies(code: str, path: str = "serving/app.py") -> str:
    facts = SOURCE.parse(textwrap.dedent(code), path).facts
    assert len(facts) == 1 and isinstance(facts[0], CodeModule), facts
    return "\n".join(d.body for d in facts[0].definitions)


def planted(*pieces: str, separators: str = "&#;'\" =@%:/\\,|(){}[]<>!?*+~^$") -> str:
    """``Qz0a&Qz1b#...``: marked pieces joined by punctuation."""
    seps = itertools.cycle(separators)
    return "".join(
        f"{MARK}{i}{p}{next(seps) if i < len(pieces) - 1 else ''}" for i, p in enumerate(pieces)
    )


SECRET_NAMES = [
    "pwd",
    "password",
    "db_password",
    "DB_PASSWORD",
    "PGPASS",
    "passphrase",
    "apiKey",
    "API_KEY",
    "client_secret",
    "authToken",
    "hf_token",
    "signing_key",
    "SENTRY_DSN",
    "session_cookie",
    "jwt_secret",
    "credentials",
    "aws_secret_access_key",
    "slack_webhook_url",
]

# {n}: the name as an identifier, {q}: the name as a string, {v}: the literal
SHAPES = [
    "{n} = {v}",
    "{n}: str = {v}",
    "self.{n} = {v}",
    "config.section.{n} = {v}",
    "os.environ[{q}] = {v}",
    "settings['db'][{q}] = {v}",
    "os.environ.setdefault({q}, {v})",
    "value = os.getenv({q}, {v})",
    "value = os.environ.get({q}) or {v}",
    "client = connect(host='db.internal', {n}={v})",
    "conf = dict(user='svc', {n}={v})",
    "conf = {{{q}: {v}, 'timeout': 3}}",
    "conf = {{'outer': {{{q}: {v}}}}}",
    "conf = [{{'name': 'a', {q}: {v}}}]",
    "if {n} == {v}:\n        return None",
    "if {v} != {n}:\n        return None",
    "{n} = ({v}, {v})",
    "{n} = {v} if flag else None",
    "user, {n} = 'svc', {v}",
    "if ({n} := {v}):\n        return None",
    "{n} += {v}",
]


def _code(shape: str, name: str, value: str) -> str:
    line = shape.format(n=name, q=repr(name), v=repr(value))
    return (
        "import os\n\n\ndef handler(flag, config, settings, self):\n    "
        + line
        + "\n    return flag\n"
    )


def _assert_masked(body: str, value: str) -> None:
    assert MARK not in body, body
    assert mask(value) in body, body


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_literal_masked_whole_in_every_shape(shape: str, name: str) -> None:
    value = planted(name[:3], "b", "c", "d")
    _assert_masked(bodies(_code(shape, name, value)), value)


@pytest.mark.parametrize(
    "code",
    [
        # a parameter default, positional or keyword-only
        "def login(user, password={v}):\n    return user\n",
        "def login(user, *, api_key={v}):\n    return user\n",
        # a decorator argument
        "@retry(token={v})\ndef fetch():\n    return 1\n",
        # class attributes: pydantic / dataclass settings
        "class Settings:\n    db_password: str = {v}\n    timeout: int = 3\n",
        "class Settings:\n    api_key = Field(default={v})\n",
        "class Settings:\n    secret = SecretStr({v})\n",
        # a method body
        "class Client:\n    def __init__(self):\n        self.token = {v}\n",
        # a secret-named call, a client's auth tuple, a JWT signing key, headers
        "def auth():\n    return HTTPBasicAuth('svc', {v})\n",
        "def get(url):\n    return requests.get(url, auth=('svc', {v}))\n",
        "def sign(payload):\n    return jwt.encode(payload, {v}, algorithm='HS256')\n",
        "def get(url):\n    return requests.get(url, headers={{'Authorization': {v}}})\n",
        # a value under an auth parent, a list under a secret name
        "def conf():\n    return {{'auth': {{'basic': {v}, 'type': 'basic'}}}}\n",
        "def conf():\n    api_keys = [{v}, {v}]\n    return api_keys\n",
        # string concatenation and %-formatting under a secret name
        "def conf(x):\n    password = {v} + x\n    return password\n",
        "def conf(x):\n    password = {v} % x\n    return password\n",
        # bytes
        "def conf():\n    api_secret = {bv}\n    return api_secret\n",
    ],
)
def test_secret_literal_masked_in_definition_shapes(code: str) -> None:
    value = planted("a", "b", "c")
    source = code.format(v=repr(value), bv=repr(value.encode()))
    _assert_masked(bodies(source), value)


def test_fstring_under_a_secret_name_is_masked_whole() -> None:
    body = bodies(f'def conf(prefix):\n    password = f"{{prefix}}{MARK}0&{MARK}1"\n    return 1\n')
    assert MARK not in body and "***masked:" in body


@pytest.mark.parametrize(
    ("code", "value"),
    [
        # key=value inside a string literal, quoted or not, single or triple quoted
        ("cmd = \"mysql --password='{v}' db\"", None),
        ('cmd = "export AWS_SECRET_ACCESS_KEY={v}"', "QzAws0Key1x"),
        ('note = """\n    client_secret = {v}\n    """', "QzTriple0x"),
        # a comment
        ("x = 1  # password: {v}", "QzComment0x"),
        ("# api_key = {v}\n    x = 1", "QzComment1x"),
    ],
)
def test_secret_in_a_string_or_comment_is_masked(code: str, value: str | None) -> None:
    value = value or planted("a", "b", separators="&;")
    line = code.format(v=value)
    body = bodies(f"def f():\n    {line}\n    return 1\n")
    assert MARK not in body, body
    assert mask(value) in body


def test_the_same_secret_has_the_fingerprint_of_its_config_value() -> None:
    value = "Tr0ub4dor&3"
    body = bodies(f"def f():\n    password = {value!r}\n    return 1\n")
    assert mask_value("password", value)[0] in body


@pytest.mark.parametrize(
    "line",
    [
        # references, not values
        "password = settings.db_password",
        "connect(password=password)",
        "token = os.environ['HF_TOKEN']",
        "token = os.getenv('HF_TOKEN')",
        "password = keyring.get_password('svc', 'user')",
        "if password:\n        pass",
        "if not api_key:\n        raise ValueError('set API_KEY')",
        # ML tokens are not credentials
        "max_tokens = 512",
        "pad_token = '<pad>'",
        "tokenizer = AutoTokenizer.from_pretrained('bert-base-uncased')",
        "batch = tokenizer('a sentence', max_length=128, truncation=True)",
        "config = {'max_new_tokens': 64, 'eos_token': '</s>'}",
        # names that only look secret
        "author = 'Jane Doe'",
        "passenger_id = 'PassengerId'",
        "auth_type = 'basic'",
        "password_file = '/run/secrets/db'",
        "label = 'password'",
        "conf = {'auth': {'type': 'oauth', 'url': 'https://idp.internal/token'}}",
        "parser.add_argument('--password', help='the database password')",
    ],
)
def test_code_that_holds_no_secret_stays_readable(line: str) -> None:
    code = f"def f(settings, password, api_key, parser, tokenizer):\n    {line}\n    return 1\n"
    body = bodies(code)
    assert body == textwrap.dedent(code).rstrip("\n")


def test_masked_body_is_still_python_with_the_same_shape() -> None:
    code = (
        "def f(x):\n"
        "    pwd = 'Qz0&Qz1'  # keep this comment\n"
        '    os.environ["DB_PASSWORD"] = """Qz2\nQz3"""\n'
        "    return x / 2\n"
    )
    body = bodies(code)
    tree = ast.parse(body)
    assert [type(s).__name__ for s in tree.body[0].body] == ["Assign", "Assign", "Return"]  # type: ignore[attr-defined]
    assert "# keep this comment" in body and MARK not in body


def test_unicode_before_a_secret_keeps_columns_right() -> None:
    value = planted("a", "b")
    body = bodies(f"def f():\n    café = 'naïve'; password = {value!r}; x = 'ok'\n    return 1\n")
    assert MARK not in body
    assert "café = 'naïve'; password = '***masked:" in body and "x = 'ok'" in body


_PIECE = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=6)
_SEPARATOR = st.sampled_from(list("&#;'\" =@%:/\\,|(){}[]<>!?*+~^$\t\n\r"))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    name=st.sampled_from(SECRET_NAMES),
    shape=st.sampled_from(SHAPES),
    pieces=st.lists(_PIECE, min_size=1, max_size=5),
    separators=st.lists(_SEPARATOR, min_size=4, max_size=4),
)
def test_any_value_in_any_shape_is_masked_whole(
    name: str, shape: str, pieces: list[str], separators: list[str]
) -> None:
    value = planted(*pieces, separators="".join(separators))
    _assert_masked(bodies(_code(shape, name, value)), value)


def test_masked_values_have_no_marker_anywhere_in_the_stored_module() -> None:
    """Nothing else of a CodeModule carries literal text that could hold the value."""
    value = planted("a", "b")
    facts = SOURCE.parse(_code("{n} = {v}", "password", value), "serving/app.py").facts
    assert not re.search(MARK, repr(facts))
