"""A larger encoder distilled into all-MiniLM-L6-v2 on unlabeled news text (issue 14).

    python benchmarks/distil_encoder.py TEACHER_DIR OUT_DIR [--epochs 2] [--lr 2e-4]
    python benchmarks/compare_recipes.py "synthetic + real" --embedding-model OUT_DIR

A design measurement, not part of `make bench` (about 14 minutes here for two epochs, plus the
teacher's embeddings once). The student keeps MiniLM's size and speed; it is trained so that a
linear map of its normalised mean-pooled embedding matches the teacher's normalised embedding
(mean squared error, summed over the teacher's dimensions: the distillation of Reimers &
Gurevych, EMNLP 2020), the map initialised by least squares on the stock student's embeddings
(ridge 1e-2) and learned at 1e-3, the student's six transformer layers at `--lr` after a 10%
warm-up, batches of 32 texts of similar length, texts cut at 128 tokens, bfloat16 autocast where
the CPU has it. The map is dropped; OUT_DIR is a sentence-transformers directory.

Text (unlabeled, about 20,000 distinct texts, all read from ../shared): the paragraphs of 40–700
characters of PolNeAR's train articles, the quotations of the Quotebank archive samples, the
TweetEval stance training tweets, and the seed quotes. No text of the real-quotes pool is used,
so the dev folds of `compare_recipes.py` stay unseen. Measured results are in docs/training.md
("A larger encoder").
"""

from __future__ import annotations

import argparse
import bz2
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training import get_embedder  # noqa: E402
from training.embedding import resolve_model_path  # noqa: E402
from training.encoder_cache import load_sentence_transformer  # noqa: E402
from training.fine_tuning import _has_bfloat16_instructions  # noqa: E402

BATCH = 32
MAX_TOKENS = 128
MAP_LEARNING_RATE = 1e-3
RIDGE = 1e-2


def corpus() -> list[str]:
    """The distinct unlabeled texts named in the module docstring, in a fixed order."""
    texts = set()
    for path in (SHARED / "attribution/polnear/data/train/text").glob("*.txt"):
        paragraphs = (p.strip() for p in path.read_text(encoding="utf-8").split("\n"))
        texts.update(p for p in paragraphs if 40 <= len(p) <= 700)
    for path in (SHARED / "archives").glob("*.json.bz2"):
        with bz2.open(path, "rt", encoding="utf-8") as lines:
            texts.update(json.loads(line)["quotation"] for line in lines)
    for path in (SHARED / "benchmarks/tweeteval-stance/train.csv", ROOT / "seeds/quotes.csv"):
        with open(path, encoding="utf-8", newline="") as rows:
            texts.update(row["text"] for row in csv.DictReader(rows))
    with open(SHARED / "real-quotes/pool.jsonl", encoding="utf-8") as lines:
        pool = {json.loads(line)["text"] for line in lines}
    return sorted(texts - pool)


def distil(teacher_dir: str, out_dir: str, epochs: int, learning_rate: float) -> None:
    import torch

    texts = corpus()
    print(f"{len(texts)} texts", flush=True)
    teacher = get_embedder(teacher_dir).vectors(texts)
    target = np.stack([teacher[t] for t in texts])
    stock = get_embedder().vectors(texts)
    source = np.stack([stock[t] for t in texts])
    torch.manual_seed(0)
    student = load_sentence_transformer(resolve_model_path())
    student.max_seq_length = MAX_TOKENS
    for name, parameter in student[0].auto_model.named_parameters():
        parameter.requires_grad = name.startswith("encoder.")  # the six transformer layers
    layers = [p for p in student[0].auto_model.parameters() if p.requires_grad]
    mapping = torch.nn.Linear(source.shape[1], target.shape[1])
    weight, bias = _least_squares(source, target)
    with torch.no_grad():
        mapping.weight.copy_(torch.from_numpy(weight.T.astype(np.float32)))
        mapping.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    optimiser = torch.optim.AdamW(
        [
            {"params": layers, "lr": learning_rate},
            {"params": list(mapping.parameters()), "lr": MAP_LEARNING_RATE},
        ]
    )
    ordered = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    batches = [ordered[i : i + BATCH] for i in range(0, len(ordered), BATCH)]
    steps = epochs * len(batches)
    warm_up = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.1 * steps))
    )
    bfloat16 = _has_bfloat16_instructions(torch)
    student.train()
    started = time.perf_counter()
    for epoch in range(epochs):
        random.Random(epoch).shuffle(batches)
        total = 0.0
        for batch in batches:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
                features = student.preprocess([texts[i] for i in batch])
                pooled = student(features)["sentence_embedding"].float()
            pooled = torch.nn.functional.normalize(pooled, dim=1)
            loss = ((mapping(pooled) - torch.from_numpy(target[batch])) ** 2).sum(1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            warm_up.step()
            total += loss.item()
        print(
            f"epoch {epoch + 1}: mean loss {total / len(batches):.4f} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    student.eval()
    student.save(out_dir)
    print(f"saved {out_dir}")


def _least_squares(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression of `target` on `source` (centred): (weight, bias); prints its loss."""
    source_mean, target_mean = source.mean(0), target.mean(0)
    centred = source - source_mean
    weight = np.linalg.solve(
        centred.T @ centred + RIDGE * np.eye(source.shape[1]),
        centred.T @ (target - target_mean),
    )
    bias = target_mean - source_mean @ weight
    residual = ((source @ weight + bias - target) ** 2).sum(1).mean()
    print(f"least-squares map of the stock student: loss {residual:.4f}", flush=True)
    return weight, bias


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teacher", help="the teacher's sentence-transformers directory")
    parser.add_argument("out", help="where to write the distilled student")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-4, help="the student's learning rate")
    args = parser.parse_args()
    distil(args.teacher, args.out, args.epochs, args.lr)
