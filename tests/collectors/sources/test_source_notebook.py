"""Notebook source: code cells as Python, installs as packages, lines of the .ipynb file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from depaudit.collectors.snapshot import is_environment_path, snapshot_tree
from depaudit.collectors.sources import source_for
from depaudit.collectors.sources.notebook import SOURCE
from depaudit.collectors.tree import WorkingTree
from depaudit.model import CodeModule, Include, NetworkTarget, Package, ParseError

P = "notebooks/01_train_fraud.ipynb"


def code(source: str | list[str], outputs: list[Any] | None = None) -> dict[str, Any]:
    lines = source if isinstance(source, list) else source.splitlines(keepends=True)
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": outputs or [],
        "source": lines,
    }


def markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)}


def notebook(*cells: dict[str, Any], language: str = "python") -> str:
    """A notebook as Jupyter writes it: nbformat 4.5, one-space indent, sorted keys."""
    document = {
        "cells": [dict(c, id=f"cell-{i}") for i, c in enumerate(cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": language, "name": "python3"},
            "language_info": {"name": language},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def line_of(text: str, needle: str) -> int:
    """The .ipynb line holding ``needle`` (the JSON-encoded source line)."""
    (number,) = [i for i, line in enumerate(text.split("\n"), 1) if needle in line]
    return number


def module_of(text: str, path: str = P) -> CodeModule:
    (module,) = [f for f in SOURCE.parse(text, path).facts if isinstance(f, CodeModule)]
    return module


TRAINING_NOTEBOOK = notebook(
    markdown("# Fraud model\nTrain and evaluate."),
    code(
        "%pip install -q wandb==0.16.3 'lightgbm>=4,<5'\n"
        "!pip install -r ../requirements-train.txt --extra-index-url https://ci:tok3n@pypi.corp.example.com/simple\n"
        "%matplotlib inline\n"
        "import pandas as pd\n"
        "import wandb\n"
        "from sklearn.model_selection import train_test_split\n",
        outputs=[{"name": "stdout", "output_type": "stream", "text": ["Successfully installed\n"]}],
    ),
    code(
        "df = pd.read_parquet('data/transactions.parquet')\n"
        "X_train, X_test, y_train, y_test = train_test_split(df, df.label)\n"
        "df.describe?\n"
    ),
    code(
        "%%time\n"
        "import lightgbm as lgb\n"
        "run = wandb.init(project='fraud')\n"
        "model = lgb.LGBMClassifier().fit(X_train, y_train)\n"
    ),
    code("files = !ls data\nfor f in files:\n    !echo {f}\n    print(f)\n"),
)


def test_code_cells_become_one_module_with_lines_of_the_ipynb_file() -> None:
    text = TRAINING_NOTEBOOK
    module = module_of(text)
    assert module.file == P
    assert [(i.name, i.line) for i in module.imports] == [
        ("pandas", line_of(text, '"import pandas as pd\\n"')),
        ("wandb", line_of(text, '"import wandb\\n"')),
        (
            "sklearn.model_selection.train_test_split",
            line_of(text, '"from sklearn.model_selection import'),
        ),
        ("lightgbm", line_of(text, '"import lightgbm as lgb\\n"')),
    ]
    calls = {(c.name, c.line) for c in module.calls}
    assert ("wandb.init", line_of(text, "wandb.init(project")) in calls
    assert (
        "sklearn.model_selection.train_test_split",
        line_of(text, "= train_test_split(df"),
    ) in calls
    assert not [f for f in SOURCE.parse(text, P).facts if isinstance(f, ParseError)]


def test_pip_magics_and_shell_escapes_give_packages_includes_and_indexes() -> None:
    text = TRAINING_NOTEBOOK
    facts = SOURCE.parse(text, P).facts
    pip_line = line_of(text, '"%pip install -q wandb')
    shell_line = line_of(text, '"!pip install -r ../requirements-train.txt')
    assert [(p.name, p.specifier, p.line) for p in facts if isinstance(p, Package)] == [
        ("wandb", "==0.16.3", pip_line),
        ("lightgbm", ">=4,<5", pip_line),
    ]
    assert [(i.target, i.kind, i.line) for i in facts if isinstance(i, Include)] == [
        ("../requirements-train.txt", "requirements", shell_line)
    ]
    (index,) = [t for t in facts if isinstance(t, NetworkTarget)]
    assert (index.kind, index.line) == ("index", shell_line)
    assert "tok3n" not in repr(facts)  # credentials of index URLs never reach a fact


def test_shell_cells_and_interpreter_escapes_are_read_as_installs() -> None:
    text = notebook(
        code("%%bash\npip install xgboost==2.0.3 \\\n    optuna\n"),
        code("import sys\n!{sys.executable} -m pip install --upgrade 'catboost>=1.2'\n"),
        code("%conda install -y -c conda-forge shap=0.44.0\n"),
    )
    facts = SOURCE.parse(text, P).facts
    assert sorted((p.name, p.specifier, p.manager) for p in facts if isinstance(p, Package)) == [
        ("catboost", ">=1.2", "pip"),
        ("optuna", "", "pip"),
        ("shap", "==0.44.0.*", "conda"),  # conda reads shap=0.44.0 as 0.44.0.*
        ("xgboost", "==2.0.3", "pip"),
    ]


def test_other_cell_magics_are_set_aside_whole() -> None:
    text = notebook(
        code("%%writefile serve.py\nimport flask\napp = flask.Flask(__name__)\n"),
        code("%%sql\nSELECT * FROM transactions\n"),
        code("import numpy as np\n"),
    )
    facts = SOURCE.parse(text, P).facts
    assert [i.name for i in module_of(text).imports] == ["numpy"]
    assert not [f for f in facts if isinstance(f, ParseError | Package)]


def test_a_broken_cell_is_one_error_naming_the_cell_and_the_others_still_count() -> None:
    text = notebook(
        markdown("intro"),
        code("import pandas as pd\n"),
        code("def predict(x:\n    return x\n"),
        code("import wandb\n"),
    )
    facts = SOURCE.parse(text, P).facts
    (err,) = [f for f in facts if isinstance(f, ParseError)]
    assert err.file == P and err.message.startswith("cell 3: Python syntax error")
    assert err.line == line_of(text, '"def predict(x:\\n"')
    assert [i.name for i in module_of(text).imports] == ["pandas", "wandb"]


def test_nbformat_3_and_one_string_sources_are_read() -> None:
    v3 = {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "source": ["Training"]},
                    {
                        "cell_type": "code",
                        "input": ["import numpy as np\n", "!pip install keras==2.4.3\n"],
                        "language": "python",
                        "outputs": [],
                    },
                ],
                "metadata": {},
            }
        ],
    }
    text = json.dumps(v3, indent=1)
    facts = SOURCE.parse(text, P).facts
    assert [i.name for i in module_of(text).imports] == ["numpy"]
    assert [(p.name, p.version) for p in facts if isinstance(p, Package)] == [("keras", "2.4.3")]
    one_string = notebook(code(["import torch\nimport torchvision\n"]))
    module = module_of(one_string)
    start = line_of(one_string, '"import torch\\n')
    assert [(i.name, i.line) for i in module.imports] == [("torch", start), ("torchvision", start)]


def test_outputs_are_never_read_however_large() -> None:
    huge = "iVBORw0KGgo" * 500_000  # a 5.5 MB PNG
    outputs = [
        {
            "data": {"image/png": huge, "text/plain": ["<Figure>"]},
            "metadata": {},
            "output_type": "display_data",
        },
        {
            "name": "stdout",
            "output_type": "stream",
            "text": ["import leaked_module\n", "!pip install evil\n"],
        },
    ]
    text = notebook(code("import matplotlib.pyplot as plt\nplt.plot([1, 2])\n", outputs=outputs))
    facts = SOURCE.parse(text, P).facts
    assert [i.name for i in module_of(text).imports] == ["matplotlib.pyplot"]
    assert not [f for f in facts if isinstance(f, Package | ParseError)]
    assert "leaked_module" not in repr(facts) and len(repr(facts)) < 2000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "not a Jupyter notebook: invalid JSON"),
        ("Traceback (most recent call last):\n", "not a Jupyter notebook: invalid JSON"),
        ("[1, 2, 3]", 'JSON is not a Jupyter notebook (no "cells" list)'),
        (
            '{"name": "fraud-api", "version": "1.0.0"}',
            'JSON is not a Jupyter notebook (no "cells" list)',
        ),
        ("[" * 100_000 + "]" * 100_000, "not a Jupyter notebook"),
        ("x\x00y", "binary file"),
    ],
)
def test_what_is_not_a_notebook_is_one_clear_error(text: str, message: str) -> None:
    (err,) = SOURCE.parse(text, P).facts
    assert isinstance(err, ParseError) and err.file == P
    assert err.message.startswith(message) and "\n" not in err.message


def test_cells_that_are_not_code_or_not_strings_are_skipped_not_fatal() -> None:
    document = json.loads(notebook(code("import pandas\n")))
    document["cells"] += [
        None,
        7,
        {"cell_type": "code", "source": [1, 2]},
        {"cell_type": "raw", "source": "x"},
    ]
    text = json.dumps(document, indent=1)
    assert [i.name for i in module_of(text).imports] == ["pandas"]


def test_notebooks_of_other_kernels_give_no_facts() -> None:
    text = notebook(code("library(ggplot2)\ndf <- read.csv('x.csv')\n"), language="R")
    assert SOURCE.parse(text, P).facts == ()


def test_later_future_import_and_duplicate_keys_do_not_lose_the_notebook() -> None:
    text = notebook(code("import os\n"), code("from __future__ import annotations\nimport yaml\n"))
    assert [i.name for i in module_of(text).imports] == ["os", "yaml"]
    # a duplicated key makes the file's tokens disagree with the parsed document: lines
    # then count within the joined code cells instead of pointing at a wrong JSON line
    dup = '{"nbformat": 4, "nbformat": 4, "metadata": {}, "cells": [{"cell_type": "code", "source": ["import a\\n", "import b\\n"]}]}'
    assert [(i.name, i.line) for i in module_of(dup).imports] == [("a", 1), ("b", 2)]


def test_notebooks_are_environment_files_but_checkpoints_are_not() -> None:
    source = source_for("notebooks/eda.ipynb")
    assert source is not None and source.name == "notebook"
    assert is_environment_path("research/eda.ipynb")
    assert source_for("notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb") is None


def test_non_utf8_notebook_is_an_error_of_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "eda.ipynb").write_bytes(b'{"cells": ["\xff\xfe caf\xe9"]}')
    (tmp_path / "notebooks" / "train.ipynb").write_text(notebook(code("import wandb\n")))
    snap = snapshot_tree(WorkingTree(tmp_path))
    facts = [f for env in snap.environments for f in env.facts]
    errors = [f for f in facts if isinstance(f, ParseError)]
    assert [(e.file, "not UTF-8" in e.message) for e in errors] == [("notebooks/eda.ipynb", True)]
    modules = [f for f in facts if isinstance(f, CodeModule)]
    assert [m.file for m in modules] == ["notebooks/train.ipynb"]


def test_what_a_notebook_pickles_and_saves_points_at_its_own_lines() -> None:
    text = notebook(
        markdown("# Duration prediction"),
        code("import pickle\nfrom sklearn.linear_model import LinearRegression\n"),
        code("lr = LinearRegression()\n"),
        code("with open('models/lin_reg.bin', 'wb') as f_out:\n    pickle.dump(lr, f_out)\n"),
    )
    module = module_of(text)
    assert [(c.name, c.line) for c in module.pickled] == [
        ("sklearn.linear_model.LinearRegression", line_of(text, "pickle.dump(lr"))
    ]
    assert [(f.path, f.line) for f in module.saves] == [
        ("models/lin_reg.bin", line_of(text, "with open('models/lin_reg.bin'"))
    ]
