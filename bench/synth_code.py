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
    "common": tuple(["np", "pd", "scaler", "yaml", "joblib", "os", "time", "Path", "json"]),
    "training": tuple(
        [
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
        ]
    ),
    "serving": tuple(
        [
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
        ]
    ),
    "tests": ("pytest",),
}

VERBS = tuple(
    [
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
    ]
)
NOUNS = tuple(
    [
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
    ]
)
WORDS = tuple(
    [
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
    ]
)
# Words between a function name's verb and noun (load_recent_amount_events): real code bases
# reuse a function name in another file now and then (main, load_data), not for most functions.
QUALIFIERS = tuple(
    [
        "daily",
        "hourly",
        "raw",
        "online",
        "cached",
        "weighted",
        "top",
        "recent",
        "missing",
        "sparse",
        "dense",
        "active",
    ]
)
# The names many files of a real repository define (entrypoints, the usual helpers).
COMMON_NAMES = tuple(["main", "run", "predict", "preprocess", "load_data", "load_model"])
# Names a developer gives the same thing in different functions: a template's parameter
# ({p}: by kind) and locals ({v}, {u}) are drawn per function, so two functions made from one
# template share their fixed lines only, as unrelated real functions do.
PARAMS = {
    "array": tuple(
        ["values", "scores", "signal", "series", "arr", "latencies", "weights", "amounts"]
    ),
    "frame": tuple(["frame", "df", "data", "table", "events", "sessions", "raw_frame", "history"]),
    "rows": tuple(
        ["rows", "records", "items", "entries", "payloads", "results", "samples", "batch"]
    ),
    "model": tuple(["model", "net", "estimator", "predictor", "network", "module"]),
}
LOCALS = tuple(
    [
        "result",
        "out",
        "kept",
        "selected",
        "cleaned",
        "scaled",
        "smoothed",
        "counts",
        "grouped",
        "merged",
        "filtered",
        "prepared",
        "parsed",
        "current",
        "acc",
        "view",
        "chosen",
        "subset",
        "summary",
        "totals",
        "bounds",
        "window_",
        "buf",
        "staged",
        "picked",
        "ranked",
        "found",
        "fitted",
        "loaded",
    ]
)
ACTIVATIONS = ("nn.ReLU()", "nn.GELU()", "nn.SiLU()", "nn.Tanh()", "nn.LeakyReLU(0.1)")


@dataclass(frozen=True, slots=True)
class Template:
    """A function or class: ``text`` is a ``str.format`` pattern over name, cls, word, WORD,
    fn, p, v, u, act and c0, c1 (constants drawn from ``consts``: (low, high, divisor))."""

    needs: tuple[str, ...]
    packages: tuple[str, ...]
    consts: tuple[tuple[int, int, int], ...]
    param: str  # kind of {p}: a key of PARAMS
    text: str
    internal: bool = False  # calls a function imported from another module ({fn})

    @property
    def is_class(self) -> bool:
        return self.text.lstrip().startswith("class ")


# One template per block: a header line
#   ## needs=ALIAS,... in=PACKAGE,... consts=LOW-HIGH/DIVISOR,... param=KIND [internal]
# then the code. Kept as text so a template reads as the code it makes.
_TEMPLATES = '''
## needs=np in=common,training,serving consts=1-5/100,95-99/100 param=array
def {name}({p}: np.ndarray, low: float = {c0}, high: float = {c1}) -> np.ndarray:
    """Clip {word} outliers to the [low, high] quantile range."""
    {v} = np.quantile({p}, [low, high])
    return np.clip({p}, {v}[0], {v}[1])
## needs=np in=common,training,serving consts=3-30/1 param=array
def {name}({p}: np.ndarray, window: int = {c0}) -> np.ndarray:
    """Trailing mean of the {word} signal; the first points use what they have."""
    {u} = np.ones(window) / window
    {v} = np.convolve({p}, {u}, mode="full")[: len({p})]
    return {v}
## needs=pd in=common,training,serving consts=2-20/1 param=frame
def {name}({p}: pd.DataFrame, min_count: int = {c0}) -> pd.DataFrame:
    """Per-{word} ratios of the event counts; rare {word}s are dropped."""
    {v} = {p}.groupby("{word}")["event"].value_counts().unstack(fill_value=0)
    {v} = {v}[{v}.sum(axis=1) >= min_count]
    return {v}.div({v}.sum(axis=1), axis=0).add_prefix("ratio_")
## needs=pd in=common,training,serving consts=5-60/100 param=frame
def {name}({p}: pd.DataFrame, max_missing: float = {c0}) -> pd.DataFrame:
    """Drop {word} columns missing in more than max_missing of the rows, then incomplete rows."""
    {v} = {p}.columns[{p}.isna().mean() <= max_missing]
    return {p}[{v}].dropna().reset_index(drop=True)
## needs=scaler in=common,training consts=2-10/1 param=frame
def {name}({p}, columns: list[str], clip: float = {c0}) -> StandardScaler:
    """Fit the {word} scaler that serving applies before predict."""
    {v} = StandardScaler()
    {v}.fit({p}[columns].clip(-clip, clip))
    return {v}
## needs=yaml,Path in=common,training,serving consts=10-200/1 param=rows
def {name}(path: Path, max_keys: int = {c0}) -> dict:
    """Read the {word} YAML config; a missing file gives an empty config."""
    if not path.exists():
        return {{}}
    with path.open(encoding="utf-8") as {u}:
        {v} = yaml.safe_load({u}) or {{}}
    return dict(list({v}.items())[:max_keys])
## needs=joblib,Path in=common,training consts=0-9/1 param=model
def {name}({p}: object, path: Path, compress: int = {c0}) -> Path:
    """Persist the fitted {word} {p} next to the model."""
    {v} = path.with_suffix(".joblib")
    {v}.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({p}, {v}, compress=compress)
    return {v}
## needs= in=common,training,serving consts=10-5000/1 param=rows
def {name}({p}: list[dict], key: str = "{word}", limit: int = {c0}) -> list[dict]:
    """The first `limit` {p} with a non-empty key, in input order."""
    {v} = [row for row in {p} if row.get(key)]
    return {v}[:limit]
## needs= in=common,training,serving consts=1-50/1,1-9/10 param=rows
def {name}({p}: dict[str, int], floor: int = {c0}, smoothing: float = {c1}) -> dict[str, float]:
    """Smoothed frequencies of the {word} values seen at least `floor` times."""
    {v} = {{key: value for key, value in {p}.items() if value >= floor}}
    {u} = sum({v}.values()) + smoothing * len({v})
    return {{key: (value + smoothing) / {u} for key, value in {v}.items()}}
## needs=os in=common,training,serving consts=16-512/1,1024-8192/1 param=rows
def {name}(default: int = {c0}) -> int:
    """The {word} batch size from the environment, bounded to what the host can hold."""
    {v} = int(os.environ.get("{WORD}_BATCH_SIZE", default))
    return max(1, min({v}, {c1}))
## needs=time in=common,training,serving consts=2-8/1,1-20/10 param=rows
def {name}({u}, attempts: int = {c0}, delay: float = {c1}):
    """Call the {word} backend until it answers, waiting a little longer each time."""
    for {v} in range(attempts):
        try:
            return {u}()
        except ConnectionError:
            time.sleep(delay * ({v} + 1))
    return {u}()
## needs=json,Path in=common,training,serving consts=1-4/1 param=rows
def {name}({p}: dict, path: Path, indent: int = {c0}) -> None:
    """Append one {word} record as a JSON line."""
    with path.open("a", encoding="utf-8") as {u}:
        {u}.write(json.dumps({p}, indent=None if indent < 2 else indent) + "\\n")
## needs=nn,torch in=training,serving consts=32-512/1,0-5/10 param=model
class {cls}(nn.Module):
    """A small feed-forward network over the {word} features."""

    def __init__(self, n_features: int, hidden: int = {c0}, dropout: float = {c1}) -> None:
        super().__init__()
        self.{v} = nn.Sequential(
            nn.Linear(n_features, hidden),
            {act},
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, {u}: torch.Tensor) -> torch.Tensor:
        return self.{v}({u}).squeeze(-1)
## needs=torch in=training consts=5-50/10 param=model
def {name}({p}, loader, optimizer, clip: float = {c0}) -> float:
    """One epoch over the {word} loader; returns the mean loss."""
    {p}.train()
    {v} = 0.0
    for {u}, target in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits({p}({u}), target)
        loss.backward()
        torch.nn.utils.clip_grad_norm_({p}.parameters(), clip)
        optimizer.step()
        {v} += loss.item()
    return {v} / max(len(loader), 1)
## needs=torch in=training consts=1-100/10000,2-20/1 param=model
class {cls}:
    """Owns the {word} model, its optimizer and the early-stopping state."""

    def __init__(self, {p}, lr: float = {c0}, patience: int = {c1}) -> None:
        self.{p} = {p}
        self.optimizer = torch.optim.AdamW({p}.parameters(), lr=lr)
        self.patience = patience
        self.{v} = float("inf")
        self.{u} = 0

    def should_stop(self, loss: float) -> bool:
        if loss < self.{v}:
            self.{v}, self.{u} = loss, 0
        else:
            self.{u} += 1
        return self.{u} >= self.patience
## needs=metrics,np in=training consts=30-90/100 param=array
def {name}(y_true: np.ndarray, {p}: np.ndarray, threshold: float = {c0}) -> dict[str, float]:
    """AUC of the {word} model and its precision at the decision threshold."""
    {v} = {p} >= threshold
    {u} = float((y_true[{v}] == 1).mean()) if {v}.any() else 0.0
    return {{"auc": float(roc_auc_score(y_true, {p})), "precision": {u}}}
## needs=split,pd in=training consts=10-30/100,0-99/1 param=frame
def {name}({p}: pd.DataFrame, target: str = "{word}", test_size: float = {c0}, seed: int = {c1}):
    """Stratified train / validation split of the {word} table."""
    {v} = {p}.drop(columns=[target])
    return train_test_split(
        {v}, {p}[target], test_size=test_size, random_state=seed, stratify={p}[target]
    )
## needs=linear in=training consts=1-100/10,100-2000/1 param=frame
def {name}({p}, labels, c: float = {c0}, max_iter: int = {c1}) -> LogisticRegression:
    """A linear {word} baseline every new model has to beat."""
    {v} = LogisticRegression(C=c, max_iter=max_iter, class_weight="balanced")
    return {v}.fit({p}, labels)
## needs=wandb in=training consts=1-100/1 param=rows
def {name}({p}: dict[str, float], step: int, every: int = {c0}) -> None:
    """Send the {word} metrics to the experiment tracker every `every` steps."""
    if step % every == 0:
        wandb.log({{f"{word}/{{key}}": value for key, value in {p}.items()}}, step=step)
## needs=mlflow in=training consts=1-9/1 param=rows
def {name}({p}: dict[str, object], model_path: str, stage: str = "{word}") -> str:
    """Record a {word} run's parameters and model artifact; returns the run id."""
    with mlflow.start_run(tags={{"stage": stage, "attempt": "{c0}"}}) as {v}:
        mlflow.log_params({p})
        mlflow.log_artifact(model_path)
        return {v}.info.run_id
## needs=optuna in=training consts=20-500/1,600-7200/1 param=model
def {name}(objective, trials: int = {c0}, timeout: int = {c1}) -> dict[str, object]:
    """Search the {word} model's hyper-parameters; returns the best trial's parameters."""
    {v} = optuna.create_study(direction="maximize", study_name="{name}")
    {v}.optimize(objective, n_trials=trials, timeout=timeout)
    return {v}.best_params
## needs=lgb in=training consts=15-255/1,100-3000/1 param=frame
def {name}({p}, valid, leaves: int = {c0}, rounds: int = {c1}):
    """Gradient-boosted trees on {word} with early stopping on the validation set."""
    {v} = {{"objective": "binary", "num_leaves": leaves, "learning_rate": 0.05, "verbose": -1}}
    {u} = lgb.early_stopping(stopping_rounds=50)
    return lgb.train({v}, {p}, num_boost_round=rounds, valid_sets=[valid], callbacks=[{u}])
## needs=bigquery,pd in=training consts=1-90/1 param=frame
def {name}(project: str, days: int = {c0}) -> pd.DataFrame:
    """Training {word} events of the last `days` days from the warehouse."""
    {u} = bigquery.Client(project=project)
    {v} = f"SELECT * FROM events.{word} WHERE ts > TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {{days}} DAY)"
    return {u}.query({v}).to_dataframe()
## needs=tqdm in=training consts=10-1000/1,1-50/10 param=rows
def {name}({p}, log_every: int = {c0}) -> int:
    """Iterate the {word} {p} with a progress bar; returns how many were seen."""
    {v} = 0
    for {v}, _ in enumerate(tqdm({p}, mininterval={c1}), start=1):
        if {v} % log_every == 0:
            log.info("%d {p}", {v})
    return {v}
## needs=pydantic in=serving consts=10-500/1,10-90/100 param=rows
class {cls}(BaseModel):
    """The {word} request the API accepts."""

    {word}: str
    {p}: list[str] = Field(default_factory=list, max_length={c0})
    {v}: float = {c1}
## needs=fastapi in=serving consts=1-100/1 param=rows
@router.post("/{word}/{v}")
def {name}({p}: dict, limit: int = {c0}) -> dict:
    """Score a {word} payload."""
    if not {p}:
        raise HTTPException(status_code=422, detail="empty {word} payload")
    return {{"{v}": list({p}.values())[:limit]}}
## needs=prometheus in=serving consts=5-2000/1000 param=array
def {name}({v}: float, failed: bool = False, budget: float = {c0}) -> bool:
    """Record a {word} request's latency; True when it was within budget."""
    LATENCY.observe({v})
    if failed:
        ERRORS.inc()
    return {v} <= budget
## needs=torch,np in=serving consts=16-1024/1 param=model
def {name}({p}, {u}: np.ndarray, batch: int = {c0}) -> np.ndarray:
    """Predict {word} scores in batches without gradients."""
    {p}.eval()
    {v} = []
    with torch.no_grad():
        for start in range(0, len({u}), batch):
            chunk = torch.as_tensor({u}[start : start + batch], dtype=torch.float32)
            {v}.append(torch.sigmoid({p}(chunk)).numpy())
    return np.concatenate({v}) if {v} else np.empty(0)
## needs=redis in=serving consts=60-86400/1 param=rows
def {name}(client: redis.Redis, key: str, ttl: int = {c0}) -> bytes | None:
    """A cached {word} prediction, refreshed so hot keys stay."""
    {v} = client.get(f"{word}:{{key}}")
    if {v} is not None:
        client.expire(f"{word}:{{key}}", ttl)
    return {v}
## needs=httpx in=serving consts=1-100/10 param=rows
def {name}(url: str, {p}: dict, timeout: float = {c0}) -> dict:
    """Call the feature service for the {word} features."""
    {v} = httpx.post(url, json={p}, timeout=timeout)
    {v}.raise_for_status()
    return {v}.json()
## needs=joblib in=serving consts=1-40/1 param=model
def {name}(path: str, expected_version: int = {c0}):
    """Load the pickled {word} model; refuse one from another training version."""
    {v} = joblib.load(path)
    if {v}.get("version") != expected_version:
        raise RuntimeError(f"{word} model version {{{v}.get('version')}} != {{expected_version}}")
    return {v}["model"]
## needs= in=training,serving consts=10-10000/1 param=rows internal
def {name}({p}, limit: int = {c0}):
    """Apply {fn} to at most `limit` {word} {p}."""
    {v} = {p}[:limit]
    return {fn}({v})
'''

_TEST_TEMPLATE = '''
## needs=pytest in=tests consts=1-50/1,51-500/1 param=rows internal
@pytest.mark.parametrize("size", [{c0}, {c1}])
def {name}(size: int) -> None:
    """{fn} keeps its contract on {word} {p}."""
    {p} = [{{"{word}": index}} for index in range(size)]
    assert callable({fn})
    assert len({p}) == size
'''


def _parse_templates(text: str) -> tuple[Template, ...]:
    out: list[Template] = []
    for block in text.split("\n## ")[1:]:
        header, _, code = block.partition("\n")
        fields = dict(f.split("=", 1) for f in header.split() if "=" in f)
        consts = tuple(
            (int(low), int(high), int(div))
            for spec in fields["consts"].split(",")
            for (low, high), div in [(spec.split("/")[0].split("-"), spec.split("/")[1])]
        )
        out.append(
            Template(
                needs=tuple(n for n in fields["needs"].split(",") if n),
                packages=tuple(fields["in"].split(",")),
                consts=consts,
                param=fields["param"],
                text=code,
                internal="internal" in header.split(),
            )
        )
    return tuple(out)


TEMPLATES = _parse_templates(_TEMPLATES)
TEST_TEMPLATE = _parse_templates(_TEST_TEMPLATE)[0]
INTERNAL_TEMPLATE = next(t for t in TEMPLATES if t.internal)


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
    names: dict[str, str]  # the template's {p}, {v}, {u} and {act} in this function
    traced: bool = False  # carries a log.debug line (added and removed by body edits)
    fn: str = ""  # the function an internal template calls
    doc: str = ""  # what the docstring says first (a pasted copy keeps it when renamed)

    def render(self) -> str:
        t = self.template
        values = {f"c{i}": _show(v, t.consts[i][2]) for i, v in enumerate(self.consts)}
        cls = "".join(part.title() for part in self.name.split("_"))
        text = t.text.format(
            name=self.name,
            cls=cls,
            word=self.word,
            WORD=self.word.upper(),
            fn=self.fn,
            **self.names,
            **values,
        ).strip("\n")
        if not self.doc and not self.traced:
            return text
        lines = text.split("\n")
        doc = next(i for i, line in enumerate(lines) if line.startswith('    """'))
        if self.doc:
            head, rest = lines[doc].split('"""', 1)
            lines[doc] = f'{head}"""{self.doc}: {rest[:1].lower()}{rest[1:]}'
        if self.traced:
            lines.insert(doc + 1, f'    log.debug("{self.name}: %s", "{self.word}")')
        return "\n".join(lines)


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

    def names_in_scope(self) -> set[str]:
        """Its functions' names and the names it imports from other modules."""
        return self.function_names() | {name for _, name in self.internal}

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
    """A function of ``template`` for ``module``: its name says what it does to which data
    (verb, maybe a qualifier and the column it is about, noun), and so does its docstring;
    a few are given one of the names many files define (main, predict)."""
    word = rng.choice(WORDS)
    parts = [rng.choice(VERBS)]
    if rng.random() < 0.5:
        parts.append(rng.choice(QUALIFIERS))
    if rng.random() < 0.6:
        parts.append(word)
    parts.append(rng.choice(NOUNS))
    base = "_".join(parts)
    doc = " ".join(parts).replace("_", " ").capitalize()
    if module.package == "tests":
        base = f"test_{base}"
    elif not template.is_class and rng.random() < 0.04:
        base = rng.choice(COMMON_NAMES)
    taken = module.names_in_scope()
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    fn = rng.choice(module.internal)[1] if template.internal else ""
    consts = [_const(rng, spec) for spec in template.consts]
    v, u = rng.sample(LOCALS, 2)
    names = {"p": rng.choice(PARAMS[template.param]), "v": v, "u": u}
    names["act"] = rng.choice(ACTIVATIONS)
    return Function(template, name, word, consts, names, fn=fn, doc=doc)


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


# Of the body edits, the share that keeps the file's line count (a constant changes). In the
# public ML repositories measured (git log --numstat of *.py, first parent), 7% to 41% of the
# changes of a Python file add as many lines as they delete, 15% in the middle one; the others
# move every line below them.
SAME_LINE_COUNT = 0.3


def edit_body(rng: random.Random, module: Module) -> Function:
    """Change one function's body: a constant (the line count stays) or, more often, its
    logging line (added or removed: the lines below move)."""
    function = rng.choice(module.functions)
    if function.consts and (function.template.is_class or rng.random() < SAME_LINE_COUNT):
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
    scope = module.names_in_scope()
    choices = [e for e in exported if e[0] != module.dotted and e[1] not in scope]
    if module.package != "common" and choices and (not candidates or rng.random() < 0.3):
        pick = rng.choice(choices)
        module.internal.append(pick)
        function = new_function(rng, module, INTERNAL_TEMPLATE)
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
        if alias == "app":  # the ASGI app the Dockerfile serves stays
            continue
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
    # the functions removed may have been the last users of another import (torch for nn)
    used = {a for f in module.functions for a in f.template.needs} | {"app"}
    called = {f.fn for f in module.functions if f.template.internal}
    module.imports = [a for a in module.imports if a in used]
    module.internal = [p for p in module.internal if p[1] in called]
    if ":" in what:
        dotted, name = what.split(":")
        return f"from {dotted} import {name}"
    return IMPORTS[what][1]


def distinct_names(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` (module, function) without a second function of an already imported name
    (two common modules may each define ``load_features``; a module imports one of them)."""
    seen: set[str] = set()
    out = []
    for pair in pairs:
        if pair[1] not in seen:
            seen.add(pair[1])
            out.append(pair)
    return out


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
        module.internal = distinct_names(
            rng.sample(exported, min(len(exported), rng.randint(1, 2)))
        )
    else:
        pool = list(POOLS[package])
        module.imports = rng.sample(pool, rng.randint(2, 4))
        choices = [e for e in exported if e[0] != module.dotted]
        if package != "common" and choices:
            module.internal = distinct_names(
                rng.sample(choices, min(len(choices), rng.randint(0, 2)))
            )
    for _ in range(rng.randint(*functions)):
        add_function(rng, module)
    # what an import is for: a module never imports something none of its functions use
    used = {a for f in module.functions for a in f.template.needs}
    module.imports = [a for a in module.imports if a in used]
    called = {f.fn for f in module.functions if f.template.internal}
    module.internal = [p for p in module.internal if p[1] in called]
    return module
