"""The reader of ``depaudit check``'s stderr listing that the real-world tests rely on.

If the listing's shape changes, these fail first and say so, instead of every fixture
test reporting "no pairs".
"""

from __future__ import annotations

from tests.realworld.rwcheck import CheckResult, parse_assignment

STDERR = """\
environments (conventions):
  lesson_a/training [training, convention]
    lesson_a/requirements.txt  <- shared: project folder lesson_a/ or its shared folder
    lesson_a/train.py  <- convention: file name "train.py"
  lesson_a/app [serving, entrypoint]
    lesson_a/app.py  <- convention: file name "app.py"
  lesson_d/serving [serving, convention]
    lesson_d/serving/main.py  <- convention: folder "lesson_d/serving/"
  not in any environment: requirements.txt, environment.yml
pairs compared:
  lesson_a/training x lesson_a/app  <- both under project folder lesson_a/
  lesson_d/serving is compared with nothing: no training environment in its folder
"""


def test_environments_files_pairs_and_the_rest_are_read() -> None:
    got = parse_assignment(STDERR)
    assert {n: (e.role, e.origin, sorted(e.files)) for n, e in got.environments.items()} == {
        "lesson_a/training": (
            "training",
            "convention",
            ["lesson_a/requirements.txt", "lesson_a/train.py"],
        ),
        "lesson_a/app": ("serving", "entrypoint", ["lesson_a/app.py"]),
        "lesson_d/serving": ("serving", "convention", ["lesson_d/serving/main.py"]),
    }
    assert [(p.training, p.serving, p.reason) for p in got.pairs] == [
        ("lesson_a/training", "lesson_a/app", "both under project folder lesson_a/")
    ]
    assert got.unpaired == {"lesson_d/serving": "no training environment in its folder"}
    assert got.unassigned == ["requirements.txt", "environment.yml"]


def test_no_pairs_line_gives_no_pairs() -> None:
    got = parse_assignment(
        "environments (conventions):\n  t [training, convention]\n    t/a.py  <- x\n"
        "pairs compared: none (a training and a serving environment are needed)\n"
    )
    assert got.pairs == [] and list(got.environments) == ["t"]


def test_pairs_in_the_json_report_win_and_anchor_by_files() -> None:
    assignment = parse_assignment(STDERR)
    report = {
        "findings": [],
        "pairs": [{"training": "lesson_a/training", "serving": "lesson_a/app", "reason": "r"}],
    }
    result = CheckResult(0, "", STDERR, report, assignment)
    assert [(p.training, p.serving, p.reason) for p in result.pairs] == [
        ("lesson_a/training", "lesson_a/app", "r")
    ]
    found, unexpected = result.anchored_pairs(
        {("lesson_a/train.py", "lesson_a/app.py"), ("x.py", "y.py")}
    )
    assert (found, unexpected) == ({("lesson_a/train.py", "lesson_a/app.py")}, [])
