"""Sentence embeddings kept on disk, so a retrain embeds only the quotes it has not seen before.

One SQLite database per embedding model and encoder:

    $STANCE_CACHE_DIR/embeddings/<key>.sqlite     key: the model's fingerprint + the encoder's
                                                  backend, version, precision and padding

(or in $STANCE_EMBEDDING_CACHE_DIR, when set),

so vectors written for another model or another encoder are never read. A row holds the
SHA-256 of a text, its float32 vector and when it was last used. Writes are SQLite
transactions in WAL mode: atomic, and safe when several training runs share the cache. At most
`max_entries` rows are kept ($STANCE_EMBEDDING_CACHE_MAX, default 1,000,000, about 1.6 GB for
384 dimensions); the least recently used go first. `STANCE_EMBEDDING_CACHE=off` (or `stance
train --no-embedding-cache`) turns it off. A vector read back is bit-identical to the one
stored, and the encoders store vectors that depend on the text alone, so a cached vector equals
a fresh one bit for bit.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from training.encoder_cache import cache_dir

DEFAULT_MAX_ENTRIES = 1_000_000


def cache_enabled() -> bool:
    """False when $STANCE_EMBEDDING_CACHE is off, 0, false or no."""
    value = os.environ.get("STANCE_EMBEDDING_CACHE", "on").strip().lower()
    return value not in ("off", "0", "false", "no")


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors of texts for one embedding model and encoder (`identity`), on disk."""

    def __init__(self, identity: str, dimension: int, root: Path | None = None, max_entries=None):
        self.dimension = dimension
        self.max_entries = int(
            max_entries or os.environ.get("STANCE_EMBEDDING_CACHE_MAX", DEFAULT_MAX_ENTRIES)
        )
        key = hashlib.sha256(identity.encode()).hexdigest()[:16]
        configured = os.environ.get("STANCE_EMBEDDING_CACHE_DIR", "").strip()
        folder = Path(root or configured or cache_dir() / "embeddings")
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{key}.sqlite"
        self._identity = identity
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors "
                "(text_sha256 BLOB PRIMARY KEY, vector BLOB NOT NULL, used REAL NOT NULL)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS about (name TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT OR IGNORE INTO about VALUES ('identity', ?)", (identity,))
            stored = db.execute("SELECT value FROM about WHERE name = 'identity'").fetchone()[0]
        if stored != identity:  # a digest collision: never read another model's vectors
            raise RuntimeError(f"{self.path} belongs to {stored!r}, not {identity!r}")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60, isolation_level=None)

    def get(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors of those `texts` that are in the cache (others are left out)."""
        keys = {_text_key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        if not keys:
            return found
        with self._connect() as db:
            ordered = list(keys)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT text_sha256, vector FROM vectors WHERE text_sha256 IN ({marks})", chunk
                ).fetchall()
                for key, blob in rows:
                    found[keys[key]] = np.frombuffer(blob, dtype=np.float32).copy()
            if found:
                now = time.time()
                db.executemany(
                    "UPDATE vectors SET used = ? WHERE text_sha256 = ?",
                    [(now, _text_key(t)) for t in found],
                )
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Store vectors (float32, `dimension` long) in one transaction; evict the oldest."""
        if not vectors:
            return
        now = time.time()
        rows = []
        for text, vector in vectors.items():
            array = np.asarray(vector, dtype=np.float32)
            if array.shape != (self.dimension,):
                raise ValueError(f"expected a vector of {self.dimension}, got {array.shape}")
            rows.append((_text_key(text), array.tobytes(), now))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            (count,) = db.execute("SELECT COUNT(*) FROM vectors").fetchone()
            if count > self.max_entries:
                db.execute(
                    "DELETE FROM vectors WHERE text_sha256 IN (SELECT text_sha256 FROM vectors "
                    "ORDER BY used LIMIT ?)",
                    (count - self.max_entries,),
                )
            db.execute("COMMIT")

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
