# Production image of the stance service: gunicorn, the encoder converted for OpenVINO (PyTorch
# only builds it), the default model, non-root.
#   docker build -t quote-stance .
#   docker run --rm -p 8000:8000 -e STANCE_API_TOKEN=change-me quote-stance
# Installs through the same Makefile target CI uses (make install-runtime).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # CPU wheels of torch: without this index pip would pull the CUDA build (GBs of libraries).
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The sentence encoder converted for scoring (OpenVINO) is built here and copied with the app.
ENV STANCE_CACHE_DIR=/app/cache
# Dependencies first (cached while only code changes); pyproject needs README.md to build.
COPY pyproject.toml Makefile README.md ./
COPY training/ training/
COPY service/ service/
RUN make install-runtime PYTHON=python3.11 VENV=/app/.venv \
    && /app/.venv/bin/python -c "import torch; assert not torch.version.cuda, torch.version.cuda"

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    STANCE_CACHE_DIR=/app/cache \
    STANCE_MODELS_DIR=/app/models \
    STANCE_MODEL=default \
    STANCE_BIND=0.0.0.0:8000 \
    # A container sees the host's cores: size workers to the CPUs you give it (--cpus).
    STANCE_WORKERS=2 \
    STANCE_THREADS=8
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin stance
WORKDIR /app
COPY --from=build --chown=stance:stance /app /app
COPY --chown=stance:stance models/default/ models/default/
USER stance
# Fail the build, not the first request, when the bundle or the embedding model cannot load.
RUN python -c "from training import load_bundle; print('model', load_bundle().version)"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
# Exec form: gunicorn's master is PID 1 and gets SIGTERM directly (graceful stop), SIGHUP reloads.
CMD ["stance", "serve"]
