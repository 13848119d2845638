"""Python modules of the audited repository, read with ``ast`` (never imported or run).

One ``CodeModule`` fact per file, from a single ``ast.parse`` and one walk of the tree:

* ``module``: the dotted name from the path (:func:`module_name`).
* ``imports``: absolute dotted names. ``from a import b`` is recorded as ``a.b``: the import
  graph decides whether ``a.b`` is a module or an attribute of ``a``. Relative imports are
  resolved against the module; ``importlib.import_module("x")`` / ``__import__("x")`` with a
  literal name are recorded with ``dynamic=True``. Imports under ``if TYPE_CHECKING:`` never
  run and are left out. An import guarded by ``try:`` with a handler that catches its
  failure (``except ImportError`` / ``ModuleNotFoundError`` / ``Exception`` / bare
  ``except``, or ``with suppress(ImportError)``) has a fallback: ``optional=True``.
* ``calls``: only calls a rule can judge (``knowledge.training_calls``), named with the
  module's imports resolved: ``from sklearn.model_selection import train_test_split as tts;
  tts(x)`` is ``sklearn.model_selection.train_test_split``. Method calls keep their receiver
  as written (``scaler.fit_transform``); a receiver that is not a name is ``.fit``.
* ``definitions``: top-level functions and classes. ``body_hash`` hashes the definition's
  text with layout, comments, docstrings and its own name removed, so a re-indented,
  commented or renamed copy still matches; ``body`` is the source text (decorators
  included, secret literals masked on the tree by :mod:`depaudit.collectors.sources.python_secrets`,
  capped at ``MAX_BODY_CHARS``). Both are text, not
  ``ast.dump`` / ``ast.unparse``: those cost more than parsing the repository itself
  (bench/bench_import_graph.py). The copy rule confirms near-matches on the AST and
  normalises just the two bodies it diffs.
* ``app_objects``: serving entrypoint hints, ``"<framework>:<name>"``, e.g. ``FastAPI:app``.
* ``pickled``: what the module pickles (``pickle`` / ``dill`` / ``joblib`` / ``cloudpickle``
  ``dump``), as the imported callable that made the object: ``body_pp = processor(...);
  dill.dump(body_pp, f)`` is ``ktext.preprocess.processor``. The name is "" where the code
  does not say (a parameter, a dict, a local class).
* ``saves`` / ``loads``: model files the module writes or reads by a literal path (or a
  name bound to one, an ``os.getenv`` default included): ``open(p, "wb")``,
  ``joblib.dump(m, p)``, ``torch.load(p)``, ``model.save(p)`` where ``p`` ends like a model
  or pickle file (``.pkl``, ``.joblib``, ``.bin``, ``.pt``, ``.h5``, ``.onnx``...). Found only
  in modules whose text holds such a literal.

Beside the module, an ``Include(kind="config")`` for the config file a Hydra entrypoint
loads (``@hydra.main(config_path="../../configs", config_name="config")``): the snapshot
builder reads it as the environment's config, so the plugins it selects by name
(``override hydra/job_logging: colorlog``) count as used.

``setup.py`` is never read (it is a program, not a module the service imports), nor are
tests (``tests/``, ``test_*.py``, ``*_test.py``, ``conftest.py``).
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from depaudit.code_graph import training_call_key
from depaudit.collectors.sources.base import MAX_FILE_BYTES, error
from depaudit.collectors.sources.pep508 import requirement_fact
from depaudit.collectors.sources.python_secrets import mask_definition
from depaudit.knowledge import builtin
from depaudit.model import (
    CallRef,
    CodeModule,
    Definition,
    Fact,
    FileRef,
    ImportRef,
    Include,
    Package,
    SourceResult,
)
from depaudit.secrets import scrub

MAX_BODY_CHARS = 20_000
_TEST_DIRS = frozenset({"tests", "test", "testing"})
_SKIP_FILES = frozenset({"conftest.py", "setup.py"})

# Constructors whose result is a served application: resolved dotted name -> label.
APP_CONSTRUCTORS: dict[str, str] = {
    "fastapi.FastAPI": "FastAPI",
    "flask.Flask": "Flask",
    "starlette.applications.Starlette": "Starlette",
    "quart.Quart": "Quart",
    "sanic.Sanic": "Sanic",
    "litestar.Litestar": "Litestar",
    "falcon.App": "falcon",
    "falcon.API": "falcon",
    "falcon.asgi.App": "falcon",
    "aiohttp.web.Application": "aiohttp",
    "tornado.web.Application": "tornado",
    "connexion.App": "connexion",
    "connexion.FlaskApp": "connexion",
    "connexion.AsyncApp": "connexion",
    "bentoml.Service": "bentoml.Service",
    "gradio.Interface": "gradio",
    "gradio.Blocks": "gradio",
    "gradio.ChatInterface": "gradio",
    "litserve.LitServer": "litserve",
    "django.core.wsgi.get_wsgi_application": "django",
    "django.core.asgi.get_asgi_application": "django",
    # a model deployed to a managed endpoint: the script that deploys it is where serving
    # is defined, the endpoint runs a prebuilt container (no app of the repository's own)
    "google.cloud.aiplatform.Model.upload": "Vertex AI model upload",
    "google.cloud.aiplatform.Endpoint.create": "Vertex AI endpoint",
    "sagemaker.model.Model": "SageMaker model",
    "sagemaker.pytorch.PyTorchModel": "SageMaker model",
    "sagemaker.pytorch.model.PyTorchModel": "SageMaker model",
    "sagemaker.sklearn.SKLearnModel": "SageMaker model",
    "sagemaker.sklearn.model.SKLearnModel": "SageMaker model",
    "sagemaker.tensorflow.TensorFlowModel": "SageMaker model",
    "sagemaker.xgboost.XGBoostModel": "SageMaker model",
    "azureml.core.model.Model.deploy": "AzureML deployment",
    "azureml.core.Model.deploy": "AzureML deployment",
    "azure.ai.ml.entities.ManagedOnlineDeployment": "AzureML online deployment",
}
# Decorators that turn a class or function into a served deployment.
APP_DECORATORS: dict[str, str] = {
    "ray.serve.deployment": "ray.serve",
    "bentoml.service": "bentoml.service",
    "modal.web_endpoint": "modal",
    "modal.asgi_app": "modal",
}
# Base classes of model-server handlers.
APP_BASES: dict[str, str] = {
    "mlserver.MLModel": "mlserver",
    "kserve.Model": "kserve",
    "litserve.LitAPI": "litserve",
    "ts.torch_handler.base_handler.BaseHandler": "torchserve",
    # BentoML 0.x: a service class packed with its model (``@bentoml.env``, ``@bentoml.api``)
    "bentoml.BentoService": "bentoml.BentoService",
    "bentoml.service.BentoService": "bentoml.BentoService",
}
_IMPORT_FUNCS = frozenset({"importlib.import_module", "__import__"})
# BentoML 0.x declares what the packed service installs on the class:
# ``@bentoml.env(pip_packages=["scikit-learn==0.24", "pandas"])`` (``pip_dependencies``
# before 0.10), ``requirements_txt_file="requirements.txt"``: the serving side's packages.
BENTO_ENVS = frozenset({"bentoml.env", "bentoml.service.env"})
# ... and packs the model in an artifact whose class imports the model's framework when
# the service loads it: ``from bentoml.artifact import FastaiModelArtifact`` is a (dynamic)
# import of fastai by the serving module.
BENTO_ARTIFACT_FRAMEWORKS: dict[str, str] = {
    "FastaiModelArtifact": "fastai",
    "KerasModelArtifact": "keras",
    "PytorchModelArtifact": "torch",
    "SklearnModelArtifact": "sklearn",
    "XgboostModelArtifact": "xgboost",
    "LightGBMModelArtifact": "lightgbm",
    "H2oModelArtifact": "h2o",
    "FasttextModelArtifact": "fasttext",
    "TensorflowSavedModelArtifact": "tensorflow",
    "OnnxModelArtifact": "onnxruntime",
    "CoreMLModelArtifact": "coremltools",
    "SpacyModelArtifact": "spacy",
    "TransformersModelArtifact": "transformers",
}
_BENTO_ARTIFACT_MODULES = ("bentoml.artifact", "bentoml.frameworks")
_BENTO_PIP_KEYWORDS = frozenset({"pip_packages", "pip_dependencies"})
# Decorators that load a config file next to the code: the file is the environment's config.
CONFIG_LOADERS = frozenset({"hydra.main"})
# Functions that pickle their first argument. Unpickling it needs the library of the
# object's class whether or not the loading code imports it, so a training module records
# what it pickles (``CodeModule.pickled``) for the serving side that loads it.
PICKLERS = frozenset(
    {
        "pickle.dump",
        "pickle.dumps",
        "dill.dump",
        "dill.dumps",
        "joblib.dump",
        "cloudpickle.dump",
        "cloudpickle.dumps",
    }
)
# Model files saved and loaded by a literal path, for linking a serving side to the
# training side that makes its model (depaudit.projects). A file counts by its ending
# (a model or pickle format); the call that takes it says whether it is written or read:
# ``open`` by its mode, these functions by name (resolved through the imports), and
# method calls by their last name (``model.save("clf.h5")``, ``booster.load_model(p)``).
MODEL_FILE_SUFFIXES = (
    ".pkl", ".pickle", ".dpkl", ".joblib", ".sav", ".dill", ".bin", ".pt", ".pth", ".ckpt", ".h5",
    ".keras", ".onnx", ".cbm", ".ubj", ".safetensors", ".model", ".pb", ".tflite",
)  # fmt: skip
SAVERS = frozenset(
    {"joblib.dump", "torch.save", "keras.models.save_model", "tensorflow.keras.models.save_model"}
)
LOADERS = frozenset(
    {
        "joblib.load",
        "torch.load",
        "torch.jit.load",
        "keras.models.load_model",
        "tensorflow.keras.models.load_model",
        "onnxruntime.InferenceSession",
        "xgboost.Booster",
        "lightgbm.Booster",
    }
)
SAVE_METHODS = frozenset({"save", "save_model", "dump_model"})
LOAD_METHODS = frozenset({"load", "load_model"})
_MODEL_FILE_HINT = re.compile(
    r"""\.(?:""" + "|".join(re.escape(s[1:]) for s in MODEL_FILE_SUFFIXES) + r""")["']"""
)
_GETENV = frozenset({"os.getenv", "os.environ.get"})
# Exceptions whose handler catches a failed import: the import is optional.
_IMPORT_FAILURES = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_TRY = (ast.Try, ast.TryStar)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def module_name(path: str) -> str | None:
    """Dotted module name of a repo-relative ``.py`` path, or None if it is not importable.

    Everything up to and including the last ``src/`` folder is dropped (``src`` layouts,
    also inside monorepo services: ``services/api/src/api/app.py`` -> ``api.app``);
    ``pkg/__init__.py`` is ``pkg``. A path part that is not an identifier
    (``my-scripts/run.py``, ``01_explore.py``) cannot be imported: None.
    """
    parts = list(PurePosixPath(path).parts)
    if not parts or not parts[-1].endswith(".py"):
        return None
    if "src" in parts[:-1]:
        last = len(parts) - 2 - parts[-2::-1].index("src")
        parts = parts[last + 1 :]
    stem = parts[-1][:-3]
    parts = parts[:-1] if stem == "__init__" else [*parts[:-1], stem]
    if not parts or not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        return None
    return ".".join(parts)


def _fallback_name(path: str) -> str:
    """A readable unique name for a file no import statement can reach (run as a script)."""
    return path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")


def _dotted(node: ast.expr) -> str:
    """``a.b.c`` for a Name/Attribute chain; ``.c`` when the chain starts at an expression."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    else:
        parts.append("")
    return ".".join(reversed(parts))


def _config_file(decorator: ast.Call) -> str:
    """The config file ``@hydra.main(config_path="../conf", config_name="config")`` loads,
    relative to the module (as Hydra resolves it), or "" when not written as literals."""
    given = {
        k.arg: k.value.value
        for k in decorator.keywords
        if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
    }
    folder, name = given.get("config_path"), given.get("config_name")
    if folder is None or not name or folder.startswith(("pkg://", "file://", "/")):
        return ""
    name = name if name.endswith((".yaml", ".yml")) else name + ".yaml"
    return str(PurePosixPath(folder, name))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_failure(handlers: list[ast.ExceptHandler]) -> bool:
    """``except ImportError``, ``except (ImportError, OSError)``, ``except Exception``, ``except:``."""
    for handler in handlers:
        caught = handler.type
        if caught is None:
            return True
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if any(_dotted(n).rsplit(".", 1)[-1] in _IMPORT_FAILURES for n in names):
            return True
    return False


def _suppresses_import_failure(node: ast.With | ast.AsyncWith) -> bool:
    """``with contextlib.suppress(ImportError):``."""
    for item in node.items:
        call = item.context_expr
        if (
            isinstance(call, ast.Call)
            and _dotted(call.func).rsplit(".", 1)[-1] == "suppress"
            and any(_dotted(a).rsplit(".", 1)[-1] in _IMPORT_FAILURES for a in call.args)
        ):
            return True
    return False


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class PythonCodeSource:
    name = "python"

    def __init__(self) -> None:
        calls = builtin().training_calls
        self._calls = calls
        # last name part of everything worth resolving: cheap filter inside the walk
        self._interesting = frozenset(
            k.rsplit(".", 1)[-1] for k in (*calls, *APP_CONSTRUCTORS, *_IMPORT_FUNCS, *PICKLERS)
        )
        self._call_hint = re.compile(
            r"\b(?:" + "|".join(sorted(map(re.escape, self._interesting))) + r")\s*\("
        )

    def matches(self, path: str) -> bool:
        if not path.endswith(".py"):
            return False
        parts = PurePosixPath(path).parts
        leaf = parts[-1]
        if leaf in _SKIP_FILES or leaf.startswith("test_") or leaf.endswith("_test.py"):
            return False
        return not any(p in _TEST_DIRS for p in parts[:-1])

    def parse(self, text: str, path: str) -> SourceResult:
        if len(text) > MAX_FILE_BYTES:  # the snapshot builder checks first; direct callers too
            return error(path, f"file too large ({len(text)} characters, limit {MAX_FILE_BYTES})")
        text = text.removeprefix("\ufeff")
        try:
            tree = ast.parse(text, filename=path)
        except SyntaxError as exc:
            return error(path, f"Python syntax error: {exc.msg}", exc.lineno or 0)
        except ValueError as exc:
            return error(path, f"cannot parse Python: {exc}")
        except (RecursionError, MemoryError):
            # the parser gives up on pathological nesting with one of these
            return error(path, "cannot parse Python: too deeply nested")
        try:
            module, beside = self._module(tree, text, path)
            return SourceResult((module, *beside))
        except RecursionError:
            return error(path, "cannot read Python: nesting too deep")

    # ----------------------------------------------------------------------- walk
    #
    # Speed (bench/bench_import_graph.py): visiting every expression node of a repository
    # costs about as much as parsing it. Imports, assignments, decorators, base classes and
    # docstrings are all *statements*, so the walk visits statements only; the expression
    # walk that finds calls runs only in modules whose text has a call-shaped occurrence
    # of a name worth resolving (``fit(``, ``wandb.init(``, an alias of one).

    def _module(self, tree: ast.Module, text: str, path: str) -> tuple[CodeModule, list[Fact]]:
        dotted = module_name(path)
        is_package = PurePosixPath(path).name == "__init__.py"
        name = dotted or _fallback_name(path)
        package_parts = name.split(".") if is_package else name.split(".")[:-1]

        imports: list[ImportRef] = []
        aliases: dict[str, str] = {}  # local name -> absolute dotted target
        assigns: list[tuple[str, ast.Call]] = []
        decorated: list[tuple[str, ast.expr]] = []
        bases: list[tuple[str, ast.expr]] = []
        docstring_lines: set[int] = set()
        strings: dict[str, str] = {}  # NAME = "literal", for paths held in a name

        guarded_lines: list[tuple[int, int]] = []  # try bodies that catch a failed import
        # (statement, guarded): guarded = inside a try body whose handlers catch a failed
        # import; a function body is not (it runs later, outside the try)
        stack: list[tuple[ast.AST, bool]] = [(stmt, False) for stmt in tree.body]
        while stack:
            node, guarded = stack.pop()
            kind = type(node)
            if kind is ast.Import:
                for alias in node.names:  # type: ignore[attr-defined]
                    imports.append(ImportRef(alias.name, node.lineno, optional=guarded))  # type: ignore[attr-defined]
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        aliases.setdefault(top, top)
            elif kind is ast.ImportFrom:
                base = self._from_base(node, package_parts)  # type: ignore[arg-type]
                if base is None:
                    continue
                for alias in node.names:  # type: ignore[attr-defined]
                    if alias.name == "*":
                        imports.append(ImportRef(base, node.lineno, optional=guarded))  # type: ignore[attr-defined]
                        continue
                    target = f"{base}.{alias.name}" if base else alias.name
                    imports.append(ImportRef(target, node.lineno, optional=guarded))  # type: ignore[attr-defined]
                    framework = BENTO_ARTIFACT_FRAMEWORKS.get(alias.name)
                    if framework and base.startswith(_BENTO_ARTIFACT_MODULES):
                        imports.append(ImportRef(framework, node.lineno, dynamic=True))  # type: ignore[attr-defined]
                    aliases[alias.asname or alias.name] = target
            elif kind is ast.Assign:
                value = node.value  # type: ignore[attr-defined]
                targets = node.targets  # type: ignore[attr-defined]
                if len(targets) == 1 and type(targets[0]) is ast.Name:
                    if type(value) is ast.Call:
                        assigns.append((targets[0].id, value))
                    elif type(value) is ast.Constant and type(value.value) is str:  # type: ignore[attr-defined]
                        strings.setdefault(targets[0].id, value.value)  # type: ignore[attr-defined]
            elif kind is ast.AnnAssign:
                value = node.value  # type: ignore[attr-defined]
                target = node.target  # type: ignore[attr-defined]
                if type(value) is ast.Call and type(target) is ast.Name:
                    assigns.append((target.id, value))
            elif kind in _DEFS:
                body = node.body  # type: ignore[attr-defined]
                if body and _is_docstring(body[0]) and body[0].lineno != node.lineno:  # type: ignore[attr-defined]
                    doc = body[0]
                    docstring_lines.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
                for dec in node.decorator_list:  # type: ignore[attr-defined]
                    decorated.append((node.name, dec))  # type: ignore[attr-defined]
                if kind is ast.ClassDef:
                    for b in node.bases:  # type: ignore[attr-defined]
                        bases.append((node.name, b))  # type: ignore[attr-defined]
                # a class body runs where it stands; a function body runs when called
                stack.extend((stmt, guarded and kind is ast.ClassDef) for stmt in body)
            elif kind is ast.If and _is_type_checking(node.test):  # type: ignore[attr-defined]
                stack.extend((stmt, guarded) for stmt in node.orelse)  # type: ignore[attr-defined]
            elif kind in _TRY:
                body = node.body  # type: ignore[attr-defined]
                catches = guarded or _catches_import_failure(node.handlers)  # type: ignore[attr-defined]
                if catches and body:
                    guarded_lines.append((body[0].lineno, body[-1].end_lineno or body[-1].lineno))
                stack.extend((stmt, catches) for stmt in body)
                for field in ("handlers", "orelse", "finalbody"):
                    stack.extend((stmt, guarded) for stmt in getattr(node, field))
            elif (kind is ast.With or kind is ast.AsyncWith) and _suppresses_import_failure(node):  # type: ignore[arg-type]
                body = node.body  # type: ignore[attr-defined]
                guarded_lines.append((body[0].lineno, body[-1].end_lineno or body[-1].lineno))
                stack.extend((stmt, True) for stmt in body)
            else:
                # compound statements: if/for/while/with/match and their handlers/cases
                for field in _STATEMENT_LISTS:
                    children = getattr(node, field, None)
                    if children:
                        stack.extend((child, guarded) for child in children)

        def resolve(expr: ast.expr) -> str:
            written = _dotted(expr)
            head, _, rest = written.partition(".")
            target = aliases.get(head)
            if target is None:
                return written
            return f"{target}.{rest}" if rest else target

        def made_by(value: ast.expr) -> str:
            """The imported callable that made an object (``RandomForestClassifier(...)``,
            ``Pipeline(...).fit(x, y)``), or "" when the code does not say."""
            while type(value) is ast.Call:
                func = value.func  # type: ignore[attr-defined]
                if type(func) is ast.Attribute and type(func.value) is ast.Call:
                    value = func.value  # a chained call: the object is made by the inner one
                    continue
                if _dotted(func).partition(".")[0] not in aliases:
                    return ""  # a local function or builtin: the library is not known
                return resolve(func)
            return ""

        made: dict[str, list[str]] | None = None  # name -> what made it; only if it pickles

        calls: list[CallRef] = []
        pickled: list[CallRef] = []
        for call in self._candidate_calls(tree, text, aliases):
            resolved = resolve(call.func)
            if resolved in PICKLERS:
                arg = call.args[0] if call.args else None
                if type(arg) is ast.Name:
                    if made is None:
                        made = {}
                        for target_name, value in assigns:
                            made.setdefault(target_name, []).append(made_by(value))
                    origins = made.get(arg.id) or [""]  # type: ignore[attr-defined]
                else:
                    origins = [made_by(arg) if arg is not None else ""]
                pickled.extend(CallRef(o, call.lineno) for o in origins)
                continue
            if resolved in _IMPORT_FUNCS:
                ref = self._dynamic_import(call, package_parts)
                if ref is not None:
                    if any(a <= ref.line <= b for a, b in guarded_lines):
                        ref = ImportRef(ref.name, ref.line, dynamic=True, optional=True)
                    imports.append(ref)
                continue
            if training_call_key(resolved, self._calls) is not None:
                calls.append(CallRef(resolved, call.lineno))

        beside: list[Fact] = []  # facts of the file beside its module: configs, packages
        for _def_name, dec in decorated:
            if isinstance(dec, ast.Call) and resolve(dec.func) in CONFIG_LOADERS:
                loaded = _config_file(dec)
                if loaded:
                    beside.append(Include(loaded, path, dec.lineno, kind="config"))
            if isinstance(dec, ast.Call) and resolve(dec.func) in BENTO_ENVS:
                beside.extend(_bento_env(dec, path))

        apps: list[str] = []
        for target_name, value in assigns:
            label = APP_CONSTRUCTORS.get(resolve(value.func))
            if label:
                apps.append(f"{label}:{target_name}")
        for def_name, dec in decorated:
            label = APP_DECORATORS.get(resolve(dec.func if isinstance(dec, ast.Call) else dec))
            if label:
                apps.append(f"{label}:{def_name}")
        for class_name, b in bases:
            label = APP_BASES.get(resolve(b))
            if label:
                apps.append(f"{label}:{class_name}")

        saves: list[FileRef] = []
        loaded_files: list[FileRef] = []
        if _MODEL_FILE_HINT.search(text):
            for target_name, value in assigns:  # MODEL = os.getenv("MODEL", "model.pkl")
                if resolve(value.func) in _GETENV and len(value.args) > 1:
                    default = value.args[1]
                    if type(default) is ast.Constant and type(default.value) is str:  # type: ignore[attr-defined]
                        strings.setdefault(target_name, default.value)  # type: ignore[attr-defined]
            for node in ast.walk(tree):
                if type(node) is ast.Call:
                    found = _model_file_use(node, resolve, strings)  # type: ignore[arg-type]
                    if found is not None:
                        (saves if found[0] else loaded_files).append(found[1])

        module = CodeModule(
            module=name,
            file=path,
            is_package=is_package,
            imports=tuple(
                sorted(set(imports), key=lambda r: (r.line, r.name, r.dynamic, r.optional))
            ),
            calls=tuple(sorted(set(calls), key=lambda c: (c.line, c.name))),
            definitions=_definitions(tree, text, docstring_lines),
            app_objects=tuple(dict.fromkeys(sorted(apps))),
            pickled=tuple(sorted(set(pickled), key=lambda c: (c.line, c.name))),
            saves=tuple(sorted(set(saves), key=lambda f: (f.line, f.path))),
            loads=tuple(sorted(set(loaded_files), key=lambda f: (f.line, f.path))),
        )
        return module, sorted(beside, key=lambda f: (f.line, type(f).__name__, repr(f)))

    def _candidate_calls(
        self, tree: ast.Module, text: str, aliases: dict[str, str]
    ) -> list[ast.Call]:
        """Call nodes whose name may resolve to something a rule judges."""
        interesting = self._interesting
        # local aliases of interesting names: ``from ... import train_test_split as tts``
        extra = {a for a, t in aliases.items() if t.rsplit(".", 1)[-1] in interesting}
        extra -= interesting
        if not self._call_hint.search(text) and not (
            extra and re.search(r"\b(?:" + "|".join(map(re.escape, extra)) + r")\s*\(", text)
        ):
            return []
        names = interesting | extra
        out: list[ast.Call] = []
        for node in ast.walk(tree):
            if type(node) is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                if (isinstance(func, ast.Attribute) and func.attr in interesting) or (
                    isinstance(func, ast.Name) and func.id in names
                ):
                    out.append(node)  # type: ignore[arg-type]
        return out

    @staticmethod
    def _from_base(node: ast.ImportFrom, package_parts: list[str]) -> str | None:
        """Absolute module of ``from X import ...``; None if a relative import climbs out."""
        if not node.level:
            return node.module or ""
        keep = len(package_parts) - (node.level - 1)
        if keep < 0 or (keep == 0 and not node.module):
            return None
        base = package_parts[:keep]
        if node.module:
            base = [*base, node.module]
        return ".".join(base)

    @staticmethod
    def _dynamic_import(call: ast.Call, package_parts: list[str]) -> ImportRef | None:
        if not call.args:
            return None
        first = call.args[0]
        if (
            not (isinstance(first, ast.Constant) and isinstance(first.value, str))
            or not first.value
        ):
            return None
        name = first.value
        if name.startswith("."):
            # import_module(".plugins", __package__) / (".plugins", "pkg"): relative
            level = len(name) - len(name.lstrip("."))
            anchor = package_parts
            if len(call.args) > 1:
                pkg = call.args[1]
                if isinstance(pkg, ast.Constant) and isinstance(pkg.value, str):
                    anchor = pkg.value.split(".")
            keep = len(anchor) - (level - 1)
            if keep <= 0:
                return None
            rest = name.lstrip(".")
            name = ".".join([*anchor[:keep], rest] if rest else anchor[:keep])
        return ImportRef(name, call.lineno, dynamic=True)


def _bento_env(dec: ast.Call, path: str) -> list[Fact]:
    """Packages and requirement files a BentoML 0.x ``@env(...)`` declares, bentoml itself
    included (the packed service installs the version that packed it)."""
    out: list[Fact] = [Package("bentoml", path, dec.lineno)]
    for arg in dec.keywords:
        value = arg.value
        if arg.arg in _BENTO_PIP_KEYWORDS and isinstance(value, (ast.List, ast.Tuple)):
            for element in value.elts:
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    fact = requirement_fact(element.value, path, element.lineno)
                    if fact is not None:
                        out.append(fact)
        elif (
            arg.arg == "requirements_txt_file"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            out.append(Include(value.value, path, value.lineno))
    return out


def _model_file_use(
    call: ast.Call, resolve: Callable[[ast.expr], str], strings: dict[str, str]
) -> tuple[bool, FileRef] | None:
    """(saved?, the file) when ``call`` saves or loads a model file by a literal path (or a
    name bound to one): ``open(p, "wb")``, ``joblib.dump(m, p)``, ``torch.load(p)``,
    ``model.save(p)``; None otherwise."""

    def literal(node: ast.expr) -> str | None:
        if type(node) is ast.Constant and type(node.value) is str:  # type: ignore[attr-defined]
            value: str = node.value  # type: ignore[attr-defined]
        elif type(node) is ast.Name and node.id in strings:  # type: ignore[attr-defined]
            value = strings[node.id]  # type: ignore[attr-defined]
        else:
            return None
        value = value.strip()
        return value if value.lower().endswith(MODEL_FILE_SUFFIXES) else None

    arguments = (*call.args, *(k.value for k in call.keywords))
    path = next((p for a in arguments if (p := literal(a))), None)
    if path is None:
        return None
    name = resolve(call.func)
    saved: bool | None = None
    if name == "open":
        modes = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "mode")]
        mode = modes[0] if modes else None
        saved = (
            type(mode) is ast.Constant
            and type(mode.value) is str  # type: ignore[attr-defined]
            and any(c in mode.value for c in "wax")  # type: ignore[attr-defined]
        )
    elif name in SAVERS or name in LOADERS:
        saved = name in SAVERS
    elif type(call.func) is ast.Attribute and call.func.attr in SAVE_METHODS | LOAD_METHODS:
        saved = call.func.attr in SAVE_METHODS
    # a path may be a URL with credentials in it (s3://KEY:SECRET@bucket/clf.pkl)
    return None if saved is None else (saved, FileRef(scrub(path), call.lineno))


def _hash_lines(lines: list[str], start: int, name: str, skip: set[int]) -> str:
    """Hash of a definition's text with layout, comments, docstrings and its name removed.

    Whitespace is collapsed and comment-only lines dropped, so re-indenting or commenting
    a copy keeps its hash; a trailing comment is cut only on lines without quotes (a ``#``
    inside a string must stay). What this text-level view misses (a copy re-wrapped by a
    formatter) the copy rule catches by similarity and confirms on the AST.
    """
    out: list[str] = []
    header_done = False
    for offset, raw in enumerate(lines):
        if start + offset in skip:
            continue
        line = raw.strip()
        if not line or line[0] == "#":
            continue
        if "#" in line and "'" not in line and '"' not in line:
            line = line.split("#", 1)[0].rstrip()
        line = " ".join(line.split())
        if not header_done and not line.startswith("@"):
            at = line.find(" " + name)  # "def name(" / "class name(": after the keyword
            if at >= 0:
                line = f"{line[: at + 1]}_{line[at + 1 + len(name) :]}"
            header_done = True
        out.append(line)
    return hashlib.sha256("\n".join(out).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _definitions(tree: ast.Module, text: str, docstring_lines: set[int]) -> tuple[Definition, ...]:
    lines: list[str] | None = None
    out: list[Definition] = []
    for node in tree.body:
        if not isinstance(node, _DEFS):
            continue
        if lines is None:
            lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        end = node.end_lineno or node.lineno
        segment = lines[start - 1 : end]
        # secrets are masked on the tree, then the body is cut: a cut cannot split a secret
        body = mask_definition(node, lines, start, end)
        if len(body) > MAX_BODY_CHARS:
            body = body[:MAX_BODY_CHARS] + "\n# ... (truncated by depaudit)"
        out.append(
            Definition(
                name=node.name,
                kind="class" if isinstance(node, ast.ClassDef) else "function",
                line=node.lineno,
                body_hash=_hash_lines(segment, start, node.name, docstring_lines),
                body=body,
            )
        )
    return tuple(out)


SOURCE = PythonCodeSource()
