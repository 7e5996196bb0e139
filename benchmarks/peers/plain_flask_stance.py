"""The plain peer of our service: Flask + SentenceTransformer.encode + the heads, per request.

What a developer would write without our service: one `encode` call per request on PyTorch, then
the bundle's fitted scikit-learn heads (`predict_proba`), no micro-batching. Served by gunicorn
with the same workers and threads as ours (benchmarks/bench_service.py):

    STANCE_MODEL=default python -m gunicorn -w 2 --threads 16 -k gthread \
        --chdir benchmarks/peers plain_flask_stance:app
"""

import os

import torch
from flask import Flask, jsonify, request
from sentence_transformers import SentenceTransformer

from training import QuoteBatch, load_bundle, load_estimator
from training.embedding import resolve_model_path

torch.set_num_threads(int(os.environ.get("PEER_TORCH_THREADS", "1")))
_bundle = load_bundle()
_heads = load_estimator(_bundle)
_encoder = SentenceTransformer(resolve_model_path(), device="cpu", local_files_only=True)
app = Flask(__name__)


@app.get("/ready")
def ready():
    return jsonify({"status": "ready"})


@app.post("/stance")
def stance():
    text = request.get_json()["text"]
    vectors = _encoder.encode([text], normalize_embeddings=True)
    batch = QuoteBatch([text], vectors)
    stances = {}
    for target, head in _heads.heads_.items():
        probabilities = head.predict_proba(batch)[0]
        stances[target] = dict(zip(head.classes_, probabilities.round(6).tolist(), strict=True))
    sentiment = _heads.sentiment_head_.predict_proba(batch)[0]
    labels = _heads.sentiment_head_.classes_
    return jsonify(
        {"stance": stances, "sentiment": dict(zip(labels, sentiment.tolist(), strict=True))}
    )
