"""Quote extraction and speaker attribution: real news (PolNeAR dev) beside our own articles.

    python benchmarks/bench_extraction.py [--errors] [--only polnear|ours]

PolNeAR dev (84 real US political news articles of 2016, ../shared/attribution/polnear; see
`service.extraction.corpus` for the quote-like attributions it counts: direct quotations and
reported speech with a speech cue). Its sources are mentions, not resolved names, so a speaker is
right when the predicted speaker mention overlaps the annotated source span, or when the
predicted name and the source share their last word ("Clinton" ~ "Hillary Clinton"); an
attribution without a source is right when the prediction names nobody.

Our own set, benchmarks/attribution/articles.jsonl:

The articles are fictional and were written for this benchmark in three batches, all by the
author of the extractor, so they share its idea of news style:
- dev (23): written before the extractor and used while building it.
- holdout (8): written later; its first untouched run scored F1 97.3 (0.3) / 96.4 (0.8) and
  speaker accuracy 84.3, before five annotation omissions in it were corrected and the errors
  it exposed were fixed.
- blind (5): written last and scored once: F1 100 / 100, speaker accuracy 92.2; its errors
  (occupation words taken into names, a misparsed subject) were fixed afterwards.
None of the rows printed now is a blind estimate; the first-run figures above are the honest
ones. When issue 13 made organisations and descriptions speakers ("a Meridian spokeswoman"),
the 37 quotations credited to one were given that speaker instead of null.

Quote spans match one-to-one, greedily by overlap, where overlap = |pred ∩ gold| / |gold| in
characters; a pair counts at threshold t when its overlap is at least t. Speaker accuracy is over
the pairs matched at 0.3: a case-insensitive exact full-name match, and null equals null.
Throughput times extract_quotes only; the spaCy pipeline is loaded (and warmed) beforehand.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.extraction import Quotation, extract_quotes, load_pipeline  # noqa: E402
from service.extraction.corpus import read_polnear  # noqa: E402

ARTICLES = ROOT / "benchmarks" / "attribution" / "articles.jsonl"
SHARED = Path(os.environ.get("SHARED") or ROOT.parent / "shared")
POLNEAR_DEV = SHARED / "attribution" / "polnear" / "data" / "dev"
THRESHOLDS = (0.3, 0.8)
# GenderGapTracker (Asr et al., 2021), quote extraction on 98 annotated news articles.
ANCHOR = {"f1@0.3": 83.7, "f1@0.8": 76.1, "speaker_accuracy": 86.5}


@dataclass(frozen=True)
class Gold:
    """A gold quotation; `source` is the annotated source mention (PolNeAR) or None (ours)."""

    quote: str
    start: int
    end: int
    speaker: str | None
    direct: bool
    source: tuple[int, int] | None = None


@dataclass(frozen=True)
class Article:
    id: str
    batch: str
    text: str
    golds: list[Gold]
    mention_level: bool  # speakers are annotated mentions (PolNeAR), not resolved names


@dataclass(frozen=True)
class Scores:
    matched: dict[float, int]
    predicted: int
    gold: int
    right_speaker: int
    seconds: float
    cpu_seconds: float
    articles: int


def load_articles(path: Path) -> list[Article]:
    """Our articles with gold quotations; every gold span must index its text exactly."""
    articles = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            record = json.loads(line)
            golds = [Gold(**quote) for quote in record["quotes"]]
            for gold in golds:
                if record["text"][gold.start : gold.end] != gold.quote:
                    raise ValueError(f"{path}:{number}: gold span does not match {gold.quote!r}")
            batch = record.get("batch", "dev")
            articles.append(Article(record["id"], batch, record["text"], golds, False))
    return articles


def load_polnear(split_dir: Path) -> list[Article]:
    """PolNeAR articles with their quote-like attributions as gold quotations; each part of a
    discontinuous content ("“A,” she said. “B.”") is a quotation of its own, with the source."""
    articles = []
    for article in read_polnear(split_dir):
        golds = [
            Gold(
                part.text,
                part.start,
                part.end,
                a.source.text if a.source else None,
                a.direct,
                (a.source.first.start, a.source.first.end) if a.source else None,
            )
            for a in article.quote_like()
            for part in a.content.parts
        ]
        articles.append(Article(article.id, "PolNeAR dev", article.text, golds, True))
    return articles


def overlap(pred: Quotation, gold: Gold) -> float:
    shared = min(pred.end, gold.end) - max(pred.start, gold.start)
    return max(shared, 0) / max(gold.end - gold.start, 1)


def match(preds: list[Quotation], golds: list[Gold], threshold: float) -> list[tuple[int, int]]:
    """One-to-one greedy matching, best overlap first."""
    pairs = sorted(
        (
            (overlap(p, g), i, j)
            for i, p in enumerate(preds)
            for j, g in enumerate(golds)
            if overlap(p, g) >= threshold
        ),
        reverse=True,
    )
    used_p, used_g, matched = set(), set(), []
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
            matched.append((i, j))
    return matched


def same_speaker(pred: Quotation, gold: Gold, mention_level: bool) -> bool:
    """Names: case-insensitive equality. Mentions: overlapping spans or a shared last word."""
    if not mention_level or gold.source is None or pred.speaker is None:
        return (pred.speaker or "").casefold() == (gold.speaker or "").casefold()
    start, end = pred.speaker_start, pred.speaker_end
    if start is not None and end is not None and start < gold.source[1] and gold.source[0] < end:
        return True
    words = gold.speaker.casefold().replace("’s", "").replace("'s", "").split()
    return bool(words) and pred.speaker.casefold().split()[-1] == words[-1]


def evaluate(articles: list[Article], nlp, errors: bool) -> Scores:
    """Extract from each article and compare with its gold quotations."""
    matched = dict.fromkeys(THRESHOLDS, 0)
    predicted = gold = right = 0
    elapsed = cpu = 0.0
    for article in articles:
        began, began_cpu = time.perf_counter(), time.process_time()
        preds = extract_quotes(article.text, doc=article.id, nlp=nlp)
        elapsed += time.perf_counter() - began
        cpu += time.process_time() - began_cpu
        predicted += len(preds)
        gold += len(article.golds)
        for threshold in THRESHOLDS:
            matched[threshold] += len(match(preds, article.golds, threshold))
        pairs = match(preds, article.golds, 0.3)
        for i, j in pairs:
            ok = same_speaker(preds[i], article.golds[j], article.mention_level)
            right += ok
            if errors and not ok:
                print(
                    f"  SPEAKER {article.id}: {article.golds[j].quote[:60]!r} "
                    f"gold={article.golds[j].speaker} pred={preds[i].speaker}"
                )
        if errors:
            _print_misses(article.id, preds, article.golds, pairs)
    return Scores(matched, predicted, gold, right, elapsed, cpu, len(articles))


def report(name: str, scores: Scores) -> None:
    cells = []
    for threshold in THRESHOLDS:
        tp = scores.matched[threshold]
        precision = 100 * tp / scores.predicted if scores.predicted else 0.0
        recall = 100 * tp / scores.gold if scores.gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        cells.append(f"{precision:6.1f}{recall:6.1f}{f1:6.1f}")
    base = scores.matched[0.3]
    accuracy = 100 * scores.right_speaker / base if base else 0.0
    print(f"{name:22s}{scores.articles:4d}{scores.gold:6d}  {'  '.join(cells)}  {accuracy:6.1f}")


def total(results: list[Scores]) -> Scores:
    return Scores(
        {t: sum(r.matched[t] for r in results) for t in THRESHOLDS},
        sum(r.predicted for r in results),
        sum(r.gold for r in results),
        sum(r.right_speaker for r in results),
        sum(r.seconds for r in results),
        sum(r.cpu_seconds for r in results),
        sum(r.articles for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list misses and wrong speakers")
    parser.add_argument("--only", choices=("polnear", "ours"), help="run one set only")
    args = parser.parse_args()

    nlp = load_pipeline()
    ours = load_articles(ARTICLES)
    extract_quotes(ours[0].text, nlp=nlp)  # warm-up: first call allocates model buffers

    rows: list[tuple[str, Scores]] = []
    if args.only != "ours":
        if POLNEAR_DEV.is_dir():
            rows.append(
                ("PolNeAR dev (real)", evaluate(load_polnear(POLNEAR_DEV), nlp, args.errors))
            )
        else:
            print(
                f"PolNeAR dev not found at {POLNEAR_DEV}: set SHARED to the shared data directory"
            )
    if args.only != "polnear":
        batches = sorted({a.batch for a in ours})
        per_batch = [
            (f"ours: {b}", evaluate([a for a in ours if a.batch == b], nlp, args.errors))
            for b in batches
        ]
        rows += [*per_batch, ("ours: all", total([s for _, s in per_batch]))]
    print("Quote extraction and attribution (P / R / F1 at character overlap; speaker accuracy)")
    print(
        f"{'':22s}{'arts':>4s}{'gold':>6s}  {'--- overlap 0.3 ---':>18s}  "
        f"{'--- overlap 0.8 ---':>18s}  {'spk':>6s}"
    )
    for name, scores in rows:
        report(name, scores)
    print(
        f"{'anchor: GenderGapTracker':22s}{98:4d}{'':6s}  {'F1':>12s}{ANCHOR['f1@0.3']:6.1f}  "
        f"{'F1':>12s}{ANCHOR['f1@0.8']:6.1f}  {ANCHOR['speaker_accuracy']:6.1f}"
    )
    for name, scores in rows:
        if name.startswith("ours: ") and name != "ours: all":
            continue
        print(
            f"throughput {name}: {scores.articles / scores.seconds:.1f} articles/s wall clock, "
            f"{scores.articles / scores.cpu_seconds:.1f} articles per CPU-second "
            f"({1000 * scores.cpu_seconds / scores.articles:.0f} ms CPU per article)"
        )
    # Wall clock suffers when other processes share the CPU; CPU time shows the cost itself.
    print(
        f"extraction only, pipeline loaded beforehand; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs"
    )


def _print_misses(article_id, preds, golds, pairs) -> None:
    matched_p = {i for i, _ in pairs}
    matched_g = {j for _, j in pairs}
    for j, gold in enumerate(golds):
        if j not in matched_g:
            kind = "direct" if gold.direct else "reported"
            print(f"  MISSED {article_id} ({kind}, {gold.speaker}): {gold.quote[:70]!r}")
    for i, pred in enumerate(preds):
        if i not in matched_p:
            print(f"  EXTRA  {article_id} ({pred.speaker}, {pred.cue}): {pred.quote[:70]!r}")


if __name__ == "__main__":
    main()
