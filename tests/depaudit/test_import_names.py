"""Import names -> distributions on imports as real ML repositories write them."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from packaging.utils import canonicalize_name

from depaudit.config import ConfigError, parse_config
from depaudit.import_names import (
    ImportNameMap,
    ImportNameMapError,
    default_map,
    distributions_for,
    import_names_for,
    lookup,
)
from depaudit.knowledge import builtin

# (import as the code graph records it, a distribution that provides it). Shaped after the
# imports of public ML training pipelines and model servers: PyTorch / TF / HF stacks, GCP,
# Azure and OpenTelemetry clients, warehouses, trackers and the usual web / data libraries.
REAL_IMPORTS = [
    ("torch.nn.functional", "torch"),
    ("torchvision.transforms", "torchvision"),
    ("tensorflow.keras.layers", "tensorflow"),
    ("tensorflow.keras.layers", "tensorflow-cpu"),
    ("keras.models", "keras"),
    ("sklearn.ensemble", "scikit-learn"),
    ("cv2", "opencv-python"),
    ("cv2", "opencv-python-headless"),
    ("cv2", "opencv-contrib-python"),
    ("PIL.Image", "pillow"),
    ("yaml", "pyyaml"),
    ("google.cloud.bigquery", "google-cloud-bigquery"),
    ("google.cloud.storage", "google-cloud-storage"),
    ("google.cloud.aiplatform", "google-cloud-aiplatform"),
    ("google.cloud.aiplatform_v1beta1", "google-cloud-aiplatform"),
    ("google.cloud.secretmanager", "google-cloud-secret-manager"),
    ("google.cloud.bigquery_storage_v1", "google-cloud-bigquery-storage"),
    ("google.cloud.pubsub_v1", "google-cloud-pubsub"),
    ("google.cloud.exceptions", "google-cloud-core"),
    ("google.protobuf.json_format", "protobuf"),
    ("google.auth.transport.requests", "google-auth"),
    ("google.oauth2.service_account", "google-auth"),
    ("google.api_core.exceptions", "google-api-core"),
    ("google.rpc.status_pb2", "googleapis-common-protos"),
    ("googleapiclient.discovery", "google-api-python-client"),
    ("google.generativeai", "google-generativeai"),
    ("vertexai.generative_models", "google-cloud-aiplatform"),
    ("azure.storage.blob", "azure-storage-blob"),
    ("azure.storage.fileshare", "azure-storage-file-share"),
    ("azure.identity", "azure-identity"),
    ("azure.ai.ml", "azure-ai-ml"),
    ("azure.keyvault.secrets", "azure-keyvault-secrets"),
    ("azure.core.exceptions", "azure-core"),
    ("opentelemetry.trace", "opentelemetry-api"),
    ("opentelemetry.sdk.trace.export", "opentelemetry-sdk"),
    (
        "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "opentelemetry-exporter-otlp-proto-grpc",
    ),
    ("opentelemetry.instrumentation.fastapi", "opentelemetry-instrumentation-fastapi"),
    ("opentelemetry.semconv.trace", "opentelemetry-semantic-conventions"),
    ("mlflow.pyfunc", "mlflow"),
    ("mlflow.pyfunc", "mlflow-skinny"),
    ("wandb", "wandb"),
    ("hydra.utils", "hydra-core"),
    ("omegaconf", "omegaconf"),
    ("sentence_transformers", "sentence-transformers"),
    ("huggingface_hub", "huggingface-hub"),
    ("lightning.pytorch", "lightning"),
    ("pytorch_lightning", "pytorch-lightning"),
    ("onnxruntime", "onnxruntime-gpu"),
    ("tritonclient.grpc", "tritonclient"),
    ("faiss", "faiss-cpu"),
    ("mpl_toolkits.mplot3d", "matplotlib"),
    ("bs4", "beautifulsoup4"),
    ("dateutil.parser", "python-dateutil"),
    ("dotenv", "python-dotenv"),
    ("jwt", "pyjwt"),
    ("psycopg2.extras", "psycopg2-binary"),
    ("skimage.io", "scikit-image"),
    ("attr", "attrs"),
    ("pydantic_settings", "pydantic-settings"),
    ("snowflake.connector", "snowflake-connector-python"),
    ("snowflake.snowpark", "snowflake-snowpark-python"),
    ("databricks.sdk", "databricks-sdk"),
    ("databricks.sql", "databricks-sql-connector"),
    ("great_expectations", "great-expectations"),
    ("botocore.exceptions", "botocore"),
    ("grpc", "grpcio"),
    ("Crypto.Cipher", "pycryptodome"),
    ("zmq", "pyzmq"),
    ("pkg_resources", "setuptools"),
    ("_pytest.fixtures", "pytest"),
    ("MySQLdb", "mysqlclient"),
    ("git", "gitpython"),
    ("umap", "umap-learn"),
    ("kfp.dsl", "kfp"),
    ("llama_index.core", "llama-index-core"),
    ("langchain_openai", "langchain-openai"),
    ("prometheus_client", "prometheus-client"),
    ("multipart", "python-multipart"),
    # families whose layout only their wheels tell, and meta-packages repositories declare
    ("airflow.operators.bash.BashOperator", "apache-airflow"),
    ("airflow.models.DAG", "apache-airflow-core"),
    ("airflow.providers.amazon.aws.hooks.s3", "apache-airflow-providers-amazon"),
    ("airflow.providers.google.cloud.operators.bigquery", "apache-airflow-providers-google"),
    ("sagemaker.pytorch.PyTorchModel", "sagemaker"),
    ("sagemaker.serve", "sagemaker-serve"),
    ("llama_index.core.VectorStoreIndex", "llama-index"),
    ("llama_index.llms.openai", "llama-index-llms-openai"),
    ("azureml.core.Workspace", "azureml-core"),
    ("azureml.core.model.Model", "azureml-defaults"),
    ("azureml.train.hyperdrive", "azureml-train-core"),
    ("azureml.mlflow", "azureml-mlflow"),
    ("hydra_plugins.hydra_colorlog", "hydra-colorlog"),
    ("opencensus.ext.azure.log_exporter", "opencensus-ext-azure"),
    ("promptflow.tool", "promptflow"),
    ("keras_tuner", "keras-tuner"),
]


@pytest.mark.parametrize(("module", "distribution"), REAL_IMPORTS)
def test_real_imports_map_to_their_distribution(module: str, distribution: str) -> None:
    assert distribution in distributions_for(module)


def test_the_table_is_large_and_varied() -> None:
    assert len(REAL_IMPORTS) >= 40
    assert sum(1 for m, _ in REAL_IMPORTS if m.split(".")[0] in {"google", "azure"}) >= 10


@pytest.mark.parametrize(
    ("module", "distributions", "prefix"),
    [
        # the longest listed prefix decides, not the namespace's first segment
        ("google.cloud.bigquery.job.query", ("google-cloud-bigquery",), "google.cloud.bigquery"),
        ("google.protobuf.message", ("protobuf",), "google.protobuf"),
        ("google.auth", ("google-auth",), "google.auth"),
        ("azure.storage.blob.aio", ("azure-storage-blob",), "azure.storage.blob"),
        ("opentelemetry.sdk.resources", ("opentelemetry-sdk",), "opentelemetry.sdk.resources"),
        (
            "snowflake.connector.pandas_tools",
            ("snowflake-connector-python",),
            "snowflake.connector",
        ),
        # versioned GAPIC modules belong to the unversioned distribution
        ("google.cloud.pubsub_v1.subscriber", ("google-cloud-pubsub",), "google.cloud.pubsub_v1"),
        # a plugin is its own distribution, not any plugin of the family
        (
            "hydra_plugins.hydra_colorlog.colorlog",
            ("hydra-colorlog",),
            "hydra_plugins.hydra_colorlog",
        ),
        ("azureml.mlflow", ("azureml-mlflow",), "azureml.mlflow"),
        # an organisation's prefix before the namespace (apache-airflow-providers-*)
        (
            "airflow.providers.amazon.aws.hooks.s3",
            ("apache-airflow-providers-amazon",),
            "airflow.providers.amazon",
        ),
        # the namespace's own package: the core and the meta-package that repositories declare
        ("airflow.operators.bash", ("apache-airflow", "apache-airflow-core"), "airflow"),
    ],
)
def test_namespace_packages_resolve_to_exactly_one_distribution(
    module: str, distributions: tuple[str, ...], prefix: str
) -> None:
    match = lookup(module)
    assert (match.distributions, match.prefix, match.source) == (distributions, prefix, "map")


def test_alternative_builds_of_one_module_are_all_kept_most_downloaded_first() -> None:
    cv2 = distributions_for("cv2")
    assert cv2[0] == "opencv-python"
    assert {"opencv-python-headless", "opencv-contrib-python-headless"} <= set(cv2)
    assert distributions_for("cv2.dnn") == cv2  # a submodule inherits its package's providers


def test_unknown_names_fall_back_to_the_distribution_named_after_them() -> None:
    match = lookup("acme_feature_store.client")
    assert (match.prefix, match.distributions, match.source) == (
        "acme_feature_store",
        ("acme-feature-store", "acme-feature-store-client"),
        "fallback",
    )
    assert distributions_for("acme_feature_store") == ("acme-feature-store",)
    assert distributions_for("_acme_native") == ("acme-native",)  # a private extension module
    # a plugin published under the deeper name is a candidate after the top-level one
    assert distributions_for("kubeflow.fairing") == ("kubeflow", "kubeflow-fairing")


def test_unknown_names_inside_a_namespace_fall_back_one_level_below_it() -> None:
    match = lookup("google.cloud.brandnewservice.v1")
    assert (match.prefix, match.distributions, match.source) == (
        "google.cloud.brandnewservice",
        ("google-cloud-brandnewservice", "google-cloud-brandnewservice-v1"),
        "fallback",
    )
    # a bare namespace is no distribution's package
    assert lookup("google").distributions == ()
    assert lookup("opentelemetry").distributions == ()


@pytest.mark.parametrize("junk", ["", ".", " ", ".."])
def test_empty_names_give_nothing(junk: str) -> None:
    assert distributions_for(junk) == ()


def test_generic_folders_careless_wheels_ship_are_not_anybodys_package() -> None:
    # hundreds of wheels install a top-level "tests" package: an import of it is the repo's own
    assert lookup("tests").source == "fallback"
    assert "tests" not in default_map().exact


def test_overrides_are_checked_first_longest_prefix_wins() -> None:
    overrides = {"acme.ml": ("acme-ml-sdk",), "cv2": "opencv-python-headless", "google": ["x-y"]}
    assert lookup("acme.ml.features", overrides).distributions == ("acme-ml-sdk",)
    assert lookup("acme.ml.features", overrides).source == "override"
    assert distributions_for("cv2", overrides) == ("opencv-python-headless",)
    assert distributions_for("google.protobuf", overrides) == ("x-y",)
    assert distributions_for("acme.web", overrides) == ("acme", "acme-web")  # not under it
    # the knowledge base's own overrides: names that moved between releases repositories pin
    assert builtin().distribution_for_import("kerastuner.tuners") == "keras-tuner"


def test_reverse_lookup_names_what_a_declared_distribution_provides() -> None:
    assert "sklearn" in import_names_for("scikit-learn")
    assert "cv2" in import_names_for("opencv-python-headless")
    assert {"yaml", "_yaml"} <= set(import_names_for("PyYAML"))
    protobuf = import_names_for("protobuf")
    assert "google.protobuf" in protobuf and "google" not in protobuf
    assert {"google.auth", "google.oauth2"} <= set(import_names_for("google-auth"))
    assert "google.cloud.vision" in import_names_for("google-cloud-vision")  # by convention
    assert "torch" in import_names_for("torch")  # same name: left out of the map, still named
    assert import_names_for("acme-feature-store") == ("acme_feature_store",)
    assert "acme.ml" in import_names_for("acme-ml-sdk", {"acme.ml": ("acme-ml-sdk",)})
    # every name it gives leads back to the distribution
    for dist in ("scikit-learn", "pyyaml", "protobuf", "google-auth", "opencv-python", "torch"):
        for name in import_names_for(dist):
            assert dist in distributions_for(name), (dist, name)


# --------------------------------------------------------------------------- knowledge


def test_knowledge_resolves_dotted_imports_and_the_old_table_entries() -> None:
    kn = builtin()
    # every entry the hand-written table had is answered by the map now
    old = {
        "sklearn": "scikit-learn",
        "yaml": "pyyaml",
        "cv2": "opencv-python",
        "PIL": "pillow",
        "bs4": "beautifulsoup4",
        "dateutil": "python-dateutil",
        "dotenv": "python-dotenv",
        "jwt": "pyjwt",
        "skimage": "scikit-image",
        "attr": "attrs",
        "pydantic_settings": "pydantic-settings",
        "great_expectations": "great-expectations",
        "snowflake.connector": "snowflake-connector-python",
        "google.cloud.bigquery": "google-cloud-bigquery",
    }
    for module, dist in old.items():
        assert kn.distribution_for_import(module) == dist, module
    assert "psycopg2-binary" in kn.distributions_for_import("psycopg2")
    # the namespace "google" no longer stands for BigQuery (field test 2026-12-04, #3)
    assert kn.distribution_for_import("google.protobuf.message") == "protobuf"
    assert kn.distribution_for_import("google") == "google"


def test_a_repository_config_overrides_import_names() -> None:
    config = parse_config(
        """
        [knowledge.import_names]
        "acme.ml" = "acme-ml-sdk"
        internal_vision = ["opencv-python-headless", "Acme_Vision"]
        acme.web.api = "acme-web"
        """,
        ".depaudit.toml",
    )
    assert config is not None
    kn = builtin().with_overrides(config.knowledge)
    assert kn.distribution_for_import("acme.ml.features") == "acme-ml-sdk"
    assert kn.distributions_for_import("internal_vision") == (
        "opencv-python-headless",
        "acme-vision",
    )
    assert kn.distribution_for_import("acme.web.api.routes") == "acme-web"
    assert kn.distribution_for_import("sklearn") == "scikit-learn"  # the map still answers the rest
    assert "acme.ml" in kn.import_names_for("acme-ml-sdk")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('import_names = ["sklearn"]', "knowledge.import_names must be a table"),
        ('import_names = {"my-module" = "x"}', "'my-module' is not a dotted import name"),
        ('import_names = {"acme" = 3}', "knowledge.import_names.acme must be a distribution name"),
        ('import_names = {"acme" = []}', "knowledge.import_names.acme must be a distribution name"),
        ('import_names = {"acme" = "not a name"}', "must be a distribution name"),
    ],
)
def test_bad_import_name_overrides_are_one_line_errors(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(f"[knowledge]\n{table}\n", "repo/.depaudit.toml")
    text = str(info.value)
    assert text.startswith("repo/.depaudit.toml: ") and message in text and "\n" not in text


# --------------------------------------------------------------------------- the data file


def _data_text() -> str:
    return resources.files("depaudit").joinpath("data/import_names.tsv").read_text("utf-8")


def test_data_file_is_generated_with_its_provenance_in_the_header() -> None:
    header = [line for line in _data_text().splitlines() if line.startswith("#")]
    text = "\n".join(header)
    assert "GENERATED" in text
    assert re.search(r"^# command: python scripts/gen_import_names\.py ", text, re.M)
    assert re.search(
        r"^#   pyimport2pkg \d+\.\d+\.\d+ data/mapping\.db sha256:[0-9a-f]{16}$", text, re.M
    )
    assert re.search(r"^#   pigar \d+\.\d+\.\d+ \.db\.sqlite3 sha256:[0-9a-f]{16}$", text, re.M)
    assert re.search(r"^# date: \d{4}-\d{2}-\d{2} ", text, re.M)
    assert re.search(r"^# entries: \d+ ", text, re.M)


def test_data_file_is_sorted_well_formed_and_compact() -> None:
    text = _data_text()
    assert len(text.encode()) < 400_000
    entries = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    keys = [key for key, _ in entries]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert len(entries) > 5000
    declared = int(re.search(r"^# entries: (\d+)", text, re.M).group(1))  # type: ignore[union-attr]
    assert declared == len(entries)
    for key, values in entries:
        names = values.split(" ")
        if names[0] == "*":
            names = names[1:]
        else:
            assert names, key
        assert all(canonicalize_name(n) == n for n in names), key
        assert len(set(names)) == len(names), key
        if "-" in key:
            assert canonicalize_name(key) == key, key  # a convention key
        else:
            assert all(part.isidentifier() for part in key.split(".")), key
    parsed = default_map()
    assert len(parsed) == len(entries)
    assert {"google", "azure", "opentelemetry"} <= set(parsed.namespaces)


def test_malformed_maps_name_the_line() -> None:
    with pytest.raises(ImportNameMapError, match=r"x\.tsv:3: 'a' is out of order"):
        ImportNameMap.parse("# h\nb\tb\na\ta\n", source="x.tsv")
    with pytest.raises(ImportNameMapError, match=r"x\.tsv:1: expected"):
        ImportNameMap.parse("cv2 opencv-python\n", source="x.tsv")
    with pytest.raises(ImportNameMapError, match=r"x\.tsv:2: expected"):
        ImportNameMap.parse("a\ta\nb\t\n", source="x.tsv")
