"""AzureML specs read from YAML: what a job, a deployment, an environment and a v1
inference config name (code, conda file, environment by name, entry script, image)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from depaudit.collectors.sources.conda import SOURCE as CONDA
from depaudit.collectors.sources.config_files import SOURCE
from depaudit.model import ConfigEntry, Entrypoint, Include, ParseError, Runtime
from tests.gitrepo import GitRepo

DEPAUDIT = str(Path(sys.executable).parent / "depaudit")


def parse(text: str, path: str = "mlops/deploy/deployment.yml") -> list[object]:
    return list(SOURCE.parse(textwrap.dedent(text).lstrip(), path).facts)


def of(facts: list[object], kind: type) -> list[object]:
    return [f for f in facts if isinstance(f, kind)]


DEPLOYMENT = """
    $schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json
    name: blue
    endpoint_name: churn
    model: azureml:churn-model@latest
    code_configuration:
      code: ../../ml/score
      scoring_script: score.py
    environment:
      image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest
      conda_file: ../../envs/infer-conda.yml
    environment_variables:
      WANDB_API_KEY: 0123456789abcdef0123456789abcdef
      LOG_LEVEL: info
    instance_type: Standard_DS3_v2
"""


def test_deployment_names_its_code_script_conda_file_and_image() -> None:
    facts = parse(DEPLOYMENT)
    assert Include("../../ml/score", "mlops/deploy/deployment.yml", 6, kind="code") in facts
    assert Include("../../envs/infer-conda.yml", "mlops/deploy/deployment.yml", 10) in facts
    (entry,) = of(facts, Entrypoint)
    assert entry.module == "ml.score.score" and entry.line == 7  # type: ignore[attr-defined]
    runtimes = {(r.item, r.value, r.line) for r in of(facts, Runtime)}  # type: ignore[attr-defined]
    assert ("os", "ubuntu 22.04", 9) in runtimes
    # only the environment variables are configuration, masked; not instance_type or name
    config = {c.key: c for c in of(facts, ConfigEntry)}  # type: ignore[attr-defined]
    assert set(config) == {"ENV.WANDB_API_KEY", "ENV.LOG_LEVEL"}
    assert (
        config["ENV.WANDB_API_KEY"].secret and "0123456789" not in config["ENV.WANDB_API_KEY"].value
    )


def test_job_uses_an_environment_by_name_and_runs_its_command() -> None:
    facts = parse(
        """
        $schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
        code: ../ml/train
        command: python train.py --data ${{inputs.data}}
        environment: azureml:churn-train@12
        compute: azureml:cpu-cluster
        """,
        "mlops/train-job.yml",
    )
    assert Include("../ml/train", "mlops/train-job.yml", 2, kind="code") in facts
    assert Include("azureml:churn-train", "mlops/train-job.yml", 4, kind="environment") in facts
    (entry,) = of(facts, Entrypoint)
    assert entry.module == "ml.train.train"  # type: ignore[attr-defined]
    assert not of(facts, ConfigEntry)


def test_environment_defines_its_name() -> None:
    facts = parse(
        """
        $schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
        name: churn-train
        image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest
        conda_file: ../envs/train-conda.yml
        """,
        "mlops/train-env.yml",
    )
    assert Include("azureml:churn-train", "mlops/train-env.yml", 2, kind="defines") in facts
    assert Include("../envs/train-conda.yml", "mlops/train-env.yml", 4) in facts
    assert ("os", "ubuntu 20.04") in {(r.item, r.value) for r in of(facts, Runtime)}  # type: ignore[attr-defined]


def test_v1_inference_config() -> None:
    facts = parse(
        """
        entryScript: score.py
        runtime: python
        condaFile: ../conda_dependencies.yml
        sourceDirectory: .
        """,
        "diabetes/scoring/inference_config.yml",
    )
    assert Include(".", "diabetes/scoring/inference_config.yml", 4, kind="code") in facts
    assert Include("../conda_dependencies.yml", "diabetes/scoring/inference_config.yml", 3) in facts
    (entry,) = of(facts, Entrypoint)
    assert entry.module == "diabetes.scoring.score"  # type: ignore[attr-defined]


def test_an_endpoint_spec_gives_no_facts() -> None:
    text = """
        $schema: https://azuremlschemas.azureedge.net/latest/managedOnlineEndpoint.schema.json
        name: churn
        auth_mode: key
    """
    assert parse(text, "mlops/deploy/endpoint.yml") == []


@pytest.mark.parametrize(
    "text",
    [
        # shapes a hand-written or half-edited spec has: never an exception, no wrong fact
        "code_configuration:\n  code: 3\n  scoring_script: [a]\n",
        "code_configuration: {}\nenvironment: 7\n",
        '$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ncommand: "python \'unbalanced"\n',
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\nname: [x]\nimage: {}\n",
        "entryScript: score.py\nsourceDirectory: null\ncondaFile: ''\n",
        "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\nenvironment_variables: [1, 2]\n",
    ],
)
def test_odd_specs_are_read_without_errors(text: str) -> None:
    facts = list(SOURCE.parse(text, "mlops/spec.yml").facts)
    assert not of(facts, ParseError)
    assert all(isinstance(f, Include | Entrypoint | Runtime | ConfigEntry) for f in facts)


def test_role_named_conda_files_are_conda_files() -> None:
    for name in ("envs/train-conda.yml", "envs/infer-conda.yaml", "conda_dependencies.yml"):
        assert CONDA.matches(name), name
    assert not CONDA.matches("configs/training.yml")


def test_specs_naming_what_is_not_there_are_audited_as_they_are(tmp_path: Path) -> None:
    """An environment used by a name nothing defines, a code folder that is not in the
    tree and a conda file that is missing: the check runs; the missing file is an error."""
    repo = GitRepo(tmp_path / "svc")
    repo.commit(
        "specs",
        {
            "ml/train/train.py": "import sklearn\n",
            "mlops/training/job.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                "code: ../../ml/nowhere\ncommand: python train.py\n"
                "environment: azureml:undefined-env@latest\n"
            ),
            "mlops/deploy/deployment.yml": (
                "code_configuration:\n  code: ../../ml/score\n  scoring_script: score.py\n"
                "environment:\n  conda_file: ../../envs/missing-conda.yml\n"
            ),
            "ml/score/score.py": "import joblib\n\ndef run(data):\n    return data\n",
        },
    )
    done = subprocess.run(
        [DEPAUDIT, "check", str(repo.path), "-q", "--format", "json", "--fail-on", "never"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    errors = [f for f in json.loads(done.stdout)["findings"] if f["status"] == "error"]
    assert [(e["file"], e["line"]) for e in errors] == [("mlops/deploy/deployment.yml", 5)]
    assert "envs/missing-conda.yml" in errors[0]["message"]


def test_what_the_scoring_server_and_its_model_need_is_not_a_leftover(tmp_path: Path) -> None:
    """Shaped after an AzureML summarization template: score.py imports only transformers,
    the scoring image also installs torch (transformers' backend) and azureml-defaults (the
    scoring server around score.py); the training steps import all of them."""
    repo = GitRepo(tmp_path / "summarize")
    repo.commit(
        "template",
        {
            "data-science/src/prepare.py": "import azureml.core\nimport torch\nimport transformers\n",
            "data-science/src/score.py": (
                "from transformers import AutoModelForSeq2SeqLM\n\n"
                "def init():\n    global model\n    model = AutoModelForSeq2SeqLM.from_pretrained('m')\n\n"
                "def run(data):\n    return model(data)\n"
            ),
            "data-science/environments/training/requirements.txt": (
                "torch==2.1.0\ntransformers==4.36.2\nazureml-core==1.54.0\n"
            ),
            "data-science/environments/inference/conda_env.yml": (
                "name: infer\ndependencies:\n  - python=3.10\n  - pip:\n"
                "      - torch==2.1.0\n      - transformers==4.36.2\n      - azureml-defaults==1.54.0\n"
            ),
            "mlops/azureml/train/train-env.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                "name: summarize-train\nbuild:\n  path: ../../../data-science/environments/training/\n"
            ),
            "mlops/azureml/train/pipeline.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json\n"
                "type: pipeline\njobs:\n  prep:\n    code: ../../../data-science/src\n"
                "    command: python prepare.py\n    environment: azureml:summarize-train@latest\n"
            ),
            "mlops/azureml/deploy/online-deployment.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
                "name: green\ncode_configuration:\n  code: ../../../data-science/src/\n"
                "  scoring_script: score.py\nenvironment:\n"
                "  conda_file: ../../../data-science/environments/inference/conda_env.yml\n"
                "  image: mcr.microsoft.com/azureml/minimal-ubuntu20.04-py38-cpu-inference:latest\n"
            ),
        },
    )
    done = subprocess.run(
        [DEPAUDIT, "check", str(repo.path), "-q", "--format", "json", "--fail-on", "never"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(p["training"], p["serving"]) for p in report["pairs"]] == [
        ("mlops/azureml/train", "mlops/azureml/deploy")
    ]
    leftovers = {f["item"] for f in report["findings"] if f["status"] == "leftover"}
    assert not leftovers & {"torch", "transformers", "azureml-defaults"}, leftovers


def test_an_environment_name_defined_in_two_projects_is_each_projects_own(tmp_path: Path) -> None:
    """Template monorepos copy a project and keep its names (``taxi-train-env`` in both
    classical/ and rai/): a job uses the definition nearest to it, whatever the hash seed."""
    files: dict[str, str] = {}
    for project, sklearn in (("classical", "1.2.0"), ("rai", "1.1.3")):
        files |= {
            f"{project}/src/train.py": "import sklearn\n",
            f"{project}/src/score.py": "import joblib\n\ndef run(data):\n    return data\n",
            f"{project}/envs/train-conda.yml": (
                f"name: t\ndependencies:\n  - pip:\n      - scikit-learn=={sklearn}\n"
            ),
            f"{project}/envs/infer-conda.yml": (
                "name: i\ndependencies:\n  - pip:\n      - scikit-learn==1.2.0\n      - joblib==1.2.0\n"
            ),
            f"{project}/mlops/train/train-env.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                "name: taxi-train-env\nconda_file: ../../envs/train-conda.yml\n"
            ),
            f"{project}/mlops/train/job.yml": (
                "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
                "code: ../../src\ncommand: python train.py\nenvironment: azureml:taxi-train-env@latest\n"
            ),
            f"{project}/mlops/deploy/deployment.yml": (
                "code_configuration:\n  code: ../../src\n  scoring_script: score.py\n"
                "environment:\n  conda_file: ../../envs/infer-conda.yml\n"
            ),
        }
    repo = GitRepo(tmp_path / "templates")
    repo.commit("two projects", files)
    reports = []
    for seed in ("1", "2", "3"):
        done = subprocess.run(
            [DEPAUDIT, "check", str(repo.path), "-q", "--format", "json", "--fail-on", "never"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr
        reports.append(done.stdout)
    assert reports[0] == reports[1] == reports[2]
    drift = {
        (f["training_env"], f["training"], f["file"])
        for f in json.loads(reports[0])["findings"]
        if f["rule"] == "DA102"
    }
    # only rai's job pins another scikit-learn, in rai's own conda file
    assert drift == {("rai/mlops/train", "1.1.3", "rai/envs/infer-conda.yml")}
