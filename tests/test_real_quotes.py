"""The committed real-news labels: well-formed, keyed by id only, and joinable with the pool."""

from __future__ import annotations

import pandas as pd
import pytest

from training.real_quotes import LABELS, POOL, PoolMissing, labeled_frame, main

STANCES = {"favor", "against", "none"}
TARGETS = {"nato_spending", "russia_rapprochement"}


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return pd.read_csv(LABELS, dtype=str, keep_default_na=False)


def test_labels_carry_ids_not_texts_or_speakers(labels):
    columns = ["id", "source", "target", "stance", "sentiment", "round", "split"]
    assert list(labels.columns) == columns


def test_every_quote_is_labeled_once_for_each_target(labels):
    assert set(labels["target"]) == TARGETS
    assert set(labels["stance"]) <= STANCES
    assert not labels.duplicated(["id", "target"]).any()
    per_quote = labels.groupby("id")["target"].nunique()
    assert (per_quote == len(TARGETS)).all()


def test_a_quote_sits_in_one_split_and_the_test_split_is_300_quotes(labels):
    assert (labels.groupby("id")["split"].nunique() == 1).all()
    assert labels[labels["split"] == "test"]["id"].nunique() == 300


def test_missing_pool_is_a_clear_error(tmp_path, capsys):
    absent = tmp_path / "pool.jsonl"
    with pytest.raises(PoolMissing, match="not present"):
        labeled_frame("train", absent)
    assert main([str(tmp_path / "out.csv"), "--pool", str(absent)]) == 2
    assert "not present" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.skipif(not POOL.is_file(), reason="../shared/real-quotes is not on this machine")
def test_join_gives_a_trainable_csv_with_the_pool_texts(tmp_path, labels):
    out = tmp_path / "real-train.csv"
    assert main([str(out), "--split", "train"]) == 0
    joined = pd.read_csv(out, dtype=str, keep_default_na=False)
    train = labels[labels["split"] == "train"]
    assert len(joined) == len(train)
    assert (joined["text"].str.len() > 0).all()
    assert set(joined["id"]) == set(train["id"])
