"""Training, bundles on disk, verification before unpickling, determinism."""

from __future__ import annotations

import json
import shutil

import joblib
import numpy as np
import pytest

from training import (
    BundleError,
    Embedder,
    StanceModel,
    UnknownTargetError,
    cross_validate,
    load_bundle,
    load_estimator,
    read_labeled_csv,
    write_bundle,
)
from training.data import STANCE_LABELS
from training.embedding import resolve_model_path
from training.heads import Heads

TEXTS = [
    "Allies must lift defence budgets to three percent of GDP without delay.",
    "We should invite Moscow back to the table and ease the sanctions.",
]


@pytest.fixture(scope="module")
def small_quotes(small_seed_csv):
    return read_labeled_csv([small_seed_csv])


def small_model(embedder) -> StanceModel:
    return StanceModel(embedder=embedder, calibration_folds=3)


@pytest.fixture(scope="module")
def fitted(small_quotes, embedder):
    return small_model(embedder).fit(small_quotes)


def test_scores_have_every_target_and_probabilities_summing_to_one(fitted):
    scores = fitted.score(TEXTS)
    assert len(scores) == 2
    for score in scores:
        assert set(score.stances) == {"nato_spending", "russia_rapprochement"}
        for stance in [*score.stances.values(), score.sentiment]:
            assert sum(stance.probabilities.values()) == pytest.approx(1, abs=1e-4)
            assert stance.label == max(stance.probabilities, key=stance.probabilities.get)


def test_flat_columns_follow_the_design_names(fitted):
    columns = fitted.score(TEXTS[:1])[0].to_columns()
    assert list(columns)[:4] == [
        "nato_spending_stance",
        "nato_spending_favor",
        "nato_spending_against",
        "nato_spending_none",
    ]
    assert {"sentiment", "sentiment_positive", "sentiment_negative", "sentiment_neutral"} <= set(
        columns
    )


def test_heads_trained_on_the_same_texts_share_one_vocabulary_and_predict_like_sklearn(fitted):
    # Every small-seed quote is labeled for both targets: their n-gram vectorizers are equal.
    first, second = (h.named_steps["features"].vectorizers_ for h in fitted.heads_.values())
    assert len(first) == 2 and all(a is b for a, b in zip(first, second, strict=True))
    assert len(fitted.scorer().heads.vocabularies) == 2
    batch = fitted.embed(TEXTS)
    for target, head in fitted.heads_.items():
        columns = [list(head.classes_).index(label) for label in STANCE_LABELS]
        expected = head.predict_proba(batch)[:, columns]  # the plain sklearn pipeline
        assert np.allclose(fitted.predict_proba(batch, target), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("calibration", ["isotonic", "sigmoid", None])
def test_exported_heads_compute_what_sklearn_computes_for_every_recipe(
    calibration, small_quotes, embedder, tmp_path
):
    model = StanceModel(embedder=embedder, calibration=calibration, calibration_folds=3)
    model.fit(small_quotes)
    texts = [*TEXTS, *small_quotes.frame["text"].unique()[:40], "", "a", "  Ünïcode   “spaced”  "]
    batch = model.embed(texts)
    frame = small_quotes.frame
    # A two-class head too: favor vs against only.
    two_class = frame[(frame["target"] == "nato_spending") & (frame["stance"] != "none")]
    binary = model._head().fit(model.embed(two_class["text"].tolist()), two_class["stance"])
    model.heads_["binary"] = binary
    model.__dict__.pop("_scorer", None)
    heads = model.scorer().heads
    heads.save(tmp_path / "heads.npz")
    reloaded = Heads.load(tmp_path / "heads.npz")
    pipelines = {**model.heads_, "sentiment": model.sentiment_head_}
    for name, pipeline in pipelines.items():
        head = heads.sentiment if name == "sentiment" else heads.stance[name]
        again = reloaded.sentiment if name == "sentiment" else reloaded.stance[name]
        for vocabulary, vectorizer in zip(
            [heads.vocabularies[v] for v in head.vocabularies],
            pipeline.named_steps["features"].vectorizers_,
            strict=True,
        ):
            expected = vectorizer.transform(texts)
            for i, text in enumerate(texts):
                columns, values = vocabulary.features(text)
                row = expected[i]
                assert np.array_equal(columns, row.indices) and np.allclose(values, row.data)
        expected = pipeline.predict_proba(batch)
        ngrams = heads.ngram_blocks(texts, [head])
        assert np.allclose(heads.probabilities(head, batch.vectors, ngrams), expected, atol=1e-12)
        assert np.array_equal(
            reloaded.probabilities(again, batch.vectors, reloaded.ngram_blocks(texts, [again])),
            heads.probabilities(head, batch.vectors, ngrams),
        )


def test_a_score_does_not_depend_on_the_other_texts_of_its_batch(fitted):
    texts = [*TEXTS, "Short.", "A much longer quote about the alliance and its budgets, again."]
    together = fitted.score(texts)
    assert together == [fitted.score([text])[0] for text in texts]


def test_unknown_target_is_refused_with_the_known_ones(fitted):
    with pytest.raises(UnknownTargetError, match=r"climate.*knows nato_spending"):
        fitted.score(TEXTS, ["climate"])


def test_round_trip_gives_identical_scores(fitted, small_quotes, embedder, tmp_path):
    path = write_bundle(fitted, small_quotes, None, tmp_path, "round")
    loaded = load_bundle("round", root=tmp_path, embedder=embedder)
    assert loaded.manifest["version"] == "round"
    assert [s.to_dict() for s in loaded.model.score(TEXTS)] == [
        s.to_dict() for s in fitted.score(TEXTS)
    ]
    assert len(loaded.model.heads.vocabularies) == 2
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["embedding"]["fingerprint"] == embedder.spec.fingerprint
    assert manifest["data"]["sha256"] == small_quotes.sha256
    assert (path / "card.md").is_file()


@pytest.mark.parametrize("name", ["heads.npz", "model.joblib"])
def test_tampered_files_are_refused(name, fitted, small_quotes, embedder, tmp_path):
    path = write_bundle(fitted, small_quotes, None, tmp_path, "tampered")
    with open(path / name, "ab") as stream:
        stream.write(b"\0")
    with pytest.raises(BundleError, match="does not match its manifest"):
        bundle = load_bundle("tampered", root=tmp_path, embedder=embedder)
        load_estimator(bundle)  # model.joblib is read only when the estimator is asked for


def test_the_estimator_of_a_bundle_scores_like_the_bundle(fitted, small_quotes, embedder, tmp_path):
    write_bundle(fitted, small_quotes, None, tmp_path, "estimator")
    bundle = load_bundle("estimator", root=tmp_path, embedder=embedder)
    estimator = load_estimator(bundle)
    assert estimator.score(TEXTS) == bundle.model.score(TEXTS)


def test_other_embedding_model_is_refused(fitted, small_quotes, tmp_path):
    """Same architecture and dimension, CLS instead of mean pooling: a different model."""
    other = tmp_path / "cls-pooling"
    shutil.copytree(resolve_model_path(), other)
    pooling = json.loads((other / "1_Pooling/config.json").read_text())
    pooling.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    (other / "1_Pooling/config.json").write_text(json.dumps(pooling))
    write_bundle(fitted, small_quotes, None, tmp_path / "models", "mine")
    with pytest.raises(BundleError, match="embedding model mismatch"):
        load_bundle("mine", root=tmp_path / "models", embedder=Embedder(str(other)))


def test_bundle_outside_the_models_directory_is_refused(fitted, small_quotes, embedder, tmp_path):
    path = write_bundle(fitted, small_quotes, None, tmp_path / "elsewhere", "stray")
    with pytest.raises(BundleError, match="only loaded from the models directory"):
        load_bundle(path, root=tmp_path / "models", embedder=embedder)


def test_failed_write_leaves_nothing_behind(fitted, small_quotes, tmp_path):
    unpicklable = small_model(fitted.embedder).fit(small_quotes)
    unpicklable.heads_["nato_spending"].callback = lambda: None  # joblib cannot pickle a lambda
    with pytest.raises(Exception, match=r"lambda|pickle"):
        write_bundle(unpicklable, small_quotes, None, tmp_path, "broken")
    assert list(tmp_path.iterdir()) == []


def test_existing_bundle_is_not_replaced_without_asking(fitted, small_quotes, tmp_path):
    write_bundle(fitted, small_quotes, None, tmp_path, "same")
    with pytest.raises(BundleError, match="--force"):
        write_bundle(fitted, small_quotes, None, tmp_path, "same")
    assert write_bundle(fitted, small_quotes, None, tmp_path, "same", replace=True).is_dir()


def test_identical_data_and_seed_give_identical_predictions(small_quotes, embedder, tmp_path):
    first = small_model(embedder).fit(small_quotes)
    second = small_model(embedder).fit(small_quotes)
    for target in first.targets:
        batch = first.embed(TEXTS)
        assert np.array_equal(
            first.predict_proba(batch, target), second.predict_proba(batch, target)
        )
    joblib.dump(first, tmp_path / "a.joblib")
    joblib.dump(second, tmp_path / "b.joblib")
    assert (tmp_path / "a.joblib").read_bytes() == (tmp_path / "b.joblib").read_bytes()


def test_cross_validation_reports_every_metric_per_target(small_quotes, embedder):
    metrics = cross_validate(small_model(embedder), small_quotes, folds=3, seed=1)
    for head in ("nato_spending", "russia_rapprochement", "all"):
        m = metrics["stance"][head]
        assert 0 <= m["f_avg"] <= 1
        assert set(m["per_class"]) == {"favor", "against", "none"}
        assert sum(map(sum, m["confusion"])) == m["n"]
    assert metrics["stance"]["all"]["n"] == len(small_quotes.frame)
    assert metrics["sentiment"]["n"] == small_quotes.frame["text"].nunique()
