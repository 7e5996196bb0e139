"""The stance prior: stance heads corrected from their training frequencies to a declared share
of positions (label shift), in training and in bundles; and evaluation reweighted to a prior."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training import (
    StanceModel,
    load_bundle,
    read_labeled_csv,
    write_bundle,
)
from training.evaluation import report
from training.heads import Heads
from training.scorer import QuoteBatch
from training.scores import STANCE_LABELS

TEXTS = [
    "Allies must lift defence budgets to three percent of GDP without delay.",
    "We should invite Moscow back to the table and ease the sanctions.",
    "The harbour festival opens on Saturday.",
    "Spending more on tanks is a waste while hospitals close.",
]


@pytest.fixture(scope="module")
def small_quotes(small_seed_csv):
    return read_labeled_csv([small_seed_csv])


@pytest.fixture(scope="module")
def batch(small_quotes, embedder):
    texts = [*TEXTS, *small_quotes.frame["text"].unique()[:80]]
    return QuoteBatch(texts, embedder.encode(texts))


def fitted(quotes, embedder, share=None) -> StanceModel:
    return StanceModel(embedder=embedder, calibration_folds=3, position_share=share).fit(quotes)


@pytest.fixture(scope="module")
def plain(small_quotes, embedder):
    return fitted(small_quotes, embedder)


SHARE = 0.9  # more than the small seed set's quotes take (40-75% per target)


@pytest.fixture(scope="module")
def positions_heavy(small_quotes, embedder):
    return fitted(small_quotes, embedder, SHARE)


@pytest.mark.parametrize("target", ["nato_spending", "russia_rapprochement"])
def test_a_position_share_scales_positions_and_none_by_their_prior_over_training_share(
    plain, positions_heavy, small_quotes, batch, target
):
    trained = small_quotes.stance_frequencies()[target]
    positions = trained["favor"] + trained["against"]
    assert 0.4 < positions < 0.75
    ratio = np.array([SHARE / positions, SHARE / positions, (1 - SHARE) / (1 - positions)])
    expected = plain.predict_proba(batch, target) * ratio
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.allclose(positions_heavy.predict_proba(batch, target), expected, atol=1e-12)


def test_a_larger_position_share_calls_more_positions_and_keeps_favor_against_odds(
    plain, positions_heavy, batch
):
    before = plain.predict_proba(batch, "nato_spending")
    after = positions_heavy.predict_proba(batch, "nato_spending")
    none = STANCE_LABELS.index("none")
    # Isotonic calibration gives some quotes P(none) of exactly 0 or 1: no prior moves those.
    open_ = (before[:, none] > 0) & (before[:, none] < 1)
    assert open_.sum() >= 5 and (after[open_, none] < before[open_, none]).all()
    assert (after[~open_, none] == before[~open_, none]).all()
    assert (after.argmax(axis=1) != none).sum() > (before.argmax(axis=1) != none).sum()
    assert np.allclose(after[:, 0] * before[:, 1], after[:, 1] * before[:, 0], atol=1e-12)


def test_the_training_frequencies_as_prior_change_nothing(plain, small_quotes, embedder, batch):
    nato = small_quotes.stance_frequencies()["nato_spending"]
    same = fitted(small_quotes, embedder, nato["favor"] + nato["against"])
    for target in ["nato_spending"]:
        assert np.allclose(
            same.predict_proba(batch, target), plain.predict_proba(batch, target), atol=1e-12
        )


def test_a_bundle_keeps_the_prior_and_records_it(positions_heavy, small_quotes, batch, tmp_path):
    path = write_bundle(positions_heavy, small_quotes, None, tmp_path, "prior")
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["recipe"]["position_share"] == SHARE
    assert "assume that 90% of the quotes scored take a position" in (path / "card.md").read_text()
    loaded = load_bundle("prior", root=tmp_path).model
    for target in positions_heavy.targets:
        assert np.array_equal(
            loaded.predict_proba(batch, target), positions_heavy.predict_proba(batch, target)
        )


def test_heads_files_of_format_1_load_without_a_prior(plain, batch, tmp_path):
    plain.scorer().heads.save(tmp_path / "heads.npz")
    with np.load(tmp_path / "heads.npz") as archive:
        arrays = dict(archive)
    layout = json.loads(str(arrays["layout"]))
    layout["format"] = 1
    for entry in [*layout["stance"].values(), layout["sentiment"]]:
        del entry["prior_ratio"]
    arrays["layout"] = np.array(json.dumps(layout))
    np.savez_compressed(tmp_path / "old.npz", **arrays)
    old = Heads.load(tmp_path / "old.npz")
    assert all(head.prior_ratio is None for head in old.stance.values())
    head = old.stance["nato_spending"]
    assert np.array_equal(
        old.probabilities(head, batch.vectors, old.ngram_blocks(batch.texts, [head])),
        plain.scorer().heads.probabilities(
            plain.scorer().heads.stance["nato_spending"],
            batch.vectors,
            plain.scorer().heads.ngram_blocks(batch.texts, [head]),
        ),
    )


@pytest.mark.parametrize("share", [0, 1, 1.5, -0.2])
def test_a_position_share_outside_0_to_1_is_refused(small_quotes, embedder, share):
    with pytest.raises(ValueError, match="position_share must lie between 0 and 1"):
        fitted(small_quotes, embedder, share)


def test_reweighted_metrics_equal_those_of_data_with_the_prior_frequencies():
    # 2 favor, 2 against, 6 none; reweighted to a third each, every favor and against row counts
    # (1/3) / (2/10) = 5/3 and every none row (1/3) / (6/10) = 5/9: as if each favor and
    # against row were there 15 times and each none row 5 times.
    gold = ["favor"] * 2 + ["against"] * 2 + ["none"] * 6
    predicted = ["favor", "none", "against", "favor", "none"] + ["none", "favor"] + ["none"] * 3
    rows = pd.DataFrame({"target": "t", "stance": gold, "predicted": predicted})
    weighted = report(rows, None, {"t": dict.fromkeys(STANCE_LABELS, 1 / 3)})["stance"]["t"]
    copies = [15 if label != "none" else 5 for label in gold]
    repeated = report(rows.loc[rows.index.repeat(copies)], None)["stance"]["t"]
    assert weighted["f_avg"] == repeated["f_avg"]
    assert weighted["per_class"]["favor"]["precision"] == pytest.approx(
        15 / (15 + 15 + 5), abs=1e-4
    )
    for label in STANCE_LABELS:
        for measure in ("precision", "recall", "f1"):
            assert weighted["per_class"][label][measure] == repeated["per_class"][label][measure]
    plain = report(rows, None)["stance"]["t"]
    assert plain["per_class"]["favor"]["precision"] == pytest.approx(1 / 3, abs=1e-4)


def test_evaluate_gives_the_reweighted_metrics_beside_those_as_labeled(plain, small_quotes):
    from training import evaluate

    prior = {"nato_spending": dict.fromkeys(STANCE_LABELS, 1 / 3)}
    both = evaluate(plain, small_quotes, prior)
    plain_metrics = evaluate(plain, small_quotes)
    assert both["stance"] == plain_metrics["stance"]
    assert set(both["reweighted"]) == {"nato_spending", "russia_rapprochement", "all"}
    assert (
        both["reweighted"]["russia_rapprochement"]
        == plain_metrics["stance"]["russia_rapprochement"]
    )
    assert "reweighted" not in plain_metrics
    supports = [
        both["reweighted"]["nato_spending"]["per_class"][k]["support"] for k in STANCE_LABELS
    ]
    assert max(supports) - min(supports) < 1e-3  # a third of the weight for each label
