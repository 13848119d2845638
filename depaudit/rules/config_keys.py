"""Config entries grouped by a key that is comparable across file formats.

The same setting arrives under different prefixes depending on where it is written:
``ENV.MODEL_DIR`` (Dockerfile), ``services.api.environment.MODEL_DIR`` (compose),
``MODEL_DIR`` (.env), ``spec...env.MODEL_DIR`` (Kubernetes). Environment variables are
what a process sees, so a key whose last component looks like an environment variable
(upper case, digits, underscores) is compared on that last component alone. Any other key
(``training.epochs`` in a YAML file) is compared as written.

Masked secrets compare by their fingerprint: the masked text embeds it, so equal masks mean
equal secrets and the plain values are never needed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from depaudit.knowledge import Entry
from depaudit.model import ConfigEntry, EnvironmentSnapshot

_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SECRET_CATEGORIES = frozenset(
    {"experiment-tracking", "warehouse", "credential", "data-versioning"}
)


@functools.lru_cache(maxsize=65_536)
def normalized_key(key: str) -> str:
    """The key rules compare (an env var's name wherever it is set); memoised: every new
    state's environments group their config entries again, with the same keys."""
    leaf = re.split(r"[.\[\]]", key.strip())
    parts = [p for p in leaf if p]
    last = parts[-1] if parts else key
    return last if _ENV_VAR.match(last) else key.strip()


@dataclass(frozen=True, slots=True)
class ConfigKey:
    key: str  # normalized
    entries: tuple[ConfigEntry, ...]

    @property
    def values(self) -> tuple[str, ...]:
        """Distinct values in first-seen order."""
        return tuple(dict.fromkeys(e.value for e in self.entries))

    @property
    def shown(self) -> str:
        return " | ".join(self.values)

    @property
    def secret(self) -> bool:
        return any(e.secret for e in self.entries)

    @property
    def first(self) -> ConfigEntry:
        return self.entries[0]


def config_keys(snapshot: EnvironmentSnapshot) -> dict[str, ConfigKey]:
    grouped: dict[str, list[ConfigEntry]] = {}
    for fact in snapshot.facts:
        if isinstance(fact, ConfigEntry):
            grouped.setdefault(normalized_key(fact.key), []).append(fact)
    return {k: ConfigKey(k, tuple(v)) for k, v in grouped.items()}


def leftover_rule(entry: Entry, secret: bool) -> str:
    """Which rule a training config key in serving belongs to: DA301 or DA302.

    DA301 (credentials, warehouse access) when the knowledge entry is high severity, or
    when the value is a secret under a tracker / warehouse key (``WANDB_TOKEN``).
    """
    if entry.severity == "high" or (secret and entry.category in _SECRET_CATEGORIES):
        return "DA301"
    return "DA302"
