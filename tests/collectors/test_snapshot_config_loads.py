"""The config file a Hydra entrypoint loads is its environment's config (issue 11, F2).

Shaped after graviraja/MLOps-Basics (week 5): ``train.py`` and the shared converter
``convert_model_to_onnx.py`` both run ``@hydra.main(config_path="./configs", ...)``; the
FastAPI app imports neither. The training side reads ``configs/config.yaml`` (so the
plugins it selects count as used); the serving side, which never runs the converter, does
not hold the converter nor the config it loads.
"""

from __future__ import annotations

from depaudit.collectors.snapshot import snapshot_tree
from depaudit.model import ConfigEntry, EnvironmentSnapshot
from tests.collectors.test_snapshot_includes import MemoryTree

HYDRA_MAIN = """
    import hydra


    @hydra.main(config_path="./configs", config_name="config")
    def main(cfg):
        print(cfg)
"""

FILES = {
    "proj/train.py": HYDRA_MAIN,
    "proj/convert_model_to_onnx.py": HYDRA_MAIN,
    "proj/configs/config.yaml": """
        defaults:
          - override hydra/job_logging: colorlog
        training:
          max_epochs: 2
    """,
    "proj/app.py": """
        from fastapi import FastAPI

        app = FastAPI()
    """,
    "proj/requirements.txt": "hydra-core==1.1.0\nhydra-colorlog==1.1.0\nfastapi==0.110.0\n",
}


def side(role: str) -> EnvironmentSnapshot:
    snap = snapshot_tree(MemoryTree(FILES))
    return next(e for e in snap.environments if e.role == role)


def config_files(env: EnvironmentSnapshot) -> set[str]:
    return {f.file for f in env.facts if isinstance(f, ConfigEntry)}


def test_training_reads_the_config_its_entrypoint_loads() -> None:
    assert config_files(side("training")) == {"proj/configs/config.yaml"}


def test_serving_does_not_hold_the_config_only_unreached_code_loads() -> None:
    serving = side("serving")
    assert "proj/convert_model_to_onnx.py" not in {a.path for a in serving.files}
    assert config_files(serving) == set()
