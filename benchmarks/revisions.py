"""An earlier revision of this repository, checked out beside it for side-by-side benchmarks."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Stop 11, the last revision whose scoring path ran PyTorch (OpenVINO converted in memory).
BEFORE_RUNTIME_ENCODER = "cf2a637"


@contextmanager
def checkout(revision: str) -> Iterator[Path | None]:
    """A temporary git worktree of `revision` (None when it cannot be checked out, e.g. in a
    shallow clone), removed afterwards. Its code runs with `python -m service.cli` and
    PYTHONPATH set to it, under this checkout's interpreter."""
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / revision
        added = subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), revision],
            capture_output=True,
            text=True,
        )
        if added.returncode != 0:
            print(f"(no 'before': cannot check out {revision}: {added.stderr.strip()})")
            yield None
            return
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
            )
