"""DA204 reports third-party imports nobody declares, not the project's own code or fallbacks.

Field test 2026-12-04, items 12 and 13: ``from src.api.routes import router`` in
``serving/src/app.py`` was reported as an undeclared package ``src``, and
``try: import orjson as json / except ImportError: import json`` as an undeclared
``orjson``. Both shapes are generalised here over package names, layouts and guards; a
real undeclared import sits next to them each time, so the rule is shown to still fire.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from depaudit.collectors.sources.python_code import SOURCE
from depaudit.knowledge import builtin
from depaudit.model import CodeModule, EnvironmentSnapshot, Fact, Finding, Package
from depaudit.rules.undeclared_serving_import import RULE as DA204
from depaudit.rules.view import PairView
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def modules(files: dict[str, str]) -> list[Fact]:
    out: list[Fact] = []
    for path, text in files.items():
        (fact,) = SOURCE.parse(textwrap.dedent(text).lstrip("\n"), path).facts
        assert isinstance(fact, CodeModule), fact
        out.append(fact)
    return out


def da204(serving_files: dict[str, str], declared: tuple[str, ...] = ("fastapi",)) -> list[Finding]:
    packages = [Package(name=n, file="serving/requirements.txt", line=1) for n in declared]
    serving = EnvironmentSnapshot(
        name="serving",
        role="serving",
        origin="convention",
        facts=(*modules(serving_files), *packages),
    )
    training = EnvironmentSnapshot(name="training", role="training", origin="convention")
    return list(DA204.check(PairView.of(training, serving, builtin(), {})))


APP = """
from fastapi import FastAPI
import yaml
{imports}
app = FastAPI()
"""


# ------------------------------------------------------------------ first-party packages


@pytest.mark.parametrize("package", ["src", "app", "core", "lib", "inference"])
@pytest.mark.parametrize(
    ("app_path", "package_root"),
    [
        ("serving/{p}/app.py", "serving/{p}"),  # the field test: the app inside the package
        ("serving/main.py", "serving/{p}"),  # the app next to the package
        ("services/api/main.py", "services/api/{p}"),  # a monorepo service
        ("services/api/app/main.py", "services/api/{p}"),  # the app one folder below
        ("main.py", "{p}"),  # flat repository root
    ],
)
@pytest.mark.parametrize("init", [True, False])  # regular or namespace package
def test_the_projects_own_packages_are_not_undeclared(
    package: str, app_path: str, package_root: str, init: bool
) -> None:
    root = package_root.format(p=package)
    files = {
        app_path.format(p=package): APP.format(
            imports=f"from {package}.api.routes import router\n"
            f"from {package}.constants import THRESHOLD\n"
            f"import {package}.model.loader as loader\n"
        ),
        f"{root}/api/routes.py": "router = object()\n",
        f"{root}/constants.py": "THRESHOLD = 0.5\n",
        f"{root}/model/loader.py": "import numpy\n",
    }
    if init:
        files[f"{root}/__init__.py"] = ""
        files[f"{root}/api/__init__.py"] = ""
    found = da204(files, declared=("fastapi", "numpy"))
    # yaml is undeclared and still reported; the project's own package is not
    assert [(f.item, f.rule) for f in found] == [("pyyaml", "DA204")], [f.message for f in found]


def test_a_module_elsewhere_in_the_tree_does_not_hide_a_third_party_import() -> None:
    found = da204(
        {
            "serving/app.py": APP.format(imports="import orjson\n"),
            # a helper module named after a library, in another folder: not on serving's path
            "training/utils/orjson.py": "def dumps(x):\n    return str(x)\n",
        }
    )
    assert sorted(f.item for f in found) == ["orjson", "pyyaml"]


# ------------------------------------------------------------------ optional imports

GUARDS = [
    "try:\n    import {m} as fast\nexcept ImportError:\n    fast = None\n",
    "try:\n    import {m}\nexcept ModuleNotFoundError:\n    {m} = None\n",
    "try:\n    from {m} import dumps\nexcept (ImportError, AttributeError):\n    from json import dumps\n",
    "try:\n    import {m}\nexcept Exception:\n    pass\n",
    "try:\n    import {m}\nexcept:  # noqa: E722\n    pass\n",
    "try:\n    import {m}\nexcept builtins.ImportError:\n    pass\n",
    "try:\n    try:\n        import {m}\n    except ValueError:\n        raise\nexcept ImportError:\n    pass\n",
    "try:\n    import {m}\nexcept* ImportError:\n    pass\n",
    "with contextlib.suppress(ImportError):\n    import {m}\n",
    "with suppress(ModuleNotFoundError, OSError):\n    import {m}\n",
    "try:\n    {m} = importlib.import_module('{m}')\nexcept ImportError:\n    {m} = None\n",
    "def load():\n    try:\n        import {m}\n    except ImportError:\n        return None\n    return {m}\n",
    "class Codec:\n    try:\n        import {m}\n    except ImportError:\n        pass\n",
]


@pytest.mark.parametrize("module", ["orjson", "ujson", "uvloop", "simplejson"])
@pytest.mark.parametrize("guard", GUARDS)
def test_guarded_imports_have_a_fallback_and_are_not_reported(guard: str, module: str) -> None:
    found = da204(
        {"serving/app.py": APP.format(imports="import importlib\n" + guard.format(m=module))}
    )
    assert [f.item for f in found] == ["pyyaml"], [f.message for f in found]


@pytest.mark.parametrize(
    "unguarded",
    [
        # a handler that does not catch a failed import
        "try:\n    import {m}\nexcept ValueError:\n    pass\n",
        "try:\n    import {m}\nfinally:\n    pass\n",
        # the fallback itself, and code after the try, run unguarded
        "try:\n    import json\nexcept ImportError:\n    import {m}\n",
        "try:\n    import json\nexcept ImportError:\n    pass\nelse:\n    import {m}\n",
        # a function defined in a try body runs later, outside it
        "try:\n    def load():\n        import {m}\nexcept ImportError:\n    pass\n",
        "with open('x') as fh:\n    import {m}\n",
    ],
)
def test_imports_without_a_fallback_are_still_reported(unguarded: str) -> None:
    found = da204({"serving/app.py": APP.format(imports=unguarded.format(m="orjson"))})
    assert sorted(f.item for f in found) == ["orjson", "pyyaml"]


def test_a_guarded_and_an_unguarded_import_report_the_unguarded_site() -> None:
    found = da204(
        {
            "serving/app.py": APP.format(
                imports="from serving import codec\ntry:\n    import orjson\nexcept ImportError:\n    pass\n"
            ),
            "serving/codec.py": "import orjson\n",
        }
    )
    (orjson,) = [f for f in found if f.item == "orjson"]
    assert (orjson.file, orjson.line) == ("serving/codec.py", 1)
    assert "serving/app.py" not in orjson.message


# ------------------------------------------------------------------ end to end


def test_check_reports_neither_the_src_package_nor_a_guarded_import(tmp_path: Path) -> None:
    """The field test's two repositories as one, through ``depaudit check``."""
    repo = GitRepo(tmp_path / "srcpkg")
    repo.commit(
        "service",
        {
            "training/requirements.txt": "scikit-learn==1.3.2\n",
            "serving/requirements.txt": "fastapi\n",
            "serving/src/__init__.py": "",
            "serving/src/api/__init__.py": "",
            "serving/src/app.py": (
                "from fastapi import FastAPI\nfrom src.api.routes import router\n"
                "from src.constants import X\ntry:\n    import orjson as json\n"
                "except ImportError:\n    import json\nimport httpx\napp = FastAPI()\n"
            ),
            "serving/src/api/routes.py": "router = 1\n",
            "serving/src/constants.py": "X = 1\n",
            "serving/Dockerfile": (
                "FROM python:3.10-slim\nWORKDIR /app\nCOPY serving/src /app/src\n"
                'RUN pip install fastapi\nCMD ["uvicorn", "src.app:app"]\n'
            ),
        },
    )
    for extra in ([], ["--rev", "HEAD"]):
        proc = subprocess.run(
            [DEPAUDIT, "check", str(repo.path), "-q", "--format", "json", *extra],
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert proc.returncode in (0, 1), proc.stderr
        items = {f["item"] for f in json.loads(proc.stdout)["findings"] if f["rule"] == "DA204"}
        assert items == {"httpx"}, items
