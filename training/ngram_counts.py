"""Each text's n-gram analysis done once per training run, shared by every fold and head.

Cross-validation fits a tf-idf vectorizer on every fold's training texts and again on all of
them, per head: the same texts are analysed into n-grams six times or more, which was about a
third of the cost of training (docs/training.md, issue 18). `NgramCounts` analyses every
distinct text once with scikit-learn's own analyzer, keeping all n-grams (no `min_df`), and
`fit_transform` then gives, for any subset of those texts, what `TfidfVectorizer.fit_transform`
gives on that subset: the same vocabulary and idf (terms kept by document frequency within the
subset, sorted) and the same matrix within 1e-15 (a row's terms are summed in another order for
its norm; tests/test_ngram_counts.py). The vocabulary of a subset is a selection of columns of
the full analysis because scikit-learn orders a vocabulary by term and counts each term in each
text independently of the other texts. `StanceModel` fits every vectorizer this way, with or
without cross-validation, so a model does not depend on how it was trained.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

# What the analysis depends on; the other parameters (min_df, sublinear_tf, ...) act per subset.
_ANALYSIS = (
    "analyzer",
    "ngram_range",
    "lowercase",
    "strip_accents",
    "preprocessor",
    "tokenizer",
    "token_pattern",
    "stop_words",
    "input",
    "encoding",
    "decode_error",
)


def analysis_key(vectorizer: TfidfVectorizer) -> tuple:
    """The parameters that decide a vectorizer's n-grams (equal key: one `NgramCounts`)."""
    params = vectorizer.get_params()
    return tuple((name, repr(params[name])) for name in _ANALYSIS)


class NgramCounts:
    """Counts of every n-gram in every text, for vectorizers configured like `vectorizer`.

    Memory: one sparse matrix (texts × distinct n-grams), float64 counts; for 8,000 texts and
    character 2–5-grams about 2 million stored counts (~25 MB).
    """

    def __init__(self, vectorizer: TfidfVectorizer, texts: list[str]):
        params = vectorizer.get_params()
        counter = CountVectorizer(
            **{name: params[name] for name in _ANALYSIS}, min_df=1, dtype=params["dtype"]
        )
        self.key = analysis_key(vectorizer)
        self.matrix = counter.fit_transform(texts).tocsr()
        self.terms = counter.get_feature_names_out()
        self.row = {text: i for i, text in enumerate(texts)}

    def fit_transform(self, vectorizer: TfidfVectorizer, texts: list[str]):
        """Fit `vectorizer` on `texts` (all analysed here) and return their tf-idf matrix.

        Equal to `vectorizer.fit_transform(texts)` (within 1e-15). ValueError for another
        analysis or a configuration this shortcut does not reproduce (max_df, max_features, a
        fixed vocabulary, binary counts, no idf); KeyError for a text that was not analysed.
        """
        params = vectorizer.get_params()
        if analysis_key(vectorizer) != self.key:
            raise ValueError("the vectorizer analyses texts differently from these counts")
        if params["max_df"] != 1.0 or params["max_features"] or params["vocabulary"]:
            raise ValueError(f"cannot reproduce a vectorizer configured as {params}")
        if params["binary"] or not params["use_idf"] or not isinstance(params["min_df"], int):
            raise ValueError(f"cannot reproduce a vectorizer configured as {params}")
        counts = self.matrix[[self.row[text] for text in texts]]
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        kept = np.flatnonzero(document_frequency >= params["min_df"])
        if not len(kept):
            raise ValueError("After pruning, no terms remain. Try a lower min_df")
        counts = counts[:, kept]
        vectorizer.vocabulary_ = {str(term): i for i, term in enumerate(self.terms[kept])}
        transformer = TfidfTransformer(
            norm=params["norm"],
            use_idf=params["use_idf"],
            smooth_idf=params["smooth_idf"],
            sublinear_tf=params["sublinear_tf"],
        ).fit(counts)
        vectorizer.idf_ = transformer.idf_
        return transformer.transform(counts, copy=False)


class NgramAnalyses:
    """`NgramCounts` of one set of texts for each analysis asked for, each built once."""

    def __init__(self, texts: list[str]):
        self.texts = list(texts)
        self.counts: dict[tuple, NgramCounts] = {}

    def prepare(self, vectorizers: list[TfidfVectorizer]) -> NgramAnalyses:
        """Analyse the texts now for each of `vectorizers` (before sending this to workers)."""
        for vectorizer in vectorizers:
            key = analysis_key(vectorizer)
            if key not in self.counts:
                self.counts[key] = NgramCounts(vectorizer, self.texts)
        return self

    def fit_transform(self, vectorizer: TfidfVectorizer, texts: list[str]):
        """`NgramCounts.fit_transform` with the counts of `vectorizer`'s analysis."""
        self.prepare([vectorizer])
        return self.counts[analysis_key(vectorizer)].fit_transform(vectorizer, texts)
