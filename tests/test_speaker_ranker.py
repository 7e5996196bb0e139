"""The learned speaker ranker: fit, save, reload; the committed artefact; the rules-only switch."""

import json

import pytest

from service.extraction import extract_quotes, load_pipeline
from service.extraction.analysis import analyse
from service.extraction.corpus import AnnotatedArticle, Annotation, GoldAttribution, Span
from service.extraction.ranker import (
    ARTEFACT,
    RankerError,
    SpeakerRanker,
    candidate_features,
    candidates,
    corpus_examples,
    load_ranker,
    pipeline_identity,
    read_ranker,
    save_ranker,
)

# Fictional articles: who says each quotation, written for the test.
ARTICLES = [
    (
        "Port talks\nDock workers met on Monday. Union chief Kai Brand spoke first.\n"
        '"We will not move," Brand told the crowd.',
        "We will not move",
        "Brand",
    ),
    (
        "Bridge vote\nMayor Tom Adair faced residents at the hall.\n"
        '"The bridge opens in May." Residents were not convinced.',
        "The bridge opens in May.",
        "Tom Adair",
    ),
    (
        "Ferry cuts\nCouncillor Ines Roca has fought the cuts for a year.\n"
        '"Islanders deserve better," the councillor said.',
        "Islanders deserve better",
        "the councillor",
    ),
]


def annotated(text: str, quote: str, source: str, n: int) -> AnnotatedArticle:
    """The article with one attribution; its content runs from mark to mark, as in PolNeAR."""
    start = text.rindex('"', 0, text.index(quote))
    end = text.index('"', start + 1) + 1
    at = text.index(source)
    content = Annotation((Span(start, end, text[start:end]),))
    speaker = Annotation((Span(at, at + len(source), source),))
    return AnnotatedArticle(f"a{n}", text, [GoldAttribution(speaker, None, content)])


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


@pytest.fixture(scope="module")
def examples(nlp):
    articles = [annotated(*article, n) for n, article in enumerate(ARTICLES)]
    return corpus_examples(articles, nlp)


def test_fitted_ranker_finds_its_speakers_and_survives_a_round_trip(examples, nlp, tmp_path):
    ranker = SpeakerRanker(C=10.0).fit(examples)
    picked = [ranker.best(example.features) for example in examples]
    assert all(example.labels[i] for example, i in zip(examples, picked, strict=True))
    save_ranker(ranker, {"fitted_on": "three fictional articles"}, tmp_path / "ranker.json")
    reloaded, manifest = read_ranker(tmp_path / "ranker.json")
    assert manifest["fitted_on"] == "three fictional articles"
    for example in examples:
        assert list(reloaded.probabilities(example.features)) == pytest.approx(
            list(ranker.probabilities(example.features)), abs=1e-6
        )


def test_candidates_are_outside_quotation_marks_and_in_text_order(nlp):
    text, quote, _ = ARTICLES[0]
    article = analyse(text, nlp)
    start = text.index(quote)
    found = candidates(article, start, start + len(quote))
    assert [t.idx for t in found] == sorted(t.idx for t in found)
    assert not any(article.in_quote(t) for t in found)
    assert "Brand" in [t.text for t in found]
    features = candidate_features(article, start, start + len(quote), found)
    assert len(features) == len(found) and all(
        "side=before" in f or "side=after" in f for f in features
    )


def test_fitting_without_speakers_among_candidates_is_refused():
    from service.extraction.ranker import Example

    with pytest.raises(RankerError, match="speakers and non-speakers"):
        SpeakerRanker().fit([Example([{"side=before": 1.0}], [False])])


def test_committed_ranker_loads_without_the_corpus_and_matches_its_manifest(nlp):
    ranker, manifest = read_ranker(ARTEFACT)
    assert manifest["spacy_pipeline"] == dict(
        zip(("name", "version"), pipeline_identity(nlp), strict=True)
    )
    assert manifest["dev_metrics"]["dev_top1"] > 0.9
    assert ranker.features_ and len(ranker.coef_) == len(ranker.features_)
    assert ARTEFACT.stat().st_size < 20 * 2**20


def test_a_modified_artefact_is_refused(tmp_path):
    document = json.loads(ARTEFACT.read_text())
    document["model"]["intercept"] += 1.0
    (tmp_path / "ranker.json").write_text(json.dumps(document))
    with pytest.raises(RankerError, match="does not match its manifest"):
        read_ranker(tmp_path / "ranker.json")


def test_rules_only_attribution_is_one_setting_away(nlp, monkeypatch):
    text = (
        "Historians\nMayor Ada Brenn interrupted a discussion. Tom Adair, a historian who "
        'attended the session, recalled, "Out of nowhere, she said it was over."'
    )
    learned = [q.speaker for q in extract_quotes(text, nlp=nlp) if q.direct]
    monkeypatch.setenv("STANCE_ATTRIBUTION", "rules")
    load_ranker.cache_clear()
    try:
        assert load_ranker(*pipeline_identity(nlp)) is None
        rules = [q.speaker for q in extract_quotes(text, nlp=nlp) if q.direct]
    finally:
        monkeypatch.undo()
        load_ranker.cache_clear()
    assert rules == [None] and learned == ["Tom Adair"]
