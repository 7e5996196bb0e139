"""Directories that appear whole or not at all: built aside, then renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """A new directory beside `final` to fill; on success it replaces `final` in one rename.

    If the block raises, the staging directory is removed and `final` is left as it was. An
    existing `final` is moved aside first and deleted after the swap, so readers see either the
    old or the new directory, never a half-written one. Permissions follow the umask (not
    mkdtemp's 0700), so bundles and caches can be shared.
    """
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    try:
        yield staging
        if final.exists():
            retired = final.with_name(f".tmp-retired-{final.name}-{os.getpid()}")
            os.rename(final, retired)
            os.rename(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
