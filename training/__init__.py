"""Everything that produces a model: labeled CSVs in, a verified bundle out.

quotes = read_labeled_csv(["seeds/quotes.csv"])           # validated, or DataError
model = StanceModel().fit(quotes)                          # one head per target + sentiment
metrics = cross_validate(StanceModel(), quotes, folds=5)   # honest, grouped by quote
path = write_bundle(model, quotes, metrics)                # atomic, with manifest and card
bundle = load_bundle(path)                                 # verifies SHA-256 and embedding
bundle.model.score(["We must spend 3% of GDP."])           # -> list[QuoteScore]
check_language("Wir müssen mehr ausgeben.")                # -> LanguageCheck('de', 0.995, False)
suggest(bundle.model, unlabeled_texts, n=50)               # active learning -> list[Suggestion]

Names are imported on first use: scoring (`load_bundle`, `StanceScorer`) needs only NumPy,
OpenVINO and tokenizers; training adds scikit-learn and pandas (PyTorch only converts the encoder,
once).
"""

import importlib

_MODULES = {
    "training.active_learning": ("Suggestion", "suggest"),
    "training.bundle": (
        "Bundle",
        "BundleError",
        "list_bundles",
        "load_bundle",
        "load_estimator",
        "models_dir",
        "resolve_bundle",
        "write_bundle",
    ),
    "training.data": (
        "ColumnMapping",
        "DataError",
        "DataIssue",
        "LabeledQuotes",
        "read_labeled_csv",
        "target_id",
        "text_key",
    ),
    "training.embedding": (
        "DEFAULT_EMBEDDING_MODEL",
        "Embedder",
        "EmbeddingError",
        "get_embedder",
    ),
    "training.evaluation": (
        "cross_validate",
        "cross_validate_fine_tuned",
        "evaluate",
        "stance_metrics",
    ),
    "training.language": (
        "UNSUPPORTED_LANGUAGE",
        "LanguageCheck",
        "check_language",
        "check_languages",
    ),
    "training.model": ("StanceModel", "TooFewExamples"),
    "training.scorer": ("QuoteBatch", "StanceScorer", "UnknownTargetError"),
    "training.scores": (
        "POOLED",
        "SENTIMENT_LABELS",
        "STANCE_LABELS",
        "LabelScore",
        "QuoteScore",
        "score_columns",
    ),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(_HOME[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
