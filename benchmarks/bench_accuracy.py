"""Accuracy benchmark: real news first, then seeds and TweetEval, measured in one run.

    python benchmarks/bench_accuracy.py [--skip-tweeteval] [--fine-tuned]

Prints, side by side:
- real news (the 300-quote test split of seeds/news_quote_labels.csv, texts joined from
  ../shared/real-quotes; no recipe choice ever looked at it): stance F_avg per target, their
  mean, and sentiment macro-F1 of the committed default bundle (models/default), of the default
  at stop 24 (revision f076725: before its stance prior), of the default bundle before issue 14
  (stop 11, revision cf2a637: seed quotes only), and of an embedding + logistic-regression
  baseline trained on the same data as the default (seed quotes + the real train split);
  VADER's sentiment on the same quotes; with `--fine-tuned`, also the default's data and recipe
  with the encoder fine-tuned (`stance train --fine-tune-encoder`, about 5 minutes more). The
  stance columns are printed twice: as labeled (the pool's stance frequencies) and reweighted to
  the seed quotes' stance frequencies (`training.evaluation.report`: quotes about the targets,
  about half taking a position, as users' quotes about these targets are);
- seed quotes (seeds/quotes.csv), 5-fold cross-validation grouped by quote: the recipe's F_avg
  per target and sentiment macro-F1 now, and as the stop-11 bundle's manifest recorded it;
- TweetEval stance (../shared): `stance train train.csv` then `stance evaluate` on test.csv, the
  official pooled F_avg next to the published leaderboard (issue 14 keeps it >= 71.3); with
  `--fine-tuned` also trained with the encoder fine-tuned.
Sections whose data is absent say so and are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.metrics import f1_score  # noqa: E402

from training import (  # noqa: E402
    StanceModel,
    cross_validate,
    evaluate,
    load_bundle,
    read_labeled_csv,
)
from training.real_quotes import PoolMissing, as_labeled_quotes, labeled_frame  # noqa: E402

SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared")
LEADERBOARD = {"TimeLMs-2021": 72.9, "BERTweet": 71.2, "RoBERTa-Base": 68.0, "SVM": 67.3}
EMBEDDING_ONLY = {"word_ngrams": None, "char_ngrams": None, "calibration": None}
BEFORE = "cf2a637"  # stop 11: the default bundle issue 14 measured (seed quotes only)
PREVIOUS = "f076725"  # stop 24: the default before its stance prior
TARGETS = ("nato_spending", "russia_rapprochement")


def bundle_at(revision: str, scratch: Path):
    """The default bundle as committed at `revision`, extracted from git (None in a clone
    without that history)."""
    folder = scratch / "models" / revision
    folder.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{revision}:models/default"],
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        print(f"(no bundle at {revision}: {listed.stderr.strip()})")
        return None
    for name in listed.stdout.split():
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{revision}:models/default/{name}"],
            capture_output=True,
        )
        (folder / name).write_bytes(shown.stdout)
    return load_bundle(revision, root=scratch / "models")


def trained(files: list[Path], out: Path, name: str, *options: str) -> Path:
    """A bundle trained by `stance train FILES --cv 0 OPTIONS` in its own process."""
    subprocess.run(
        [sys.executable, "-m", "service.cli", "train", *map(str, files), "--cv", "0",
         "--out", str(out), "--name", name, "--force", *options],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return out / name


def real_report(scratch: Path, fine_tuned: bool) -> None:
    try:
        test = as_labeled_quotes(labeled_frame("test"))
        train = as_labeled_quotes(labeled_frame("train"), scratch / "real-train.csv")
    except PoolMissing as error:
        print(f"real news: {error}; skipped")
        return
    seeds = read_labeled_csv([ROOT / "seeds" / "quotes.csv"])
    baseline = StanceModel(**EMBEDDING_ONLY).fit(
        read_labeled_csv([ROOT / "seeds" / "quotes.csv", scratch / "real-train.csv"])
    )
    candidates = {
        "default (now)": load_bundle("default").model,
        "default, stop 24": (previous := bundle_at(PREVIOUS, scratch)) and previous.model,
        "default before (stop 11)": (before := bundle_at(BEFORE, scratch)) and before.model,
        "embedding + LR baseline": baseline,
    }
    if fine_tuned:
        files = [ROOT / "seeds" / "quotes.csv", scratch / "real-train.csv"]
        path = trained(files, scratch / "fine-tuned", "default", "--fine-tune-encoder")
        candidates["fine-tuned encoder"] = load_bundle(path.name, root=path.parent).model
    quotes = test.frame["text"].nunique()
    print(f"real news test split: {quotes} quotes ({len(train.frame)} train rows, "
          f"{len(seeds.frame)} seed rows)")  # fmt: skip
    header = "".join(f"{t:>22s}" for t in TARGETS)
    prior = seeds.stance_frequencies()
    results = {name: evaluate(model, test, prior) for name, model in candidates.items() if model}
    views = {"as labeled": "stance", "reweighted to the seed quotes' frequencies": "reweighted"}
    for view, key in views.items():
        print(f"{view}:\n{'F_avg':26s}{header}{'mean':>8s}{'sentiment F1':>14s}")
        for name, metrics in results.items():
            per_target = [100 * metrics[key][t]["f_avg"] for t in TARGETS]
            cells = "".join(f"{f:22.1f}" for f in per_target)
            sentiment = 100 * metrics["sentiment"]["macro_f1"]
            print(f"{name:26s}{cells}{sum(per_target) / 2:8.1f}{sentiment:14.1f}")
    print(f"{'VADER (sentiment only)':26s}{'':52s}{100 * vader_macro_f1(test):14.1f}")


def seed_report() -> None:
    quotes = read_labeled_csv([ROOT / "seeds" / "quotes.csv"])
    metrics = cross_validate(StanceModel(), quotes, folds=5)
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE}:models/default/manifest.json"],
        capture_output=True,
    )
    rows = {"now": metrics}
    if shown.returncode == 0:
        rows["stop 11 (manifest)"] = json.loads(shown.stdout)["metrics"]
    for name, result in rows.items():
        per_target = "  ".join(f"{t} {100 * result['stance'][t]['f_avg']:.2f}" for t in TARGETS)
        pooled = 100 * result["stance"]["all"]["f_avg"]
        sentiment = 100 * result["sentiment"]["macro_f1"]
        print(f"seed 5-fold CV, {name:19s}: {per_target}  pooled {pooled:.2f}  "
              f"sentiment {sentiment:.2f}")  # fmt: skip


def vader_macro_f1(quotes) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    rows = quotes.sentiment_rows()

    def label(text: str) -> str:
        compound = analyser.polarity_scores(text)["compound"]
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    return f1_score(rows["sentiment"], [label(t) for t in rows["text"]], average="macro")


def tweeteval_report(scratch: Path, fine_tuned: bool) -> None:
    data = SHARED / "benchmarks" / "tweeteval-stance"
    if not data.is_dir():
        print(f"TweetEval: {data} not present, skipped")
        return
    out = scratch / "tweeteval-models"
    runs = [("train", ["train.csv"], ()), ("train+val", ["train.csv", "val.csv"], ())]
    if fine_tuned:
        runs.append(("train, fine-tuned encoder", ["train.csv"], ("--fine-tune-encoder",)))
    for index, (name, files, options) in enumerate(runs):
        bundle = trained([data / f for f in files], out, f"run-{index}", *options).name
        evaluated = subprocess.run(
            [sys.executable, "-m", "service.cli", "evaluate", "--model", bundle,
             str(data / "test.csv"), "--json"],
            cwd=ROOT, check=True, capture_output=True, text=True,
            env=os.environ | {"STANCE_MODELS_DIR": str(out)},
        )  # fmt: skip
        score = 100 * json.loads(evaluated.stdout)["stance"]["all"]["f_avg"]
        board = "  ".join(f"{k} {score - v:+.1f}" for k, v in LEADERBOARD.items())
        print(f"TweetEval test pooled F_avg, stance train on {name}: {score:.2f}  (vs {board})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-tweeteval", action="store_true")
    parser.add_argument("--quick", action="store_true", help="Same as --skip-tweeteval.")
    parser.add_argument(
        "--fine-tuned", action="store_true", help="Also train with the encoder fine-tuned."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        real_report(scratch, args.fine_tuned)
        seed_report()
        if not (args.skip_tweeteval or args.quick):
            tweeteval_report(scratch, args.fine_tuned)


if __name__ == "__main__":
    main()
