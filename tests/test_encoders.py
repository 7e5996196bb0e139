"""Scoring encoders: the cached OpenVINO conversion and PyTorch, row-deterministic, close to the
float32 reference; the cache is rebuilt when stale or corrupted; scoring never imports PyTorch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training.encoders import (
    EncoderError,
    equal_length_batches,
    padded_length,
    release_mapped_pages,
    requested_encoder,
    unit_rows,
)

TEXTS = [
    "Quote one about NATO.",
    "Quote two about NATO.",
    "Quote six about NATO.",
    "NATO allies must finally spend two percent of GDP on defence.",
    "It is time to talk to Moscow and bring Russia back into the G8.",
    "No.",
]


@pytest.fixture(scope="module", params=["openvino", "torch"])
def encoder_embedder(request, embedder):
    """An embedder on the named encoder, sharing the session's loaded model."""
    return embedder.with_encoder(request.param)


def test_equal_length_batches_group_indices_by_length_shortest_first():
    batches = list(equal_length_batches([5, 3, 5, 5, 3, 9], batch_size=2))
    assert batches == [[1, 4], [0, 2], [3], [5]]


def test_texts_are_padded_to_a_multiple_of_8_within_the_sequence_limit():
    assert [padded_length(n, 256) for n in (1, 8, 9, 17, 250, 256)] == [8, 8, 16, 24, 256, 256]
    assert padded_length(75, 77) == 77 and padded_length(75, None) == 80


def test_rows_are_scaled_to_unit_norm_exactly_as_sklearn_does():
    from sklearn.preprocessing import normalize

    vectors = np.random.default_rng(0).standard_normal((5, 384)).astype(np.float32)
    vectors[2] = 0.0
    assert np.array_equal(unit_rows(vectors.copy()), normalize(vectors))
    assert not unit_rows(vectors.copy())[2].any()


def test_each_text_is_embedded_exactly_as_if_alone(encoder_embedder):
    together = encoder_embedder.encode(TEXTS)
    alone = np.vstack([encoder_embedder.encode([text]) for text in TEXTS])
    in_pairs = np.vstack([encoder_embedder.encode(TEXTS[i : i + 2], 1) for i in range(0, 6, 2)])
    assert np.array_equal(together, alone)
    assert np.array_equal(together, in_pairs)


def test_encoders_stay_close_to_the_float32_reference(encoder_embedder):
    vectors = encoder_embedder.encode(TEXTS)
    reference = encoder_embedder.encode_reference(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (vectors * reference).sum(axis=1).min() > 0.999


def _mapped_kib(directory) -> tuple[int, int]:
    """(resident, size) in KiB of this process's mappings of files under `directory`."""
    inside, resident, size, current = str(Path(directory).resolve()) + "/", 0, 0, False
    with open("/proc/self/smaps", encoding="utf-8") as stream:
        for line in stream:
            fields = line.split()
            if "-" in fields[0] and ":" not in fields[0]:  # a mapping's header line
                current = len(fields) >= 6 and fields[5].startswith(inside)
            elif current and fields[0] == "Size:":
                size += int(fields[1])
            elif current and fields[0] == "Rss:":
                resident += int(fields[1])
    return resident, size


FRESH_ENCODER = """
from tests.test_encoders import TEXTS, _mapped_kib
from training import get_embedder
embedder = get_embedder().with_encoder("openvino")
embedder.encode(TEXTS)
print("MAPPED:%d,%d" % _mapped_kib(embedder.entry_directory))
"""


TELEMETRY_CHECK = """
import os
forks = []
fork = os.fork
os.fork = lambda: forks.append(1) or fork()
from training import get_embedder
get_embedder().with_encoder("openvino").encode(["NATO allies must spend more."])
from openvino.tools.ovc import telemetry_utils
print("TELEMETRY:%s,%d" % (telemetry_utils.tm.__name__, len(forks)))
"""


def test_the_openvino_encoder_sends_no_usage_telemetry():
    # Importing openvino plainly sends a usage event to Google Analytics from a forked process
    # (openvino-telemetry without a consent file): the scoring encoder must not.
    done = subprocess.run(
        [sys.executable, "-c", TELEMETRY_CHECK], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("TELEMETRY:")[1].split() == ["openvino.tools.ovc.telemetry_stub,0"]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/smaps")
def test_the_compiled_weights_mapped_for_loading_do_not_stay_resident(embedder, tmp_path):
    # A fresh process: the weights are mapped from the cache, but after loading only the
    # pages inference touches (rows of the token-embedding table) are resident.
    done = subprocess.run(
        [sys.executable, "-c", FRESH_ENCODER], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    resident, size = map(int, done.stdout.split("MAPPED:")[1].split(","))
    assert size > 50 * 1024 and resident < size / 4
    # Released pages come back from the file with the same bytes: the same embeddings.
    # (This process's own mappings: it may have mapped the IR it compiled itself rather than the
    # compiled blob a later process maps, when it ran first on an empty cache.)
    openvino = embedder.with_encoder("openvino")
    before = openvino.encode(TEXTS)
    mapped = _mapped_kib(openvino.entry_directory)[1]
    assert mapped > 50 * 1024
    assert release_mapped_pages(openvino.entry_directory) >= mapped * 1024
    assert _mapped_kib(openvino.entry_directory)[0] < 1024
    assert np.array_equal(openvino.encode(TEXTS), before)


def test_the_encoder_that_ran_is_recorded(encoder_embedder):
    info = encoder_embedder.encoder
    assert info.backend == encoder_embedder.requested_encoder
    assert info.precision in {"bf16", "f32"}
    assert set(info.to_dict()) == {"backend", "version", "precision", "pad_to_multiple"}


def test_the_converted_encoder_records_the_reference_fingerprint(encoder_embedder, embedder):
    assert encoder_embedder.scoring_spec == embedder.spec


def test_the_runtime_tokenizer_gives_the_reference_token_ids(embedder):
    texts = [
        *TEXTS,
        "  padded with spaces\t and tabs\n ",
        "Ünïcödé façade — “curly quotes”, ‘single’ and emoji 🙂 in Zürich",
        "MiXeD CaSe ACRONYMS like NATO, G7/G8 and 2.5% of GDP",
        " ".join(["defence"] * 400),  # longer than the 256-token window: truncated alike
    ]
    reference = embedder.sentence_transformer.preprocess(texts)["input_ids"]
    mask = embedder.sentence_transformer.preprocess(texts)["attention_mask"]
    ours = [e.ids for e in embedder._converted.encoder.tokenize(texts)]
    for row, ids, keep in zip(reference.tolist(), ours, mask.tolist(), strict=True):
        assert row[: sum(keep)] == ids
    assert embedder.token_counts([texts[-1]])[0] == 402  # counted before truncation


def test_auto_prefers_openvino_here(embedder):
    pytest.importorskip("openvino")
    assert embedder.requested_encoder == "auto"
    assert embedder.encoder.backend == "openvino"


def test_an_unknown_encoder_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("STANCE_ENCODER", "tpu")
    with pytest.raises(EncoderError, match="STANCE_ENCODER must be one of auto, openvino, torch"):
        requested_encoder()


def _entry(cache):
    from training.encoder_cache import SETTINGS_FILE

    entries = [p.parent for p in cache.glob(f"encoders/*/{SETTINGS_FILE}")]
    assert len(entries) == 1
    return entries[0]


@pytest.mark.slow
def test_a_corrupted_or_stale_cache_entry_is_rebuilt_not_used(embedder, tmp_path, monkeypatch):
    from training.encoder_cache import load_encoder
    from training.encoders import encoder_threads

    monkeypatch.setenv("STANCE_CACHE_DIR", str(tmp_path))
    path = embedder._path
    first = load_encoder(path, encoder_threads(), embedder.sentence_transformer)
    entry = _entry(tmp_path)
    created = json.loads((entry / "encoder.json").read_text())["created_at"]
    expected = first.encoder.encode(TEXTS, 8)

    # Weights overwritten in place (same size, so only the probe check can tell).
    weights = bytearray((entry / "model.bin").read_bytes())
    weights[len(weights) // 3 : len(weights) // 3 + 400_000] = bytes(400_000)
    (entry / "model.bin").write_bytes(bytes(weights))
    shutil.rmtree(entry / "compiled", ignore_errors=True)
    rebuilt = load_encoder(path, encoder_threads(), embedder.sentence_transformer)
    assert np.array_equal(rebuilt.encoder.encode(TEXTS, 8), expected)
    assert json.loads((_entry(tmp_path) / "encoder.json").read_text())["created_at"] >= created

    # A truncated tokenizer, then an entry recorded under another key (stale).
    entry = _entry(tmp_path)
    (entry / "tokenizer.json").write_text("{")
    assert np.array_equal(load_encoder(path, encoder_threads()).encoder.encode(TEXTS, 8), expected)
    settings = json.loads((entry / "encoder.json").read_text())
    (entry / "encoder.json").write_text(json.dumps(settings | {"key": "another"}))
    assert np.array_equal(load_encoder(path, encoder_threads()).encoder.encode(TEXTS, 8), expected)
    assert json.loads((_entry(tmp_path) / "encoder.json").read_text())["key"] == entry.name


SCORING_CHECK = """
import sys
from service.cli import main
try:
    main({args!r}, standalone_mode=False)
finally:
    heavy = sorted(m for m in {forbidden!r} if m in sys.modules)
    print("IMPORTED:" + ",".join(heavy), file=sys.stderr)
"""


def _imported(args: list[str], forbidden: list[str], tmp_path) -> list[str]:
    code = SCORING_CHECK.format(args=args, forbidden=forbidden)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("IMPORTED:"))
    return [m for m in line.removeprefix("IMPORTED:").split(",") if m]


@pytest.mark.slow
def test_scoring_commands_import_neither_torch_nor_transformers(tmp_path):
    forbidden = ["torch", "transformers", "sentence_transformers", "sklearn", "spacy"]
    predict = ["predict", "We must spend more on defence.", "--json"]
    assert _imported(predict, forbidden, tmp_path) == []
    quotes = tmp_path / "one.csv"
    quotes.write_text("text\nTalks with Moscow should resume.\n")
    scored = tmp_path / "scored.csv"
    assert _imported(["score", str(quotes), "-o", str(scored)], forbidden, tmp_path) == []
    assert scored.read_text().count("\n") == 2


def test_help_and_models_load_no_encoder_and_no_spacy(tmp_path):
    forbidden = ["openvino", "torch", "sklearn", "spacy", "pandas"]
    assert _imported(["--help"], forbidden, tmp_path) == []
    assert _imported(["models"], forbidden, tmp_path) == []


WORKER_CHECK = """
import sys
from service.api.app import create_app
from service.api.config import ServiceConfig
from service.api.server import StanceServer, ServeOptions
from training import load_bundle
app = create_app(ServiceConfig(encoder_threads=1), bundle=load_bundle("default"))
response = app.test_client().post("/stance", json={"text": "Talks with Moscow should resume."})
assert response.status_code == 200, response.get_data(as_text=True)
print("IMPORTED:" + ",".join(sorted(m for m in %r if m in sys.modules)), file=sys.stderr)
"""


@pytest.mark.slow
def test_a_service_worker_scoring_quotes_imports_no_pandas_torch_or_spacy(tmp_path):
    # pandas and pyarrow (about 110 MiB per worker) load with the first file upload only;
    # spaCy with the first article.
    forbidden = ["pandas", "pyarrow", "torch", "transformers", "sklearn", "spacy"]
    done = subprocess.run(
        [sys.executable, "-c", WORKER_CHECK % forbidden],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("IMPORTED:"))
    assert line == "IMPORTED:"
