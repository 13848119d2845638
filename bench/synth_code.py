"""Python modules that look like an ML service's code, and the edits developers make to them.

A :class:`Module` is a model (imports, functions built from templates, their constants) that
renders to real-looking, syntactically valid Python: numpy / pandas / scikit-learn / torch
in training, fastapi / pydantic / prometheus in serving, ``from common.x import f`` in both.
Edits change that model the way commits do: a constant in a function body, a logging line
added or removed, a function added (using what is already imported), an import added with the
function that needs it or removed with the functions that used it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# alias -> (group, import line, module-level statement it brings or "")
IMPORTS: dict[str, tuple[int, str, str]] = {
    "json": (0, "import json", ""),
    "os": (0, "import os", ""),
    "time": (0, "import time", ""),
    "Path": (0, "from pathlib import Path", ""),
    "np": (1, "import numpy as np", ""),
    "pd": (1, "import pandas as pd", ""),
    "torch": (1, "import torch", ""),
    "nn": (1, "from torch import nn", ""),
    "scaler": (1, "from sklearn.preprocessing import StandardScaler", ""),
    "metrics": (1, "from sklearn.metrics import roc_auc_score", ""),
    "split": (1, "from sklearn.model_selection import train_test_split", ""),
    "linear": (1, "from sklearn.linear_model import LogisticRegression", ""),
    "wandb": (1, "import wandb", ""),
    "mlflow": (1, "import mlflow", ""),
    "optuna": (1, "import optuna", ""),
    "lgb": (1, "import lightgbm as lgb", ""),
    "tqdm": (1, "from tqdm import tqdm", ""),
    "bigquery": (1, "from google.cloud import bigquery", ""),
    "yaml": (1, "import yaml", ""),
    "joblib": (1, "import joblib", ""),
    "fastapi": (1, "from fastapi import APIRouter, HTTPException", "router = APIRouter()"),
    "pydantic": (1, "from pydantic import BaseModel, Field", ""),
    "prometheus": (
        1,
        "from prometheus_client import Counter, Histogram",
        'LATENCY = Histogram("request_latency_seconds", "Latency of the requests served")\n'
        'ERRORS = Counter("request_errors_total", "Requests that failed")',
    ),
    "redis": (1, "import redis", ""),
    "httpx": (1, "import httpx", ""),
    "pytest": (1, "import pytest", ""),
    "app": (1, "from fastapi import FastAPI", 'app = FastAPI(title="churn-api")'),
}

# Which third-party and standard-library imports each package's code may add.
POOLS: dict[str, tuple[str, ...]] = {
    "common": ("np", "pd", "scaler", "yaml", "joblib", "os", "time", "Path", "json"),
    "training": (
        "np",
        "pd",
        "torch",
        "nn",
        "metrics",
        "split",
        "linear",
        "wandb",
        "mlflow",
        "optuna",
        "lgb",
        "tqdm",
        "bigquery",
        "yaml",
        "joblib",
        "Path",
        "os",
        "time",
    ),
    "serving": (
        "np",
        "pd",
        "torch",
        "fastapi",
        "pydantic",
        "prometheus",
        "joblib",
        "redis",
        "httpx",
        "os",
        "time",
        "json",
    ),
    "tests": ("pytest",),
}

VERBS = (
    "load",
    "build",
    "compute",
    "score",
    "clean",
    "merge",
    "encode",
    "scale",
    "split",
    "fit",
    "evaluate",
    "export",
    "validate",
    "fetch",
    "aggregate",
    "filter",
    "rank",
    "sample",
    "normalize",
    "summarize",
    "prepare",
    "refresh",
    "check",
    "collect",
)
NOUNS = (
    "features",
    "batch",
    "frame",
    "labels",
    "events",
    "sessions",
    "embeddings",
    "scores",
    "predictions",
    "users",
    "items",
    "metrics",
    "window",
    "history",
    "payload",
    "targets",
    "clicks",
    "orders",
    "ratings",
    "vectors",
    "segments",
    "cohorts",
    "signals",
    "thresholds",
)
WORDS = (
    "user_id",
    "item_id",
    "country",
    "device",
    "amount",
    "category",
    "session",
    "channel",
    "region",
    "price",
    "quantity",
    "merchant",
    "label",
    "score",
    "campaign",
    "store",
)


@dataclass(frozen=True, slots=True)
class Template:
    """A function or class. ``text`` is a ``str.format`` pattern over name, cls, word, fn and
    c0, c1 (constants drawn from ``consts``: (low, high, divisor))."""

    needs: tuple[str, ...]
    packages: tuple[str, ...]
    consts: tuple[tuple[int, int, int], ...]
    text: str
    internal: bool = False  # calls a function imported from common/


_ALL = ("common", "training", "serving")
_APP = ("training", "serving")

TEMPLATES: tuple[Template, ...] = (
    Template(
        ("np",),
        _ALL,
        ((1, 5, 100), (95, 99, 100)),
        '''
def {name}(values: np.ndarray, low: float = {c0}, high: float = {c1}) -> np.ndarray:
    """Clip outliers to the [low, high] quantile range."""
    lo, hi = np.quantile(values, [low, high])
    return np.clip(values, lo, hi)
''',
    ),
    Template(
        ("np",),
        _ALL,
        ((3, 30, 1),),
        '''
def {name}(values: np.ndarray, window: int = {c0}) -> np.ndarray:
    """Trailing mean over `window` points; the first points use what they have."""
    kernel = np.ones(window) / window
    smoothed = np.convolve(values, kernel, mode="full")[: len(values)]
    return smoothed
''',
    ),
    Template(
        ("pd",),
        _ALL,
        ((2, 20, 1),),
        '''
def {name}(frame: pd.DataFrame, min_count: int = {c0}) -> pd.DataFrame:
    """Per-{word} ratios of the event counts; rare {word}s are dropped."""
    counts = frame.groupby("{word}")["event"].value_counts().unstack(fill_value=0)
    counts = counts[counts.sum(axis=1) >= min_count]
    return counts.div(counts.sum(axis=1), axis=0).add_prefix("ratio_")
''',
    ),
    Template(
        ("pd",),
        _ALL,
        ((5, 60, 100),),
        '''
def {name}(frame: pd.DataFrame, max_missing: float = {c0}) -> pd.DataFrame:
    """Drop columns missing in more than max_missing of the rows, then incomplete rows."""
    keep = frame.columns[frame.isna().mean() <= max_missing]
    return frame[keep].dropna().reset_index(drop=True)
''',
    ),
    Template(
        ("scaler",),
        ("common", "training"),
        ((2, 10, 1),),
        '''
def {name}(frame, columns: list[str], clip: float = {c0}) -> StandardScaler:
    """Fit the scaler that serving applies before predict."""
    scaler = StandardScaler()
    scaler.fit(frame[columns].clip(-clip, clip))
    return scaler
''',
    ),
    Template(
        ("yaml", "Path"),
        _ALL,
        ((10, 200, 1),),
        '''
def {name}(path: Path, max_keys: int = {c0}) -> dict:
    """Read a YAML config; a missing file gives an empty config."""
    if not path.exists():
        return {{}}
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {{}}
    return dict(list(data.items())[:max_keys])
''',
    ),
    Template(
        ("joblib", "Path"),
        ("common", "training"),
        ((0, 9, 1),),
        '''
def {name}(obj: object, path: Path, compress: int = {c0}) -> Path:
    """Persist a fitted object next to the model."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(obj, path, compress=compress)
    return path
''',
    ),
    Template(
        (),
        _ALL,
        ((10, 5000, 1),),
        '''
def {name}(rows: list[dict], key: str = "{word}", limit: int = {c0}) -> list[dict]:
    """The first `limit` rows with a non-empty key, in input order."""
    kept = [row for row in rows if row.get(key)]
    return kept[:limit]
''',
    ),
    Template(
        (),
        _ALL,
        ((1, 50, 1), (1, 9, 10)),
        '''
def {name}(counts: dict[str, int], floor: int = {c0}, smoothing: float = {c1}) -> dict[str, float]:
    """Smoothed frequencies of the {word} values seen at least `floor` times."""
    kept = {{key: value for key, value in counts.items() if value >= floor}}
    total = sum(kept.values()) + smoothing * len(kept)
    return {{key: (value + smoothing) / total for key, value in kept.items()}}
''',
    ),
    Template(
        ("os",),
        _ALL,
        ((16, 512, 1), (1024, 8192, 1)),
        '''
def {name}(default: int = {c0}) -> int:
    """Batch size from the environment, bounded to what the host can hold."""
    value = int(os.environ.get("{WORD}_BATCH_SIZE", default))
    return max(1, min(value, {c1}))
''',
    ),
    Template(
        ("time",),
        _ALL,
        ((2, 8, 1), (1, 20, 10)),
        '''
def {name}(call, attempts: int = {c0}, delay: float = {c1}):
    """Call `call` until it succeeds, waiting a little longer each time."""
    for attempt in range(attempts):
        try:
            return call()
        except ConnectionError:
            time.sleep(delay * (attempt + 1))
    return call()
''',
    ),
    Template(
        ("json", "Path"),
        _ALL,
        ((1, 4, 1),),
        '''
def {name}(record: dict, path: Path, indent: int = {c0}) -> None:
    """Append one {word} record as a JSON line."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, indent=None if indent < 2 else indent) + "\\n")
''',
    ),
    Template(
        ("nn", "torch"),
        _APP,
        ((32, 512, 1), (0, 5, 10)),
        '''
class {cls}(nn.Module):
    """A small feed-forward network over the tabular features."""

    def __init__(self, n_features: int, hidden: int = {c0}, dropout: float = {c1}) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).squeeze(-1)
''',
    ),
    Template(
        ("torch",),
        ("training",),
        ((5, 50, 10),),
        '''
def {name}(model, loader, optimizer, clip: float = {c0}) -> float:
    """One epoch over the loader; returns the mean loss."""
    model.train()
    total = 0.0
    for features, target in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(features), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        total += loss.item()
    return total / max(len(loader), 1)
''',
    ),
    Template(
        ("torch",),
        ("training",),
        ((1, 100, 10000), (2, 20, 1)),
        '''
class {cls}:
    """Owns the model, its optimizer and the early-stopping state."""

    def __init__(self, model, lr: float = {c0}, patience: int = {c1}) -> None:
        self.model = model
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        self.patience = patience
        self.best = float("inf")
        self.bad_epochs = 0

    def should_stop(self, loss: float) -> bool:
        if loss < self.best:
            self.best, self.bad_epochs = loss, 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience
''',
    ),
    Template(
        ("metrics", "np"),
        ("training",),
        ((30, 90, 100),),
        '''
def {name}(y_true: np.ndarray, scores: np.ndarray, threshold: float = {c0}) -> dict[str, float]:
    """AUC and the precision at the decision threshold."""
    predicted = scores >= threshold
    precision = float((y_true[predicted] == 1).mean()) if predicted.any() else 0.0
    return {{"auc": float(roc_auc_score(y_true, scores)), "precision": precision}}
''',
    ),
    Template(
        ("split", "pd"),
        ("training",),
        ((10, 30, 100), (0, 99, 1)),
        '''
def {name}(frame: pd.DataFrame, target: str = "{word}", test_size: float = {c0}, seed: int = {c1}):
    """Stratified train / validation split."""
    features = frame.drop(columns=[target])
    return train_test_split(
        features, frame[target], test_size=test_size, random_state=seed, stratify=frame[target]
    )
''',
    ),
    Template(
        ("linear",),
        ("training",),
        ((1, 100, 10), (100, 2000, 1)),
        '''
def {name}(features, labels, c: float = {c0}, max_iter: int = {c1}) -> LogisticRegression:
    """A linear baseline every new model has to beat."""
    model = LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced")
    return model.fit(features, labels)
''',
    ),
    Template(
        ("wandb",),
        ("training",),
        ((1, 100, 1),),
        '''
def {name}(metrics: dict[str, float], step: int, every: int = {c0}) -> None:
    """Send metrics to the experiment tracker every `every` steps."""
    if step % every == 0:
        wandb.log({{f"train/{{key}}": value for key, value in metrics.items()}}, step=step)
''',
    ),
    Template(
        ("mlflow",),
        ("training",),
        ((1, 9, 1),),
        '''
def {name}(params: dict[str, object], model_path: str, stage: str = "{word}") -> str:
    """Record a run's parameters and model artifact; returns the run id."""
    with mlflow.start_run(tags={{"stage": stage, "attempt": "{c0}"}}) as run:
        mlflow.log_params(params)
        mlflow.log_artifact(model_path)
        return run.info.run_id
''',
    ),
    Template(
        ("optuna",),
        ("training",),
        ((20, 500, 1), (600, 7200, 1)),
        '''
def {name}(objective, trials: int = {c0}, timeout: int = {c1}) -> dict[str, object]:
    """Search hyper-parameters; returns the best trial's parameters."""
    study = optuna.create_study(direction="maximize")
    study.optimize(objective, n_trials=trials, timeout=timeout)
    return study.best_params
''',
    ),
    Template(
        ("lgb",),
        ("training",),
        ((15, 255, 1), (100, 3000, 1)),
        '''
def {name}(train, valid, leaves: int = {c0}, rounds: int = {c1}):
    """Gradient-boosted trees with early stopping on the validation set."""
    params = {{"objective": "binary", "num_leaves": leaves, "learning_rate": 0.05, "verbose": -1}}
    stop = lgb.early_stopping(stopping_rounds=50)
    return lgb.train(params, train, num_boost_round=rounds, valid_sets=[valid], callbacks=[stop])
''',
    ),
    Template(
        ("bigquery", "pd"),
        ("training",),
        ((1, 90, 1),),
        '''
def {name}(project: str, days: int = {c0}) -> pd.DataFrame:
    """Training events of the last `days` days from the warehouse."""
    client = bigquery.Client(project=project)
    query = f"SELECT * FROM events.{word} WHERE ts > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {{days}} DAY)"
    return client.query(query).to_dataframe()
''',
    ),
    Template(
        ("tqdm",),
        ("training",),
        ((10, 1000, 1), (1, 50, 10)),
        '''
def {name}(batches, log_every: int = {c0}) -> int:
    """Iterate the batches with a progress bar; returns how many were seen."""
    seen = 0
    for seen, _ in enumerate(tqdm(batches, mininterval={c1}), start=1):
        if seen % log_every == 0:
            log.info("%d batches", seen)
    return seen
''',
    ),
    Template(
        ("pydantic",),
        ("serving",),
        ((10, 500, 1), (10, 90, 100)),
        '''
class {cls}(BaseModel):
    """The {word} request the API accepts."""

    {word}: str
    items: list[str] = Field(default_factory=list, max_length={c0})
    threshold: float = {c1}
''',
    ),
    Template(
        ("fastapi",),
        ("serving",),
        ((1, 100, 1),),
        '''
@router.post("/{word}")
def {name}(payload: dict, limit: int = {c0}) -> dict:
    """Score a {word} payload."""
    if not payload:
        raise HTTPException(status_code=422, detail="empty payload")
    return {{"scores": list(payload.values())[:limit]}}
''',
    ),
    Template(
        ("prometheus",),
        ("serving",),
        ((5, 2000, 1000),),
        '''
def {name}(latency: float, failed: bool = False, budget: float = {c0}) -> bool:
    """Record a request's latency; True when it was within budget."""
    LATENCY.observe(latency)
    if failed:
        ERRORS.inc()
    return latency <= budget
''',
    ),
    Template(
        ("torch", "np"),
        ("serving",),
        ((16, 1024, 1),),
        '''
def {name}(model, features: np.ndarray, batch: int = {c0}) -> np.ndarray:
    """Predict in batches without gradients."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch):
            chunk = torch.as_tensor(features[start : start + batch], dtype=torch.float32)
            out.append(torch.sigmoid(model(chunk)).numpy())
    return np.concatenate(out) if out else np.empty(0)
''',
    ),
    Template(
        ("redis",),
        ("serving",),
        ((60, 86400, 1),),
        '''
def {name}(client: redis.Redis, key: str, ttl: int = {c0}) -> bytes | None:
    """A cached prediction, refreshed so hot keys stay."""
    value = client.get(f"{word}:{{key}}")
    if value is not None:
        client.expire(f"{word}:{{key}}", ttl)
    return value
''',
    ),
    Template(
        ("httpx",),
        ("serving",),
        ((1, 100, 10),),
        '''
def {name}(url: str, payload: dict, timeout: float = {c0}) -> dict:
    """Call the feature service for the {word} features."""
    response = httpx.post(url, json=payload, timeout=timeout)
    response.raise_for_status()
    return response.json()
''',
    ),
    Template(
        ("joblib",),
        ("serving",),
        ((1, 40, 1),),
        '''
def {name}(path: str, expected_version: int = {c0}):
    """Load the pickled model; refuse one from another training version."""
    bundle = joblib.load(path)
    if bundle.get("version") != expected_version:
        raise RuntimeError(f"model version {{bundle.get('version')}} != {{expected_version}}")
    return bundle["model"]
''',
    ),
    Template(
        (),
        _APP,
        ((10, 10000, 1),),
        '''
def {name}(rows, limit: int = {c0}):
    """Apply {fn} to at most `limit` rows."""
    return {fn}(rows[:limit])
''',
        internal=True,
    ),
)

TEST_TEMPLATE = Template(
    ("pytest",),
    ("tests",),
    ((1, 50, 1), (51, 500, 1)),
    '''
@pytest.mark.parametrize("size", [{c0}, {c1}])
def {name}(size: int) -> None:
    """{fn} keeps its contract on {word} inputs."""
    rows = [{{"{word}": index}} for index in range(size)]
    assert callable({fn})
    assert len(rows) == size
''',
    internal=True,
)


def _const(rng: random.Random, spec: tuple[int, int, int]) -> int:
    return rng.randint(spec[0], spec[1])


def _show(value: int, divisor: int) -> str:
    return str(value) if divisor == 1 else repr(round(value / divisor, 6))


@dataclass(slots=True)
class Function:
    template: Template
    name: str
    word: str
    consts: list[int]
    traced: bool = False  # carries a log.debug line (added and removed by body edits)
    fn: str = ""  # the common/ function an internal template calls

    def render(self) -> str:
        t = self.template
        values = {f"c{i}": _show(v, t.consts[i][2]) for i, v in enumerate(self.consts)}
        cls = "".join(part.title() for part in self.name.split("_"))
        text = t.text.format(
            name=self.name, cls=cls, word=self.word, WORD=self.word.upper(), fn=self.fn, **values
        ).strip("\n")
        if self.traced:
            lines = text.split("\n")
            doc = next(i for i, line in enumerate(lines) if line.startswith('    """'))
            lines.insert(doc + 1, f'    log.debug("{self.name}: %s", "{self.word}")')
            text = "\n".join(lines)
        return text


@dataclass(slots=True)
class Module:
    path: str  # training/models/ranker.py
    doc: str
    imports: list[str]  # aliases of IMPORTS
    internal: list[tuple[str, str]] = field(default_factory=list)  # (dotted module, function)
    functions: list[Function] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def dotted(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    def function_names(self) -> set[str]:
        return {f.name for f in self.functions}

    def render(self) -> str:
        out = [f'"""{self.doc}"""', "", "from __future__ import annotations", ""]
        groups: dict[int, list[str]] = {0: ["import logging"], 1: []}
        for alias in self.imports:
            groups[IMPORTS[alias][0]].append(IMPORTS[alias][1])
        for lines in groups.values():
            if lines:
                out += [*sorted(set(lines), key=lambda s: (s.startswith("from"), s)), ""]
        by_module: dict[str, list[str]] = {}
        for module, name in self.internal:
            by_module.setdefault(module, []).append(name)
        if by_module:
            out += [
                f"from {m} import {', '.join(sorted(set(n)))}" for m, n in sorted(by_module.items())
            ]
            out.append("")
        out.append("log = logging.getLogger(__name__)")
        out += [IMPORTS[a][2] for a in self.imports if IMPORTS[a][2]]
        for function in self.functions:
            out += ["", "", function.render()]
        return "\n".join(out) + "\n"


def usable(template: Template, module: Module, extra: str = "") -> bool:
    """Whether ``module`` can hold ``template`` with its imports (plus ``extra``)."""
    have = set(module.imports) | ({extra} if extra else set())
    if template.internal and not module.internal:
        return False
    return module.package in template.packages and set(template.needs) <= have


def new_function(rng: random.Random, module: Module, template: Template) -> Function:
    taken = module.function_names()
    base = f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    if module.package == "tests":
        name = f"test_{name}" if not name.startswith("test_") else name
    fn = rng.choice(module.internal)[1] if template.internal else ""
    consts = [_const(rng, spec) for spec in template.consts]
    return Function(template, name, rng.choice(WORDS), consts, fn=fn)


def add_function(rng: random.Random, module: Module, needing: str = "") -> Function:
    """A new function using only what ``module`` imports (and must use ``needing`` if given)."""
    if module.package == "tests":
        choices = [TEST_TEMPLATE]
    else:
        choices = [
            t
            for t in TEMPLATES
            if usable(t, module, needing) and (not needing or needing in t.needs)
        ]
    function = new_function(rng, module, rng.choice(choices))
    module.functions.append(function)
    return function


def edit_body(rng: random.Random, module: Module) -> Function:
    """Change one function's body: a constant (most often) or its logging line."""
    function = rng.choice(module.functions)
    is_class = function.template.text.lstrip().startswith("class ")
    if function.consts and (is_class or rng.random() < 0.75):
        i = rng.randrange(len(function.consts))
        low, high, _ = function.template.consts[i]
        old = function.consts[i]
        while function.consts[i] == old and high > low:
            function.consts[i] = rng.randint(low, high)
    else:
        function.traced = not function.traced
    return function


def importable_aliases(module: Module) -> list[str]:
    """Aliases of the package's pool this module does not import yet and some template uses."""
    return [
        alias
        for alias in POOLS[module.package]
        if alias not in module.imports
        and any(usable(t, module, alias) and alias in t.needs for t in TEMPLATES)
    ]


def add_import(rng: random.Random, module: Module, exported: list[tuple[str, str]]) -> str:
    """Import something new and add the function that uses it; returns what was imported.

    ``exported`` is the (module, function) pairs of common/ this module may import."""
    candidates = importable_aliases(module)
    choices = [e for e in exported if e[0] != module.dotted and e not in module.internal]
    if module.package != "common" and choices and (not candidates or rng.random() < 0.3):
        pick = rng.choice(choices)
        module.internal.append(pick)
        function = new_function(rng, module, TEMPLATES[-1])
        function.fn = pick[1]
        module.functions.append(function)
        return f"from {pick[0]} import {pick[1]}"
    if not candidates:
        return ""
    alias = rng.choice(candidates)
    module.imports.append(alias)
    add_function(rng, module, needing=alias)
    return IMPORTS[alias][1]


def remove_import(rng: random.Random, module: Module, protected: set[str]) -> str:
    """Drop one import and the functions that used it (never ``protected`` functions, never
    the last function); returns the import removed, or "" when none can go."""
    options: list[tuple[str, list[Function]]] = []
    for alias in module.imports:
        users = [f for f in module.functions if alias in f.template.needs]
        options.append((alias, users))
    for pair in module.internal:
        users = [f for f in module.functions if f.template.internal and f.fn == pair[1]]
        options.append((f"{pair[0]}:{pair[1]}", users))
    options = [
        (what, users)
        for what, users in options
        if len(users) < len(module.functions) and not any(u.name in protected for u in users)
    ]
    if not options:
        return ""
    what, users = rng.choice(options)
    module.functions = [f for f in module.functions if f not in users]
    if ":" in what:
        dotted, name = what.split(":")
        module.internal.remove((dotted, name))
        return f"from {dotted} import {name}"
    module.imports.remove(what)
    return IMPORTS[what][1]


def new_module(
    rng: random.Random,
    path: str,
    doc: str,
    exported: list[tuple[str, str]],
    *,
    functions: tuple[int, int] = (2, 5),
) -> Module:
    """A module with a few imports of its package's pool, maybe some of common/, and functions."""
    package = path.split("/", 1)[0]
    module = Module(path, doc, [])
    if package == "tests":
        module.imports = ["pytest"]
        module.internal = rng.sample(exported, min(len(exported), rng.randint(1, 2)))
    else:
        pool = list(POOLS[package])
        module.imports = rng.sample(pool, rng.randint(2, 4))
        choices = [e for e in exported if e[0] != module.dotted]
        if package != "common" and choices:
            module.internal = rng.sample(choices, min(len(choices), rng.randint(0, 2)))
    for _ in range(rng.randint(*functions)):
        add_function(rng, module)
    # what an import is for: a module never imports something none of its functions use
    used = {a for f in module.functions for a in f.template.needs}
    module.imports = [a for a in module.imports if a in used]
    called = {f.fn for f in module.functions if f.template.internal}
    module.internal = [p for p in module.internal if p[1] in called]
    return module
