# The one entry point for humans, CI and the Docker image.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
SHARED ?= ../shared

.PHONY: install install-runtime check test lint format model bench serve screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: the CPU build lies on disk; an unpinned torch would pull a CUDA build.
install-runtime: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .

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

# Rebuild the committed default bundle from the seed quotes.
model:
	HF_HUB_OFFLINE=1 $(BIN)/stance train seeds/quotes.csv --name default --force --cv 5

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
