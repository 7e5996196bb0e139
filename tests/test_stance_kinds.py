"""The committed default bundle on kinds of statement issue 14 found misread in real news:
positions given by refusing to save on defence, by calling a level insufficient, or by judging a
target behind a hedge. The quotes here are written for this test, credited to no one, and are in
no training file; seeds/implied_positions.csv holds 63 more of these kinds (an evaluation set,
not trained on: training on them did not help on real news, docs/training.md), and the rules are
in seeds/CODEBOOK.md. Each kind is paired with its opposite, so that a model reading a cue word
alone ("afford", "enough", "ambitious") fails. What the default model misreads is a strict
expected failure, so a model that reads it right is noticed."""

from __future__ import annotations

import pytest

KNOWN_ERROR = "known error kind of the default model (docs/training.md, 'Known errors')"


def known_error(text: str, label: str):
    return pytest.param(text, label, marks=pytest.mark.xfail(strict=True, reason=KNOWN_ERROR))


KINDS = [
    # refusing to save on security = favor; cannot afford more = against
    known_error(
        "Of all the budgets, the one for our soldiers is where we must not economise.", "favor"
    ),
    (
        "With inflation this high, finding yet more money for the military is not possible.",
        "against",
    ),
    # the level is insufficient = favor; the level is plenty = against
    ("What we pledged last year was a floor we have already outgrown; we need more.", "favor"),
    ("Our forces are funded well enough as it is; the increase is not needed.", "against"),
    # judging a spending target, behind a concession
    known_error("Costly, sure, but the new defence spending target is the sensible one.", "favor"),
    ("A fine ambition on paper, but the new spending target is unrealistic for us.", "against"),
    # a budget mentioned without a position
    known_error(
        "The finance committee will hear the defence ministry's spending plans on Monday.", "none"
    ),
]


@pytest.mark.parametrize(("text", "label"), KINDS)
def test_default_bundle_reads_implied_positions_on_defence_spending(default_bundle, text, label):
    score = default_bundle.model.score([text], ["nato_spending"])[0]
    assert score.stances["nato_spending"].label == label, score.stances["nato_spending"]


def test_none_of_these_quotes_is_in_the_training_files():
    import pandas as pd

    from tests.conftest import SEEDS

    trained = set(pd.read_csv(SEEDS / "quotes.csv")["text"])
    texts = {case.values[0] if hasattr(case, "values") else case[0] for case in KINDS}
    assert len(texts) == len(KINDS) and not trained & texts
