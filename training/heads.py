"""The probabilities of a fitted head's classifier, computed without sklearn's per-call checks.

`predict_proba` of a calibrated logistic regression validates its input about ten times per
call (array checks, data frame detection, a label encoder refitted on every call). On the few
quotes of an API request that costs more than the arithmetic: the heads of the default model
take 2.3 ms for one quote through `predict_proba` and 0.7 ms through this module.
`classifier_probabilities` computes the same numbers from the fitted attributes for the
classifiers `StanceModel` fits, and hands any other classifier to its own `predict_proba`.
tests/test_bundle.py checks that they are identical for every recipe.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.extmath import softmax


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
