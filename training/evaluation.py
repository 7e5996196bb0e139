"""Honest evaluation: cross-validation grouped by quote, and scoring of held-out data."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import StratifiedGroupKFold

from training.data import LabeledQuotes
from training.model import StanceModel, TooFewExamples
from training.scorer import QuoteBatch, StanceScorer, UnknownTargetError
from training.scores import POOLED, SENTIMENT_LABELS, STANCE_LABELS


def label_metrics(gold, predicted, labels: tuple[str, ...], weights=None) -> dict:
    """Accuracy, macro-F1, per-class precision/recall/F1/support and the confusion matrix;
    `weights` (one per row) weigh the rows in all but `n`."""
    gold, predicted = list(gold), list(predicted)
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0, sample_weight=weights
    )
    macro_f1 = f1_score(
        gold,
        predicted,
        labels=list(labels),
        average="macro",
        zero_division=0,
        sample_weight=weights,
    )
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, predicted, sample_weight=weights)), 4),
        "macro_f1": round(float(macro_f1), 4),
        "per_class": {
            label: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": round(float(s), 4) if weights is not None else int(s),
            }
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "labels": list(labels),
        "confusion": confusion_matrix(
            gold, predicted, labels=list(labels), sample_weight=weights
        ).tolist(),
    }


def stance_metrics(gold, predicted, weights=None) -> dict:
    """Label metrics plus F_avg: the mean F1 of favor and against (SemEval-2016 / TweetEval)."""
    metrics = label_metrics(gold, predicted, STANCE_LABELS, weights)
    per_class = metrics["per_class"]
    metrics["f_avg"] = round((per_class["favor"]["f1"] + per_class["against"]["f1"]) / 2, 4)
    return metrics


def report(
    stance_rows: pd.DataFrame,
    sentiment_rows: pd.DataFrame | None,
    reweight_to: dict[str, dict[str, float]] | None = None,
) -> dict:
    """Metrics per target, pooled over targets, and for sentiment, from gold/predicted columns.

    With `reweight_to`, the stance metrics of each target it names are those of data in which
    the stance labels have its shares: each row is weighted by its gold label's share in the
    prior over its share in `stance_rows` (importance weighting under label shift, the gold
    label's p(text | label) assumed unchanged). Sentiment is not reweighted.
    """
    weights = None if reweight_to is None else _label_shift_weights(stance_rows, reweight_to)
    stance = {}
    for target, where in stance_rows.groupby("target", sort=True).indices.items():
        rows = stance_rows.iloc[where]
        target_weights = None if weights is None else weights[where]
        stance[target] = stance_metrics(rows["stance"], rows["predicted"], target_weights)
    stance[POOLED] = stance_metrics(stance_rows["stance"], stance_rows["predicted"], weights)
    result = {"stance": stance, "sentiment": None}
    if sentiment_rows is not None and len(sentiment_rows):
        result["sentiment"] = label_metrics(
            sentiment_rows["sentiment"], sentiment_rows["predicted"], SENTIMENT_LABELS
        )
    return result


def _label_shift_weights(stance_rows: pd.DataFrame, prior: dict) -> np.ndarray:
    """Per row: its gold label's share in `prior` (renormalised over the labels present) over
    its share among the rows of its target; 1 for targets `prior` does not name."""
    weights = np.ones(len(stance_rows))
    for target, shares in prior.items():
        rows = (stance_rows["target"] == target).to_numpy()
        observed = stance_rows["stance"][rows].value_counts(normalize=True)
        total = sum(shares.get(label, 0) for label in observed.index)
        weights[rows] = [
            shares.get(label, 0) / total / observed[label] for label in stance_rows["stance"][rows]
        ]
    return weights


def evaluate(
    model: StanceModel | StanceScorer,
    quotes: LabeledQuotes,
    reweight_to: dict[str, dict[str, float]] | None = None,
) -> dict:
    """Metrics of a fitted model on labeled (held-out) data; targets the model lacks are skipped.
    With `reweight_to` (stance label shares per target), the result also holds under
    "reweighted" the stance metrics of the same predictions reweighted to those shares
    (`report`).

    Raises `UnknownTargetError` when the model has none of the data's targets (nothing to
    measure).
    """
    if quotes.targets and not set(quotes.targets) & set(model.targets):
        raise UnknownTargetError(sorted(quotes.targets), list(model.targets))
    frame = quotes.frame[quotes.frame["target"].isin(model.targets)].copy()
    texts = frame["text"].unique().tolist()
    batch = model.embed(texts)
    scores = dict(
        zip(texts, model.score(texts, sorted(frame["target"].unique()), batch), strict=True)
    )
    frame["predicted"] = [
        scores[t].stances[g].label for t, g in zip(frame["text"], frame["target"], strict=True)
    ]
    sentiment = quotes.sentiment_rows().copy()
    if model.has_sentiment and len(sentiment):
        extra = [t for t in sentiment["text"] if t not in scores]
        scores.update(zip(extra, model.score(extra, []), strict=True))
        sentiment["predicted"] = [scores[t].sentiment.label for t in sentiment["text"]]
    else:
        sentiment = None
    result = report(frame, sentiment)
    if reweight_to is not None:
        result["reweighted"] = report(frame, None, reweight_to)["stance"]
    result["skipped_targets"] = sorted(set(quotes.targets) - set(model.targets))
    return result


def cross_validate(
    model: StanceModel,
    quotes: LabeledQuotes,
    folds: int = 5,
    seed: int = 0,
    *,
    vectors: dict[str, np.ndarray] | None = None,
    progress=None,
    refit: bool = False,
) -> dict:
    """K-fold metrics; every row of one quote lands in the same fold, so no quote leaks.

    `vectors` are the texts' embeddings (default: `Embedder.vectors`, computed once for every
    fold). Folds are fitted in parallel on `model.n_jobs` processes, each fold's heads one after
    another. With `refit`, `model` itself is also fitted on all the data as one more task of the
    same pool, started first (the largest), so no core waits for the last fold and then for the
    final fit. `progress(done, total)` is called as tasks finish.
    """
    frame, splits = fold_splits(model, quotes, folds, seed)
    workers = _start_workers(model.n_jobs)
    if vectors is None:
        vectors = model._embedder().vectors(frame["text"].unique().tolist())
    spec = model._embedder().scoring_spec
    # Every text analysed into n-grams once, here, instead of once per fold and final fit.
    analyses = model.ngram_analyses(frame["text"].unique().tolist())
    single = clone(model).set_params(embedder=None, n_jobs=1)
    jobs = [delayed(_refit)(single, quotes, vectors, spec, analyses)] if refit else []
    jobs += [
        delayed(_fold)(single, quotes, frame, train_index, test_index, vectors, spec, analyses)
        for train_index, test_index in splits
    ]
    predictions = []
    workers.join()
    parallel = Parallel(n_jobs=model.n_jobs, return_as="generator_unordered")
    for done, outcome in enumerate(parallel(jobs), start=1):
        if isinstance(outcome, StanceModel):
            learned = {k: v for k, v in vars(outcome).items() if k.endswith("_")}
            vars(model).update(learned)
            vars(model).pop("_scorer", None)
        else:
            predictions.append(outcome)
        if progress is not None:
            progress(done, len(jobs))
    return _folds_report(quotes, frame, predictions) | {"folds": folds, "seed": seed}


def cross_validate_fine_tuned(
    model: StanceModel, quotes: LabeledQuotes, folds: int = 5, seed: int = 0, *, progress=None
) -> dict:
    """K-fold metrics of the recipe with a fine-tuned encoder (`stance train
    --fine-tune-encoder`), honestly: in each fold the encoder is fine-tuned on the training
    part alone (`training.fine_tuning.fine_tune`, weights rounded as the stored delta), embeds
    the fold's quotes (the float32 reference, batched: the final model embeds through the
    scoring encoder instead, within the probe tolerance of it), and `model`'s recipe is fitted on
    those embeddings and scores the held-out part. Folds run one after another (fine-tuning uses
    every core); `progress(done, total)` counts fine-tuning steps. `model` is not fitted.
    """
    from training.embedding import EmbeddingSpec, resolve_model_path
    from training.fine_tuning import fine_tune, quantised, training_steps

    frame, splits = fold_splits(model, quotes, folds, seed)
    base = resolve_model_path(model._embedder().name)
    texts = frame["text"].unique().tolist()
    analyses = model.ngram_analyses(texts)
    single = clone(model).set_params(embedder=None, n_jobs=1)
    steps = [training_steps(frame["text"].iloc[t].nunique()) for t, _ in splits]
    predictions = []
    for fold, (train_index, test_index) in enumerate(splits):

        def step(done: int, _: int, before: int = sum(steps[:fold])) -> None:
            if progress is not None:
                progress(before + done, sum(steps))

        tuned = fine_tune(base, frame.iloc[train_index], seed=seed, progress=step)
        quantised(tuned, base)
        vectors = dict(zip(texts, _reference_vectors(tuned, texts), strict=True))
        spec = EmbeddingSpec(model._embedder().name, len(vectors[texts[0]]), "fine-tuned fold")
        fold = _fold(single, quotes, frame, train_index, test_index, vectors, spec, analyses)
        predictions.append(fold)
    return _folds_report(quotes, frame, predictions) | {
        "folds": folds,
        "seed": seed,
        "fine_tuned_encoder": True,
    }


def _reference_vectors(model, texts: list[str]) -> np.ndarray:
    """Unit-length float32 embeddings of `texts` by a sentence-transformers model."""
    vectors = model.encode(
        texts,
        batch_size=64,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return vectors.astype(np.float32, copy=False)


def fold_splits(model: StanceModel, quotes: LabeledQuotes, folds: int, seed: int):
    """(rows renumbered from 0, [(train indices, test indices)] per fold): stratified by target
    and stance, grouped by quote. Raises TooFewExamples when the data cannot fill `folds` folds
    or a fold's training part is too thin for `model`."""
    frame = quotes.frame.reset_index(drop=True)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    strata = frame["target"] + "/" + frame["stance"]
    # scikit-learn's splitter needs a quote per fold, and a label with a row in every fold.
    quotes_count, largest = frame["text"].nunique(), int(strata.value_counts().max())
    if folds > min(quotes_count, largest):
        raise TooFewExamples(
            f"cannot cross-validate with {folds} folds: the data holds {quotes_count} distinct "
            f"quotes and its most frequent label of a target has {largest} rows, and folds "
            f"are made of whole quotes with some of each label (--cv {min(quotes_count, largest)}"
            " at most, and fewer where a label is rare; 0 skips cross-validation)"
        )
    try:
        splits = list(splitter.split(frame, strata, groups=frame["text"]))
    except ValueError as error:
        raise TooFewExamples(f"cannot cross-validate with {folds} folds: {error}") from error
    for fold, (train_index, _) in enumerate(splits, start=1):  # before the slow embedding
        train = LabeledQuotes(frame.iloc[train_index], quotes.files, "", quotes.encodings)
        where = (
            f"cross-validation with {folds} folds (--cv: more folds give each a larger training "
            f"part, 0 skips cross-validation), fold {fold}'s training part: "
        )
        model.check_class_counts(train, where)
    return frame, splits


def _folds_report(quotes: LabeledQuotes, frame: pd.DataFrame, predictions: list) -> dict:
    """`report` of the held-out predictions of every fold ((stance by row, sentiment by text))."""
    predicted = pd.Series(index=frame.index, dtype=object)
    sentiment_predicted: dict[str, str] = {}
    for stance, sentiment_labels in predictions:
        for index, label in stance.items():
            predicted[index] = label
        sentiment_predicted.update(sentiment_labels)
    sentiment = quotes.sentiment_rows()
    sentiment = sentiment.assign(predicted=sentiment["text"].map(sentiment_predicted))
    return report(frame.assign(predicted=predicted), sentiment if len(sentiment) else None)


def _start_workers(n_jobs: int) -> threading.Thread:
    """Start the worker processes in a background thread, to be joined before the folds are
    sent: each imports the training code (about 2 s here) while this process splits the folds
    and analyses the n-grams. joblib keeps the same workers for the next `Parallel` call."""
    count = effective_n_jobs(n_jobs)
    thread = threading.Thread(
        target=lambda: Parallel(n_jobs=n_jobs)(delayed(_ready)() for _ in range(count)),
        daemon=True,
    )
    thread.start()
    return thread


def _ready() -> None:
    """Nothing: running it makes a worker import this module (and the training code)."""


def _refit(model, quotes, vectors, spec, analyses):
    """The model fitted on all the data (run in a worker)."""
    return model.fit(quotes, vectors, spec, analyses)


def _fold(model, quotes, frame, train_index, test_index, vectors, spec, analyses):
    """One fold (run in a worker): fit on the training part, label the test part.

    Each test text is read only by the heads it is labeled for (its targets; the sentiment head
    when it has a sentiment label): most quotes are labeled for one target of several, and each
    head reads n-grams of its own vocabulary.
    """
    train = LabeledQuotes(frame.iloc[train_index], quotes.files, "", quotes.encodings)
    used = set(frame["text"].iloc[train_index]) | set(frame["text"].iloc[test_index])
    fold_model = model.fit(train, {t: vectors[t] for t in used}, spec, analyses)
    test = frame.iloc[test_index]

    stance = {}
    for target, rows in test.groupby("target", sort=True):
        if target in fold_model.targets_:
            probabilities = fold_model.predict_proba(
                QuoteBatch.looked_up(rows["text"].tolist(), vectors), target
            )
            labels = np.asarray(STANCE_LABELS)[probabilities.argmax(axis=1)]
            stance.update(zip(rows.index, labels, strict=True))
    sentiment = {}
    if fold_model.has_sentiment:
        texts = test.dropna(subset=["sentiment"])["text"].unique().tolist()
        scores = fold_model.score(texts, [], QuoteBatch.looked_up(texts, vectors)) if texts else []
        sentiment = {text: score.sentiment.label for text, score in zip(texts, scores, strict=True)}
    return stance, sentiment
