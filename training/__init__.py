"""Everything that produces a model: labeled CSVs in, a verified joblib bundle out.

quotes = read_labeled_csv(["seeds/quotes.csv"])           # validated, or DataError
model = StanceModel().fit(quotes)                          # one head per target + sentiment
metrics = cross_validate(StanceModel(), quotes, folds=5)   # honest, grouped by quote
path = write_bundle(model, quotes, metrics)                # atomic, with manifest and card
bundle = load_bundle(path)                                 # verifies SHA-256 and embedding
bundle.model.score(["We must spend 3% of GDP."])           # -> list[QuoteScore]
check_language("Wir müssen mehr ausgeben.")                # -> LanguageCheck('de', 0.995, False)
suggest(bundle.model, unlabeled_texts, n=50)               # active learning -> list[Suggestion]
"""

from training.active_learning import Suggestion, suggest
from training.bundle import (
    Bundle,
    BundleError,
    list_bundles,
    load_bundle,
    models_dir,
    resolve_bundle,
    write_bundle,
)
from training.data import (
    SENTIMENT_LABELS,
    STANCE_LABELS,
    ColumnMapping,
    DataError,
    DataIssue,
    LabeledQuotes,
    read_labeled_csv,
    target_id,
    text_key,
)
from training.embedding import DEFAULT_EMBEDDING_MODEL, Embedder, EmbeddingError, get_embedder
from training.evaluation import POOLED, cross_validate, evaluate, stance_metrics
from training.language import UNSUPPORTED_LANGUAGE, LanguageCheck, check_language, check_languages
from training.model import QuoteBatch, StanceModel, UnknownTargetError
from training.scores import LabelScore, QuoteScore, score_columns

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "POOLED",
    "SENTIMENT_LABELS",
    "STANCE_LABELS",
    "UNSUPPORTED_LANGUAGE",
    "Bundle",
    "BundleError",
    "ColumnMapping",
    "DataError",
    "DataIssue",
    "Embedder",
    "EmbeddingError",
    "LabelScore",
    "LabeledQuotes",
    "LanguageCheck",
    "QuoteBatch",
    "QuoteScore",
    "StanceModel",
    "Suggestion",
    "UnknownTargetError",
    "check_language",
    "check_languages",
    "cross_validate",
    "evaluate",
    "get_embedder",
    "list_bundles",
    "load_bundle",
    "models_dir",
    "read_labeled_csv",
    "resolve_bundle",
    "score_columns",
    "stance_metrics",
    "suggest",
    "target_id",
    "text_key",
    "write_bundle",
]
