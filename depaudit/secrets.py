"""Masking of secret values before anything is stored, printed or exported.

A masked value keeps enough to be useful: the fact that there was a value and a short
fingerprint (a keyed hash prefix) that tells two different values apart without
revealing them. The same secret on both sides gets the same fingerprint.

One set of rules for every source, and four entry points:

- :func:`mask_value` for a ``key = value`` pair (config files, ENV, k8s env);
- :func:`scrub` for free text (shell commands, code strings and comments, values of
  innocent keys);
- :func:`strip_url_credentials` for URLs / DSNs that become network targets;
- :func:`is_secret_key` and :func:`mask` for a caller that finds the key itself: the Python
  source masks literals on the syntax tree (``collectors/sources/python_secrets.py``).

Secret values are masked whole (``Tr0ub4dor&3``, not ``***masked***&3``), and a value under
a secret parent key is a secret (``auth.basic``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

# The words that make a name a secret, whatever its value looks like. One list for every
# place a name sits next to a value: config keys, ENV / ARG, Python identifiers, dict keys
# and keyword arguments, and ``key=value`` / ``--key value`` in free text. "pass" is a word
# of its own or a password / passwd / passphrase ("PGPASS", "db_pass"; not "passenger",
# "passes"); "auth" is not "author(s)" / "authority".
SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?(?![a-z])|password|passwd|pwd|secret|token|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|credential|auth(?!or(?:s|ity|ities)?(?![a-z]))|"
    r"client[_-]?secret|session[_-]?key|signing[_-]?key|webhook|dsn|connection[_-]?string|"
    r"conn[_-]?str|cookie|bearer|jwt|salt"
)
_SECRET_KEY = re.compile(f"(?:{SECRET_WORDS})", re.IGNORECASE)
# Lower-cased substrings without which no name can be secret (a cheap test before regexes
# and AST walks; "key" stands for api_key / access_key / private_key / session_key ...).
SECRET_NAME_TRIGGERS: tuple[str, ...] = (
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "credential",
    "auth",
    "webhook",
    "dsn",
    "conn",
    "cookie",
    "bearer",
    "jwt",
    "salt",
)
# Keys that contain a secret-looking word but are not secrets.
_NOT_SECRET_KEY = re.compile(
    r"(_file|_path|_url_env|_env_var|_length|_ttl|_expiry|_algorithm|_type|_enabled|"
    r"author|authority|oauth_url|token_url|auth_url|authorize_url|passthrough|bypass)$",
    re.IGNORECASE,
)
# ML configs are full of "tokens" that are model inputs, not credentials:
# max_tokens, pad_token_id, eos_token, tokenizer_name. A key whose only secret-looking
# word is "token" is a secret unless one of these words sits next to it.
_ML_TOKEN_WORDS = frozenset(
    [
        "max",
        "min",
        "num",
        "new",
        "pad",
        "eos",
        "bos",
        "unk",
        "sep",
        "cls",
        "mask",
        "special",
        "start",
        "end",
        "id",
        "ids",
        "type",
        "len",
        "length",
        "limit",
        "count",
        "size",
        "index",
        "idx",
        "per",
        "total",
        "prompt",
        "completion",
    ]
)
# Services whose name beside "token" makes it a credential even next to an ML word
# (``PIP_INDEX_TOKEN`` is not a token index).
_TOKEN_ISSUERS = frozenset(
    {
        "pip", "pypi", "github", "gh", "gitlab", "hf", "hub", "huggingface", "npm",
        "registry", "docker", "slack", "aws", "gcp", "azure", "wandb", "mlflow", "bot",
    }
)  # fmt: skip
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def _words(leaf: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(leaf) if w]


# A shape is (pattern, group): the group holding the secret (0 = the whole match), so
# that ``"private_key": "..."`` keeps its key and stays valid JSON.
_TOKEN_SHAPES: list[tuple[re.Pattern[str], int | str]] = [
    # PEM private keys, also with literal "\n" escapes (GCP service-account JSON)
    (
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?"
            r"(-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\Z)",
            re.S,
        ),
        0,
    ),
    (re.compile(r'"private_key(_id)?"\s*:\s*"(?P<s>[^"]+)"'), "s"),  # GCP service-account JSON
    (re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), 0),  # AWS access key id
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), 0),  # GitHub tokens
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"), 0),
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}"), 0),  # Slack tokens
    (re.compile(r"\bxapp-[A-Za-z0-9-]{10,}"), 0),
    (re.compile(r"https://hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_\-]+"), 0),
    (re.compile(r"https://[a-z0-9.\-]*webhook\.office\.com/[^\s\"']+"), 0),
    (re.compile(r"https://discord(app)?\.com/api/webhooks/[^\s\"']+"), 0),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"), 0),  # Google API key
    (re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}"), 0),  # Google OAuth access token
    (re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), 0),  # Hugging Face
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{20,}"), 0),  # OpenAI / Anthropic style
    (re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"), 0),  # GitLab
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), 0),
    (re.compile(r"\bpypi-[A-Za-z0-9_\-]{50,}"), 0),  # PyPI upload token
    (re.compile(r"\bdapi[0-9a-f]{32}(-\d)?\b"), 0),  # Databricks PAT
    (re.compile(r"\b(sk|rk)_live_[0-9a-zA-Z]{20,}\b"), 0),  # Stripe
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"), 0),  # JWT
    # HTTP auth headers: "Authorization: Bearer <tok>", "Basic <b64>", "token <tok>"
    (
        re.compile(
            r"(?i)(?:\b(?:bearer|basic)|authorization:\s*token)\s+"
            r"(?P<s>(?!\*\*\*masked)[A-Za-z0-9._~+/=\-]{8,})"
        ),
        "s",
    ),
    # key=value assignments of secret-named keys: _mask_assignments below
]
# key=value / key: value / --key value assignments of secret-named keys in free text:
# AWS_SECRET_ACCESS_KEY=..., aws_secret_access_key = ..., --password hunter2, PGPASSWORD=...,
# "password": "Tr0ub4dor&3". A quoted value is masked whole, to its closing quote; an
# unquoted one runs to a space, quote, bracket or separator, and "&" only ends it before
# "name=" (a query string), "&&", a space or the end (shell), not inside "Tr0ub4dor&3".
# Values that are variable references ($VAR, ${VAR}) or placeholders (<...>) stay readable,
# and so does a call or subscript (password=get_password(...)).
#
# The search starts from each secret word and looks around it with bounded, possessive
# patterns, so that no input (a megabyte of "auth-auth-..." or "password=password=...(")
# makes it quadratic; a single regex with a free key prefix did.
_KEY_LEFT = re.compile(r"[A-Za-z0-9_\-]{1,64}\Z")
_KEY_RIGHT = re.compile(r"[A-Za-z0-9_]{0,64}+")
_ASSIGNMENT_SEP = re.compile(r"[\"']?(?P<sep>\s*+[:=]\s*+|\s++)")
_QUOTED_VALUE = {
    '"': re.compile(r'"(?P<v>[^"\n]{4,4096}+)"'),
    "'": re.compile(r"'(?P<v>[^'\n]{4,4096}+)'"),
}
_BARE_VALUE = re.compile(r"[\"']?(?P<v>(?:[^\s\"',;&|(){}\[\]]|&(?![\w.\-]*+=|&|\s|$))++)")
_NOT_A_VALUE = ("$", "***masked", "<")
# ``curl -u user:password`` (also ``--user``, ``--proxy-user``, wget, httpie / xh ``-a``):
# the password is masked, the user kept; a long user with an empty password is an API
# token (``curl -u sk_live_...:``). Only after one of these clients in the same command,
# so ``docker run -u 1000:1000`` stays readable.
_CLIENT_CREDENTIALS = re.compile(
    r"(?i)\b(?:curl|wget|xh|https?(?=\s))\b[^\n|;&]{0,400}?\s"
    r"(?:-u|--user|-U|--proxy-user|-a|--auth)(?:\s+|=)(?P<q>[\"'])?"
    r"(?P<user>[^\s\"':]*):(?P<pw>(?(q)[^\"'\n]*|[^\s\"']*))"
)
# A password given as a command-line option of a database or remote-shell client:
# ``mysql -pS3cret`` / ``mysqldump -p S3cret`` (mysql also reads ``-p`` alone as "ask"),
# ``sshpass -p S3cret``, ``redis-cli -a S3cret``, ``--password S3cret``.
_CLI_PASSWORD = re.compile(
    r"(?i)\b(?:(?:mysql\w*|mariadb\w*)\b[^\n|;&]{0,400}?\s-p(?P<glued>[^\s\"']+)"
    r"|(?:sshpass)\s+-p\s*(?P<ssh>[^\s\"']+)"
    r"|(?:redis-cli)\b[^\n|;&]{0,400}?\s-a\s+(?P<redis>[^\s\"']+)"
    r"|\s--password\s+(?P<long>[^\s\"'-][^\s\"']*))"
)
_CLI_PASSWORD_TRIGGERS = ("mysql", "mariadb", "sshpass", "redis-cli", "--password")
# user:password@ inside any URL-looking text. The password runs to the *last* "@" of the
# authority, so an unencoded "@" in a password does not leak its tail.
_URL_CREDENTIALS = re.compile(
    r"(?<![a-zA-Z0-9+.\-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<cred>[^/@\s:]*(:[^\s/]*)?)@"
    r"(?=[^@\s/]*(?:[/\s?#'\"]|$))"
)
# Query parameters that carry credentials.
_QUERY_SECRET = re.compile(
    r"(?P<k>[?&;](?:password|passwd|pwd|token|access_token|api_key|apikey|key|secret|sig|"
    r"signature|x-amz-signature|x-amz-credential|x-amz-security-token|auth|private_key_content|"
    r"client_secret|sv|se|sp)=)(?P<v>[^&#\s]+)",
    re.IGNORECASE,
)

_PEPPER = b"depaudit-fingerprint-v1"
MASK_PREFIX = "***masked"


def fingerprint(value: str) -> str:
    """A short, stable fingerprint of a secret value (8 hex digits of a salted sha256)."""
    return hashlib.sha256(_PEPPER + value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def mask(value: str) -> str:
    """The masked form stored in place of a secret value."""
    if value == "":
        return ""
    return f"{MASK_PREFIX}:{fingerprint(value)}***"


def is_masked(value: str) -> bool:
    return value.startswith(MASK_PREFIX)


@functools.lru_cache(maxsize=65_536)
def _is_secret_name(name: str) -> bool:
    """One name (no dots): ``DB_PASSWORD``, ``apiKey``, ``auth``; not ``max_tokens``."""
    if _NOT_SECRET_KEY.search(name) or not _SECRET_KEY.search(name):
        return False
    words = _words(name)
    without_token = "_".join(w for w in words if not w.startswith("token"))
    if _SECRET_KEY.search(without_token):
        return True
    # only a "token" word made the key look secret
    if "token" not in words:
        return False  # tokens, tokenizer, tokenize
    lowered = {w.lower() for w in words}
    if lowered & _TOKEN_ISSUERS:
        return True  # PIP_INDEX_TOKEN, HF_HUB_TOKEN: a service's token, whatever sits beside it
    return not (set(words) & _ML_TOKEN_WORDS)


# Leaves that describe a secret rather than hold one. Under a secret parent
# (``auth: {type: basic, url: ..., basic: admin:pw}``) every other leaf is masked.
_DESCRIPTOR_WORDS = frozenset(
    [
        "enabled",
        "enable",
        "disabled",
        "required",
        "type",
        "kind",
        "mode",
        "method",
        "provider",
        "backend",
        "strategy",
        "scheme",
        "algorithm",
        "url",
        "uri",
        "endpoint",
        "host",
        "hostname",
        "port",
        "path",
        "file",
        "dir",
        "directory",
        "timeout",
        "ttl",
        "expiry",
        "expires",
        "version",
        "scope",
        "scopes",
        "audience",
        "issuer",
        "realm",
        "domain",
        "region",
        "name",
        "id",
        "user",
        "username",
        "login",
        "email",
        "database",
        "header",
        "format",
    ]
)


def is_secret_key(key: str) -> bool:
    """True for keys such as ``DB_PASSWORD``, ``wandb.api_key``, ``SLACK_WEBHOOK``.

    A dotted key (``auth.basic``, ``credentials.db[0]``, ``os.environ.DB_PASSWORD``) is
    secret when its leaf is, or when a parent is and the leaf does not merely describe it
    (``auth.type``, ``auth.url``). ``max_tokens``, ``pad_token_id`` and ``tokenizer`` are
    not secrets.
    """
    parts = [p for p in re.split(r"[.\[\]/]", key.strip()) if p]
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()  # list items are judged by the list's name: api_keys[0], scopes[1]
    if not parts:
        return False
    leaf = parts[-1]
    if _is_secret_name(leaf):
        return True
    if len(parts) == 1 or _NOT_SECRET_KEY.search(leaf):
        return False
    words = _words(leaf)
    if words and words[-1] in _DESCRIPTOR_WORDS:
        return False
    return any(_is_secret_name(p) for p in parts[:-1])


def _mask_query(text: str) -> str:
    return _QUERY_SECRET.sub(
        lambda m: m.group(0) if is_masked(m.group("v")) else m.group("k") + mask(m.group("v")),
        text,
    )


def strip_url_credentials(url: str) -> str:
    """``postgresql://u:p@host/db`` -> ``postgresql://host/db``; secret query values masked."""
    text = _URL_CREDENTIALS.sub(lambda m: m.group("scheme"), url)
    return _mask_query(text)


def mask_url_password(url: str) -> str:
    """Keep the user but mask the password: ``postgresql://u:***masked:ab12***@host/db``."""

    def repl(m: re.Match[str]) -> str:
        cred = m.group("cred")
        if ":" in cred:
            user, _, password = cred.partition(":")
            if not password or is_masked(password) or password.startswith("$"):
                return m.group(0)
            return f"{m.group('scheme')}{user}:{mask(password)}@"
        # a bare token as user (https://TOKEN@github.com) is a secret too
        return f"{m.group('scheme')}{mask(cred)}@" if len(cred) >= 16 else m.group(0)

    text = _URL_CREDENTIALS.sub(repl, url)
    return _mask_query(text)


# Literal substrings without which a shape cannot match (lower-cased), in _TOKEN_SHAPES
# order. Checking them first skips most regex passes: code and configs are scrubbed on
# every collect, and most text holds no secret at all.
_SHAPE_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("-----begin",),
    ('"private_key',),
    ("akia", "asia", "agpa", "aida", "aroa"),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("github_pat_",),
    ("xox",),
    ("xapp-",),
    ("hooks.slack.com",),
    ("webhook.office.com",),
    ("discord",),
    ("aiza",),
    ("ya29.",),
    ("hf_",),
    ("sk-",),
    ("glpat-",),
    ("npm_",),
    ("pypi-",),
    ("dapi",),
    ("_live_",),
    ("eyj",),
    ("bearer", "basic", "authorization"),
)
_CLIENT_TRIGGERS = ("curl", "wget", "xh", "http")


def may_name_secret(text: str) -> bool:
    """False when no name in ``text`` can be secret: a cheap test before a full search."""
    lowered = text.lower()
    return any(t in lowered for t in SECRET_NAME_TRIGGERS)


def scrub(text: str, *, assignments: bool = True) -> str:
    """Mask every secret-shaped substring of free text (commands, code strings, values).

    ``assignments=False`` leaves out ``key=value`` / ``key: value`` text: Python code is
    masked on its syntax tree instead (:mod:`depaudit.collectors.sources.python_secrets`), where
    ``password = settings.db_password`` is a reference, not a secret.
    """
    if not text:
        return text
    # URLs first: a token used as a URL password is masked whole, before shape patterns
    # could cut it into pieces.
    if "://" in text or "=" in text:
        text = mask_url_password(text)
    lowered = text.lower()
    for (shape, group), triggers in zip(_TOKEN_SHAPES, _SHAPE_TRIGGERS, strict=True):
        if any(t in lowered for t in triggers):
            text = shape.sub(lambda m, g=group: _mask_group(m, g), text)  # type: ignore[misc]
            lowered = text.lower()
    if ":" in text and any(t in lowered for t in _CLIENT_TRIGGERS):
        text = _CLIENT_CREDENTIALS.sub(_mask_client_credentials, text)
        lowered = text.lower()
    if any(t in lowered for t in _CLI_PASSWORD_TRIGGERS):
        text = _CLI_PASSWORD.sub(_mask_cli_password, text)
    if assignments and any(t in lowered for t in SECRET_NAME_TRIGGERS):
        text = _mask_assignments(text)
    return text


def _mask_cli_password(m: re.Match[str]) -> str:
    group = next(g for g in ("glued", "ssh", "redis", "long") if m.group(g) is not None)
    if m.group(group).startswith("$"):  # a variable reference, not the password
        return m.group(0)
    return _mask_group(m, group)


def _mask_assignments(text: str) -> str:
    """Mask the values of secret-named keys in free text (see ``_ASSIGNMENT_SEP``)."""
    out: list[str] = []
    copied = 0  # text[:copied] is in out
    skip = 0  # secret words before this are inside a value already judged
    for word in _SECRET_KEY.finditer(text):
        if word.start() < skip:
            continue
        key_end = _KEY_RIGHT.match(text, word.end()).end()  # type: ignore[union-attr]
        sep = _ASSIGNMENT_SEP.match(text, key_end)
        if sep is None:
            continue
        left = _KEY_LEFT.search(text, max(0, word.start() - 64), word.start())
        key = text[left.start() if left else word.start() : key_end]
        if not sep.group("sep").strip() and not key.startswith("-"):
            continue  # "key value" only counts as a --flag value
        at = sep.end()
        quoted = _QUOTED_VALUE.get(text[at : at + 1])
        value = quoted.match(text, at) if quoted else None
        if value is None:
            value = _BARE_VALUE.match(text, at)
            if value is None:
                continue
            if text[value.end() : value.end() + 1] in ("(", "["):
                skip = value.end()  # a call or a subscript, and so is every key inside it
                continue
        secret = value.group("v")
        if len(secret) < 4 or secret.startswith(_NOT_A_VALUE):
            continue
        if not is_secret_key(key.lstrip("-")):
            continue  # e.g. "max_tokens=512", "pad_token: <pad>"
        start, end = value.span("v")
        out.append(text[copied:start])
        out.append(mask(secret))
        copied = skip = end
    if not out:
        return text
    out.append(text[copied:])
    return "".join(out)


def _mask_client_credentials(m: re.Match[str]) -> str:
    user, password = m.group("user"), m.group("pw")
    if password:
        if is_masked(password) or password.startswith("$"):
            return m.group(0)
        start, end = m.span("pw")
    elif len(user) >= 16 and not user.startswith("$") and not is_masked(user):
        start, end = m.span("user")  # an API token as the user: curl -u sk_live_...:
    else:
        return m.group(0)
    whole, offset = m.group(0), m.start(0)
    return (
        whole[: start - offset] + mask(whole[start - offset : end - offset]) + whole[end - offset :]
    )


def _mask_group(m: re.Match[str], group: int | str) -> str:
    secret = m.group(group)
    if is_masked(secret):
        return m.group(0)
    start, end = m.span(group)
    whole_start = m.start(0)
    whole = m.group(0)
    return whole[: start - whole_start] + mask(secret) + whole[end - whole_start :]


@functools.lru_cache(maxsize=65_536)
def mask_value(key: str, value: str) -> tuple[str, bool]:
    """The value to store for ``key`` and whether it was treated as a secret (memoised:
    a config file's next version repeats most of its keys and values)."""
    if value and is_secret_key(key) and not is_masked(value):
        return mask(value), True
    scrubbed = scrub(value)
    return scrubbed, scrubbed != value


def split_url(url: str) -> tuple[str, str]:
    """(scheme, host) of a URL, lower-cased host; ("", "") when it is not a URL."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower()
    except ValueError:
        return "", ""


__all__ = [
    "SECRET_NAME_TRIGGERS",
    "SECRET_WORDS",
    "fingerprint",
    "is_masked",
    "is_secret_key",
    "mask",
    "mask_url_password",
    "mask_value",
    "may_name_secret",
    "scrub",
    "split_url",
    "strip_url_credentials",
    "urlunsplit",
]
