"""What a fitted head computes on every call, without sklearn's per-call checks.

`predict_proba` of a calibrated logistic regression validates its input about ten times per
call (array checks, data frame detection, a label encoder refitted on every call), and the
tf-idf step of `TfidfVectorizer.transform` validates its count matrix again. On the few quotes
of an API request that costs more than the arithmetic: scoring one quote with the heads of the
default model takes 2.7 ms through their `predict_proba` and 0.5 ms through this module.
`tfidf_features` and `classifier_probabilities` compute the same numbers from the fitted
attributes for the vectorizers and classifiers `StanceModel` fits, and hand any other to its
own method. tests/test_bundle.py checks that they are identical for every recipe.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.extmath import softmax
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2


def tfidf_features(vectorizer: TfidfVectorizer, texts: list[str]):
    """`vectorizer.transform(texts)`: n-gram counts weighted by tf-idf, rows of unit L2 norm."""
    if not (vectorizer.use_idf and vectorizer.norm == "l2" and vectorizer.dtype == np.float64):
        return vectorizer.transform(texts)
    features = CountVectorizer.transform(vectorizer, texts)  # float64 counts, a new CSR matrix
    if vectorizer.sublinear_tf:
        np.log(features.data, features.data)
        features.data += 1.0
    features.data *= vectorizer.idf_[features.indices]
    inplace_csr_row_normalize_l2(features)
    return features


def classifier_probabilities(classifier, features) -> np.ndarray:
    """`classifier.predict_proba(features)`, columns in `classifier.classes_` order."""
    if isinstance(classifier, LogisticRegression):
        return _logistic(classifier, features)
    if _is_single_calibrated_logistic(classifier):
        return _calibrated(classifier.calibrated_classifiers_[0], features)
    return classifier.predict_proba(features)


def _decision(estimator: LogisticRegression, features) -> np.ndarray:
    """`estimator.decision_function(features)`, always 2-D."""
    return np.asarray(features @ estimator.coef_.T) + estimator.intercept_


def _logistic(estimator: LogisticRegression, features) -> np.ndarray:
    decision = _decision(estimator, features)
    if len(estimator.classes_) > 2:
        return softmax(decision, copy=False)
    positive = expit(decision[:, 0])
    return np.column_stack([1.0 - positive, positive])


def _is_single_calibrated_logistic(classifier) -> bool:
    return (
        isinstance(classifier, CalibratedClassifierCV)
        and classifier.method in ("isotonic", "sigmoid")
        and len(classifier.calibrated_classifiers_) == 1
        and isinstance(classifier.calibrated_classifiers_[0].estimator, LogisticRegression)
    )


def _calibrated(calibrated, features) -> np.ndarray:
    """One-vs-rest calibrated decision values, normalised (sklearn's `_CalibratedClassifier`)."""
    estimator = calibrated.estimator
    decision = _decision(estimator, features)
    classes = calibrated.classes
    proba = np.zeros((decision.shape[0], len(classes)))
    columns = np.searchsorted(classes, estimator.classes_)
    if len(classes) == 2:
        columns = columns[1:]  # one calibrator, for the positive class
    for column, values, calibrator in zip(columns, decision.T, calibrated.calibrators, strict=True):
        proba[:, column] = _calibrate(calibrator, values)
    if len(classes) == 2:
        proba[:, 0] = 1.0 - proba[:, 1]
        return proba
    total = proba.sum(axis=1)[:, np.newaxis]
    uniform = np.full_like(proba, 1 / len(classes))
    return np.divide(proba, total, out=uniform, where=total != 0)


def _calibrate(calibrator, values: np.ndarray) -> np.ndarray:
    if isinstance(calibrator, IsotonicRegression):
        if calibrator.out_of_bounds == "clip":
            values = np.clip(values, calibrator.X_min_, calibrator.X_max_)
        return np.asarray(calibrator.f_(values), dtype=values.dtype)
    return expit(-(calibrator.a_ * values + calibrator.b_))
