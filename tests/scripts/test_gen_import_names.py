"""scripts/gen_import_names.py: real wheel file lists and pinned databases -> the import-name map."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from depaudit.import_names import ImportNameMap

ROOT = Path(__file__).resolve().parents[2]


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_import_names", ROOT / "scripts" / "gen_import_names.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def wheel(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """A wheel as pip downloads it: the files, and a .dist-info with METADATA."""
    stem = f"{name.replace('-', '_')}-{version}"
    path = directory / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(
            f"{stem}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        )
        archive.writestr(f"{stem}.dist-info/RECORD", "")
    return path


def test_wheel_roots_follow_namespace_packages_down_to_what_the_wheel_owns(tmp_path: Path) -> None:
    protobuf = wheel(
        tmp_path,
        "protobuf",
        "5.29.0",
        {
            "google/protobuf/__init__.py": "",
            "google/protobuf/message.py": "",
            "google/_upb/_message.abi3.so": "",
        },
    )
    found = gen.wheel_roots(protobuf)
    assert (found.distribution, found.version) == ("protobuf", "5.29.0")
    assert found.roots == ("google._upb._message", "google.protobuf")
    assert found.namespaces == ("google", "google._upb")


def test_wheel_roots_see_pkgutil_namespace_stubs_data_dirs_and_extensions(tmp_path: Path) -> None:
    azure = wheel(
        tmp_path,
        "azure-core",
        "1.30.0",
        {
            "azure/__init__.py": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)\n",
            "azure/core/__init__.py": "",
            "azure/core/pipeline/__init__.py": "",
        },
    )
    assert gen.wheel_roots(azure).roots == ("azure.core",)
    yaml = wheel(
        tmp_path,
        "PyYAML",
        "6.0.2",
        {
            "yaml/__init__.py": "",
            "_yaml/__init__.py": "",
            "yaml/_yaml.cpython-311-x86_64-linux-gnu.so": "",
            "PyYAML-6.0.2.data/purelib/yaml_extra.py": "",
            "PyYAML-6.0.2.data/scripts/yaml-lint": "",
            "README.md": "",
            "abc123__mypyc.cpython-311-x86_64-linux-gnu.so": "",
        },
    )
    found = gen.wheel_roots(yaml)
    assert found.distribution == "pyyaml"
    assert found.roots == ("_yaml", "yaml", "yaml_extra")


def _wheel_with_requirements(directory: Path, name: str, files: dict[str, str]) -> Path:
    stem = f"{name.replace('-', '_')}-3.0.0"
    path = directory / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(
            f"{stem}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 3.0.0\n"
            "Requires-Dist: apache-airflow-core==3.0.0\n"
            "Requires-Dist: Apache_Airflow_Task_SDK>=1.0; python_version >= '3.10'\n"
            "Requires-Dist: numpy\n"
            "Requires-Dist: apache-airflow-providers-amazon; extra == 'amazon'\n",
        )
    return path


def test_a_wheel_with_no_file_is_a_meta_package_and_keeps_its_requirements(
    tmp_path: Path,
) -> None:
    meta = gen.wheel_roots(_wheel_with_requirements(tmp_path, "apache-airflow", {}))
    assert (meta.roots, meta.namespaces) == ((), ())
    # what it always installs, canonical; an extra's requirements are not part of it
    assert meta.requires == ("apache-airflow-core", "apache-airflow-task-sdk", "numpy")
    # headers and libraries but no module (cmeel-boost, nvidia-*): not a meta-package
    binary = gen.wheel_roots(
        _wheel_with_requirements(
            tmp_path, "cmeel-boost", {"cmeel.prefix/include/boost/any.hpp": ""}
        )
    )
    assert (binary.roots, binary.requires) == ((), ())
    cache = tmp_path / "cache.tsv"
    gen.write_wheel_cache(cache, {"apache-airflow": meta, "cmeel-boost": binary})
    assert gen.read_wheel_cache(cache) == {"apache-airflow": meta, "cmeel-boost": binary}
    cache.write_text("apache-airflow\t3.0.0\t\t\n")  # a row of the old 4-column format
    with pytest.raises(ValueError, match=r"cache\.tsv:1: expected 5 tab-separated fields"):
        gen.read_wheel_cache(cache)


def test_a_zip_that_is_not_a_wheel_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "broken-1.0-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("broken/__init__.py", "")
    with pytest.raises(ValueError, match=r"broken-1\.0-py3-none-any\.whl: not a wheel"):
        gen.wheel_roots(bad)


# --------------------------------------------------------------------------- the whole run


def pyimport2pkg_wheel(directory: Path) -> Path:
    db = directory / "mapping.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE packages (package_name TEXT PRIMARY KEY, download_count INTEGER, last_updated TEXT)"
        )
        conn.execute("CREATE TABLE mappings (module_name TEXT, package_name TEXT)")
        conn.execute("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT)")
        downloads = {
            "numpy": 2000, "protobuf": 1000, "google-auth": 900, "google-cloud-storage": 800,
            "azure-core": 700, "azure-storage-blob": 600, "PyYAML": 500, "opencv-python": 400,
            "opencv-python-headless": 300, "google-cloud-vision": 100, "python-ldap": 50,
            "lakefs": 10, "nvidia-cudnn-cu12": 5, "common": 3,
        }  # fmt: skip
        conn.executemany("INSERT INTO packages VALUES (?, ?, '')", downloads.items())
        mappings = [
            ("numpy", "numpy"), ("google", "protobuf"), ("google", "google-auth"),
            ("google", "google-cloud-storage"), ("google", "google-cloud-vision"),
            ("azure", "azure-core"), ("azure", "azure-storage-blob"), ("yaml", "PyYAML"),
            ("cv2", "opencv-python"), ("cv2", "opencv-python-headless"),
            ("python_ldap", "python-ldap"), ("lakefs", "lakefs"), ("tests", "lakefs"),
            ("README.rst", "lakefs"), ("nvidia", "nvidia-cudnn-cu12"), ("cffi", "not-popular"),
            ("common", "lakefs"), ("common", "common"),
        ]  # fmt: skip
        conn.executemany("INSERT INTO mappings VALUES (?, ?)", mappings)
        conn.executemany(
            "INSERT INTO metadata VALUES (?, ?)",
            [("last_build", "2025-12-06T08:23:07"), ("source", "https://example.invalid/top.json")],
        )
    conn.close()
    return _wheel_with_db(directory, "pyimport2pkg", "9.1.0", "pyimport2pkg/data/mapping.db", db)


def pigar_wheel(directory: Path) -> Path:
    db = directory / "pigar.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE distributions (id INTEGER PRIMARY KEY, name VARCHAR, version VARCHAR)"
        )
        conn.execute(
            "CREATE TABLE top_level_module_names (id INTEGER PRIMARY KEY, distribution_id INTEGER, name VARCHAR)"
        )
        conn.executemany(
            "INSERT INTO distributions VALUES (?, ?, '')",
            [(1, "python-ldap"), (2, "numpy"), (3, "not-popular"), (4, "lakefs")],
        )
        conn.executemany(
            "INSERT INTO top_level_module_names VALUES (NULL, ?, ?)",
            [(1, "ldap"), (1, "_ldap"), (2, "numpy"), (3, "anything"), (4, "ab12__mypyc")],
        )
    conn.close()
    return _wheel_with_db(directory, "pigar", "9.2.0", "pigar/.db.sqlite3", db)


def _wheel_with_db(directory: Path, name: str, version: str, member: str, db: Path) -> Path:
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(db, member)
        archive.writestr(
            f"{name}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n"
        )
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path, Path]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel(
        wheels,
        "protobuf",
        "5.29.0",
        {"google/protobuf/__init__.py": "", "google/_upb/_m.abi3.so": ""},
    )
    wheel(
        wheels,
        "google-auth",
        "2.40.0",
        {"google/auth/__init__.py": "", "google/oauth2/__init__.py": ""},
    )
    wheel(
        wheels,
        "azure-core",
        "1.30.0",
        {
            "azure/__init__.py": "__path__ = __import__('pkgutil').extend_path(__path__, __name__)",
            "azure/core/__init__.py": "",
        },
    )
    wheel(wheels, "some-unpopular-lib", "1.0", {"unpopular/__init__.py": ""})
    return pyimport2pkg_wheel(tmp_path), pigar_wheel(tmp_path), wheels


def test_generate_merges_databases_wheels_and_the_namespace_convention(
    inputs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    db1, db2, wheels = inputs
    cache = tmp_path / "cache.tsv"
    text, mapping = gen.generate(db1, db2, wheel_cache=cache, wheel_dirs=[wheels], command="CMD")
    entries = dict(gen.iter_entries(text))
    assert entries == {
        "_ldap": ("python-ldap",),  # pigar's top_level.txt ...
        "ldap": ("python-ldap",),  # ... replaces pyimport2pkg's guess python_ldap
        "azure": ("*",),
        "azure.core": ("azure-core",),
        "azure-storage-blob": ("azure-storage-blob",),  # by the namespace's naming convention
        "cv2": ("opencv-python", "opencv-python-headless"),  # most downloaded first
        "google": ("*",),
        "google._upb": ("protobuf",),  # a namespace only protobuf fills is protobuf's
        "google.auth": ("google-auth",),
        "google.oauth2": ("google-auth",),
        "google.protobuf": ("protobuf",),
        "google-cloud-storage": ("google-cloud-storage",),
        "google-cloud-vision": ("google-cloud-vision",),
        "nvidia": ("nvidia-cudnn-cu12",),  # not shown to be a namespace: kept as is
        "yaml": ("pyyaml",),
    }
    # numpy, lakefs and common provide their own names: left to the fallback; "tests" is no
    # package, and the generic "common" is only the common project's, not lakefs'
    assert mapping.identities == 3
    lines = text.splitlines()
    assert "# command: CMD" in lines
    assert any(line.startswith("#   pyimport2pkg 9.1.0 data/mapping.db sha256:") for line in lines)
    assert any(line.startswith("#   pigar 9.2.0 .db.sqlite3 sha256:") for line in lines)
    assert "# date: 2025-12-06 (download ranking and wheel scan of source 1)" in lines
    # the wheels read are cached (popular projects only) so the next run needs no wheel
    assert [
        line.split("\t")[0] for line in cache.read_text().splitlines() if not line.startswith("#")
    ] == [
        "azure-core",
        "google-auth",
        "protobuf",
    ]
    again, _ = gen.generate(db1, db2, wheel_cache=cache, command="CMD")
    assert again == text  # deterministic, and reproducible offline from the cache
    parsed = ImportNameMap.parse(text)
    assert parsed.distributions_for("google.cloud.storage.blob") == ("google-cloud-storage",)
    assert parsed.distributions_for("azure.storage.blob") == ("azure-storage-blob",)
    assert parsed.distributions_for("google.protobuf.message") == ("protobuf",)


def test_meta_packages_organised_families_and_a_namespace_s_own_project() -> None:
    # shaped after Airflow 3 (a meta-package over apache-airflow-core, providers under
    # airflow.providers named apache-airflow-providers-*), SageMaker 3 (a meta-package over
    # sagemaker-* parts in a namespace that sagemaker 2 owned) and opencensus
    downloads = {
        "numpy": 5000, "apache-airflow": 900, "apache-airflow-core": 800,
        "apache-airflow-providers-amazon": 700, "apache-airflow-providers-google": 600,
        "apache-airflow-providers-http": 500, "apache-airflow-task-sdk": 450,
        "astronomer-airflow-tools": 440, "sagemaker": 400, "sagemaker-core": 300,
        "sagemaker-train": 200, "opencensus": 150, "opencensus-ext-azure": 100, "azure": 90, "azure-core": 80,
        "azure-storage-blob": 70,
    }  # fmt: skip
    popular = gen.Popular(downloads=downloads)
    for dist, module in [
        ("numpy", "numpy"),
        ("apache-airflow-providers-amazon", "airflow"),
        ("apache-airflow-providers-http", "airflow"),
        ("apache-airflow-task-sdk", "airflow"),
        ("astronomer-airflow-tools", "airflow"),
        ("sagemaker-train", "sagemaker"),
        ("opencensus-ext-azure", "opencensus"),
        ("azure", "azure"),
        ("azure-storage-blob", "azure"),
    ]:
        popular.modules[dist].add(module)
    roots = gen.WheelRoots
    wheels = {
        "apache-airflow": roots(
            "apache-airflow", "3", (), requires=("apache-airflow-core", "apache-airflow-task-sdk")
        ),
        "apache-airflow-core": roots("apache-airflow-core", "3", ("airflow",)),
        "apache-airflow-providers-google": roots(
            "apache-airflow-providers-google",
            "1",
            ("airflow.providers.google",),
            ("airflow", "airflow.providers"),
        ),
        "sagemaker": roots(
            "sagemaker", "3", (), requires=("numpy", "sagemaker-core", "sagemaker-train")
        ),
        "sagemaker-core": roots("sagemaker-core", "2", ("sagemaker.core",), ("sagemaker",)),
        "opencensus": roots("opencensus", "1", ("opencensus.trace",), ("opencensus",)),
        "azure-core": roots("azure-core", "1", ("azure.core",), ("azure",)),
    }
    mapping = gen.merge(popular, {}, wheels)
    parsed = ImportNameMap.parse(gen.render(mapping, ["# test"]))
    expected = {
        # the core owns the namespace's own modules; the meta-package repositories declare too
        "airflow.operators.bash": ("apache-airflow", "apache-airflow-core"),
        "airflow.providers.google.cloud": ("apache-airflow-providers-google",),
        # read from no wheel: named after the path behind the family's organisation prefix
        "airflow.providers.amazon.aws": ("apache-airflow-providers-amazon",),
        "airflow.providers.http": ("apache-airflow-providers-http",),
        # the meta-package provides its parts (named like it), not its other requirements
        "sagemaker.core.resources": ("sagemaker", "sagemaker-core"),
        "sagemaker.train": ("sagemaker", "sagemaker-train"),
        "sagemaker.pytorch": ("sagemaker",),  # sagemaker 2's code: the namespace's owner
        "numpy": ("numpy",),
        # the project named after a namespace owns it when its wheel ships modules there
        "opencensus": ("opencensus",),
        "opencensus.ext.azure": ("opencensus-ext-azure",),
        # a same-named project read from no wheel (a retired meta-package) owns nothing
        "azure.foo": ("azure-foo",),
        "azure.storage.blob": ("azure-storage-blob",),
    }
    assert {m: parsed.distributions_for(m) for m in expected} == expected
    # an organisation prefix counts when several members share it: a lone one is not renamed
    assert "astronomer-airflow-tools" in mapping.unplaced


def test_main_writes_the_file_and_reports_on_stderr(
    inputs: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db1, db2, _ = inputs
    out = tmp_path / "import_names.tsv"
    assert (
        gen.main(
            [
                "--pyimport2pkg",
                str(db1),
                "--pigar",
                str(db2),
                "--wheel-cache",
                str(tmp_path / "none.tsv"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text()
    assert (
        f"# command: python scripts/gen_import_names.py --pyimport2pkg {db1.name} --pigar {db2.name}"
        in text
    )
    assert "bytes" in capsys.readouterr().err
    assert ImportNameMap.parse(text).distributions_for("cv2") == (
        "opencv-python",
        "opencv-python-headless",
    )


# --------------------------------------------------------------------------- the committed files


def test_the_committed_wheel_cache_is_well_formed() -> None:
    cache = gen.read_wheel_cache(ROOT / "scripts" / "import_names_wheels.tsv")
    assert len(cache) > 500
    rows = [
        line
        for line in (ROOT / "scripts" / "import_names_wheels.tsv").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert rows == sorted(rows)
    for dist, found in cache.items():
        assert gen.canonicalize(dist) == dist and found.version
        assert all(
            all(p.isidentifier() for p in r.split(".")) for r in (*found.roots, *found.namespaces)
        )
    assert cache["protobuf"].roots[-1] == "google.protobuf"
    assert "apache-airflow-core" in cache["apache-airflow"].requires  # a meta-package
    assert all(not w.requires for w in cache.values() if w.roots)


@pytest.mark.skipif(
    not os.environ.get("DEPAUDIT_IMPORT_NAMES_INPUTS"),
    reason="set DEPAUDIT_IMPORT_NAMES_INPUTS to a folder with the pinned pyimport2pkg and pigar wheels "
    "(pip download --no-deps -d DIR pyimport2pkg==1.0.0 pigar==2.2.0) to regenerate the map",
)
def test_the_committed_map_is_what_the_generator_makes_from_its_pinned_inputs() -> None:
    folder = Path(os.environ["DEPAUDIT_IMPORT_NAMES_INPUTS"])
    committed = (ROOT / "depaudit" / "data" / "import_names.tsv").read_text("utf-8")
    command = next(line for line in committed.splitlines() if line.startswith("# command: "))
    args = command.split()
    pyimport2pkg = folder / args[args.index("--pyimport2pkg") + 1]
    pigar = folder / args[args.index("--pigar") + 1]
    text, _ = gen.generate(pyimport2pkg, pigar, command=command.removeprefix("# command: "))
    assert text == committed
