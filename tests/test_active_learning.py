"""Active learning: `training.suggest` and `stance suggest`, on the real default bundle.

Every quote here is invented and credited to a role.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from service.cli import main
from training import (
    QuoteBatch,
    UnknownTargetError,
    read_labeled_csv,
    suggest,
)
from training.active_learning import margin_uncertainty

# Rewordings of one quote the default model is unsure about (cosine similarity >= 0.95).
NEAR_DUPLICATES = [
    "It is too early to say whether the sanctions should be eased or tightened.",
    "It is far too early to say whether the sanctions should be eased or tightened.",
    "It is too early to tell whether the sanctions should be eased or tightened.",
    "It is still too early to say whether sanctions should be eased or tightened.",
    "Frankly, it is too early to say whether the sanctions should be eased or tightened.",
    "It is too early to say if the sanctions should be eased or tightened.",
    "It is too soon to say whether the sanctions should be eased or tightened.",
]
# Different from each other and from the group above (cosine similarity <= 0.56).
DIVERSE = [
    "Spending more is one option among several that the cabinet is considering.",
    "We will decide on the budget when the time comes.",
    "Perhaps we will talk to Moscow one day, perhaps not.",
    "Defence is important, but so are schools, and we will see what the budget allows.",
    "Some say we spend too little, others say too much; the truth lies somewhere in between.",
    "Sanctions have costs for us too, and we must weigh them carefully.",
    "The question of the G8 is not on the table today, but who knows about tomorrow.",
    "We may need to look at the two percent figure again once the accounts are published.",
    "Our soldiers deserve modern equipment, and the treasury knows it.",
    "Trade with Russia helped our farmers for decades.",
    "Nobody wants a new arms race in Europe.",
    "The summit will be about Ukraine, not about money.",
    "Energy prices are hurting every family in the country.",
    "The alliance has never been stronger than it is today.",
    "We have to keep talking, even with those we disagree with.",
    "A stronger army is the best guarantee of peace.",
    "I will not comment on rumours about the ministry's plans.",
    "Our pensioners should not pay for new fighter jets.",
    "The ceasefire must hold before anything else can happen.",
    "The weather in Brussels was grey on Thursday.",
]
POOL = NEAR_DUPLICATES + DIVERSE
ROLES = ["a finance minister", "a defence minister", "an opposition leader", "a general"]
GERMAN = "Wir müssen die Verteidigungsausgaben endlich erhöhen."


@pytest.fixture(scope="module")
def model(default_bundle):
    return default_bundle.model


def test_the_same_seed_gives_the_same_suggestions(model):
    first = suggest(model, POOL, 5, seed=3)
    again = suggest(model, POOL, 5, seed=3)
    with_batch = suggest(model, POOL, 5, seed=3, batch=model.embed(POOL))
    assert [s.index for s in first] == [s.index for s in again] == [s.index for s in with_batch]
    assert [s.uncertainty for s in first] == [s.uncertainty for s in again]


def test_near_duplicates_are_not_chosen_together_when_diverse_quotes_exist(model):
    targets = list(model.targets)
    uncertainty = margin_uncertainty(model.score(POOL), targets)
    ranked = np.argsort(-uncertainty, kind="stable") < len(NEAR_DUPLICATES)
    # n: the fewest most-uncertain quotes that hold two near-duplicates (uncertainty alone would
    # pick both), with enough diverse quotes left to choose from instead.
    n = int(np.flatnonzero(ranked)[1]) + 1
    assert n <= len(DIVERSE) + 1

    for seed in (0, 1, 2):
        chosen = [s.index for s in suggest(model, POOL, n, seed=seed)]
        assert sum(i < len(NEAR_DUPLICATES) for i in chosen) <= 1
        vectors = model.embed([POOL[i] for i in chosen]).vectors
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, 0)
        assert similarity.max() < 0.9


def test_suggestions_are_the_most_uncertain_first_with_the_models_guess(model):
    picks = suggest(model, POOL, len(POOL) + 10)  # n larger than the pool: every candidate
    assert sorted(s.index for s in picks) == list(range(len(POOL)))
    uncertainties = [s.uncertainty for s in picks]
    assert uncertainties == sorted(uncertainties, reverse=True)
    assert all(0 <= u <= 1 for u in uncertainties)
    top = picks[0]
    assert top.score == model.score([POOL[top.index]])[0]
    margins = [
        np.subtract(*sorted(score.probabilities.values(), reverse=True)[:2])
        for score in top.score.stances.values()
    ]
    assert top.uncertainty == pytest.approx(1 - np.mean(margins), abs=1e-6)


def test_repeated_texts_are_one_candidate_the_first_one(model):
    texts = [DIVERSE[0], "  " + DIVERSE[0].upper(), DIVERSE[1], DIVERSE[0], DIVERSE[1] + " "]
    picks = suggest(model, texts, 5)
    assert sorted(s.index for s in picks) == [0, 2]


def test_empty_and_foreign_texts_are_never_suggested(model):
    texts = ["", "   ", GERMAN, DIVERSE[2], "Nein."]
    assert sorted(s.index for s in suggest(model, texts, 5)) == [3, 4]


def test_targets_limit_the_uncertainty_to_their_heads(model):
    picks = suggest(model, POOL, 3, targets=["russia_rapprochement"])
    for pick in picks:
        probabilities = sorted(
            pick.score.stances["russia_rapprochement"].probabilities.values(), reverse=True
        )
        assert pick.uncertainty == pytest.approx(1 - (probabilities[0] - probabilities[1]))


def test_bad_arguments_raise_clear_errors(model):
    with pytest.raises(ValueError, match="n must be at least 1"):
        suggest(model, POOL, 0)
    with pytest.raises(ValueError, match="batch has 2 rows for 27 texts"):
        suggest(model, POOL, 3, batch=QuoteBatch(POOL[:2], model.embed(POOL[:2]).vectors))
    with pytest.raises(UnknownTargetError):
        suggest(model, POOL, 3, targets=["climate"])


# --- the command line --------------------------------------------------------------------


def write_pool(path, texts=POOL):
    with path.open("w") as stream:
        for i, text in enumerate(texts):
            record = {
                "id": f"q{i}",
                "text": text,
                "speaker": ROLES[i % len(ROLES)],
                "date": f"2024-05-{1 + i % 28:02d}",
                "source": "fictional-briefings",
            }
            stream.write(json.dumps(record) + "\n")
    return path


def run(args):
    result = CliRunner().invoke(main, args)
    assert "Traceback" not in result.output
    return result


def test_suggest_writes_a_labeling_file_in_the_labeled_csv_contract(tmp_path):
    pool = write_pool(tmp_path / "pool.jsonl")
    out = tmp_path / "to_label.csv"
    result = run(["suggest", str(pool), "-n", "4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
        *("id", "text", "target", "stance", "sentiment", "actor", "date", "source"),
        *("rank", "uncertainty", "guess", "guess_probability"),
        *("sentiment_guess", "sentiment_guess_probability"),
    ]
    assert len(frame) == 8  # 4 quotes x 2 targets
    assert list(frame["rank"]) == ["1", "1", "2", "2", "3", "3", "4", "4"]
    assert set(frame["target"]) == {"nato_spending", "russia_rapprochement"}
    assert set(frame["stance"]) == set(frame["sentiment"]) == {""}
    assert set(frame["guess"]) <= {"favor", "against", "none"}
    assert all(0 < float(p) <= 1 for p in frame["guess_probability"])
    first = frame.iloc[0]
    index = int(first["id"][1:])
    assert (first["text"], first["actor"]) == (POOL[index], ROLES[index % len(ROLES)])
    assert first["source"] == "fictional-briefings"
    quotes = read_labeled_csv([out], require_min=False, require_labels=False)
    assert len(quotes.unlabeled) == 8 and len(quotes.frame) == 0


def test_a_row_with_a_bad_date_is_left_out_and_named_as_stance_score_would_mark_it(tmp_path):
    pool = tmp_path / "pool.csv"
    rows = [{"id": f"q{i}", "text": text, "date": "2025-03-01"} for i, text in enumerate(DIVERSE)]
    rows[2]["date"] = "2025-02-30"
    pd.DataFrame(rows).to_csv(pool, index=False)
    out = tmp_path / "to_label.csv"
    result = run(["suggest", str(pool), "-n", str(len(DIVERSE)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 with an error (first: " in result.output
    assert "'2025-02-30' is not a real calendar date" in result.output
    labeled = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "q2" not in set(labeled["id"]) and labeled["id"].nunique() == len(DIVERSE) - 1


def test_an_unreadable_json_line_is_left_out_and_named_with_its_line(tmp_path):
    pool = write_pool(tmp_path / "pool.jsonl", DIVERSE[:4])
    lines = pool.read_text().splitlines()
    lines[2] = '{"id": "broken", "text": "unfinished'
    pool.write_text("\n".join(lines) + "\n")
    result = run(["suggest", str(pool), "-n", "2", "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "1 with an error (first: " in result.output
    assert "pool.jsonl: line 3: invalid JSON" in result.output


def test_suggest_is_deterministic_for_a_seed(tmp_path):
    pool = write_pool(tmp_path / "pool.jsonl")
    outputs = []
    for name in ("a.csv", "b.csv"):
        result = run(["suggest", str(pool), "-n", "5", "--seed", "7", "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_targets_option_writes_rows_for_those_targets_only(tmp_path):
    pool = write_pool(tmp_path / "pool.jsonl")
    out = tmp_path / "out.csv"
    args = ["suggest", str(pool), "-n", "3", "--targets", "russia_rapprochement", "-o", str(out)]
    result = run(args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame["target"]) == ["russia_rapprochement"] * 3
    assert list(frame["rank"]) == [1, 2, 3]


def test_texts_of_excluded_labeled_files_are_never_suggested(tmp_path):
    pool = write_pool(tmp_path / "pool.jsonl")
    labeled = tmp_path / "labeled.csv"
    pd.DataFrame(
        {
            "text": [DIVERSE[0].upper(), DIVERSE[1], NEAR_DUPLICATES[0] + "  "],
            "target": ["nato_spending", "russia_rapprochement", "nato_spending"],
            "stance": ["favor", "none", ""],  # a row still to label counts too
        }
    ).to_csv(labeled, index=False)
    out = tmp_path / "out.csv"
    result = run(["suggest", str(pool), "-n", "100", "--exclude", str(labeled), "-o", str(out)])
    assert result.exit_code == 0, result.output
    suggested = set(pd.read_csv(out)["text"])
    assert suggested == set(POOL) - {DIVERSE[0], DIVERSE[1], NEAR_DUPLICATES[0]}
    assert "3 already in --exclude files" in result.output


def test_a_filled_in_labeling_file_is_read_and_trained_on(tmp_path, small_seed_csv):
    pool = write_pool(tmp_path / "pool.jsonl")
    out = tmp_path / "to_label.csv"
    assert run(["suggest", str(pool), "-n", "6", "-o", str(out)]).exit_code == 0
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    frame["stance"] = frame["guess"].str.upper()  # the annotator agrees, in capitals
    frame["sentiment"] = frame["sentiment_guess"]
    frame.loc[frame.index[-2:], ["stance", "sentiment"]] = ""  # the last quote not done yet
    frame.to_csv(out, index=False)

    quotes = read_labeled_csv([out], require_min=False)
    assert len(quotes.frame) == 10 and len(quotes.unlabeled) == 2
    assert set(quotes.frame["stance"]) <= {"favor", "against", "none"}
    models = tmp_path / "models"
    result = CliRunner().invoke(
        main,
        ["train", str(small_seed_csv), str(out), "--cv", "0", "--min-per-class", "5",
         "--out", str(models), "--name", "relabeled"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = " ".join(result.output.split())  # rich wraps long lines
    assert f"{out}: 2 row(s) without a stance label left out" in printed
    assert (models / "relabeled" / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no_text_column", "pool.csv: no text column"),
        ("bad_exclude_label", "labeled.csv:3, column 'stance': 'maybe' is not a stance label"),
        ("not_csv_output", "out.parquet: the labeling file is a CSV"),
        ("existing_output", "out.csv exists"),
        ("unknown_target", "unknown target(s) climate"),
    ],
)
def test_bad_input_exits_2_naming_the_file_and_line(tmp_path, case, expected):
    pool = write_pool(tmp_path / "pool.jsonl", DIVERSE[:4])
    out = tmp_path / "out.csv"
    args = ["suggest", str(pool), "-n", "2", "-o", str(out)]
    if case == "no_text_column":
        (tmp_path / "pool.csv").write_text("id,body\n1,We must spend more.\n")
        args[1] = str(tmp_path / "pool.csv")
    elif case == "bad_exclude_label":
        labeled = tmp_path / "labeled.csv"
        labeled.write_text("text,target,stance\na,nato_spending,favor\nb,nato_spending,maybe\n")
        args += ["--exclude", str(labeled)]
    elif case == "not_csv_output":
        args[-1] = str(tmp_path / "out.parquet")
    elif case == "existing_output":
        out.write_text("id,text,target,stance\n")
    elif case == "unknown_target":
        args += ["--targets", "climate"]
    result = run(args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    if case != "existing_output":
        assert not out.exists()
