"""Quotes longer than the encoder reads are scored over windows of sentences, not truncated."""

from __future__ import annotations

from training.windows import sentences, windows

FILLER = (
    "The delegations arrived in the capital on Tuesday morning for the annual meeting. "
    "The agenda covered ports, railways, fisheries, school exchanges and the new airport. "
    "Officials said the sessions would run late into the evening on both days. "
)
LAST = "And let me be clear: every ally must raise defence spending to three percent of GDP now."


def test_sentences_split_at_sentence_ends_but_not_after_titles():
    text = "Mr. Adair spoke first. He said: “It is late.” Then Dr. Roca left! Was it over? Yes."
    assert sentences(text) == [
        "Mr. Adair spoke first.",
        "He said: “It is late.”",
        "Then Dr. Roca left!",
        "Was it over?",
        "Yes.",
    ]


def test_windows_are_sentences_cut_to_the_limit(embedder):
    text = FILLER * 8 + LAST + " Very " + "very " * 80 + "long."
    parts = windows(text, embedder.token_counts, 64)
    assert len(parts) > 8 * 3 and all(n <= 64 for n in embedder.token_counts(parts))
    assert " ".join(parts).split() == text.split()
    assert LAST in parts


def test_a_stance_stated_only_in_the_last_sentence_of_a_long_quote_is_kept(default_bundle):
    model = default_bundle.model
    text = FILLER * 8 + LAST
    assert model._embedder().token_counts([text])[0] > model._embedder().window
    batch = model.embed([text])
    assert batch.windows and len(batch.windows[0].texts) > 1
    (score,) = model.score([text], ["nato_spending"], batch)
    (alone,) = model.score([LAST], ["nato_spending"])
    # The last sentence takes a position, and the long quote gets exactly that reading.
    assert alone.stances["nato_spending"].label != "none"
    assert score.stances["nato_spending"] == alone.stances["nato_spending"]
    # What truncation would give: the encoder's first window, filler only.
    (truncated,) = model.score([batch.windows[0].texts[0]], ["nato_spending"])
    assert truncated.stances["nato_spending"].label == "none"


def test_the_default_model_reads_the_last_sentence_as_favor(default_bundle):
    (alone,) = default_bundle.model.score([LAST], ["nato_spending"])
    assert alone.stances["nato_spending"].label == "favor"
