"""Resumable jobs: one Parquet part per chunk in `<output>.parts/`, plus the job's manifest.

A part appears whole or not at all (tmp + os.replace), so after a kill at any moment the parts
present are exactly the chunks finished. `--resume` checks the manifest (same inputs, options and
model), skips finished chunks and assembles; the parts are removed only after the output is in
place, and an assembled job is marked so a kill during clean-up is harmless.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from service.batch.errors import BatchError
from service.batch.writers import write_atomically, write_part

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Journal:
    """The part files and manifest of one job writing `output`."""

    output: Path
    directory: Path

    @classmethod
    def for_output(cls, output: Path) -> Journal:
        return cls(output, output.with_name(output.name + ".parts"))

    def part_path(self, number: int) -> Path:
        return self.directory / f"{number:06d}.parquet"

    def is_done(self, number: int) -> bool:
        return self.part_path(number).is_file()

    def write(self, number: int, frame: pd.DataFrame, roles: dict) -> None:
        """Record chunk `number` as finished by writing its rows."""
        write_part(frame, self.part_path(number), roles)

    def parts(self) -> list[Path]:
        """Finished parts in chunk order."""
        return sorted(self.directory.glob("[0-9]*.parquet"))

    def manifest(self) -> dict | None:
        path = self.directory / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise BatchError(f"{path}: unreadable job manifest ({error}); use --force") from None

    def write_manifest(self, manifest: dict) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        write_atomically(self.directory / MANIFEST, lambda tmp: tmp.write_text(text))

    def mark_assembled(self) -> None:
        """Note that the output is complete, so only clean-up remains."""
        manifest = self.manifest() or {}
        self.write_manifest({**manifest, "assembled": True})

    def remove(self) -> None:
        """Delete the parts and then the manifest (the output is already in place)."""
        for part in self.parts():
            part.unlink()
        shutil.rmtree(self.directory, ignore_errors=True)


def check_fresh(output: Path) -> None:
    """Refuse to start a new job over an existing output or an interrupted job's parts."""
    if output.exists():
        raise BatchError(
            f"{output} exists; pass --force to overwrite it (or --resume to finish an "
            "interrupted run)"
        )
    directory = Journal.for_output(output).directory
    if directory.exists():
        raise BatchError(
            f"an interrupted run left {directory}; pass --resume to continue it or "
            "--force to start over"
        )


def start(output: Path, job: dict, *, resume: bool, force: bool) -> Journal | None:
    """The journal to work in, or None when `--resume` finds the job already complete."""
    journal = Journal.for_output(output)
    if force:
        shutil.rmtree(journal.directory, ignore_errors=True)
    elif resume:
        recorded = journal.manifest()
        if recorded is None:
            if output.exists():
                shutil.rmtree(journal.directory, ignore_errors=True)
                return None  # finished earlier; its parts were already cleaned up
        else:
            differences = sorted(
                key
                for key in (set(job) | set(recorded)) - {"assembled"}
                if job.get(key) != recorded.get(key)
            )
            if differences:
                raise BatchError(
                    f"{journal.directory} belongs to a different job (it differs in "
                    f"{', '.join(differences)}); rerun that job with --resume, or use --force "
                    "to start this one over"
                )
            if recorded.get("assembled") and output.exists():
                journal.remove()
                return None
            for stale in journal.directory.glob(".tmp-*"):
                stale.unlink()
            return journal
    else:
        check_fresh(output)
    journal.directory.mkdir(parents=True, exist_ok=True)
    journal.write_manifest(job)
    return journal
