"""Quotation marks of other conventions and nested quotations, with the real spaCy pipeline.

Every article here is fictional and written for the test.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.extraction import extract_quotes
from service.extraction.boilerplate import split_paragraphs
from service.extraction.marks import find_quote_spans

INTRO = "Katrin Vogel, a Baltic defence minister, spoke in Riga on Tuesday.\n"

# (opening, closing) marks of each convention; spaced marks are what tokenised text gives.
CONVENTIONS = {
    "english": ("“", "”"),
    "straight": ('"', '"'),
    "german low-high": ("„", "“"),
    "polish low-high": ("„", "”"),
    "low opening, straight closing": ("„", '"'),
    "single low-high": ("‚", "‘"),
    "guillemets": ("«", "»"),
    "reversed guillemets": ("»", "«"),
    "two apostrophes (US news)": ("''", "''"),
    "treebank backticks": ("``", "''"),
    "spaced straight (tokenised)": ('" ', ' "'),
    "spaced two apostrophes (tokenised)": ("'' ", " ''"),
}


def direct(quotes):
    return [(q.quote, q.speaker) for q in quotes if q.direct]


@pytest.mark.parametrize("opening, closing", CONVENTIONS.values(), ids=CONVENTIONS.keys())
def test_each_convention_pairs_its_marks_and_keeps_the_speaker(nlp, opening, closing):
    text = (
        f"{INTRO}{opening}We must be ready for the worst,{closing} Ms Vogel said. "
        f"{opening}Nobody else will defend us.{closing}"
    )
    assert direct(extract_quotes(text, nlp=nlp)) == [
        ("We must be ready for the worst,", "Katrin Vogel"),
        ("Nobody else will defend us.", "Katrin Vogel"),
    ]


APOSTROPHES = (
    "We don't take orders from O'Brien or from Russia's friends, and the teachers' union "
    "agrees with us,"
)


@pytest.mark.parametrize("opening, closing", CONVENTIONS.values(), ids=CONVENTIONS.keys())
def test_apostrophes_stay_inside_the_quotation_in_every_convention(nlp, opening, closing):
    text = (
        "Owen Brannock leads the teachers' union in Westmoor.\n"
        f"{opening}{APOSTROPHES}{closing} Mr Brannock said."
    )
    assert direct(extract_quotes(text, nlp=nlp)) == [(APOSTROPHES, "Owen Brannock")]


def test_tokenised_clitics_are_apostrophes_not_marks(nlp):
    text = (
        "Owen Brannock leads the teachers ' union in Westmoor .\n"
        "\" Russia 's friends do n't speak for us , and we 're not done , \" "
        "Mr Brannock said ."
    )
    assert direct(extract_quotes(text, nlp=nlp)) == [
        ("Russia 's friends do n't speak for us , and we 're not done ,", "Owen Brannock")
    ]


def test_paragraph_ending_in_a_german_closing_mark_is_body_text(nlp):
    # A paragraph ending in “ once read as a headline, whose quotations are settled alone.
    text = f"{INTRO}Ms Vogel was blunt. „Nobody else will defend us.“"
    assert direct(extract_quotes(text, nlp=nlp)) == [
        ("Nobody else will defend us.", "Katrin Vogel")
    ]


def test_a_single_quotation_inside_two_apostrophes_is_part_of_it(nlp):
    text = (
        "Owen Brannock leads the teachers' union in Westmoor.\n"
        "''They called it 'a fair offer' and we called it an insult,'' Mr. Brannock said."
    )
    assert direct(extract_quotes(text, nlp=nlp)) == [
        ("They called it 'a fair offer' and we called it an insult,", "Owen Brannock")
    ]


# --- a nested quotation at the end of a quotation ----------------------------------------------

SCENE = (
    "Mirela Vasko, the mayor of Dornfeld, stood beside Jonas Berg at the town hall.\n"
    "Berg, the council leader, had called the meeting.\n"
)
NESTED_AT_END = {
    "single inside double": "\"Everyone in the room asked 'why now?'\" says Ms Vasko.",
    "double inside single": "'Everyone in the room asked \"why now?\"' says Ms Vasko.",
    "curly": "“Everyone in the room asked ‘why now?’” Ms Vasko said.",
    "two apostrophes": "''Everyone in the room asked 'why now?''' said Ms. Vasko.",
    "german": "„Everyone in the room asked ‚why now?‘“ said Ms Vasko.",
    "space between the marks": "\"Everyone in the room asked 'why now?' \" says Ms Vasko.",
    "spaced (tokenised)": "\" Everyone in the room asked ' why now ? ' \" says Ms Vasko .",
    "exclamation": "\"Then the council wrote 'Everyone out!'\" said Ms Vasko.",
}


@pytest.mark.parametrize("line", NESTED_AT_END.values(), ids=NESTED_AT_END.keys())
def test_nested_quotation_at_the_end_keeps_the_speaker_after_it(nlp, line):
    quotes = [q for q in extract_quotes(SCENE + line, nlp=nlp) if q.direct]
    assert len(quotes) == 1, quotes
    quote = quotes[0]
    assert quote.quote.startswith(("Everyone in the room asked", "Then the council wrote"))
    assert quote.quote.rstrip(" '’‘\"").endswith(("?", "!"))  # the inner quotation is inside
    assert (quote.speaker, quote.cue in ("says", "said")) == ("Mirela Vasko", True), quote


MARK_PIECES = ['"', "“", "”", "„", "‚", "‘", "’", "'", "''", "'''", "``", "`", "«", "»", "‹", "›"]
WORD_PIECES = ["said", "Ms Vogel", "we", ",", ".", ":", "?", "\n", "don't", "teachers'", "'s"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(MARK_PIECES + WORD_PIECES), max_size=40), st.sampled_from(["", " "])
)
def test_any_mix_of_conventions_gives_spans_inside_their_marks(words, glue):
    text = glue.join(words)
    for span in find_quote_spans(text, split_paragraphs(text)):
        assert span.open_mark < span.start <= span.end
        assert span.close_mark is None or span.end <= span.close_mark
        assert "\n" not in text[span.open_mark : span.outer_end]
        assert text[span.start : span.end].strip() == text[span.start : span.end]
