"""Finding environments: the config file wins, else naming conventions; reasons shown."""

from __future__ import annotations

import pytest

from depaudit.config import AuditConfig, parse_config
from depaudit.conventions import is_tooling_dependency_file
from depaudit.environments import find_environments, glob_match, is_test_path, role_of_name


def files(plan, name):  # type: ignore[no-untyped-def]
    env = next(e for e in plan.environments if e.name == name)
    return {a.path: a.reason for a in env.files}


def test_conventions_place_folders_files_and_shared_code() -> None:
    paths = [
        "training/requirements.txt",
        "training/train.py",
        "serving/Dockerfile",
        "serving/app.py",
        "requirements-train.txt",
        "Dockerfile.serve",
        "common/features.py",
        "requirements.txt",
        "tests/test_app.py",
        "serving/test_app.py",
        "docs/conf.yaml",
    ]
    plan = find_environments(paths, AuditConfig())
    assert [(e.name, e.role, e.origin) for e in plan.environments] == [
        ("serving", "serving", "convention"),
        ("training", "training", "convention"),
    ]
    training = files(plan, "training")
    assert training["training/train.py"] == 'convention: folder "training/"'
    # a file name joins the one folder environment of its role
    assert training["requirements-train.txt"] == 'convention: file name "requirements-train.txt"'
    assert "Dockerfile.serve" in files(plan, "serving")
    # shared code and root files belong to both ...
    for env in ("training", "serving"):
        assert files(plan, env)["common/features.py"].startswith("shared code")
    # ... but a root dependency file only to a side without one of its own: training
    # installs training/requirements.txt, not the repository's requirements.txt
    assert "requirements.txt" in files(plan, "serving")
    assert "requirements.txt" not in files(plan, "training")
    # tests never ship
    assert all("test" not in p for p in training)
    assert "serving/test_app.py" not in files(plan, "serving")
    assert plan.unassigned == ("docs/conf.yaml",)


def test_hidden_tooling_folders_are_no_environment() -> None:
    """MLOpsPython keeps its Azure DevOps pipelines in ``.pipelines/``: CI and editor
    folders name no side, whatever their words ("pipelines", "train", "serve") say."""
    paths = [
        "training/train.py",
        "serving/app.py",
        ".pipelines/diabetes-train-ci.yml",
        ".github/workflows/serve.yml",
        ".devcontainer/Dockerfile",
        "notebooks/eda.ipynb",
        "notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb",
    ]
    plan = find_environments(paths, AuditConfig())
    placed = {p for env in plan.environments for p in files(plan, env.name)}
    assert {".pipelines/diabetes-train-ci.yml", ".github/workflows/serve.yml"} & placed == set()
    assert "notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb" not in placed
    assert ".devcontainer/Dockerfile" not in placed
    assert {"training/train.py", "serving/app.py", "notebooks/eda.ipynb"} <= placed


def test_several_environments_per_role_are_kept_apart() -> None:
    plan = find_environments(
        ["api/requirements.txt", "inference/requirements.txt", "training/requirements.txt"],
        AuditConfig(),
    )
    assert sorted((e.name, e.role) for e in plan.environments) == [
        ("api", "serving"),
        ("inference", "serving"),
        ("training", "training"),
    ]


def test_config_environments_win_over_conventions() -> None:
    cfg = parse_config(
        "[environments.batch]\nrole='training'\ninclude=['batch/**']\n"
        "[environments.online]\nrole='serving'\ninclude=['online/**', 'Dockerfile']\nexclude=['online/old/**']\n",
        ".depaudit.toml",
    )
    assert cfg is not None
    plan = find_environments(
        [
            "batch/req.txt",
            "online/requirements.txt",
            "online/old/requirements.txt",
            "Dockerfile",
            "training/x.txt",
            "lib/util.py",
        ],
        cfg,
    )
    assert [(e.name, e.origin) for e in plan.environments] == [
        ("batch", "config"),
        ("online", "config"),
    ]
    online = files(plan, "online")
    assert online["online/requirements.txt"] == 'config: include "online/**" (.depaudit.toml)'
    assert "online/old/requirements.txt" not in online
    assert online["lib/util.py"].startswith("shared code")
    # the convention-looking training/ folder is not an environment when a config exists
    assert "training/x.txt" in plan.unassigned


def test_role_names_and_globs() -> None:
    assert role_of_name("trainer") == "training"
    assert role_of_name("fraud-api") == "serving"
    assert role_of_name("docs") is None
    assert glob_match("api/v1/app.py", "api/**")
    assert glob_match("api/v1/app.py", "api/")
    assert not glob_match("apix/app.py", "api/**")
    assert glob_match("Dockerfile.serve", "Dockerfile.*")
    assert not glob_match("a/Dockerfile.serve", "Dockerfile.*")
    assert glob_match("x/y/z.txt", "**/*.txt")
    # hostile globs stay linear
    assert not glob_match("a" * 5000 + "b", "*" * 200 + "c")
    assert is_test_path("pkg/tests/helpers.py") and is_test_path("conftest.py")
    assert not is_test_path("serving/testdata_loader.py")


@pytest.mark.parametrize(
    ("path", "tooling"),
    [
        ("requirements-dev.txt", True),
        ("dev-requirements.txt", True),
        ("requirements_test.txt", True),
        ("diabetes_regression/ci_dependencies.yml", True),
        ("environment-docs.yml", True),
        ("requirements.txt", False),
        ("diabetes_regression/conda_dependencies.yml", False),
        ("requirements-serving.txt", False),
        ("configs/ci.yaml", False),  # a CI config, not a dependency file: config as usual
        ("tests/test_utils.py", False),
    ],
)
def test_tooling_dependency_files_by_name(path: str, tooling: bool) -> None:
    assert is_tooling_dependency_file(path) is tooling


def test_a_shared_tooling_dependency_file_is_in_no_environment() -> None:
    plan = find_environments(
        [
            "proj/training/train.py",
            "proj/scoring/score.py",
            "proj/requirements.txt",
            "proj/ci_dependencies.yml",
            "proj/requirements-dev.txt",
        ],
        AuditConfig(),
    )
    held = {a.path for e in plan.environments for a in e.files}
    assert "proj/requirements.txt" in held
    assert {"proj/ci_dependencies.yml", "proj/requirements-dev.txt"} <= set(plan.unassigned)
    # scoring/ is a serving folder (AzureML's score.py lives there)
    assert {e.role for e in plan.environments} == {"training", "serving"}


def test_environment_files_describe_a_role_folder_beside_them_not_from_another_example() -> None:
    """kubeflow/examples: a ``pipelines/`` folder at the root is not the training side of
    ``object_detection/docker/Dockerfile.training``, two folders down in another example;
    ``k8s/serving.yaml`` one folder down beside ``serving/`` still describes it."""
    paths = [
        "pipelines/pipeline.py",
        "pipelines/requirements.txt",
        "serving/app.py",
        "serving/requirements.txt",
        "k8s/serving.yaml",
        "object_detection/docker/Dockerfile.training",
        "object_detection/docker/Dockerfile.predict",
    ]
    plan = find_environments(paths, AuditConfig())
    assert "k8s/serving.yaml" in files(plan, "serving")
    holders = [
        e.name
        for e in plan.environments
        if "object_detection/docker/Dockerfile.training" in {a.path for a in e.files}
    ]
    assert holders == ["object_detection/docker/training"]


def test_a_folder_named_for_a_project_holds_only_its_own_files() -> None:
    """mlbookcamp-code: chapter 9's manifests are not ``chapter-05-deployment/``'s."""
    paths = [
        "chapter-05-deployment/Pipfile",
        "chapter-05-deployment/churn_serving.py",
        "chapter-09-kubernetes/model_server.py",
        "chapter-09-kubernetes/serving-gateway-deployment.yaml",
    ]
    plan = find_environments(paths, AuditConfig())
    chapter_5 = next(
        e for e in plan.environments if "chapter-05-deployment/Pipfile" in files(plan, e.name)
    )
    assert not [p for p in files(plan, chapter_5.name) if p.startswith("chapter-09")]
