"""Batch scoring: formats, compression, Quotebank quirks, bad rows, summaries, CLI errors."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import shutil
from pathlib import Path

import pandas as pd
import pytest
import zstandard
from click.testing import CliRunner

from service.actors import ActorNames, actor_key
from service.batch import BatchError, ColumnOptions, ScoreCache, plan_inputs, score_files
from service.batch.readers import read_chunks
from service.batch.scorer import output_columns, score_texts
from service.batch.writers import read_provenance
from service.cli import main
from training import load_bundle

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "NATO allies must finally spend two percent of GDP on defence.",
    "We should cut the military budget and invest in schools instead.",
    "It is time to talk to Moscow and bring Russia back into the G8.",
    "Sanctions on Russia must stay until Crimea is returned.",
    "The weather in Brussels was grey on Thursday.",
    "NATO allies must finally spend two percent of GDP on defence.",
]
ACTORS = ["President Obama", "Angela Merkel", "Donald Trump", "None", "DONALD Trump", "Obama"]
COMPRESS = {
    None: lambda data: data,
    "gz": lambda data: gzip.compress(data, mtime=0),
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.fixture(scope="session")
def bundle(embedder, tmp_path_factory):
    """A private copy of the default bundle, so retraining models/default cannot disturb us."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(ROOT / "models" / "default", root / "default")
    return load_bundle("default", root=root, embedder=embedder)


def quotes_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"q{i}" for i in range(len(TEXTS))],
            "text": TEXTS,
            "actor": ACTORS,
            "date": [f"2015-0{1 + i % 3}-1{i}" for i in range(len(TEXTS))],
        }
    )


def write_input(directory: Path, fmt: str, compression: str | None, frame: pd.DataFrame) -> Path:
    if fmt == "parquet":
        data = frame.to_parquet(index=False)
    elif fmt in ("csv", "tsv"):
        data = frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode()
    elif fmt == "jsonl":
        data = "".join(json.dumps(r) + "\n" for r in frame.to_dict("records")).encode()
    else:
        data = json.dumps(frame.to_dict("records"), indent=1).encode()
    path = directory / f"quotes.{fmt}{'.' + compression if compression else ''}"
    path.write_bytes(COMPRESS[compression](data))
    return path


@pytest.fixture(scope="module")
def reference(bundle, tmp_path_factory) -> pd.DataFrame:
    """Scores of the plain CSV input: every other format must give exactly these."""
    directory = tmp_path_factory.mktemp("reference")
    path = write_input(directory, "csv", None, quotes_frame())
    score_files([str(path)], directory / "out.parquet", bundle=bundle, progress=False)
    return pd.read_parquet(directory / "out.parquet")


FORMATS = [(fmt, None) for fmt in ("csv", "tsv", "jsonl", "json", "parquet")]
COMPRESSIONS = [("jsonl", c) for c in ("gz", "bz2", "xz", "zst")] + [("csv", "gz"), ("json", "zst")]


@pytest.mark.parametrize(("fmt", "compression"), FORMATS + COMPRESSIONS)
def test_every_format_and_compression_gives_the_same_scores(
    bundle, reference, tmp_path, fmt, compression
):
    path = write_input(tmp_path, fmt, compression, quotes_frame())
    score_files([str(path)], tmp_path / "out.parquet", bundle=bundle, progress=False)
    scored = pd.read_parquet(tmp_path / "out.parquet")
    columns = output_columns(list(bundle.model.targets))
    assert list(scored["id"]) == list(reference["id"])
    pd.testing.assert_frame_equal(scored[columns], reference[columns])


def test_scores_match_the_model_and_do_not_depend_on_batch_company(bundle, reference):
    targets = list(bundle.model.targets)
    alone = score_texts(bundle.model, [TEXTS[2]], targets)
    assert alone.drop(columns="error").iloc[0].tolist() == (
        reference.loc[2, output_columns(targets)[:-1]].tolist()
    )
    direct = bundle.model.score([TEXTS[2]])[0].to_columns()
    for name, value in direct.items():
        if isinstance(value, float):
            assert reference.loc[2, name] == pytest.approx(value, abs=1e-5)
        else:
            assert reference.loc[2, name] == value


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_output_keeps_input_columns_and_order_then_adds_scores(bundle, tmp_path, suffix):
    path = write_input(tmp_path, "jsonl", None, quotes_frame())
    out = tmp_path / f"out.{suffix}"
    score_files([str(path)], out, bundle=bundle, chunk_size=4, progress=False)
    scored = {
        "csv": lambda: pd.read_csv(out, dtype=str, keep_default_na=False),
        "jsonl": lambda: pd.read_json(out, lines=True, dtype=False),
        "parquet": lambda: pd.read_parquet(out),
    }[suffix]()
    targets = list(bundle.model.targets)
    assert list(scored.columns) == ["id", "text", "actor", "date", *output_columns(targets)]
    assert list(scored["id"]) == [f"q{i}" for i in range(len(TEXTS))]
    assert set(scored["nato_spending_stance"]) <= {"favor", "against", "none"}


def test_identical_texts_are_scored_once_and_alike(bundle):
    cache = ScoreCache()
    values = [TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[0], ""]
    scored = score_texts(bundle.model, values, list(bundle.model.targets), cache=cache)
    assert len(cache) == 2
    assert scored.iloc[0].equals(scored.iloc[2]) and scored.iloc[0].equals(scored.iloc[3])
    again = score_texts(bundle.model, [TEXTS[1]], list(bundle.model.targets), cache=cache)
    assert again.iloc[0].equals(scored.iloc[1])


def test_bad_rows_are_kept_with_an_error_naming_the_line(bundle, tmp_path):
    lines = [
        json.dumps({"id": 1, "text": TEXTS[0]}),
        json.dumps({"id": 2, "text": ""}),
        json.dumps({"id": 3, "text": "   "}),
        json.dumps({"id": 4, "text": 42}),
        json.dumps({"id": 5, "text": None}),
        json.dumps({"id": 6}),
        '{"id": 7, "text": "broken',
        "[1, 2]",
        "",
        json.dumps({"id": 9, "text": TEXTS[4]}),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = score_files([str(path)], tmp_path / "out.jsonl", bundle=bundle, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    errors = [row["error"] for row in rows]
    assert result.rows == 9 and result.errors == 7 and len(rows) == 9
    assert errors[0] is None and errors[-1] is None
    assert errors[1:6] == [
        "text is empty",
        "text is empty",
        "text is not a string (got int 42)",
        "text is missing",
        "text is missing",
    ]
    assert errors[6].startswith("line 7: invalid JSON")
    assert errors[7] == "line 8: expected a JSON object, got list"
    assert rows[1]["nato_spending_stance"] is None and rows[0]["nato_spending_stance"]


def quotebank_lines() -> list[dict]:
    base = {"qids": ["Q76"], "numOccurrences": 3, "urls": ["http://x"], "phase": "E"}
    return [
        {**base, "quoteID": "a", "quotation": TEXTS[0], "speaker": "President Obama",
         "date": "2015-03-01 10:00:00", "probas": [["President Obama", "0.7"], ["None", "0.3"]]},
        {**base, "quoteID": "b", "quotation": TEXTS[1], "speaker": "None",
         "date": 1425204000000, "probas": [["None", "0.9"]]},
        {**base, "quoteID": "c", "quotation": TEXTS[2].lower(), "speaker": "Donald Trump",
         "date": 1448928000000, "phase": "A", "probas": []},
        {**base, "quoteID": "d", "quotation": TEXTS[3], "speaker": "DONALD Trump",
         "date": "2015-07-04 00:00:00", "numOccurrences": 10, "probas": []},
    ]  # fmt: skip


def test_quotebank_needs_no_options_and_survives_its_quirks(bundle, tmp_path):
    path = tmp_path / "quotes-2015.json.bz2"
    lines = "".join(json.dumps(record) + "\n" for record in quotebank_lines())
    path.write_bytes(bz2.compress(lines.encode()))
    [(_, roles, _)] = plan_inputs([str(path)], ColumnOptions())
    assert (roles.text, roles.actor, roles.id, roles.date) == (
        "quotation", "speaker", "quoteID", "date"
    )  # fmt: skip
    assert roles.quotebank and roles.weight is None
    result = score_files(
        [str(path)], tmp_path / "out.csv", actors=tmp_path / "actors.csv", bundle=bundle,
        progress=False,
    )  # fmt: skip
    scored = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert result.rows == 4 and list(scored["quoteID"]) == ["a", "b", "c", "d"]
    assert scored.loc[0, "probas"] == '[["President Obama","0.7"],["None","0.3"]]'
    assert scored.loc[1, "date"] == "1425204000000"  # input values are kept as they were
    summary = pd.read_csv(tmp_path / "actors.csv", keep_default_na=False)
    overall = summary[summary["target"] == "nato_spending"].set_index("actor")
    assert sorted(overall.index) == ["Donald Trump", "Obama"]  # "None" is no speaker
    trump = overall.loc["Donald Trump"]
    assert trump["quotes"] == 2  # unweighted, although numOccurrences is 3 and 10
    assert (trump["first_date"], trump["last_date"]) == ("2015-07-04", "2015-12-01")
    assert trump[["favor", "against", "none"]].sum() == 2
    assert -1 <= trump["net_stance"] <= 1


def test_weight_column_weights_the_summary(bundle, tmp_path):
    path = tmp_path / "quotes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in quotebank_lines()))
    score_files(
        [str(path)], tmp_path / "out.parquet", actors=tmp_path / "actors.json",
        columns=ColumnOptions(weight="numOccurrences"), bundle=bundle, progress=False,
    )  # fmt: skip
    summary = json.loads((tmp_path / "actors.json").read_text())
    trump = next(s for s in summary if s["actor"] == "Donald Trump")
    assert trump["quotes"] == 13


def test_a_row_with_an_error_does_not_hide_the_other_rows_of_its_part_from_the_summary(
    bundle, tmp_path
):
    frame = pd.DataFrame({"text": [TEXTS[0], "", TEXTS[1]], "actor": ["Ann A", "Bob B", "Cy C"]})
    frame.to_csv(tmp_path / "in.csv", index=False)
    score_files(
        [str(tmp_path / "in.csv")], tmp_path / "out.parquet", actors=tmp_path / "actors.csv",
        bundle=bundle, progress=False,
    )  # fmt: skip
    summary = pd.read_csv(tmp_path / "actors.csv")
    assert set(summary["actor"]) == {"Ann A", "Cy C"}  # Bob's empty quote is not counted


def test_summary_by_month_adds_a_time_series_and_a_plot(bundle, tmp_path):
    path = write_input(tmp_path, "csv", None, quotes_frame())
    score_files(
        [str(path)], tmp_path / "out.parquet", actors=tmp_path / "actors.csv", by="month",
        plot=tmp_path / "top.png", bundle=bundle, progress=False,
    )  # fmt: skip
    summary = pd.read_csv(tmp_path / "actors.csv", keep_default_na=False)
    overall = summary[summary["period"] == ""]
    monthly = summary[summary["period"] != ""]
    assert set(monthly["period"]) == {"2015-01", "2015-02", "2015-03"}
    for (actor, target), rows in monthly.groupby(["actor", "target"]):
        total = overall[(overall["actor"] == actor) & (overall["target"] == target)]
        assert rows["quotes"].sum() == total["quotes"].item()
    assert (tmp_path / "top.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_directories_and_globs_are_expanded_in_a_stable_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.csv").write_text("text\nsecond\n")
    (tmp_path / "1.jsonl.gz").write_bytes(gzip.compress(b'{"text": "first"}\n'))
    (tmp_path / "notes.txt").write_text("not an input")
    for leftover in ("out.parquet.parts", ".cache"):
        (tmp_path / leftover).mkdir()
        (tmp_path / leftover / "000000.csv").write_text("text\nnot an input\n")
    planned = plan_inputs([str(tmp_path)], ColumnOptions())
    assert [p[0].path.name for p in planned] == ["1.jsonl.gz", "2.csv"]
    globbed = plan_inputs([str(tmp_path / "**" / "*.csv")], ColumnOptions())
    assert [p[0].path.name for p in globbed] == ["2.csv"]
    chunks = list(read_chunks([p[:2] for p in planned], 10))
    assert [list(c.frame.index) for c in chunks] == [[0], [1]]


def test_shared_quotebank_sample_is_read_whole(shared_dir):
    path = shared_dir / "archives" / "quotebank-2015-world-politicians.json.bz2"
    planned = plan_inputs([str(path)], ColumnOptions())
    assert planned[0][1].quotebank
    chunks = list(read_chunks([planned[0][:2]], 500))
    speakers = pd.concat(c.frame for c in chunks)["speaker"]
    assert len(speakers) == 1083 and list(speakers.index) == list(range(1083))
    names = ActorNames(aliases={})
    keys = [actor_key(n) for n in map(names.canonical, speakers) if n]
    assert keys.count("donald trump") == 23  # 22 "Donald Trump" + 1 "DONALD Trump"


def run_cli(*args: str):
    return CliRunner().invoke(main, ["score", *args])


def test_cli_unknown_format_is_a_usage_error_naming_the_file(tmp_path):
    path = tmp_path / "quotes.xlsx"
    path.write_text("x")
    result = run_cli(str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "quotes.xlsx" in result.output and "unknown input format" in result.output


def test_cli_missing_column_names_the_file_and_the_column(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text("body,who\nhello,me\n")
    result = run_cli(str(path), "-o", str(tmp_path / "out.csv"), "--text-column", "quote")
    assert result.exit_code == 2
    assert "quotes.csv" in result.output and "'quote'" in result.output
    detected = run_cli(str(path), "-o", str(tmp_path / "out.csv"))
    assert detected.exit_code == 2 and "--text-column" in detected.output


def test_cli_empty_file_is_named_as_empty_not_as_missing_a_column(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = run_cli(str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2
    assert "empty.csv" in result.output and "empty" in result.output.split("empty.csv")[1]
    assert not (tmp_path / "out.csv").exists()


def test_cli_never_overwrites_an_existing_output_without_force(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text("text\nhello\n")
    (tmp_path / "out.csv").write_text("precious")
    result = run_cli(str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2 and "--force" in result.output
    assert (tmp_path / "out.csv").read_text() == "precious"


def test_score_files_rejects_inputs_that_already_have_score_columns(bundle, tmp_path):
    path = tmp_path / "scored.csv"
    path.write_text("text,sentiment\nhello,positive\n")
    with pytest.raises(BatchError, match=r"scored\.csv: column 'sentiment'"):
        score_files([str(path)], tmp_path / "out.csv", bundle=bundle, progress=False)


def test_malformed_csv_is_bad_input_naming_the_file_and_line(bundle, tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text("id,text\n1,fine\n2,too,many,fields\n")
    with pytest.raises(BatchError, match=r"broken\.csv: .*line 3"):
        score_files([str(path)], tmp_path / "out.csv", bundle=bundle, progress=False)


def test_input_without_rows_gives_an_output_without_rows(bundle, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(BatchError, match="the file is empty or has no header"):
        score_files([str(path)], tmp_path / "out.csv", bundle=bundle, progress=False)
    (tmp_path / "header.csv").write_text("id,text\n")
    result = score_files(
        [str(tmp_path / "header.csv")], tmp_path / "out.csv", bundle=bundle, progress=False
    )
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert result.rows == 0 and len(lines) == 1
    assert lines[0].startswith('"id","text","nato_spending_stance"')


def test_the_output_records_the_model_and_the_encoder_that_scored_it(bundle, tmp_path):
    source = tmp_path / "quotes.csv"
    pd.DataFrame({"text": TEXTS[:2]}).to_csv(source, index=False)
    for name in ("scored.parquet", "scored.csv"):
        score_files([str(source)], tmp_path / name, bundle=bundle, progress=False)
        provenance = read_provenance(tmp_path / name)
        assert provenance["model"]["sha256"] == bundle.manifest["model_sha256"]
        assert provenance["model"]["encoder"] == bundle.model.embedder.encoder.to_dict()
        assert provenance["targets"] == list(bundle.model.targets)
    assert (tmp_path / "scored.csv.provenance.json").is_file()
    assert not (tmp_path / "scored.parquet.provenance.json").exists()


def test_rows_of_only_invisible_characters_get_the_empty_text_error(bundle, tmp_path):
    texts = [TEXTS[0], "\u200b\u200b", "\ufeff", "\x00", " \u2060\t", TEXTS[4] + "\u200b"]
    path = tmp_path / "invisible.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    result = score_files([str(path)], tmp_path / "out.jsonl", bundle=bundle, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert result.errors == 4
    assert [row["text"] for row in rows] == texts  # kept as they were
    assert rows[0]["error"] is None and rows[5]["error"] is None and rows[5]["sentiment"]
    for row in rows[1:5]:
        assert row["error"].startswith("text is empty: it has only invisible characters")
        assert row["nato_spending_stance"] is None
    assert "U+200B ZERO WIDTH SPACE" in rows[1]["error"]


def test_rows_with_impossible_dates_get_an_error_naming_the_column(bundle, tmp_path):
    dates = ["2025-02-13", "2025-02-30", "2025-13-45", "2025-02-13garbage", "", "1425204000000"]
    frame = pd.DataFrame({"text": TEXTS[: len(dates)], "actor": "A Minister", "published": dates})
    path = tmp_path / "dated.csv"
    frame.to_csv(path, index=False)
    actors = tmp_path / "actors.csv"
    result = score_files(
        [str(path)], tmp_path / "out.csv", bundle=bundle, actors=actors, progress=False
    )
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert result.errors == 3
    assert list(out["published"]) == dates  # the input is kept as it was
    assert out["error"][0] == out["error"][4] == out["error"][5] == ""
    assert out["error"][1] == (
        "column 'published': '2025-02-30' is not a real calendar date "
        "(day is out of range for month)"
    )
    assert out["error"][2].startswith("column 'published': '2025-13-45' is not a real")
    assert out["error"][3].startswith("column 'published': '2025-02-13garbage' is not an ISO")
    assert out["nato_spending_stance"][1] == ""
    summary = pd.read_csv(actors)
    assert set(summary["first_date"]) == {"2015-03-01"} and set(summary["quotes"]) == {3}
    assert set(summary["last_date"]) == {"2025-02-13"}


def test_cli_reads_an_excel_semicolon_cp1252_csv_and_says_how(tmp_path):
    path = tmp_path / "excel.csv"
    texts = [
        "The café owners of Málaga say the budget is wrong — «spend more on defence»",
        "Not one more euro for the army, said the mayor of Nîmes",
    ]
    path.write_bytes(("text;actor\n" + "".join(f"{t};a mayor\n" for t in texts)).encode("cp1252"))
    out = tmp_path / "out.csv"
    result = run_cli(str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"note: {path}: not UTF-8, read as cp1252 (detected" in result.output
    assert f"note: {path}: columns separated by ';'" in result.output
    scored = pd.read_csv(out)
    assert list(scored["text"]) == texts and scored["error"].isna().all()


def test_cli_encoding_and_delimiter_options_read_what_detection_cannot(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_bytes("text|who\nŞimdi değil|bakan\n".encode("cp1254"))
    out = tmp_path / "out.jsonl"
    result = run_cli(str(path), "-o", str(out), "--encoding", "cp1254", "--delimiter", "|")
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (row["text"], row["who"]) == ("Şimdi değil", "bakan")


def test_cli_undecodable_byte_late_in_a_file_names_file_and_line(tmp_path):
    path = tmp_path / "late.csv.gz"
    rows = [b"text,padding"] + [b"NATO must spend more," + b"x" * 1000] * 1200  # past 1 MiB
    rows[1100] = b"caf\xe9 au lait,x"  # Latin-1, after the part that detection reads
    path.write_bytes(gzip.compress(b"\n".join(rows)))
    result = run_cli(str(path), "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 2, result.output
    assert f"{path}:1101, column 4: byte 0xE9 is not valid utf-8" in result.output
    assert "pass --encoding" in result.output and "position" not in result.output


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_a_summary_without_sentiment_scores_leaves_its_sentiment_fields_empty(tmp_path, suffix):
    from service.actors import ActorAggregator
    from service.batch.summary import write_summary
    from training import LabelScore, QuoteScore

    probabilities = {"favor": 0.7, "against": 0.1, "none": 0.2}
    aggregator = ActorAggregator(ActorNames({}))
    aggregator.add("A Minister", QuoteScore({"t": LabelScore("favor", probabilities)}, None), None)
    path = tmp_path / f"summary{suffix}"
    write_summary(aggregator.summaries(), path)
    if suffix == ".csv":
        (row,) = pd.read_csv(path).to_dict("records")
        assert row["favor"] == 1
        assert all(pd.isna(row[c]) for c in ("sentiment_positive", "sentiment_net"))
    else:
        (row,) = json.loads(path.read_text())
        assert row["counts"]["favor"] == 1 and row["sentiment"] is None
