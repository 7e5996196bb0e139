"""Labeled CSV reading: every problem names file, line and column; encodings; mappings."""

from __future__ import annotations

import pytest

from training import ColumnMapping, DataError, read_labeled_csv

HEADER = "text,target,stance,sentiment\n"


SENTIMENTS = ("positive", "negative", "neutral")


def rows(n_per_class: int = 10, target: str = "nato_spending", favor: int | None = None) -> str:
    """A valid body: n quotes per stance label (or `favor` favor ones) for one target."""
    body = []
    for label in ("favor", "against", "none"):
        count = favor if label == "favor" and favor is not None else n_per_class
        for i in range(count):
            body.append(f"quote {label} number {i},{target},{label},{SENTIMENTS[len(body) % 3]}\n")
    return "".join(body)


def write(tmp_path, text: str, name: str = "data.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def only_issue(error: DataError):
    assert len(error.issues) == 1, error.issues
    return error.issues[0]


def test_valid_file_reads_every_row(tmp_path):
    quotes = read_labeled_csv([write(tmp_path, HEADER + rows())])
    assert len(quotes.frame) == 30
    assert quotes.counts() == {"nato_spending": {"favor": 10, "against": 10, "none": 10}}


def test_bad_stance_label_names_the_line_and_column(tmp_path):
    path = write(tmp_path, HEADER + rows() + "a new quote,nato_spending,maybe,neutral\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert (issue.file, issue.line, issue.column) == (str(path), 32, "stance")
    assert "'maybe' is not a stance label" in issue.message
    assert f"{path}:32, column 'stance'" in str(caught.value)


def test_bad_sentiment_label_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + "odd one,nato_spending,favor,furious\n" + rows())
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (2, "sentiment")


def test_empty_text_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + rows() + '"  ",nato_spending,favor,neutral\n')
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    assert (only_issue(caught.value).line, only_issue(caught.value).column) == (32, "text")


def test_wrong_field_count_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + rows(2) + "too,few\n" + rows(8))
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert issue.line == 8
    assert "has 2 fields, header has 4" in issue.message


def test_line_numbers_count_physical_lines_of_multiline_quotes(tmp_path):
    body = '"first line\nsecond line",nato_spending,favor,neutral\nx,nato_spending,oops,neutral\n'
    with pytest.raises(DataError) as caught:
        read_labeled_csv([write(tmp_path, HEADER + body + rows())])
    assert only_issue(caught.value).line == 4


def test_missing_column_is_reported_on_the_header_line(tmp_path):
    path = write(tmp_path, "text,target\nhello,nato_spending\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (1, "stance")
    assert "--stance-column" in issue.message


def test_mapped_column_that_does_not_exist_is_named(tmp_path):
    path = write(tmp_path, HEADER + rows())
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], ColumnMapping(text="body"))
    assert only_issue(caught.value).column == "body"


def test_conflicting_duplicates_name_both_lines_when_strict(tmp_path):
    path = write(
        tmp_path, HEADER + rows() + "quote favor number 3,nato_spending,against,positive\n"
    )
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], strict_duplicates=True)
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (32, "stance")
    assert f"{path}:5" in issue.message


def test_conflicting_duplicates_are_left_out_with_a_warning_by_default(tmp_path):
    body = rows(11) + "quote favor number 3,nato_spending,against,positive\n"
    quotes = read_labeled_csv([write(tmp_path, HEADER + body)])
    assert "quote favor number 3" not in set(quotes.frame["text"])
    assert any("conflicting duplicate" in w for w in quotes.warnings)


def test_identical_duplicates_are_kept_once(tmp_path):
    quotes = read_labeled_csv([write(tmp_path, HEADER + rows() + rows(1))])
    assert len(quotes.frame) == 30


def test_too_few_examples_per_class_names_target_and_counts(tmp_path):
    path = write(tmp_path, HEADER + rows(10) + rows(10, "other", favor=5))
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], min_per_class=10)
    message = only_issue(caught.value).message
    assert "'other'" in message
    assert "favor=5" in message


def test_non_utf8_file_is_detected_and_decoded(tmp_path):
    body = (
        HEADER
        + rows()
        + "Le ministre a été très clair sur la défense,nato_spending,favor,positive\n"
    )
    path = write(tmp_path, body, encoding="cp1252")
    quotes = read_labeled_csv([path])
    assert "Le ministre a été très clair sur la défense" in set(quotes.frame["text"])
    assert quotes.encodings[str(path)] != "utf-8"
    assert any("not UTF-8" in w for w in quotes.warnings)


def test_given_encoding_is_used(tmp_path):
    path = write(
        tmp_path, HEADER + rows() + "Señor,nato_spending,favor,neutral\n", encoding="latin-1"
    )
    quotes = read_labeled_csv([path], encoding="latin-1")
    assert "Señor" in set(quotes.frame["text"])


def test_utf8_with_bom_reads_the_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + rows()).encode())
    assert len(read_labeled_csv([path]).frame) == 30


def test_semeval_columns_and_upper_case_labels_are_accepted(tmp_path):
    body = "Tweet,Target,Stance\n" + "".join(
        f"tweet {label} {i},Hillary Clinton,{label.upper()}\n"
        for label in ("favor", "against", "none")
        for i in range(10)
    )
    quotes = read_labeled_csv([write(tmp_path, body)])
    assert quotes.targets == ["hillary_clinton"]
    assert set(quotes.frame["stance"]) == {"favor", "against", "none"}


def test_fixed_target_for_files_without_a_target_column(tmp_path):
    body = "quote,label\n" + "".join(
        f"q {label} {i},{label}\n" for label in ("favor", "against", "none") for i in range(10)
    )
    quotes = read_labeled_csv([write(tmp_path, body)], ColumnMapping(fixed_target="Climate"))
    assert quotes.targets == ["climate"]


def test_errors_from_several_files_are_all_reported(tmp_path):
    first = write(tmp_path, HEADER + "x,nato_spending,bad,neutral\n", "a.csv")
    second = write(tmp_path, HEADER + "y,nato_spending,worse,neutral\n", "b.csv")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([first, second])
    assert [(i.file, i.line) for i in caught.value.issues] == [(str(first), 2), (str(second), 2)]


def test_text_of_only_invisible_characters_is_an_empty_text_naming_the_line(tmp_path):
    path = write(tmp_path, HEADER + rows() + "\u200b\ufeff\u2060,nato_spending,favor,neutral\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (32, "text")
    assert issue.message.startswith("text is empty: it has only invisible characters")


SPANISH = "¡Qué vergüenza! España gastará más en defensa, dijo la ministra"


def test_western_european_excel_csv_is_read_as_cp1252_and_says_so(tmp_path):
    body = (
        HEADER.replace(",", ";")
        + rows().replace(",", ";")
        + f"{SPANISH};nato_spending;favor;negative\n"
    )
    path = write(tmp_path, body, "excel.csv", encoding="cp1252")
    quotes = read_labeled_csv([path])
    assert SPANISH in set(quotes.frame["text"])
    assert quotes.encodings[str(path)] == "cp1252"
    assert (
        f"{path}: not UTF-8, read as cp1252 (detected; pass --encoding to choose another)"
        in quotes.warnings
    )
    assert f"{path}: columns separated by ';'" in quotes.warnings


@pytest.mark.parametrize(
    "text", ["¡qué bien!", "Le ministre a été très clair", "Não é possível", "Schöne Grüße"]
)
def test_short_western_file_is_not_taken_for_another_encoding(tmp_path, text):
    path = write(tmp_path, f"text,target,stance\n{text},nato,favor\n", encoding="cp1252")
    quotes = read_labeled_csv([path], require_min=False)
    assert list(quotes.frame["text"]) == [text]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Zażółć gęślą jaźń powiedział minister obrony", "cp1250"),
        ("Мы должны увеличить расходы на оборону", "cp1251"),
        ("Πρέπει να αυξήσουμε τις αμυντικές δαπάνες", "cp1253"),
    ],
)
def test_other_legacy_encodings_are_still_detected(tmp_path, text, encoding):
    path = write(
        tmp_path, HEADER + rows() + f"{text},nato_spending,favor,neutral\n", encoding=encoding
    )
    quotes = read_labeled_csv([path])
    assert text in set(quotes.frame["text"]) and quotes.encodings[str(path)] == encoding


def test_a_detected_encoding_that_gives_unlikely_characters_stops_naming_line_and_column():
    from training.textfiles import Encoding, UnreadableFile, decode

    raw = "text,target,stance\nok,nato,favor\n¡qué bien!,nato,favor\n".encode("cp1252")
    with pytest.raises(UnreadableFile) as caught:
        decode(raw, "excel.csv", Encoding("cp1250", detected=True))
    assert str(caught.value).startswith("excel.csv:3, column 1: read as cp1250 (detected)")
    assert "'ˇ' (U+02C7 CARON)" in str(caught.value) and "--encoding" in str(caught.value)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_pipe_delimiters_are_detected(tmp_path, delimiter):
    body = (HEADER + rows()).replace(",", delimiter)
    body += f"Hola, amigo{delimiter}nato_spending{delimiter}none{delimiter}neutral\n"
    quotes = read_labeled_csv([write(tmp_path, body)])
    assert len(quotes.frame) == 31 and "Hola, amigo" in set(quotes.frame["text"])


def test_excel_sep_line_names_the_delimiter_and_lines_stay_true(tmp_path):
    body = "sep=;\n" + (HEADER + rows()).replace(",", ";") + "hello;nato_spending;perhaps;\n"
    with pytest.raises(DataError) as caught:
        read_labeled_csv([write(tmp_path, body)])
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (33, "stance")


def test_undecidable_delimiter_asks_for_delimiter_and_the_option_settles_it(tmp_path):
    path = write(tmp_path, "text;tar,get;stance\na,b;nato;favor\n")  # ',' splits it alike
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], require_min=False)
    assert "pass --delimiter" in only_issue(caught.value).message
    mapping = ColumnMapping(target="tar,get")
    quotes = read_labeled_csv([path], mapping, require_min=False, delimiter=";")
    assert quotes.frame.iloc[0]["text"] == "a,b"


def test_invalid_bytes_under_a_given_encoding_name_line_and_column(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(HEADER.encode() + rows().encode() + b"caf\xc3\x28 x,nato_spending,favor,\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], encoding="utf-8")
    issue = only_issue(caught.value)
    assert (issue.line, issue.column) == (32, 4)
    assert "byte 0xC3 is not valid utf-8" in issue.message


def labeled_records() -> list[dict]:
    records = []
    for line in rows().splitlines():
        text, target, stance, sentiment = line.split(",")
        records.append(
            {"Text": text, "target": target, "stance": stance.upper(), "sentiment": sentiment}
        )
    return records


@pytest.mark.parametrize("suffix", ["jsonl", "json", "parquet", "jsonl.gz"])
def test_labeled_json_lines_json_and_parquet_follow_the_same_column_rules(tmp_path, suffix):
    import gzip
    import json

    import pandas as pd

    records = labeled_records()
    path = tmp_path / f"labels.{suffix}"
    if suffix == "parquet":
        pd.DataFrame(records).to_parquet(path)
    elif suffix == "json":
        path.write_text(json.dumps(records, indent=2))
    else:
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        path.write_bytes(gzip.compress(data) if suffix.endswith("gz") else data)
    quotes = read_labeled_csv([path])
    assert quotes.counts() == {"nato_spending": {"favor": 10, "against": 10, "none": 10}}
    assert quotes.sha256 == read_labeled_csv([write(tmp_path, HEADER + rows())]).sha256


def test_bad_records_in_json_lines_name_their_line(tmp_path):
    import json

    lines = [json.dumps(r) for r in labeled_records()]
    lines[3] = json.dumps({**labeled_records()[3], "stance": "maybe"})
    lines[5] = '{"text": "broken'
    lines[7] = "[1, 2]"
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], require_min=False)
    found = {(i.line, i.column): i.message for i in caught.value.issues}
    assert found[(4, "stance")] == "'maybe' is not a stance label; expected favor, against or none"
    assert found[(6, None)].startswith("invalid JSON")
    assert found[(8, None)] == "expected a JSON object, got list"


def test_rows_without_a_stance_are_left_out_and_kept_as_unlabeled(tmp_path):
    pending = "a quote still to label,nato_spending,,\nanother one,nato_spending, ,negative\n"
    path = write(tmp_path, HEADER + rows() + pending)
    quotes = read_labeled_csv([path])
    assert len(quotes.frame) == 30
    assert quotes.unlabeled[["text", "line"]].values.tolist() == [
        ["a quote still to label", 32],
        ["another one", 33],
    ]
    assert f"{path}: 2 row(s) without a stance label left out" in quotes.warnings[0]
    assert "the first at line 32" in quotes.warnings[0]
    assert quotes.sha256 == read_labeled_csv([write(tmp_path, HEADER + rows(), "b.csv")]).sha256


def test_a_thin_target_in_a_labeling_file_in_progress_says_to_label_the_rest(tmp_path):
    pending = "a quote still to label,nato_spending,,\nanother one,nato_spending, ,negative\n"
    path = write(tmp_path, HEADER + rows(10, favor=5) + pending)
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path], min_per_class=10)
    stance, sentiment = (issue.message for issue in caught.value.issues)
    assert "favor=5" in stance and "2 row(s) still without a stance" in stance
    assert "2 row(s) still without a stance" in sentiment


def test_a_file_with_no_labeled_row_yet_names_its_first_line(tmp_path):
    path = write(tmp_path, HEADER + "first,nato_spending,,\nsecond,nato_spending,,\n")
    with pytest.raises(DataError) as caught:
        read_labeled_csv([path])
    issue = only_issue(caught.value)
    assert (issue.file, issue.line) == (str(path), 2)
    assert "no labeled rows: all 2 rows have an empty stance" in issue.message
    texts = read_labeled_csv([path], require_min=False, require_labels=False).unlabeled["text"]
    assert list(texts) == ["first", "second"]


def test_text_key_treats_case_and_spacing_as_the_same_quote():
    from training import text_key

    assert text_key("  We must  SPEND more.\n") == text_key("we must spend more.")
    assert text_key("We must spend more.") != text_key("We must spend less.")
