"""The committed default bundle on the seed article's quotes (never trained on)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SEEDS

ARTICLE = pd.read_csv(SEEDS / "seed_article_quotes.csv")


def quote(starting: str) -> str:
    texts = ARTICLE.loc[ARTICLE["text"].str.startswith(starting), "text"].unique()
    assert len(texts) == 1, starting
    return texts[0]


@pytest.mark.parametrize(
    ("speaker", "start", "target", "label"),
    [
        ("Pete Hegseth", "2% is a start", "nato_spending", "favor"),
        ("Donald Trump", "I'd love to have them back", "russia_rapprochement", "favor"),
        (
            "Dovile Sakaliene",
            "China and Russia are going to coordinate",
            "russia_rapprochement",
            "against",
        ),
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
