"""The planner's own judgement, on environments and findings written out by hand (what a
stored commit state holds), so each case is exactly the one named.

Shaped after Made-With-ML's deployment: a root ``requirements.txt`` the notebooks and the
``deploy`` service both have by their place, a Ray Serve module in ``deploy/`` importing
the repository's ``madewithml`` package, whose ``config.py`` imports mlflow.
"""

from __future__ import annotations

from depaudit.model import (
    CodeModule,
    EnvironmentSnapshot,
    FileAssignment,
    Finding,
    ImportRef,
    Include,
    Package,
    Pair,
    ParseError,
)
from depaudit.split import plan_split
from depaudit.split.model import Flag
from depaudit.split.planner import group_flags

REQUIREMENTS = "numpy==1.26.4\nmlflow==2.9.2\njupyterlab==4.0.9\n"
ROOT_FILE = FileAssignment("requirements.txt", "shared: repository root or shared folder")
PAIR = Pair("notebooks", "deploy", ".", "both under the repository root")


def declared(name: str, line: int, file: str = "requirements.txt") -> Package:
    version = REQUIREMENTS.splitlines()[line - 1].split("==")[1]
    return Package(name, file, line, f"=={version}", version)


PACKAGES = (declared("numpy", 1), declared("mlflow", 2), declared("jupyterlab", 3))
SERVE = CodeModule(
    "deploy.services.serve_model",
    "deploy/services/serve_model.py",
    imports=(ImportRef("madewithml.predict", 3), ImportRef("numpy", 1)),
)
PREDICT = CodeModule(
    "madewithml.predict", "madewithml/predict.py", imports=(ImportRef("madewithml.config", 1),)
)
CONFIG = CodeModule("madewithml.config", "madewithml/config.py", imports=(ImportRef("mlflow", 7),))


def environments(*serving_facts: object) -> list[EnvironmentSnapshot]:
    return [
        EnvironmentSnapshot(
            "deploy",
            "serving",
            "convention",
            files=(
                FileAssignment("deploy/services/serve_model.py", 'convention: folder "deploy/"'),
                ROOT_FILE,
            ),
            facts=(*PACKAGES, SERVE, *serving_facts),  # type: ignore[arg-type]
            project=".",
        ),
        EnvironmentSnapshot(
            "notebooks",
            "training",
            "convention",
            files=(ROOT_FILE,),
            facts=PACKAGES,
            project=".",
        ),
        # the package's modules are in an environment of their own (madewithml/predict.py
        # names one): serving's environment does not hold them
        EnvironmentSnapshot(
            "madewithml/predict",
            "serving",
            "convention",
            files=(
                FileAssignment("madewithml/predict.py", 'convention: file name "predict.py"'),
                FileAssignment("madewithml/config.py", "shared code: no environment keyword"),
            ),
            facts=(PREDICT, CONFIG),
            project="madewithml",
        ),
    ]


def leftover(name: str, line: int) -> Finding:
    return Finding(
        "leftover", "package", name, "medium", "DA101", f"{name} is installed in serving",
        training_env="notebooks", serving_env="deploy", file="requirements.txt", line=line,
    )  # fmt: skip


UNDECLARED = Finding(
    "drift", "code", "madewithml", "medium", "DA204", "no dependency file declares it",
    training_env="notebooks", serving_env="deploy", serving="madewithml.predict.predict",
    file="deploy/services/serve_model.py", line=3,
)  # fmt: skip


def test_a_package_serving_reaches_through_another_environments_module_is_kept() -> None:
    proposal = plan_split(
        environments(),
        PAIR,
        [leftover("mlflow", 2), leftover("jupyterlab", 3)],
        {"requirements.txt": REQUIREMENTS},
    )
    (copy,) = proposal.edits
    assert copy.path == "requirements-deploy.txt" and copy.is_new
    assert [(c.action, c.item) for c in copy.changes] == [
        ("split", "requirements.txt"),
        ("remove", "jupyterlab"),
    ]
    assert "mlflow==2.9.2" in copy.after
    imported = [f for f in proposal.flagged if f.reason == "imported"]
    assert [(f.item, f.file, f.line) for f in imported] == [("mlflow", "madewithml/config.py", 7)]


def test_an_import_with_a_fallback_is_not_a_need() -> None:
    optional = CodeModule(
        "madewithml.config",
        "madewithml/config.py",
        imports=(ImportRef("mlflow", 7, optional=True),),
    )
    envs = environments()
    envs[2] = EnvironmentSnapshot(
        "madewithml/predict", "serving", "convention", files=envs[2].files,
        facts=(PREDICT, optional), project="madewithml",
    )  # fmt: skip
    proposal = plan_split(envs, PAIR, [leftover("mlflow", 2)], {"requirements.txt": REQUIREMENTS})
    assert [(c.action, c.item) for c in proposal.changes] == [
        ("split", "requirements.txt"),
        ("remove", "mlflow"),
    ]


def test_the_repositorys_own_package_is_never_declared() -> None:
    proposal = plan_split(environments(), PAIR, [UNDECLARED], {"requirements.txt": REQUIREMENTS})
    assert proposal.edits == ()
    (own,) = proposal.flagged
    assert (own.reason, own.item, own.file) == (
        "first_party",
        "madewithml",
        "deploy/services/serve_model.py",
    )
    assert "madewithml/config.py" in own.message or "madewithml/predict.py" in own.message


def test_an_unreadable_shared_file_takes_its_repoints_with_it() -> None:
    dockerfile = (
        "FROM python:3.11-slim\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    )
    facts = (
        Include("requirements.txt", "deploy/Dockerfile", 2, "copy"),
        Include("requirements.txt", "deploy/Dockerfile", 3, "requirements"),
        ParseError("requirements.txt", "invalid requirement '<<<<<<< HEAD'", 4),
    )
    proposal = plan_split(
        environments(*facts),
        PAIR,
        [leftover("mlflow", 2), leftover("jupyterlab", 3)],
        {"requirements.txt": REQUIREMENTS, "deploy/Dockerfile": dockerfile},
    )
    assert proposal.edits == ()  # no copy, and no Dockerfile pointing at a missing one
    (flag,) = [f for f in proposal.flagged if f.reason == "unparseable"]
    assert flag.file == "requirements.txt" and flag.item == "jupyterlab"
    assert "line 4: invalid requirement" in flag.message


def test_group_flags_lists_the_packages_of_one_message() -> None:
    def shared(item: str, line: int) -> Flag:
        return Flag(
            "image",
            item,
            "api/Dockerfile",
            1,
            f"{item} is installed by serving's base image (api/Dockerfile:1)",
            ("DA102",),
        )

    different = Flag("image", "torch", "api/Dockerfile", 1, "torch: another story", ("DA102",))
    grouped = group_flags([shared("numpy", 1), shared("scipy", 1), shared("numpy", 1), different])
    assert [(f.item, f.message) for f in grouped] == [
        ("numpy, scipy", "numpy, scipy is installed by serving's base image (api/Dockerfile:1)"),
        ("torch", "torch: another story"),
    ]


def test_a_shared_file_is_not_split_only_to_declare_an_import() -> None:
    undeclared = Finding(
        "drift", "code", "requests", "low", "DA204", "no dependency file declares it",
        training_env="notebooks", serving_env="deploy", serving="requests",
        file="deploy/services/serve_model.py", line=2,
    )  # fmt: skip
    proposal = plan_split(environments(), PAIR, [undeclared], {"requirements.txt": REQUIREMENTS})
    assert proposal.edits == ()
    assert [(f.reason, f.file, f.item) for f in proposal.flagged] == [
        ("no_target", "requirements.txt", "requests")
    ]


def test_where_serving_starts_decides_what_it_needs() -> None:
    """With the modules where the service starts known, only what they reach counts: a
    serving module nothing runs (a batch script beside the API) needs nothing."""
    health = CodeModule("deploy.services.health", "deploy/services/health.py")
    args = (
        environments(health),
        PAIR,
        [leftover("mlflow", 2)],
        {"requirements.txt": REQUIREMENTS},
    )
    started_elsewhere = plan_split(*args, starts=["deploy.services.health"])
    assert ("remove", "mlflow") in [(c.action, c.item) for c in started_elsewhere.changes]
    started_here = plan_split(*args, starts=["deploy.services.serve_model"])
    assert [f.item for f in started_here.flagged if f.reason == "imported"] == ["mlflow"]
    assert started_here.edits == ()  # nothing left to change: mlflow is the only leftover


def test_a_package_whose_program_the_image_runs_is_kept() -> None:
    """An API image that downloads its model with the MLflow CLI at build time (as
    MLOps-Basics' images pull theirs with dvc): removing the package breaks the build."""
    dockerfile = (
        "FROM python:3.11-slim\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"
        "RUN mlflow artifacts download -u models:/churn/1 -d /model\n"
    )
    facts = (Include("requirements.txt", "deploy/Dockerfile", 3, "requirements"),)
    proposal = plan_split(
        environments(*facts),
        PAIR,
        [leftover("jupyterlab", 3), leftover("mlflow", 2)],
        {"requirements.txt": REQUIREMENTS, "deploy/Dockerfile": dockerfile},
        starts=["deploy.services.health"],  # no code of the service imports mlflow
    )
    assert [(f.reason, f.item, f.file, f.line) for f in proposal.flagged] == [
        ("command", "mlflow", "deploy/Dockerfile", 4)
    ]
    changes = [(c.action, c.item) for c in proposal.changes]
    assert ("remove", "jupyterlab") in changes and ("remove", "mlflow") not in changes
