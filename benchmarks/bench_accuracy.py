"""Accuracy benchmark: the training recipe against simpler baselines, measured in one run.

    python benchmarks/bench_accuracy.py [--skip-tweeteval]

Prints, side by side:
- seed quotes (seeds/quotes.csv), 5-fold cross-validation grouped by quote: F_avg per target of
  the default recipe (embedding + word/char n-grams, calibrated) and of an embedding-only
  logistic regression; sentiment macro-F1 of our head versus VADER on the same quotes;
- TweetEval stance (../shared, when present): official pooled F_avg on test for the recipe
  trained on train.csv and on train.csv + val.csv, next to the published leaderboard.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.metrics import f1_score  # noqa: E402

from training import StanceModel, cross_validate, evaluate, read_labeled_csv  # noqa: E402

LEADERBOARD = {"TimeLMs-2021": 72.9, "BERTweet": 71.2, "RoBERTa-Base": 68.0, "SVM": 67.3}
EMBEDDING_ONLY = {"word_ngrams": None, "char_ngrams": None, "calibration": None}


def seed_report() -> None:
    quotes = read_labeled_csv([ROOT / "seeds" / "quotes.csv"])
    rows = {}
    for name, params in (("recipe", {}), ("embedding only", EMBEDDING_ONLY)):
        metrics = cross_validate(StanceModel(**params), quotes, folds=5)
        rows[name] = metrics
        per_target = "  ".join(f"{t} {100 * m['f_avg']:.1f}" for t, m in metrics["stance"].items())
        print(f"seed CV F_avg, {name:15s}: {per_target}")
    ours = 100 * rows["recipe"]["sentiment"]["macro_f1"]
    vader = 100 * vader_macro_f1(quotes)
    print(f"seed sentiment macro-F1: ours {ours:.1f}  VADER {vader:.1f}  -> {ours - vader:+.1f}")


def vader_macro_f1(quotes) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    rows = quotes.sentiment_rows()

    def label(text: str) -> str:
        compound = analyser.polarity_scores(text)["compound"]
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    return f1_score(rows["sentiment"], [label(t) for t in rows["text"]], average="macro")


def tweeteval_report(shared: Path) -> None:
    data = shared / "benchmarks" / "tweeteval-stance"
    if not data.is_dir():
        print(f"TweetEval: {data} not present, skipped")
        return
    test = read_labeled_csv([data / "test.csv"], require_min=False, deduplicate=False)
    for name, files in (("train", ["train.csv"]), ("train+val", ["train.csv", "val.csv"])):
        model = StanceModel().fit(read_labeled_csv([data / f for f in files]))
        score = 100 * evaluate(model, test)["stance"]["all"]["f_avg"]
        board = "  ".join(
            f"{k} {v:+.1f}" for k, v in ((k, score - v) for k, v in LEADERBOARD.items())
        )
        print(f"TweetEval test pooled F_avg, trained on {name:9s}: {score:.1f}  (vs {board})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tweeteval", action="store_true")
    parser.add_argument("--quick", action="store_true", help="Same as --skip-tweeteval.")
    args = parser.parse_args()
    seed_report()
    if not (args.skip_tweeteval or args.quick):
        tweeteval_report(Path(os.environ.get("SHARED", ROOT.parent / "shared")))


if __name__ == "__main__":
    main()
