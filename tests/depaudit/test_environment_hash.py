"""An environment's content hash is made from memoised per-fact JSON texts; it must stay
the sha256 of the whole ``to_dict()`` as ``content_hash`` serialises it, or stored states
would stop matching the states a later collect computes."""

from __future__ import annotations

from depaudit.model import (
    CodeModule,
    ConfigEntry,
    Definition,
    EnvironmentSnapshot,
    FileAssignment,
    ImportRef,
    Package,
    ParseError,
    content_hash,
)

FACTS = (
    Package("torch", "serving/requirements.txt", 1, specifier="==2.1.0", version="2.1.0"),
    Package("numpy", "serving/Dockerfile", 4, manager="image", requires=("a", "b")),
    ConfigEntry("model.name", 'fraud-\u00fc "x" \n\t', "serving/config.yaml", 2),
    ConfigEntry("threshold", "0.5", "serving/settings.toml", 3, secret=True),
    CodeModule(
        "app",
        "serving/app.py",
        imports=(ImportRef("fastapi", 1), ImportRef("torch.nn", 2, optional=True)),
        definitions=(Definition("predict", "function", 4, "h1", "def predict(x):\n    return x"),),
        app_objects=("FastAPI:app",),
    ),
    ParseError("serving/broken.toml", "invalid TOML at line 3", 3),
)


def snapshot(facts: tuple[object, ...] = FACTS, **extra: object) -> EnvironmentSnapshot:
    return EnvironmentSnapshot(
        name="serving",
        role="serving",
        origin="convention",
        files=(FileAssignment("serving/app.py", 'convention: folder "serving/"'),),
        facts=facts,  # type: ignore[arg-type]
        entrypoints=("app:app",),
        **extra,  # type: ignore[arg-type]
    )


def test_hash_is_the_hash_of_the_whole_dict() -> None:
    for env in (snapshot(), snapshot(project="examples/fraud"), snapshot(observed=True)):
        assert env.content_hash() == content_hash(env.to_dict())


def test_equal_facts_as_other_objects_give_the_same_hash() -> None:
    copied = tuple(type(f)(*(getattr(f, n) for n in f.__slots__)) for f in FACTS)  # type: ignore[attr-defined]
    assert [c is f for c, f in zip(copied, FACTS, strict=True)] == [False] * len(FACTS)
    assert snapshot(copied).content_hash() == snapshot().content_hash()
    assert snapshot(FACTS[:-1]).content_hash() != snapshot().content_hash()


def test_hash_of_an_empty_environment() -> None:
    env = EnvironmentSnapshot(name="training", role="training", origin="config")
    assert env.content_hash() == content_hash(env.to_dict())


def test_facts_are_stored_after_files() -> None:
    keys = list(snapshot(project="p").to_dict())
    assert keys == [
        "name",
        "role",
        "origin",
        "files",
        "facts",
        "entrypoints",
        "observed",
        "project",
    ]
