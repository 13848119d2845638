"""Sides no folder pairs, linked by what their code says of each other (projects.linked_pairs)."""

from __future__ import annotations

from depaudit.model import CodeModule, EnvironmentSnapshot, FileRef, ImportRef, Role
from depaudit.projects import linked_pairs


def env(name: str, role: Role, *modules: CodeModule) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(name, role, "convention", facts=modules)


def module(file: str, **details: object) -> CodeModule:
    name = file.removesuffix(".py").replace("/", ".")
    return CodeModule(module=name, file=file, **details)  # type: ignore[arg-type]


TRAINER = env(
    "churn-training",
    "training",
    module("churn_model/features.py"),
    module("churn_model/train.py", saves=(FileRef("out/churn.joblib", 30),)),
)
OTHER_TRAINER = env("vision-training", "training", module("vision/train.py"))


def test_serving_code_importing_a_training_package_module_links_the_two() -> None:
    api = env(
        "churn-api",
        "serving",
        module("api/main.py", imports=(ImportRef("churn_model.features.build", 3),)),
    )
    (pair,) = linked_pairs([TRAINER, OTHER_TRAINER, api], {"churn-api": "api"})
    assert (pair.training, pair.serving, pair.project) == ("churn-training", "churn-api", "api")
    assert pair.reason == (
        "linked: serving code imports churn_model.features.build (api/main.py:3), "
        "training's churn_model/features.py"
    )


def test_a_loaded_model_file_links_by_its_name() -> None:
    api = env(
        "churn-api",
        "serving",
        module("api/main.py", loads=(FileRef("/models/churn.joblib", 7),)),
    )
    (pair,) = linked_pairs([TRAINER, OTHER_TRAINER, api], {})
    assert pair.training == "churn-training"
    assert pair.reason == (
        "linked: serving loads the model file /models/churn.joblib (api/main.py:7) "
        "that training saves (churn_model/train.py:30)"
    )


def test_a_module_of_its_own_name_is_not_a_link() -> None:
    api = env(
        "churn-api",
        "serving",
        module("api/main.py", imports=(ImportRef("churn_model.features", 3),)),
        module("churn_model/features.py"),  # serving has its own copy
    )
    assert linked_pairs([TRAINER, api], {}) == []


def test_links_to_two_training_sides_pair_with_neither() -> None:
    api = env(
        "api",
        "serving",
        module(
            "api/main.py",
            imports=(ImportRef("churn_model.features", 3), ImportRef("vision.train", 4)),
        ),
    )
    assert linked_pairs([TRAINER, OTHER_TRAINER, api], {}) == []


def test_a_module_two_training_sides_hold_links_nothing() -> None:
    copy = env("churn-training-v2", "training", module("churn_model/features.py"))
    api = env(
        "api", "serving", module("api/main.py", imports=(ImportRef("churn_model.features", 3),))
    )
    assert linked_pairs([TRAINER, copy, api], {}) == []
