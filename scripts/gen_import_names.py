"""Generate ``depaudit/data/import_names.tsv``: import names -> the distributions that provide them.

Run by a developer (never while collecting); offline once its inputs are on disk::

    pip download --no-deps -d /tmp/in pyimport2pkg==1.0.0 pigar==2.2.0
    python scripts/gen_import_names.py \\
        --pyimport2pkg /tmp/in/pyimport2pkg-1.0.0-py3-none-any.whl \\
        --pigar /tmp/in/pigar-2.2.0-py3-none-any.whl

Sources, each a maintained package pinned by version and recorded in the output header:

1. pyimport2pkg's ``data/mapping.db``: the 15,000 most-downloaded PyPI projects (hugovk's
   top-pypi-packages list, 30 days) with their download counts and the top-level import
   names read from their wheels. It decides which projects are in the map and their order.
2. pigar's ``.db.sqlite3``: the ``top_level.txt`` names of every PyPI project's latest
   release. Used only for the projects of (1): it adds private modules (``_yaml``,
   ``_pytest``) and corrects (1) where (1) fell back to the project name (python-ldap
   provides ``ldap``, not ``python_ldap``).
3. ``scripts/import_names_wheels.tsv``: import roots read from the file lists of real wheels
   (``--wheels DIR`` refreshes it). Both databases stop at the top-level name, which says
   nothing about namespace packages (``google``, ``azure``, ``opentelemetry`` are shared by
   hundreds of distributions); a wheel's file list says exactly which sub-packages it owns
   (protobuf owns ``google.protobuf``, google-auth ``google.auth`` and ``google.oauth2``).
   A wheel that installs no module is a meta-package (apache-airflow 3 requires
   apache-airflow-core, sagemaker 3 its sagemaker-* parts): its requirements are kept, and it
   provides what they provide, since repositories declare it (and its older releases shipped
   the code themselves).

Namespace distributions with no wheel in (3) are matched by the convention every namespace
family follows: the distribution is named after its import path (``google-cloud-bigquery``
for ``google.cloud.bigquery``), possibly behind an organisation's prefix
(``apache-airflow-providers-amazon`` for ``airflow.providers.amazon``). Those entries are
written with a hyphenated key so that a reader never mistakes them for a read import path.

The output is deterministic: the same inputs give the same bytes (tests check it).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sqlite3
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "depaudit" / "data" / "import_names.tsv"
DEFAULT_WHEEL_CACHE = ROOT / "scripts" / "import_names_wheels.tsv"

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Folders that careless wheels install at the top level of site-packages (272 of the 15,000
# projects ship a ``tests`` package). No project is *imported* under these names, and keeping
# them would make ``import tests`` look like a use of hundreds of unrelated distributions.
# A name stays when a distribution of exactly that name provides it (the ``utils`` project).
GENERIC_FOLDERS = frozenset(
    {
        "app", "assets", "base", "benchmark", "benchmarks", "bin", "build", "build_tools",
        "ci", "cli", "common", "config", "conftest", "core", "data", "demo", "demos", "dist",
        "doc", "docs", "example", "examples", "exceptions", "images", "include",
        "integration_tests", "lib", "lib64", "licenses", "main", "misc", "node_modules",
        "resources", "results", "sample", "samples", "scripts", "setup", "src", "test",
        "testing", "tests", "third_party", "tools", "tutorials", "util", "utils", "version",
        "web", "website", "wheelhouse",
    }
)  # fmt: skip
# Suffixes that name a build of a namespace distribution, not a module:
# snowflake-connector-python -> snowflake.connector, nvidia-cublas-cu12 -> nvidia.cublas.
BUILD_SUFFIX = re.compile(r"-(python|py|cu\d+)$")
_EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\..*(so|pyd)$")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonicalize(name: str) -> str:
    """PEP 503 normalised name (``Foo_Bar.baz`` -> ``foo-bar-baz``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- wheels


@dataclass(frozen=True, slots=True)
class WheelRoots:
    """What one wheel installs: the import paths it owns and the namespaces it extends."""

    distribution: str  # canonical
    version: str
    roots: tuple[str, ...]  # dotted, sorted
    namespaces: tuple[str, ...] = ()  # dotted package dirs it shares (no regular __init__)
    requires: tuple[str, ...] = ()  # a meta-package's (no file) requirements, canonical


def _is_namespace_init(data: bytes) -> bool:
    # pkgutil / pkg_resources style namespace packages keep an __init__.py that only extends
    # __path__ (old azure-* and google-* wheels): the folder is shared all the same.
    return len(data) < 4096 and (b"extend_path" in data or b"declare_namespace" in data)


def _module_path(name: str) -> tuple[str, ...] | None:
    """Dotted parts of an importable file of a wheel, None for anything else."""
    parts = name.split("/")
    if not parts or not parts[-1]:
        return None
    head = parts[0]
    if head.endswith(".dist-info"):
        return None
    if head.endswith(".data"):
        if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
            return None  # scripts, headers, data files
        parts = parts[2:]
    leaf = parts[-1]
    if leaf.endswith(".py"):
        stem = leaf[:-3]
    else:
        match = _EXTENSION.match(leaf)
        if not match:
            return None
        stem = match.group(1)
    dirs = parts[:-1]
    if not all(IDENTIFIER.match(p) for p in dirs) or not IDENTIFIER.match(stem):
        return None
    return (*dirs, stem)


def wheel_roots(path: Path) -> WheelRoots:
    """The import roots a wheel owns, read from its file list (nothing is executed).

    A package folder with a regular ``__init__`` is a root; a folder without one (PEP 420)
    or with a namespace-only ``__init__.py`` is a namespace, and its children are the roots.
    """
    with zipfile.ZipFile(path) as archive:
        meta = next(
            (
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ),
            None,
        )
        if meta is None:
            raise ValueError(f"{path}: not a wheel (no .dist-info/METADATA)")
        headers = HeaderParser().parsestr(archive.read(meta).decode("utf-8", "replace"))
        dist, version = canonicalize(headers["Name"] or ""), headers["Version"] or ""
        modules: set[tuple[str, ...]] = set()
        packages: set[tuple[str, ...]] = set()  # folders with a regular __init__
        names = archive.namelist()
        for name in names:
            parts = _module_path(name)
            if parts is None or any("__mypyc" in p for p in parts):  # mypyc build helpers
                continue
            if parts[-1] == "__init__":
                package = parts[:-1]
                if package and not (
                    name.endswith(".py") and _is_namespace_init(archive.read(name))
                ):
                    packages.add(package)
                continue
            modules.add(parts)
    folders: set[tuple[str, ...]] = {m[:i] for m in modules for i in range(1, len(m))}
    folders |= {p[:i] for p in packages for i in range(1, len(p) + 1)}
    roots: set[str] = set()
    namespaces: set[str] = set()

    def visit(prefix: tuple[str, ...]) -> None:
        if prefix in packages or prefix not in folders:
            roots.add(".".join(prefix))  # a regular package or a plain module
            return
        namespaces.add(".".join(prefix))
        children = {p[: len(prefix) + 1] for p in folders | modules if p[: len(prefix)] == prefix}
        for child in sorted(children - {prefix}):
            visit(child)

    for top in sorted({p[:1] for p in folders | modules}):
        visit(top)
    # a meta-package installs nothing but its requirements (a wheel of headers, libraries or
    # scripts with no module is not one: cmeel-boost requires numpy, it does not provide it)
    empty = all(".dist-info/" in n or n.endswith("/") for n in names)
    requires = _requirements(headers.get_all("Requires-Dist") or []) if empty else ()
    return WheelRoots(dist, version, tuple(sorted(roots)), tuple(sorted(namespaces)), requires)


def _requirements(lines: Iterable[str]) -> tuple[str, ...]:
    """Names a wheel always requires (not those of an extra), canonical and sorted."""
    out: set[str] = set()
    for line in lines:
        _, _, marker = line.partition(";")
        match = _REQUIREMENT_NAME.match(line)
        if match and "extra" not in marker:
            out.add(canonicalize(match.group(1)))
    return tuple(sorted(out))


def read_wheel_cache(path: Path) -> dict[str, WheelRoots]:
    out: dict[str, WheelRoots] = {}
    if not path.exists():
        return out
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            raise ValueError(f"{path}:{number}: expected 5 tab-separated fields")
        dist, version, roots, namespaces, requires = fields
        out[dist] = WheelRoots(
            dist, version, tuple(roots.split()), tuple(namespaces.split()), tuple(requires.split())
        )
    return out


def write_wheel_cache(path: Path, wheels: Mapping[str, WheelRoots]) -> None:
    lines = [
        "# Import roots read from the file lists of real wheels by scripts/gen_import_names.py",
        "# (--wheels DIR). Refresh: pip download --no-deps -d DIR NAME==VERSION for the rows below,",
        "# then run the generator with --wheels DIR. Columns: distribution, version, import roots,",
        "# namespace folders the wheel shares with other distributions, and the requirements of a",
        "# meta-package (a wheel with no module).",
    ]
    for dist in sorted(wheels):
        w = wheels[dist]
        lines.append(
            "\t".join(
                [
                    w.distribution,
                    w.version,
                    *(" ".join(x) for x in (w.roots, w.namespaces, w.requires)),
                ]
            )
        )
    path.write_text("\n".join(lines) + "\n", "utf-8")


# --------------------------------------------------------------------------- databases


@dataclass(slots=True)
class Source:
    """A pinned package whose database is an input, for the header."""

    name: str
    version: str
    member: str
    sha256: str
    detail: str = ""


def _extract(package: Path, member_suffix: str, tmp: Path) -> tuple[Path, str, str]:
    """(database file, package name, version) from a wheel, or the database given directly."""
    if package.suffix != ".whl":
        return package, package.name, ""
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
        member = next((n for n in names if n.endswith(member_suffix)), None)
        meta = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
        if member is None or meta is None:
            raise ValueError(f"{package}: has no {member_suffix}")
        headers = HeaderParser().parsestr(archive.read(meta).decode("utf-8", "replace"))
        target = tmp / Path(member).name
        target.write_bytes(archive.read(member))
        return target, headers["Name"] or package.name, headers["Version"] or ""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(slots=True)
class Popular:
    """The most-downloaded projects and the top-level names their wheels install."""

    downloads: dict[str, int] = field(default_factory=dict)  # canonical -> 30-day downloads
    modules: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    built: str = ""
    list_url: str = ""


def read_pyimport2pkg(db: Path) -> Popular:
    out = Popular()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        for name, count in conn.execute("SELECT package_name, download_count FROM packages"):
            out.downloads[canonicalize(name)] = int(count or 0)
        for module, name in conn.execute("SELECT module_name, package_name FROM mappings"):
            dist = canonicalize(name)
            if dist in out.downloads and IDENTIFIER.match(module):
                out.modules[dist].add(module)
        meta = dict(conn.execute("SELECT key, value FROM metadata").fetchall())
    out.built = str(meta.get("last_build", ""))
    out.list_url = str(meta.get("source", ""))
    return out


def read_pigar(db: Path, wanted: Iterable[str]) -> dict[str, set[str]]:
    """Top-level names per project, for the ``wanted`` (canonical) projects only."""
    wanted = set(wanted)
    out: dict[str, set[str]] = defaultdict(set)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT d.name, t.name FROM top_level_module_names t "
            "JOIN distributions d ON d.id = t.distribution_id"
        )
        for name, module in rows:
            dist = canonicalize(name)
            if dist in wanted and IDENTIFIER.match(module) and not _private_artifact(module):
                out[dist].add(module)
    return out


def _private_artifact(module: str) -> bool:
    # mypyc's hashed helper modules and dunder placeholders are build artefacts, never imported
    return "__mypyc" in module or (module.startswith("__") and module.endswith("__"))


# --------------------------------------------------------------------------- merging


@dataclass(slots=True)
class MergedMap:
    """The merged map, ready to render."""

    exact: dict[str, list[str]] = field(default_factory=dict)  # dotted prefix -> dists
    namespaces: dict[str, list[str]] = field(default_factory=dict)  # dotted -> owners
    conventional: dict[str, list[str]] = field(default_factory=dict)  # hyphenated -> dists
    unplaced: list[str] = field(default_factory=list)  # namespace dists with no derivable path
    identities: int = 0  # "numpy provides numpy" entries left to the runtime fallback


def _generic(dotted: str, dists: Iterable[str]) -> bool:
    top = dotted.split(".", 1)[0]
    return top in GENERIC_FOLDERS and canonicalize(top) not in set(dists)


def _under(key: str, prefix: str) -> bool:
    return key.startswith(prefix + ".")


def _words(name: str) -> set[str]:
    return set(name.split("-")) - {"python", "py"}


def _conventional_key(dist: str, prefix: str, organised: bool) -> str | None:
    """The import path a namespace distribution is named after, hyphenated, or None:
    ``google-cloud-bigquery`` is itself; in an ``organised`` family (an organisation's name
    before the namespace's), ``apache-airflow-providers-amazon`` is ``airflow-providers-amazon``."""
    if dist.startswith(prefix):
        return dist
    at = dist.find("-" + prefix) if organised else -1
    return dist[at + 1 :] if at >= 0 else None


def merge(
    popular: Popular, pigar: Mapping[str, set[str]], wheels: Mapping[str, WheelRoots]
) -> MergedMap:
    rank = popular.downloads

    def ordered(dists: Iterable[str]) -> list[str]:
        # most downloaded first: scikit-learn before the placeholder project "sklearn"
        return sorted(set(dists), key=lambda d: (-rank.get(d, 0), d))

    # 1. top-level names per popular project (a wheel replaces the databases for its project)
    providers: dict[str, set[str]] = defaultdict(set)
    for dist in rank:
        if dist in wheels:
            continue
        own = set(popular.modules.get(dist, ()))
        real = pigar.get(dist, set())
        guessed = dist.replace("-", "_")
        # pyimport2pkg falls back to the project name when it could not read a wheel; pigar's
        # top_level.txt then knows better (python-ldap installs ldap, not python_ldap).
        if real and guessed in own and guessed not in real:
            own.discard(guessed)
        for module in own | real:
            providers[module].add(dist)

    # 2. what real wheels say: exact roots and which folders are namespaces
    roots: dict[str, set[str]] = defaultdict(set)
    namespaces: set[str] = set()
    for dist, wheel in wheels.items():
        if dist not in rank:
            continue
        for root in wheel.roots:
            roots[root].add(dist)
        namespaces.update(n for n in wheel.namespaces if not _generic(n, ()))
    # a folder one wheel installs as a regular package and others extend as a namespace
    # (airflow by apache-airflow, airflow.providers.* by the providers) is owned by the first
    owners = {n: set(roots.pop(n)) for n in namespaces if n in roots}
    top_namespaces = {n for n in namespaces if "." not in n}

    exact: dict[str, set[str]] = {}
    for module, dists in providers.items():
        if module not in top_namespaces:
            exact[module] = set(dists)
    for root, dists in roots.items():
        exact.setdefault(root, set()).update(dists)
    for key in [k for k in exact if k.split(".", 1)[0] in GENERIC_FOLDERS]:
        # only the project of that very name (utils) provides a generic folder name
        if "." in key or not (keep := {d for d in exact[key] if d == canonicalize(key)}):
            del exact[key]
        else:
            exact[key] = keep

    # 3. namespace members known only by their top-level name: the naming convention
    claimed = {d for dists in roots.values() for d in dists}
    conventional: dict[str, set[str]] = defaultdict(set)
    unplaced: set[str] = set()
    for ns in top_namespaces:
        prefix = canonicalize(ns) + "-"
        members = sorted(providers.get(ns, set()) - claimed - owners.get(ns, set()))
        # a family names its distributions one way: google-cloud-*, or apache-airflow-providers-*
        # for airflow (then google's old grpc-google-* / proto-google-* are not renamed); an
        # organisation's prefix counts when several members share it
        organisations = Counter(d.partition("-" + prefix)[0] for d in members if "-" + prefix in d)
        plain = any(d.startswith(prefix) for d in members)
        for dist in members:
            organisation = dist.partition("-" + prefix)[0]
            organised = not plain and organisations[organisation] >= 2
            named = _conventional_key(dist, prefix, organised)
            if named is None:
                unplaced.add(dist)
                continue
            for key in {named, BUILD_SUFFIX.sub("", named)}:
                if key.startswith(prefix):
                    conventional[key].add(dist)

    # the project named after a namespace owns it when its wheel ships modules there
    # (opencensus: ``from opencensus.trace import tracer`` and ``import opencensus``); an
    # unread one may be a retired meta-package (azure), so the family's convention decides
    for ns in top_namespaces:
        own = canonicalize(ns)
        if any(own in dists for root, dists in roots.items() if _under(root, ns)):
            owners.setdefault(ns, set()).add(own)

    # 4. a "namespace" that only one distribution fills is that distribution's package (a
    # project that forgot its __init__.py, or googleapis-common-protos' google.api)
    for ns in sorted(namespaces, key=lambda n: -n.count(".")):
        inside = {k: d for k, d in exact.items() if _under(k, ns)}
        fillers = {d for dists in inside.values() for d in dists} | owners.get(ns, set())
        fillers |= {
            d for k, ds in conventional.items() if k.startswith(canonicalize(ns) + "-") for d in ds
        }
        if "." not in ns:
            fillers |= providers.get(ns, set()) - claimed
        deeper = any(_under(n, ns) for n in namespaces)
        if deeper or len(fillers) != 1 or any(d != fillers for d in inside.values()):
            continue
        namespaces.discard(ns)
        for key in inside:
            del exact[key]
        exact[ns] = fillers
        owners.pop(ns, None)

    # 5. a meta-package provides what its parts provide (the requirements named like it:
    # llama-index's llama-index-core, not its nltk); it owns the namespace of its own name that
    # they fill (``import sagemaker`` is sagemaker 2's code)
    for meta, wheel in sorted(wheels.items()):
        parts = {r for r in wheel.requires if r != meta and _words(r) & _words(meta)}
        if meta not in rank or wheel.roots or not parts:
            continue
        for table in (exact, conventional):
            for dists in table.values():
                if dists & parts:
                    dists.add(meta)
        for ns in namespaces:
            own = canonicalize(ns)
            if meta != own and not meta.endswith("-" + own):
                continue
            inside = [d for k, d in exact.items() if _under(k, ns)]
            inside += [d for k, d in conventional.items() if k.startswith(own + "-")]
            if owners.get(ns, set()) & parts or any(d & parts for d in inside):
                owners.setdefault(ns, set()).add(meta)

    out = MergedMap(unplaced=sorted(unplaced))
    for key, dists in exact.items():
        if "." not in key and dists == {canonicalize(key)}:
            out.identities += 1  # the runtime fallback says the same
            continue
        out.exact[key] = ordered(dists)
    out.namespaces = {n: ordered(owners.get(n, ())) for n in namespaces}
    out.conventional = {k: ordered(d) for k, d in conventional.items()}
    return out


# --------------------------------------------------------------------------- rendering


FORMAT_NOTE = """\
# format: one line per import prefix, sorted, fields separated by one TAB:
#   <dotted.import.prefix> TAB <distribution> <distribution> ...   most downloaded first; any of
#       them provides the prefix and every module under it (cv2: opencv-python, -headless, ...)
#   <dotted.prefix> TAB * [<owner> ...]   a namespace package several distributions share; look
#       deeper, and fall back to the owners (the distribution whose regular package it is)
#   <hyphenated-key> TAB <distribution>   a distribution inside a namespace, named after its import
#       path by the namespace's convention: matches an import whose dotted prefix canonicalises
#       (PEP 503) to the key (google-cloud-bigquery: google.cloud.bigquery)"""


def render(mapping: MergedMap, header: Sequence[str]) -> str:
    lines: list[str] = []
    for key, dists in mapping.exact.items():
        lines.append(f"{key}\t{' '.join(dists)}")
    for key, dists in mapping.namespaces.items():
        lines.append(f"{key}\t{' '.join(['*', *dists])}")
    for key, dists in mapping.conventional.items():
        lines.append(f"{key}\t{' '.join(dists)}")
    lines.sort()
    counts = (
        f"# entries: {len(lines)} ({len(mapping.exact)} import prefixes, "
        f"{len(mapping.namespaces)} namespaces, {len(mapping.conventional)} named by convention); "
        f"{mapping.identities} top-level names provided only by the distribution of the same "
        "name are left out: the lookup's fallback gives that answer"
    )
    return "\n".join([*header, FORMAT_NOTE, counts, *lines]) + "\n"


def header_lines(
    sources: Sequence[Source], popular: Popular, wheels: Mapping[str, WheelRoots], command: str
) -> list[str]:
    lines = [
        "# depaudit: import name -> distribution map. GENERATED, do not edit by hand.",
        f"# command: {command}",
        "# sources:",
    ]
    for s in sources:
        lines.append(f"#   {s.name} {s.version} {s.member} sha256:{s.sha256[:16]}")
        if s.detail:
            lines.append(f"#     {s.detail}")
    lines.append(
        f"#   scripts/import_names_wheels.tsv: import roots from the file lists of "
        f"{sum(1 for d in wheels if d in popular.downloads)} real wheels (namespace packages)"
    )
    lines.append(f"# date: {popular.built[:10]} (download ranking and wheel scan of source 1)")
    return lines


# --------------------------------------------------------------------------- main


def generate(
    pyimport2pkg: Path,
    pigar: Path,
    *,
    wheel_cache: Path = DEFAULT_WHEEL_CACHE,
    wheel_dirs: Sequence[Path] = (),
    command: str = "",
) -> tuple[str, MergedMap]:
    """The data file's text (and the merged map, for reporting) from the pinned inputs."""
    with tempfile.TemporaryDirectory() as tmp:
        db1, name1, version1 = _extract(pyimport2pkg, "data/mapping.db", Path(tmp))
        db2, name2, version2 = _extract(pigar, ".db.sqlite3", Path(tmp))
        popular = read_pyimport2pkg(db1)
        pigar_names = read_pigar(db2, popular.downloads)
        sources = [
            Source(
                name1,
                version1,
                "data/mapping.db",
                _sha256(db1),
                f"{len(popular.downloads)} most-downloaded PyPI projects ({popular.list_url}) "
                f"and the top-level names of their wheels",
            ),
            Source(
                name2,
                version2,
                ".db.sqlite3",
                _sha256(db2),
                "top_level.txt of every PyPI project's latest release (used for the projects above)",
            ),
        ]
    wheels = read_wheel_cache(wheel_cache)
    if wheel_dirs:
        for directory in wheel_dirs:
            for path in sorted(directory.glob("*.whl")):
                found = wheel_roots(path)
                if found.distribution in popular.downloads:
                    wheels[found.distribution] = found
        write_wheel_cache(wheel_cache, wheels)
    mapping = merge(popular, pigar_names, wheels)
    text = render(mapping, header_lines(sources, popular, wheels, command))
    return text, mapping


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--pyimport2pkg", type=Path, required=True, help="its wheel (1.0.0)")
    parser.add_argument("--pigar", type=Path, required=True, help="its wheel (2.2.0)")
    parser.add_argument(
        "--wheels",
        type=Path,
        action="append",
        default=[],
        help="refresh the wheel cache from the wheels in DIR",
    )
    parser.add_argument("--wheel-cache", type=Path, default=DEFAULT_WHEEL_CACHE)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    command = (
        "python scripts/gen_import_names.py "
        f"--pyimport2pkg {args.pyimport2pkg.name} --pigar {args.pigar.name}"
    )
    text, mapping = generate(
        args.pyimport2pkg,
        args.pigar,
        wheel_cache=args.wheel_cache,
        wheel_dirs=args.wheels,
        command=command,
    )
    args.output.write_text(text, "utf-8")
    print(
        f"{args.output}: {len(text.encode())} bytes; namespace distributions with no derivable "
        f"import path (left to the runtime fallback): {len(mapping.unplaced)}",
        file=sys.stderr,
    )
    return 0


def iter_entries(text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(key, values) of a rendered file, for checks."""
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, values = line.partition("\t")
            yield key, tuple(values.split())


if __name__ == "__main__":
    raise SystemExit(main())
