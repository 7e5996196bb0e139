"""One n-gram analysis per training run gives what a vectorizer fitted per subset gives."""

import random

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from training.ngram_counts import NgramAnalyses, NgramCounts

WORDS = [
    "defence",
    "spending",
    "nato",
    "allies",
    "russia",
    "sanctions",
    "talks",
    "moscow",
    "budget",
    "percent",
    "gdp",
    "we",
    "must",
]


def texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    made = {" ".join(rng.choices(WORDS, k=rng.randint(1, 12))).capitalize() + "!" for _ in range(n)}
    return sorted(made)


CONFIGURATIONS = [
    {"ngram_range": (1, 2), "min_df": 1, "sublinear_tf": True},
    {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True},
    {"ngram_range": (1, 1), "min_df": 3},
]


@pytest.mark.parametrize("params", CONFIGURATIONS)
def test_a_subset_gets_the_vocabulary_idf_and_matrix_of_a_vectorizer_fitted_on_it(params):
    everything = texts(400)
    analyses = NgramAnalyses(everything)
    for seed in range(3):
        subset = random.Random(seed).sample(everything, 150)
        expected_vectorizer = TfidfVectorizer(**params)
        expected = expected_vectorizer.fit_transform(subset)
        vectorizer = TfidfVectorizer(**params)
        matrix = analyses.fit_transform(vectorizer, subset)
        assert vectorizer.vocabulary_ == expected_vectorizer.vocabulary_
        assert np.array_equal(vectorizer.idf_, expected_vectorizer.idf_)
        assert matrix.shape == expected.shape
        assert abs(matrix - expected).max() <= 1e-15
        # The vectorizer is fitted like scikit-learn's: it transforms unseen text the same way.
        unseen = ["We must talk to Moscow about the budget."]
        assert abs(vectorizer.transform(unseen) - expected_vectorizer.transform(unseen)).max() == 0


def test_each_analysis_is_done_once_and_reused():
    analyses = NgramAnalyses(texts(50))
    first = TfidfVectorizer(ngram_range=(1, 2), min_df=1)
    second = TfidfVectorizer(ngram_range=(1, 2), min_df=2)  # same analysis, other pruning
    analyses.prepare([first, second])
    assert len(analyses.counts) == 1
    analyses.prepare([TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3))])
    assert len(analyses.counts) == 2


def test_a_vectorizer_it_cannot_reproduce_is_refused_not_approximated():
    counts = NgramCounts(TfidfVectorizer(), texts(30))
    with pytest.raises(ValueError, match="analyses texts differently"):
        counts.fit_transform(TfidfVectorizer(ngram_range=(1, 2)), texts(30)[:10])
    with pytest.raises(ValueError, match="cannot reproduce"):
        counts.fit_transform(TfidfVectorizer(max_df=0.5), texts(30)[:10])
    with pytest.raises(KeyError):
        counts.fit_transform(TfidfVectorizer(), ["a text that was never analysed"])
