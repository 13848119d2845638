"""The repo's .depaudit.toml / [tool.depaudit] reader: strict, errors name file and key."""

from __future__ import annotations

import pytest

from depaudit.config import ConfigError, parse_config

GOOD = """
[environments.pipeline]
role = "training"
include = ["pipelines/**", "requirements-pipeline.txt", "Dockerfile.pipeline"]

[environments.api]
role = "serving"
include = ["api/**"]
exclude = ["api/scratch/**"]
entrypoints = ["api.main"]

[rules]
ignore = ["DA105"]
[rules.severity]
DA503 = "medium"
[rules.DA101]
allow = ["pytest"]

[knowledge]
training_packages = ["our-internal-trainer"]
max_cpu = 4
"""


def test_reads_environments_rules_and_knowledge() -> None:
    cfg = parse_config(GOOD, ".depaudit.toml")
    assert cfg is not None
    assert [(e.name, e.role) for e in cfg.environments] == [
        ("pipeline", "training"),
        ("api", "serving"),
    ]
    api = cfg.environments[1]
    assert api.exclude == ("api/scratch/**",) and api.entrypoints == ("api.main",)
    assert cfg.rules.ignore == ("DA105",)
    assert cfg.rules.severity == {"DA503": "medium"}
    assert cfg.rules.allow == {"DA101": ("pytest",)}
    assert cfg.knowledge == {"training_packages": ("our-internal-trainer",), "max_cpu": 4.0}
    assert cfg.origin == ".depaudit.toml"


def test_pyproject_tool_table_and_absent_table() -> None:
    text = "[project]\nname='x'\n\n[tool.depaudit.environments.t]\nrole='training'\ninclude=['t/**']\n[tool.depaudit.environments.s]\nrole='serving'\ninclude=['s/**']\n"
    cfg = parse_config(text, "pyproject.toml", from_pyproject=True)
    assert cfg is not None and [e.name for e in cfg.environments] == ["t", "s"]
    assert parse_config("[project]\nname='x'\n", "pyproject.toml", from_pyproject=True) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[environments.a]\nrole='training'\ninclude=['a/**']\ncolour='red'\n",
            "unknown key 'environments.a.colour'",
        ),
        ("[enviroments.a]\nrole='training'\n", "unknown key 'enviroments'"),
        (
            "[environments.a]\nrole='trainer'\ninclude=['a']\n",
            "environments.a.role must be one of training, serving",
        ),
        ("[environments.a]\nrole='training'\n", "environments.a.include is required"),
        (
            "[environments.a]\nrole='training'\ninclude='a/**'\n",
            "environments.a.include must be a list of strings",
        ),
        ("[environments.a]\nrole='training'\ninclude=[]\n", "must not be empty"),
        (
            "[environments.a]\nrole='training'\ninclude=['a/**']\n",
            "needs at least one serving environment",
        ),
        ("environments = 3\n", "environments must be a table"),
        ("[rules]\nignore = 'DA101'\n", "rules.ignore must be a list of strings"),
        (
            "[rules.severity]\nDA101 = 'critical'\n",
            "rules.severity.DA101 must be one of high, medium, low, info",
        ),
        ("[rules.severity]\nfoo = 'high'\n", "unknown rule id 'rules.severity.foo'"),
        ("[rules.DA101]\ndeny = ['x']\n", "unknown key 'rules.DA101.deny'"),
        ("[rules]\nstrict = true\n", "unknown key 'rules.strict'"),
        ("[knowledge]\nmax_cpu = -1\n", "knowledge.max_cpu must be a positive number"),
        ("[knowledge]\nmax_cpu = nan\n", "knowledge.max_cpu must be a positive number"),
        ("[knowledge]\nmax_memory = inf\n", "knowledge.max_memory must be finite"),
        ("[knowledge]\nmax_cpu = true\n", "knowledge.max_cpu must be a positive number"),
        ("[knowledge]\nmax_cpu = '8'\n", "knowledge.max_cpu must be a positive number"),
        ("[knowledge]\ngpu = 1\n", "unknown key 'knowledge.gpu'"),
        (
            "[knowledge]\ntraining_packages = [1, 2]\n",
            "knowledge.training_packages must be a list of strings",
        ),
        ("[environments\nrole=", "invalid TOML"),
    ],
)
def test_every_kind_of_wrong_value_names_the_file_and_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "audit/.depaudit.toml")
    message = str(err.value)
    assert message.startswith("audit/.depaudit.toml: ")
    assert expected in message
    assert "\n" not in message


def test_huge_and_deeply_nested_config_are_errors_not_crashes() -> None:
    with pytest.raises(ConfigError, match="larger than"):
        parse_config("a = 1\n" * 100_000, ".depaudit.toml")
    with pytest.raises(ConfigError):
        parse_config("x = " + "[" * 5000 + "]" * 5000, ".depaudit.toml")
