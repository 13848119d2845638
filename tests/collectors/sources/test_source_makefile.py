"""Makefile source: the images recipes build, with Make variables and folders resolved."""

from __future__ import annotations

from depaudit.collectors.sources.makefile import SOURCE
from depaudit.model import ImageBuild, ParseError

BOOK_MAKEFILE = """\
ABSOLUTE_PATH := $(shell pwd)
DOCKER_REPOSITORY := shibui/ml-system
BASE_IMAGE ?= $(DOCKER_REPOSITORY):base_text_processing_0.0.1
BASE_IMAGE ?= ignored:later
API_IMAGE = $(DOCKER_REPOSITORY):api_0.0.1

.PHONY: build_base
build_base:
\tdocker build \\
\t\t--platform linux/amd64 \\
\t\t-t $(BASE_IMAGE) \\
\t\t-f $(ABSOLUTE_PATH)/base/Dockerfile \\
\t\t.

build_api:
\t@docker build --build-arg FROM_IMAGE=$(BASE_IMAGE) -t $(API_IMAGE) -f api/Dockerfile .

build_train:
\tcd learn_to_rank && docker buildx build --build-arg=FROM_IMAGE=$(BASE_IMAGE) --tag ltr:train .
\techo "docker build in a string is not a recipe of ours" > /dev/null
"""


def test_recipes_become_image_builds_with_variables_and_folders_resolved() -> None:
    facts = SOURCE.parse(BOOK_MAKEFILE, "chapter3/makefile").facts
    builds = [f for f in facts if isinstance(f, ImageBuild)]
    base = "shibui/ml-system:base_text_processing_0.0.1"
    # $(shell pwd) stays as written: nothing is executed, so that build's file is unknown
    assert [(b.tag, b.dockerfile, b.context, b.args, b.line) for b in builds] == [
        (
            "shibui/ml-system:api_0.0.1",
            "chapter3/api/Dockerfile",
            "chapter3",
            (f"FROM_IMAGE={base}",),
            16,
        ),
        (
            "ltr:train",
            "chapter3/learn_to_rank/Dockerfile",
            "chapter3/learn_to_rank",
            (f"FROM_IMAGE={base}",),
            19,
        ),
    ]


def test_matches_makefiles_and_mk_includes_only() -> None:
    assert SOURCE.matches("Makefile") and SOURCE.matches("a/makefile")
    assert SOURCE.matches("build/docker.mk") and SOURCE.matches("GNUmakefile")
    assert not SOURCE.matches("Makefile.py") and not SOURCE.matches("docs/makefile.md")


def test_bad_input_is_an_error_or_nothing_never_an_exception() -> None:
    assert SOURCE.parse("", "Makefile").facts == ()
    assert isinstance(SOURCE.parse("a\x00b", "Makefile").facts[0], ParseError)
    unbalanced = "x:\n\tdocker build -t 'unterminated -f D .\n"
    (build,) = SOURCE.parse(unbalanced, "Makefile").facts
    assert isinstance(build, ImageBuild)
    outside = "x:\n\tdocker build -f ../elsewhere/Dockerfile ..\n"
    assert SOURCE.parse(outside, "Makefile").facts == ()
    # a recursive variable does not loop
    looping = "A = $(B)\nB = $(A)\nx:\n\tdocker build -t $(A) .\n"
    assert len(SOURCE.parse(looping, "Makefile").facts) == 1
