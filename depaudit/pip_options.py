"""The options of ``pip install`` / ``uv pip install`` that take a value.

The word after one of them is the option's value, never a package: the Dockerfile
source reads install lines with this table and ``depaudit split`` edits them with it,
so both agree on which words are packages.
"""

from __future__ import annotations

PIP_VALUE_OPTIONS = frozenset(
    [
        "-i", "--index-url", "--extra-index-url", "--index", "-f", "--find-links",
        "--trusted-host", "-t", "--target", "--prefix", "--root", "--cache-dir",
        "--platform", "--python-version", "--implementation", "--abi", "--progress-bar",
        "--src", "--upgrade-strategy", "--log", "--timeout", "--retries", "--proxy",
        "--cert", "--client-cert", "--global-option", "--install-option",
        "--config-settings", "-C", "--report", "--python", "-p", "--only-binary",
        "--no-binary", "--exists-action", "--keyring-provider", "--index-strategy",
        "--resolution", "--prerelease", "-r", "--requirement", "-c", "--constraint",
        "-e", "--editable", "--override", "--extra", "--group", "-b",
        "--build-constraint", "-w", "--wheel-dir", "-d", "--dest",
    ]
)  # fmt: skip
