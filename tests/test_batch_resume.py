"""Resumable batch scoring: SIGKILL at any moment, `--resume` finishes with identical bytes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.batch import BatchError, score_files
from service.cli import main
from training import load_bundle

ROOT = Path(__file__).resolve().parents[1]
STANCE = Path(sys.executable).with_name("stance")
SUBJECTS = ["NATO spending", "Russia", "the G8", "sanctions", "defence budgets", "Crimea"]
VERBS = ["must rise", "is a mistake", "needs dialogue", "deserves support", "should wait"]
SPEAKERS = ["President Obama", "Angela Merkel", "Donald Trump", "None", "Vladimir Putin"]


@pytest.fixture(scope="module")
def models_root(tmp_path_factory) -> Path:
    """A private copy of the default bundle, so retraining models/default cannot disturb us."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "models" / "default", root / "default")
    return root


@pytest.fixture(scope="module")
def bundle(models_root, embedder):
    return load_bundle("default", root=models_root, embedder=embedder)


def write_quotes(path: Path, count: int) -> Path:
    """`count` distinct short quotes (one of them empty) as JSON Lines."""
    rows = []
    for i in range(count):
        text = f"{SUBJECTS[i % 6]} {VERBS[i % 5]}, said speaker number {i}."
        rows.append(
            {
                "id": i,
                "text": "" if i == 7 else text,
                "speaker": SPEAKERS[i % 5],
                "date": f"2015-{1 + i % 12:02d}-01",
            }
        )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def cli(models_root: Path, *args: str):
    env = {"STANCE_MODELS_DIR": str(models_root)}
    return CliRunner().invoke(main, ["score", *args, "--no-progress"], env=env)


def test_sigkill_mid_run_then_resume_is_byte_identical_to_a_clean_run(models_root, tmp_path):
    source = write_quotes(tmp_path / "quotes.jsonl", 45)
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    clean.mkdir()
    options = ["--chunk-size", "3", "--by", "month"]
    args = [str(source), "-o", str(killed / "out.csv"), "--actors", str(killed / "a.csv")]
    process = subprocess.Popen(
        [str(STANCE), "score", *args, *options, "--batch-size", "1", "--no-progress"],
        env={**os.environ, "STANCE_MODELS_DIR": str(models_root), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    parts = killed / "out.csv.parts"
    deadline = time.monotonic() + 120
    while len(list(parts.glob("[0-9]*.parquet"))) < 2:
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline, "no part appeared within 120 s"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = len(list(parts.glob("[0-9]*.parquet")))
    assert process.returncode == -signal.SIGKILL
    assert not (killed / "out.csv").exists() and 2 <= finished < 15

    refused = cli(models_root, *args, *options)
    assert refused.exit_code == 2 and "--resume" in refused.output

    resumed = cli(models_root, *args, *options, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "parts reused" in resumed.output
    assert not parts.exists()

    fresh = [str(source), "-o", str(clean / "out.csv"), "--actors", str(clean / "a.csv")]
    assert cli(models_root, *fresh, *options).exit_code == 0
    assert (killed / "out.csv").read_bytes() == (clean / "out.csv").read_bytes()
    assert (killed / "a.csv").read_bytes() == (clean / "a.csv").read_bytes()
    lines = (clean / "out.csv").read_text().splitlines()
    assert len(lines) == 46
    assert lines[0].startswith('"id","text","speaker","date","nato_spending_stance"')
    assert lines[8].endswith(',"text is empty"')


def interrupted_job(bundle, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A job that fails on its second input (broken JSON) after finishing the first."""
    good = write_quotes(tmp_path / "a.jsonl", 8)
    broken = tmp_path / "b.json.gz"
    broken.write_bytes(gzip.compress(b'[{"text": "x"}, {"text": "y"}, {"text": "z"}, {oops]'))
    output = tmp_path / "out.parquet"
    with pytest.raises(BatchError, match=r"b\.json\.gz: element 4: invalid JSON"):
        score_files([str(good), str(broken)], output, bundle=bundle, chunk_size=4, progress=False)
    return good, broken, output


def test_leftover_parts_need_resume_or_force(bundle, tmp_path):
    good, broken, output = interrupted_job(bundle, tmp_path)
    parts = sorted(p.name for p in output.with_name("out.parquet.parts").iterdir())
    assert parts == ["000000.parquet", "000001.parquet", "manifest.json"]
    with pytest.raises(BatchError, match="interrupted run left"):
        score_files([str(good), str(broken)], output, bundle=bundle, chunk_size=4)


def test_resume_refuses_a_different_job(bundle, tmp_path):
    good, broken, output = interrupted_job(bundle, tmp_path)
    with pytest.raises(BatchError, match="differs in chunk_size"):
        score_files([str(good), str(broken)], output, bundle=bundle, chunk_size=5, resume=True)
    with good.open("a") as stream:
        stream.write(json.dumps({"id": 99, "text": "One more quote."}) + "\n")
    with pytest.raises(BatchError, match="differs in inputs"):
        score_files([str(good), str(broken)], output, bundle=bundle, chunk_size=4, resume=True)


def test_force_starts_over_and_resume_of_a_finished_job_changes_nothing(bundle, tmp_path):
    good, broken, output = interrupted_job(bundle, tmp_path)
    broken.write_bytes(gzip.compress(b'[{"text": "x"}, {"text": "y"}, {"text": ""}]'))
    result = score_files(
        [str(good), str(broken)], output, bundle=bundle, chunk_size=4, force=True, progress=False
    )
    assert result.rows == 11 and result.resumed_chunks == 0 and result.errors == 2
    before = output.read_bytes()
    again = score_files([str(good), str(broken)], output, bundle=bundle, resume=True)
    assert again.already_complete and output.read_bytes() == before
