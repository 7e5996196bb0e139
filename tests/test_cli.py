"""The `stance` command line: output and exit codes (0 ok, 2 bad input, 1 internal failure, 130
interrupted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import joblib
import pandas as pd
import pytest
from click.testing import CliRunner

from service.cli import main
from training.bundle import sha256_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_csv(small_seed_csv):
    return small_seed_csv


@pytest.fixture(scope="module")
def models(tmp_path_factory, small_csv):
    """A models directory holding one bundle trained through the CLI."""
    root = tmp_path_factory.mktemp("models")
    result = run(
        [
            "train",
            str(small_csv),
            "--out",
            str(root),
            "--name",
            "small",
            "--cv",
            "3",
            "--min-per-class",
            "5",
        ],
        root,
    )
    assert result.exit_code == 0, result.output
    return root, result


def run(args, models_dir):
    return CliRunner().invoke(main, args, env={"STANCE_MODELS_DIR": str(models_dir)})


def test_train_prints_metrics_and_the_bundle_path(models):
    root, result = models
    assert "pooled" in result.output
    assert f"bundle: {root / 'small'}" in result.output
    assert (root / "small" / "manifest.json").is_file()


def test_train_on_bad_data_exits_2_naming_the_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("text,target,stance\nhello,nato_spending,perhaps\n")
    out = tmp_path / "out"
    result = run(["train", str(bad), "--out", str(out)], out)
    assert result.exit_code == 2
    assert f"{bad}:2, column 'stance'" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_evaluate_json_reports_pooled_f_avg(models, small_csv):
    root, _ = models
    result = run(["evaluate", "--model", "small", str(small_csv), "--json"], root)
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    assert 0 <= metrics["stance"]["all"]["f_avg"] <= 1
    assert metrics["stance"]["all"]["n"] == len(pd.read_csv(small_csv))


def test_evaluate_on_targets_the_model_lacks_exits_2_naming_them(models, tmp_path):
    root, _ = models
    other = tmp_path / "other.csv"
    rows = [f"Quote number {i} on enlargement.,EU enlargement,favor" for i in range(3)]
    other.write_text("text,target,stance\n" + "\n".join(rows) + "\n")
    result = run(["evaluate", "--model", "small", str(other)], root)
    assert result.exit_code == 2, result.output
    assert "eu_enlargement" in result.output and "nato_spending" in result.output
    assert "Traceback" not in result.output


def test_predict_prints_each_target_and_sentiment(models):
    root, _ = models
    result = run(
        [
            "predict",
            "We must spend far more on our armies.",
            "--actor",
            "a minister",
            "--model",
            "small",
            "--json",
        ],
        root,
    )
    assert result.exit_code == 0, result.output
    score = json.loads(result.output)
    assert score["actor"] == "a minister"
    assert set(score["stance"]) == {"nato_spending", "russia_rapprochement"}
    assert score["sentiment"]["label"] in {"positive", "negative", "neutral"}


def test_predict_unknown_target_exits_2(models):
    root, _ = models
    result = run(["predict", "text", "--model", "small", "--targets", "climate"], root)
    assert result.exit_code == 2
    assert "unknown target" in result.output


def test_missing_bundle_exits_2(models):
    root, _ = models
    result = run(["predict", "text", "--model", "nope"], root)
    assert result.exit_code == 2
    assert "no bundle" in result.output


def test_models_lists_bundles_with_their_metrics(models):
    root, _ = models
    result = run(["models"], root)
    assert result.exit_code == 0
    assert "small" in result.output and "stock" in result.output


def test_internal_failure_exits_1(models, tmp_path):
    """A bundle of the older layout (no heads.npz) whose verified pickle is not a model: a
    failure of ours, not of the input."""
    root, _ = models
    broken = root / "broken"
    broken.mkdir()
    joblib.dump({"not": "a model"}, broken / "model.joblib")
    manifest = json.loads((root / "small" / "manifest.json").read_text())
    manifest["model_sha256"] = sha256_file(broken / "model.joblib")
    del manifest["heads_sha256"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    result = run(["predict", "text", "--model", "broken"], root)
    assert result.exit_code == 1
    assert "internal failure" in result.output


@pytest.mark.parametrize("text", ["\u200b\u200b", "\ufeff", "\x00", " \u2060\t "])
def test_predict_of_only_invisible_characters_exits_2_like_an_empty_text(models, text):
    root, _ = models
    result = run(["predict", text, "--model", "small"], root)
    assert result.exit_code == 2, result.output
    assert "TEXT: text is empty" in result.output


def thin_csv(tmp_path, favor: int):
    """Labeled quotes for one target with `favor` favor examples and 12 of the other labels."""
    lines = ["text,target,stance"]
    for label, count in (("favor", favor), ("against", 12), ("none", 12)):
        lines += [
            f"a {label} quote about defence budgets number {i},nato_spending,{label}"
            for i in range(count)
        ]
    path = tmp_path / "thin.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("cv", ["0", "5"])
def test_min_per_class_below_what_training_needs_exits_2_saying_what_to_do(tmp_path, cv):
    path = thin_csv(tmp_path, favor=4)
    result = run(
        ["train", str(path), "--out", str(tmp_path), "--min-per-class", "3", "--cv", cv], tmp_path
    )
    assert result.exit_code == 2, result.output
    assert "--min-per-class" in result.output and "5-fold calibration" in result.output
    assert "Traceback" not in result.output


def test_too_few_examples_for_cross_validation_folds_exits_2_and_fewer_folds_train(tmp_path):
    path = thin_csv(tmp_path, favor=5)
    args = ["train", str(path), "--out", str(tmp_path / "out"), "--min-per-class", "5"]
    result = run([*args, "--cv", "5"], tmp_path)
    assert result.exit_code == 2, result.output
    printed = " ".join(result.output.split())
    assert "cross-validation with 5 folds (--cv: more folds give each a larger" in printed
    assert "target 'nato_spending' has 4 'favor' example(s)" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    trained = run([*args, "--cv", "0", "--name", "thin"], tmp_path)
    assert trained.exit_code == 0, trained.output
    assert (tmp_path / "out" / "thin" / "manifest.json").is_file()


@pytest.mark.parametrize("folds", ["40", "20", "13"])
def test_more_folds_than_the_data_allows_exits_2_naming_the_most_it_allows(tmp_path, folds):
    path = thin_csv(tmp_path, favor=12)  # 36 quotes, 12 of each label
    args = ["train", str(path), "--out", str(tmp_path / "out"), "--min-per-class", "5"]
    result = run([*args, "--cv", folds], tmp_path)
    assert result.exit_code == 2, result.output
    printed = " ".join(result.output.split())
    assert f"cannot cross-validate with {folds} folds: the data holds 36 distinct quotes" in printed
    assert "--cv 12 at most" in printed and "Traceback" not in result.output
    assert run([*args, "--cv", "12", "--name", "most"], tmp_path).exit_code == 0


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--cv", "1"),
        ("--cv", "-2"),
        ("--C", "0"),
        ("--seed", "-1"),
        ("--position-share", "0"),
        ("--position-share", "1"),
        ("--position-share", "half"),
        ("--position-share", "nan"),
        ("--C", "nan"),
        ("--C", "inf"),
    ],
)
def test_bad_training_options_exit_2_before_reading_anything(tmp_path, option, value):
    path = thin_csv(tmp_path, favor=12)
    result = run(["train", str(path), "--out", str(tmp_path), option, value], tmp_path)
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output


def test_position_share_is_recorded_in_the_manifest(tmp_path):
    path = thin_csv(tmp_path, favor=12)
    out = tmp_path / "out"
    args = ["train", str(path), "--out", str(out), "--name", "p", "--cv", "0"]
    result = run([*args, "--min-per-class", "5", "--position-share", "0.3"], out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "p" / "manifest.json").read_text())["recipe"]["position_share"] == 0.3


def test_fitting_on_too_few_examples_raises_a_clear_error_not_sklearns(tmp_path):
    from training import StanceModel, TooFewExamples, read_labeled_csv

    quotes = read_labeled_csv([thin_csv(tmp_path, favor=3)], require_min=False)
    with pytest.raises(TooFewExamples, match=r"has 3 'favor' example\(s\).*at least 5"):
        StanceModel().fit(quotes)


def test_non_latin_target_names_train_and_score_into_valid_columns(tmp_path):
    target = "Сближение с Россией"
    said = {
        "favor": "talks with Moscow now",
        "against": "no deal with the Kremlin",
        "none": "the weather in Riga",
    }
    rows = [
        (f"{said[label]}, said a minister ({i})", target, label) for label in said for i in range(6)
    ]
    labeled = tmp_path / "labels.csv"
    pd.DataFrame(rows, columns=["text", "target", "stance"]).to_csv(labeled, index=False)
    models = tmp_path / "models"
    args = ["train", str(labeled), "--out", str(models), "--name", "cyr", "--cv", "0"]
    trained = run([*args, "--min-per-class", "5"], models)
    assert trained.exit_code == 0, trained.output
    manifest = json.loads((models / "cyr" / "manifest.json").read_text())
    assert [t["id"] for t in manifest["targets"]] == ["сближение_с_россией"]
    quotes = tmp_path / "quotes.csv"
    quotes.write_text("text\nWe should resume talks with Moscow now.\n")
    for name in ("scored.csv", "scored.parquet"):
        result = run(["score", str(quotes), "-o", str(tmp_path / name), "--model", "cyr"], models)
        assert result.exit_code == 0, result.output
        read = pd.read_parquet if name.endswith("parquet") else pd.read_csv
        scored = read(tmp_path / name)
        assert "сближение_с_россией_stance" in scored.columns
        assert scored["сближение_с_россией_stance"][0] in {"favor", "against", "none"}


def test_a_target_name_without_letters_or_digits_is_named_in_the_error(tmp_path):
    path = tmp_path / "emoji.csv"
    path.write_text("text,target,stance\nWe need more tanks.,🚀,favor\n")
    result = run(["train", str(path), "--out", str(tmp_path)], tmp_path)
    assert result.exit_code == 2
    assert f"{path}:2, column 'target': target '🚀' has no letter or digit" in result.output


@pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="one core: cross-validation starts no workers"
)
def test_ctrl_c_during_training_exits_130_and_leaves_no_bundle(tmp_path, wait_until):
    """A real `stance train` interrupted (SIGINT to the main process) once its cross-validation
    workers run: exit code 130 (128 + SIGINT), a one-line message, no partial bundle.

    The CLI runs with Python's own SIGINT handler installed first, as in a terminal: when the
    tests themselves run with SIGINT ignored (a background job of a non-interactive shell,
    `make test &`), a child inherits the ignored signal, Python installs no handler, and
    training would run to its end (how this test failed in the background before stop 24)."""
    out = tmp_path / "models"
    environment = os.environ | {"HF_HUB_OFFLINE": "1", "STANCE_MODELS_DIR": str(out)}
    as_in_a_terminal = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv[0] = 'stance'; runpy.run_module('service.cli', run_name='__main__')"
    )
    command = [sys.executable, "-c", as_in_a_terminal, "train", str(ROOT / "seeds" / "quotes.csv")]
    process = subprocess.Popen(
        [*command, "--name", "interrupted"],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: process.poll() is None and worker_processes(process.pid), timeout=120,
                   what="the cross-validation workers")  # fmt: skip
        os.kill(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (stdout, stderr)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not out.exists() or not any(out.iterdir())


def worker_processes(pid: int) -> list[int]:
    """The joblib (loky) worker processes whose parent is `pid`: Linux /proc, field 4 of
    /proc/N/stat, and the command line (not any child: a library may fork for its own ends)."""
    workers = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
            command = (entry / "cmdline").read_bytes() if stat else b""
        except OSError:  # the process ended meanwhile
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"loky" in command:
            workers.append(int(entry.name))
    return workers
