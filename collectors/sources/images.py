"""What an image reference says about the runtime: OS, Python, CUDA (from official tags).

Shared by the Dockerfile, compose and Kubernetes sources. Everything here is inferred from
the *name* of an image (nothing is pulled), so each fact says so in ``detail``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from depaudit.model import Runtime

_DEBIAN_CODENAMES = {
    "trixie": "13",
    "bookworm": "12",
    "bullseye": "11",
    "buster": "10",
    "stretch": "9",
    "jessie": "8",
}
_UBUNTU_CODENAMES = {
    "noble": "24.04",
    "mantic": "23.10",
    "lunar": "23.04",
    "jammy": "22.04",
    "focal": "20.04",
    "bionic": "18.04",
    "xenial": "16.04",
}
# Official images built on Debian whose tags without a codename use the current default.
# python:3.X-slim has been bookworm (Debian 12) since mid-2023.
_DEBIAN_DEFAULT_REPOS = frozenset({"python", "debian", "buildpack-deps", "node", "golang", "rust"})
_DEBIAN_DEFAULT = "12"


@dataclass(frozen=True, slots=True)
class ImageRef:
    """``registry/repo:tag@digest`` split into parts; ``repo`` without ``docker.io/library/``."""

    repo: str
    tag: str
    digest: str

    @property
    def basename(self) -> str:
        return self.repo.rsplit("/", 1)[-1].lower()

    @property
    def value(self) -> str:
        text = self.repo + (f":{self.tag}" if self.tag else "")
        return text + (f"@{self.digest}" if self.digest else "")


def parse_image(image: str) -> ImageRef | None:
    """Split an image reference; None for empty / unresolved (``${BASE}``) references."""
    image = image.strip()
    if not image or "$" in image or "{" in image or any(c.isspace() for c in image):
        return None
    name, _, digest = image.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repo_tail, _, tag = last.partition(":")
        name = name[: len(name) - len(last)] + repo_tail
    for prefix in ("docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if not tag and not digest and name != "scratch":
        tag = "latest"
    return ImageRef(repo=name, tag=tag, digest=digest)


def infer_os(ref: ImageRef) -> str:
    """``debian 12``, ``ubuntu 22.04``, ``alpine 3.19``... or "" when the tag does not say."""
    tag = ref.tag.lower()
    base = ref.basename
    alpine = re.search(r"alpine(\d+\.\d+)?", tag)
    if alpine or base == "alpine":
        version = alpine.group(1) if alpine and alpine.group(1) else ""
        if base == "alpine" and re.match(r"^\d+\.\d+", tag):
            version = re.match(r"^(\d+\.\d+)", tag).group(1)  # type: ignore[union-attr]
        return f"alpine {version}".strip()
    # in the tag (nvidia/cuda:12.1.0-runtime-ubuntu22.04) or the image's name
    # (mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04)
    ubuntu = re.search(r"ubuntu(\d\d\.\d\d)", f"{base}-{tag}")
    if ubuntu:
        return f"ubuntu {ubuntu.group(1)}"
    debian = re.search(r"debian(\d+)", f"{base}-{tag}")  # distroless/python3-debian12
    if debian:
        return f"debian {debian.group(1)}"
    for codename, version in _UBUNTU_CODENAMES.items():
        if re.search(rf"(^|[-_.]){codename}($|[-_.])", tag):
            return f"ubuntu {version}"
    for codename, version in _DEBIAN_CODENAMES.items():
        if re.search(rf"(^|[-_.]){codename}($|[-_.])", tag):
            return f"debian {version}"
    if base == "ubuntu":
        match = re.match(r"^(\d\d\.\d\d)", tag)
        return f"ubuntu {match.group(1)}" if match else "ubuntu"
    if base == "debian":
        match = re.match(r"^(\d+)", tag)
        return f"debian {match.group(1)}" if match else f"debian {_DEBIAN_DEFAULT}"
    ubi = re.search(r"(?:^|-)(ubi|rockylinux|centos)(\d+)", tag)
    if ubi:
        family = {"ubi": "rhel", "rockylinux": "rocky", "centos": "centos"}[ubi.group(1)]
        return f"{family} {ubi.group(2)}"
    if base in ("rockylinux", "centos", "almalinux", "fedora", "amazonlinux"):
        match = re.match(r"^(\d+)", tag)
        return f"{base} {match.group(1)}" if match else base
    if base in ("ubi8", "ubi9") or base.startswith(("ubi8-", "ubi9-")):
        return f"rhel {base[3]}"
    if base in _DEBIAN_DEFAULT_REPOS and "windowsservercore" not in tag:
        return f"debian {_DEBIAN_DEFAULT}"
    if ref.repo in (
        "pytorch/pytorch",
        "tensorflow/tensorflow",
        "huggingface/transformers-pytorch-gpu",
    ):
        return "ubuntu"
    return ""


def infer_python(ref: ImageRef) -> str:
    """``3.10`` from ``python:3.10-slim`` / ``...:python3.11`` / ``...-py310``; else ""."""
    tag = ref.tag.lower()
    if ref.basename == "python" or ref.basename.startswith("python3"):
        match = re.match(r"^(\d)\.(\d+)", tag)
        if match:
            return f"{match.group(1)}.{match.group(2)}"
        match = re.match(r"^python(\d)\.(\d+)", ref.basename)
        if match:
            return f"{match.group(1)}.{match.group(2)}"
        return ""
    match = re.search(r"(?:^|[-_])python-?(\d)\.(\d+)", tag)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    match = re.search(r"(?:^|[-_])py(3)(\d{1,2})(?:$|[-_])", tag)
    if match:
        return f"{match.group(1)}.{match.group(2)}"
    return ""


def infer_cuda(ref: ImageRef) -> tuple[str, str] | None:
    """(version, flavour) for CUDA images: nvidia/cuda, pytorch/pytorch, ``-cudaX.Y`` tags.

    The flavour is ``devel`` (full toolchain: nvcc, headers), ``runtime``, ``base`` or "".
    """
    tag = ref.tag.lower()
    flavour_match = re.search(r"(?:^|[-_])(devel|runtime|base)(?:$|[-_])", tag)
    flavour = flavour_match.group(1) if flavour_match else ""
    if ref.basename == "cuda" and ref.repo.lower().endswith(("nvidia/cuda", "cuda")):
        match = re.match(r"^(\d+\.\d+(?:\.\d+)?)", tag)
        if match:
            return match.group(1), flavour
        return None
    match = re.search(r"(?:^|[-_])cuda-?(\d+\.\d+(?:\.\d+)?)", tag)
    if match:
        return match.group(1), flavour
    match = re.search(r"(?:^|[-_])cu(\d{2})(\d)(?:$|[-_])", tag)  # e.g. 2.1.0-cu121
    if match:
        return f"{match.group(1)}.{match.group(2)}", flavour
    return None


def runtime_facts(
    image: str, *, file: str, line: int, scope: str = "", with_base: bool = True
) -> list[Runtime]:
    """Runtime facts an image reference implies: base_image, os, python, cuda."""
    ref = parse_image(image)
    if ref is None:
        return []
    out: list[Runtime] = []
    if with_base:
        out.append(Runtime("base_image", ref.value, file, line, scope=scope))
    os_name = infer_os(ref)
    if os_name:
        out.append(
            Runtime("os", os_name, file, line, scope=scope, detail="inferred from image tag")
        )
    python = infer_python(ref)
    if python:
        out.append(
            Runtime("python", python, file, line, scope=scope, detail="inferred from image tag")
        )
    cuda = infer_cuda(ref)
    if cuda:
        out.append(Runtime("cuda", cuda[0], file, line, scope=scope, detail=cuda[1]))
    return out


__all__ = ["ImageRef", "infer_cuda", "infer_os", "infer_python", "parse_image", "runtime_facts"]
