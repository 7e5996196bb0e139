"""The committed default bundle on the seed article's quotes (never trained on)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SEED_ARTICLE, SEEDS

ARTICLE = pd.read_csv(SEEDS / "seed_article_quotes.csv")
# Errors of the default model trained with the real news labels (issue 14), kept visible: strict
# xfail, so a model that reads them right fails here until the mark is removed. Every recipe
# candidate measured on the real dev split makes them (docs/training.md, "Known errors").
KNOWN_ERROR = "known error of the default model on the seed article (docs/training.md)"
# How quote extraction cuts Donald Trump's reported wish out of the seed article.
REPORTED_G7 = (
    "he would love to have Russia return to the G7 group of advanced economies, and that "
    'expelling the country "was a mistake'
)


def quote(starting: str) -> str:
    texts = ARTICLE.loc[ARTICLE["text"].str.startswith(starting), "text"].unique()
    assert len(texts) == 1, starting
    return texts[0]


@pytest.mark.parametrize(
    ("speaker", "start", "target", "label"),
    [
        ("Pete Hegseth", "2% is a start", "nato_spending", "favor"),
        ("Donald Trump", "I'd love to have them back", "russia_rapprochement", "favor"),
        pytest.param(
            "Dovile Sakaliene",
            "China and Russia are going to coordinate",
            "russia_rapprochement",
            "against",
            marks=pytest.mark.xfail(strict=True, reason=KNOWN_ERROR),
        ),
        pytest.param(
            "Dovile Sakaliene",
            "In a few years, we will be in a situation",
            "russia_rapprochement",
            "against",
            marks=pytest.mark.xfail(strict=True, reason=KNOWN_ERROR),
        ),
        ("Dovile Sakaliene", "We all understand that Ukraine", "russia_rapprochement", "against"),
    ],
)
def test_default_bundle_reads_the_seed_article_quotes(
    default_bundle, speaker, start, target, label
):
    score = default_bundle.model.score([quote(start)], [target])[0]
    assert score.stances[target].label == label, (speaker, score.stances[target])


def test_default_bundle_manifest_describes_both_targets(default_bundle):
    targets = {t["id"]: t for t in default_bundle.manifest["targets"]}
    assert set(targets) == {"nato_spending", "russia_rapprochement"}
    assert all(t["training_counts"]["favor"] >= 120 for t in targets.values())
    assert default_bundle.manifest["metrics"]["folds"] == 5


@pytest.mark.xfail(strict=True, reason=KNOWN_ERROR)
def test_default_bundle_reads_the_reported_wish_for_russia_back_in_the_g7_as_favor(default_bundle):
    assert REPORTED_G7 in SEED_ARTICLE.read_text(encoding="utf-8")
    score = default_bundle.model.score([REPORTED_G7], ["russia_rapprochement"])[0]
    assert score.stances["russia_rapprochement"].label == "favor"
