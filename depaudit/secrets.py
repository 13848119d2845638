"""Masking of secret values before anything is stored, printed or exported.

A masked value keeps enough to be useful: the fact that there was a value and a short
fingerprint (a keyed hash prefix) that tells two different values apart without
revealing them. The same secret on both sides gets the same fingerprint.

Three entry points cover every caller:

- :func:`mask_value` for a ``key = value`` pair (config files, ENV, k8s env);
- :func:`scrub` for free text (shell commands, code strings, values of innocent keys);
- :func:`strip_url_credentials` for URLs / DSNs that become network targets.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit, urlunsplit

# Keys whose values are secrets, whatever the value looks like.
_SECRET_KEY = re.compile(
    r"(pass(word|wd)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
    r"credential|auth|client[_-]?secret|session[_-]?key|signing[_-]?key|webhook|dsn|"
    r"connection[_-]?string|conn[_-]?str|cookie|bearer|jwt|salt)",
    re.IGNORECASE,
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
    # key=value / key: value / --key value assignments of secret-named keys in free text:
    # AWS_SECRET_ACCESS_KEY=..., aws_secret_access_key = ..., --password hunter2,
    # PGPASSWORD=... . Values that are variable references ($VAR, ${VAR}) stay readable.
    (
        re.compile(
            r"(?i)(?P<k>(?:--?)?\b[A-Za-z0-9_\-]*(?:password|passwd|secret|api[_-]?key|apikey|"
            r"access[_-]?key|private[_-]?key|auth[_-]?token|access[_-]?token|token)"
            r"[A-Za-z0-9_]*)[\"']?(?P<sep>\s*[:=]\s*|\s+)[\"']?"
            r"(?P<s>(?!\$|\*\*\*masked|<)[^\s\"',;&|(){}\[\]]{4,})(?![(\[.\w])"
        ),
        "s",
    ),
]
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


def is_secret_key(key: str) -> bool:
    """True for keys such as ``DB_PASSWORD``, ``wandb.api_key``, ``SLACK_WEBHOOK``.

    ``max_tokens``, ``pad_token_id`` and ``tokenizer`` are not secrets.
    """
    last = re.split(r"[.\[\]/]", key.strip())
    leaf = next((p for p in reversed(last) if p), key)
    if _NOT_SECRET_KEY.search(leaf):
        return False
    if not _SECRET_KEY.search(leaf):
        return False
    words = _words(leaf)
    without_token = "_".join(w for w in words if not w.startswith("token"))
    if _SECRET_KEY.search(without_token):
        return True
    # only a "token" word made the key look secret
    if "token" not in words:
        return False  # tokens, tokenizer, tokenize
    return not (set(words) & _ML_TOKEN_WORDS)


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
    ("pass", "secret", "key", "token"),
)


def scrub(text: str) -> str:
    """Mask every secret-shaped substring of free text (commands, code strings, values)."""
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
    return text


def _mask_group(m: re.Match[str], group: int | str) -> str:
    secret = m.group(group)
    if is_masked(secret):
        return m.group(0)
    named = m.groupdict().get("k")
    if named is not None:
        if not is_secret_key(named.lstrip("-")):
            return m.group(0)  # e.g. "max_tokens=512", "pad_token: <pad>"
        if not m.group("sep").strip() and not named.startswith("-"):
            return m.group(0)  # "key value" only counts as a --flag value

    start, end = m.span(group)
    whole_start = m.start(0)
    whole = m.group(0)
    return whole[: start - whole_start] + mask(secret) + whole[end - whole_start :]


def mask_value(key: str, value: str) -> tuple[str, bool]:
    """The value to store for ``key`` and whether it was treated as a secret."""
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
    "fingerprint",
    "is_masked",
    "is_secret_key",
    "mask",
    "mask_url_password",
    "mask_value",
    "scrub",
    "split_url",
    "strip_url_credentials",
    "urlunsplit",
]
