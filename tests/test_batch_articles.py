"""`stance score --articles`: articles in, attributed quotations scored per speaker out."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from service.cli import main
from tests.conftest import SEED_ARTICLE


def test_seed_article_gives_each_speaker_their_stance(tmp_path):
    out, actors = tmp_path / "scored.csv", tmp_path / "actors.csv"
    result = CliRunner().invoke(
        main, ["score", "--articles", str(SEED_ARTICLE), "-o", str(out), "--actors", str(actors)]
    )
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    text = SEED_ARTICLE.read_text()
    spans = zip(scored["quote"], scored["start"], scored["end"], strict=True)
    assert all(text[start:end] == quote for quote, start, end in spans)
    assert "nato_spending_stance" in scored.columns
    assert set(scored["speaker_type"].dropna()) <= {"person", "organisation", "description"}
    table = pd.read_csv(actors)
    types = dict(zip(table["actor"], table["actor_type"], strict=True))
    assert types["Pete Hegseth"] == "person" and types["Ukraine's president"] == "description"
    summary = table.set_index(["actor", "target"])["stance"]
    assert summary[("Pete Hegseth", "nato_spending")] == "favor"
    # Donald Trump's and Dovile Sakaliene's rapprochement stances: known errors of the model on
    # one of their quotes each, see test_seed_acceptance.py
    assert (tmp_path / "scored.csv.quotations.jsonl").is_file()


def test_jsonl_articles_carry_their_date_to_the_quotations(tmp_path):
    articles = tmp_path / "articles.jsonl"
    body = 'The minister said: "We will raise the defence budget to three percent next year."'
    articles.write_text(json.dumps({"id": "a1", "text": body, "date": "2025-03-01"}) + "\n")
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(main, ["score", "--articles", str(articles), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["doc"], r["date"]) for r in rows] == [("a1", "2025-03-01")]


def test_column_options_are_refused_with_articles(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "score",
            "--articles",
            str(SEED_ARTICLE),
            "-o",
            str(tmp_path / "x.csv"),
            "--text-column",
            "body",
        ],
    )
    assert result.exit_code == 2
    assert "--articles takes no column" in result.output


def test_non_article_file_is_refused_naming_it(tmp_path):
    stray = tmp_path / "quotes.csv"
    stray.write_text("text\nhello\n")
    result = CliRunner().invoke(
        main, ["score", "--articles", str(stray), "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2
    assert f"{stray}: --articles reads .txt and .jsonl" in result.output


def test_an_article_with_an_impossible_date_gives_its_quotations_a_date_error(tmp_path):
    articles = tmp_path / "articles.jsonl"
    body = 'The minister said: "We will raise the defence budget to three percent next year."'
    lines = [{"id": "a1", "text": body, "date": "2025-02-30"}, {"id": "a2", "text": body}]
    articles.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(main, ["score", "--articles", str(articles), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["doc"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["a1"]["error"].startswith("column 'date': '2025-02-30' is not a real calendar")
    assert rows["a1"]["nato_spending_stance"] is None
    assert rows["a2"]["error"] is None and rows["a2"]["nato_spending_stance"]
