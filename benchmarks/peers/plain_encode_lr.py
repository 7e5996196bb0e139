"""The plain peer of `stance score`: pandas + SentenceTransformer.encode + logistic regression.

    python benchmarks/peers/plain_encode_lr.py INPUT.csv OUTPUT.csv

What a developer would write without our batch scorer: read the CSV, `encode` every text on
PyTorch (sentence-transformers sorts them by length), apply the default bundle's fitted
scikit-learn heads (`predict_proba` of each calibrated logistic regression) and write the
probabilities. Timed as a whole process by benchmarks/bench_batch.py.
"""

import sys

import pandas as pd
import torch
from sentence_transformers import SentenceTransformer

from training import QuoteBatch, load_bundle, load_estimator
from training.embedding import resolve_model_path


def main(source: str, target: str) -> None:
    frame = pd.read_csv(source)
    texts = frame["text"].astype(str).tolist()
    heads = load_estimator(load_bundle())
    encoder = SentenceTransformer(resolve_model_path(), device="cpu", local_files_only=True)
    vectors = encoder.encode(texts, batch_size=64, normalize_embeddings=True)
    batch = QuoteBatch(texts, vectors)
    for target_name, head in [*heads.heads_.items(), ("sentiment", heads.sentiment_head_)]:
        probabilities = head.predict_proba(batch)
        for column, label in enumerate(head.classes_):
            frame[f"{target_name}_{label}"] = probabilities[:, column]
    frame.to_csv(target, index=False)
    print(f"{len(texts)} texts, torch {torch.get_num_threads()} threads", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
