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
