"""One batch-scoring job from input files to output, parts, summary and plot: `score_files`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from tqdm import tqdm

from service.batch import journal as journals
from service.batch.engines import make_engine
from service.batch.errors import BatchError
from service.batch.formats import InputFile, find_inputs, with_text_format
from service.batch.readers import Chunk, ColumnOptions, ColumnRoles, peek_columns, read_chunks
from service.batch.readers import resolve_roles as detect_roles
from service.batch.scorer import ERROR_COLUMN, output_columns
from service.batch.summary import plot_summary, summarise, write_summary
from service.batch.writers import assemble, output_format
from training import Bundle, load_bundle

DEFAULT_CHUNK_SIZE = 5_000


@dataclass
class JobResult:
    """What a job wrote (`already_complete`: `--resume` found nothing left to do)."""

    output: Path
    rows: int
    errors: int
    resumed_chunks: int = 0
    already_complete: bool = False
    summary_rows: int = 0
    files: list[str] = field(default_factory=list)
    encoder: str = ""
    notes: list[str] = field(default_factory=list)  # how files were read (detected encodings)


def plan_inputs(
    patterns: list[str],
    columns: ColumnOptions,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> list[tuple[InputFile, ColumnRoles, list[str]]]:
    """Every input file with its text format, column roles and names; fails early on a bad
    file or column."""
    planned = []
    for source in find_inputs(patterns, fmt):
        source = with_text_format(source, encoding, delimiter)
        names = peek_columns(source)
        planned.append((source, detect_roles(source, names, columns), names))
    return planned


def _check_collisions(planned, reserved: list[str]) -> None:
    for source, _, names in planned:
        clash = [c for c in names if c in reserved]
        if clash:
            raise BatchError(
                f"{source}: column {clash[0]!r} would be overwritten by a score column; "
                "rename it (is this file already scored?)"
            )


def _job_manifest(planned, bundle: Bundle, out_format: str, chunk_size: int) -> dict:
    """What makes two runs the same job: inputs, roles, model, output format and chunking."""
    inputs = []
    for source, roles in planned:
        stat = source.path.stat()
        inputs.append(
            {
                "path": str(source.path.resolve()),
                "format": source.format,
                "compression": source.compression,
                "encoding": source.encoding.name if source.encoding else None,
                "delimiter": source.delimiter,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "roles": roles.to_dict(),
            }
        )
    return {
        "inputs": inputs,
        "model": {
            "version": bundle.version,
            "sha256": bundle.manifest["model_sha256"],
            "encoder": bundle.model.embedder.encoder.to_dict(),
        },
        "targets": list(bundle.model.targets),
        "output_format": out_format,
        "chunk_size": chunk_size,
    }


def score_files(
    inputs: list[str],
    output: str | Path,
    *,
    columns: ColumnOptions | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    out_format: str | None = None,
    resume: bool = False,
    force: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    workers: int | None = None,
    batch_size: int = 64,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    actors: str | Path | None = None,
    by: str | None = None,
    plot: str | Path | None = None,
    bundle: Bundle | str | None = None,
    progress: bool | None = None,
) -> JobResult:
    """Score every row of `inputs` into `output`, resumably; optionally summarise per actor."""
    if resume and force:
        raise BatchError("--resume and --force exclude each other")
    if chunk_size < 1 or batch_size < 1:
        raise BatchError("--chunk-size and --batch-size must be at least 1")
    columns = columns or ColumnOptions()
    output = Path(output)
    out_format = output_format(output, out_format)
    if not (resume or force):
        journals.check_fresh(output)
    if by and not (actors or plot):
        raise BatchError("--by needs --actors or --plot")
    planned = plan_inputs(inputs, columns, input_format, encoding, delimiter)
    if any(source.path.resolve() == output.resolve() for source, _, _ in planned):
        raise BatchError(f"{output} is both an input and the output; choose another output")
    if (actors or plot) and not all(roles.actor for _, roles, _ in planned):
        missing = next(source for source, roles, _ in planned if not roles.actor)
        raise BatchError(f"{missing}: no actor column for --actors/--plot; pass --actor-column")
    for path, kind in ((actors, "summary"), (plot, "plot")):
        if path and Path(path).exists() and not (resume or force):
            raise BatchError(f"{path} exists; pass --force to overwrite the {kind}")
    if bundle is None or isinstance(bundle, str):
        bundle = load_bundle(bundle)
    targets = list(bundle.model.targets)
    trailing = output_columns(targets)
    _check_collisions(planned, trailing)
    planned = [(source, roles) for source, roles, _ in planned]
    job = _job_manifest(planned, bundle, out_format, chunk_size)
    journal = journals.start(output, job, resume=resume, force=force)
    files = [str(source) for source, _ in planned]
    notes = [note for source, _ in planned for note in reading_notes(source)]
    if journal is None:
        return JobResult(output, 0, 0, already_complete=True, files=files, notes=notes)
    resumed = len(journal.parts())
    scorer = make_engine(engine, bundle, targets, batch_size, scheduler=scheduler, workers=workers)
    try:
        _score_pending(planned, chunk_size, journal, scorer, progress)
    finally:
        scorer.close()
    parts = journal.parts()
    summary_rows = 0
    if actors or plot:
        summaries = summarise(parts, targets, by=by, weighted=bool(columns.weight))
        summary_rows = len(summaries)
        if actors:
            write_summary(summaries, Path(actors))
        if plot:
            plot_summary(summaries, Path(plot))
    provenance = {"model": job["model"], "targets": job["targets"]}
    rows = assemble(parts, output, out_format, trailing, provenance)
    errors = _count_errors(parts)
    journal.mark_assembled()
    journal.remove()
    embedder = bundle.model.embedder
    encoder = str(embedder.encoder) + (", fine-tuned encoder" if embedder.fine_tuned else "")
    return JobResult(output, rows, errors, resumed, False, summary_rows, files, encoder, notes)


def reading_notes(source: InputFile) -> list[str]:
    """What a user should know about how a file was read."""
    notes = []
    if source.encoding is not None and source.encoding.name != "utf-8":
        notes.append(f"{source}: not UTF-8, {source.encoding.describe()}")
    if source.format == "csv" and source.delimiter not in (None, ","):
        named = "tab" if source.delimiter == "\t" else repr(source.delimiter)
        notes.append(f"{source}: columns separated by {named}")
    return notes


def _score_pending(planned, chunk_size: int, journal, scorer, progress: bool | None) -> None:
    """Score the chunks no earlier run finished and record each as a part, with progress."""
    offsets, total_bytes = {}, 0
    for source, _ in planned:
        offsets[source] = total_bytes
        total_bytes += source.path.stat().st_size
    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(
        total=total_bytes, unit="B", unit_scale=True, disable=not show, desc="scoring"
    ) as bar:
        rows = 0
        for chunk, scores in scorer.score(_pending(read_chunks(planned, chunk_size), journal)):
            frame = pd.concat([chunk.frame, scores.set_index(chunk.frame.index)], axis=1)
            journal.write(chunk.number, frame, chunk.roles.to_dict())
            rows += len(frame)
            bar.update(offsets[chunk.source] + chunk.consumed - bar.n)
            bar.set_postfix(rows=rows, refresh=False)


def _pending(chunks: Iterator[Chunk], journal) -> Iterator[Chunk]:
    """The chunks not yet recorded by an earlier run of the same job."""
    return (chunk for chunk in chunks if not journal.is_done(chunk.number))


def _count_errors(parts: list[Path]) -> int:
    """Rows that carry an error instead of scores."""
    return sum(len(pq.read_table(p, columns=[ERROR_COLUMN]).column(0).drop_null()) for p in parts)
