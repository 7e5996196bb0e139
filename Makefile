# The one entry point for humans, CI and the Docker image.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
SHARED ?= ../shared

.PHONY: install install-runtime check test lint format model speaker-ranker bench serve screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: the CPU build lies on disk; an unpinned torch would pull a CUDA build.
# Then the one-time conversion of the sentence encoder for scoring (OpenVINO, into
# $STANCE_CACHE_DIR, default ~/.cache/quote-stance), so no scoring command pays for it.
install-runtime: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	HF_HUB_OFFLINE=1 $(BIN)/stance encoder

install: install-runtime
	$(BIN)/pip install --quiet -e '.[dev]'

# The README's test command: install, lint, test.
check: install lint test

test:
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The default bundle: the synthetic seed quotes plus our labels of real news quotes (train split
# only; the 300-quote real-news test split is never trained on). The real texts are joined from
# $(SHARED)/real-quotes/pool.jsonl; without it the bundle is trained on the seed quotes alone.
# Its stance probabilities assume that 45% of the quotes scored take a position on a target, as
# the seed quotes do (docs/training.md, "The stance prior").
POOL := $(SHARED)/real-quotes/pool.jsonl
model:
	@if [ -f $(POOL) ]; then \
		echo "model: training on seeds/quotes.csv and the real news labels (train split) joined from $(POOL)"; \
		mkdir -p build && $(BIN)/python -m training.real_quotes build/real-train.csv --split train --pool $(POOL) && \
		HF_HUB_OFFLINE=1 $(BIN)/stance train seeds/quotes.csv build/real-train.csv --position-share 0.45 --name default --force --cv 5; \
	else \
		echo "model: $(POOL) is absent: the real news labels are skipped, training on seeds/quotes.csv only"; \
		HF_HUB_OFFLINE=1 $(BIN)/stance train seeds/quotes.csv --position-share 0.45 --name default --force --cv 5; \
	fi

# The learned speaker ranker of quote extraction (service/extraction/speaker_ranker.json): reads
# PolNeAR train (fit) and dev (report) from $(SHARED)/attribution/polnear/data, writes the JSON
# artefact atomically. The committed artefact is what runs when ../shared is absent.
RANKER := service/extraction/speaker_ranker.json
speaker-ranker: $(RANKER)
$(RANKER): service/extraction/ranker.py service/extraction/analysis.py service/extraction/corpus.py
	HF_HUB_OFFLINE=1 $(BIN)/python -m service.extraction.ranker $(SHARED)/attribution/polnear/data

bench:
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; HF_HUB_OFFLINE=1 SHARED=$(SHARED) $(BIN)/python $$script || exit 1; \
	done

# Rewrite the README's screenshots of the web page (docs/img/*.png, 1280x800) from the
# browser tests, which drive a headless Chromium against a real `stance serve`.
screenshots:
	STANCE_SCREENSHOTS=docs/img HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q tests/test_web_browser.py
	rm -f docs/img/failure.png

# The README's run command: the service on the default model.
serve: install-runtime
	HF_HUB_OFFLINE=1 $(BIN)/stance serve --bind 127.0.0.1:$(PORT)

clean:
	rm -rf .pytest_cache .ruff_cache build *.egg-info models/.tmp-*
