"""Actor names and per-actor aggregation: the one rule shared by the API and batch scoring."""

from __future__ import annotations

import pytest

from service.actors import ActorAggregator, ActorNames, actor_key, read_aliases, strip_titles
from training import LabelScore, QuoteScore


def score(favor: float, against: float, sentiment: str = "neutral") -> QuoteScore:
    none = round(1 - favor - against, 6)
    probabilities = {"favor": favor, "against": against, "none": none}
    label = max(probabilities, key=probabilities.get)
    feelings = {"positive": 0.2, "negative": 0.2, "neutral": 0.2} | {sentiment: 0.6}
    return QuoteScore({"t": LabelScore(label, probabilities)}, LabelScore(sentiment, feelings))


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("President Barack Obama", "Barack Obama"),
        ("Prime Minister  Theresa May", "Theresa May"),
        ("Mr. Hegseth", "Hegseth"),
        ("US President Donald Trump", "Donald Trump"),
        ("Angela Merkel", "Angela Merkel"),
    ],
)
def test_titles_and_honorifics_are_stripped(raw, name):
    assert strip_titles(raw) == name


def test_a_role_named_by_its_office_keeps_its_title_and_stays_its_own_actor():
    roles = ["Defence Minister of Estonia", "Prime Minister of Poland", "President of Poland"]
    assert [strip_titles(role) for role in roles] == roles
    names = ActorNames(aliases={})
    assert len({names.canonical(role) for role in roles}) == 3


def test_case_accents_and_spaces_do_not_split_an_actor():
    assert actor_key(" Dovilė  ŠAKALIENĖ ") == actor_key("dovile sakaliene")
    names = ActorNames({})
    assert names.canonical("Dovilė Šakalienė") == names.canonical("DOVILE  SAKALIENE")


@pytest.mark.parametrize("missing", [None, "", "None", "  none ", "nan"])
def test_missing_speakers_are_not_actors(missing):
    assert ActorNames({}).canonical(missing) is None


def test_alias_file_maps_to_the_canonical_name(tmp_path):
    path = tmp_path / "aliases.csv"
    path.write_text("alias,canonical\nTrump,Donald Trump\nThe Donald,Donald Trump\n")
    names = ActorNames(read_aliases(path))
    assert {names.canonical(n) for n in ("Trump", "President Trump", "the donald")} == {
        "Donald Trump"
    }


def test_alias_file_with_a_bad_row_names_the_line(tmp_path):
    path = tmp_path / "aliases.csv"
    path.write_text("alias,canonical\nTrump\n")
    with pytest.raises(ValueError, match=r"aliases.csv:2"):
        read_aliases(path)


def test_short_forms_merge_into_the_one_full_name():
    aggregator = ActorAggregator(ActorNames({}))
    for raw in ("President Obama", "President Barack Obama", "Obama", "Michelle Obama x"):
        aggregator.add(raw, score(0.7, 0.1))
    by_actor = {s.actor: s.quotes for s in aggregator.summaries()}
    assert by_actor == {"Barack Obama": 3, "Michelle Obama x": 1}


def test_short_form_shared_by_two_full_names_stays_apart():
    aggregator = ActorAggregator(ActorNames({}))
    for raw in ("Hillary Clinton", "Bill Clinton", "Clinton"):
        aggregator.add(raw, score(0.7, 0.1))
    assert {s.actor for s in aggregator.summaries()} == {
        "Hillary Clinton",
        "Bill Clinton",
        "Clinton",
    }


def test_summary_counts_net_stance_confidence_and_dates():
    aggregator = ActorAggregator(ActorNames({}))
    aggregator.add("A Minister", score(0.8, 0.1, "positive"), "2025-02-13")
    aggregator.add("A Minister", score(0.2, 0.6, "negative"), "2024-01-02T10:00:00")
    (summary,) = aggregator.summaries()
    assert summary.counts == {"favor": 1, "against": 1, "none": 0}
    assert summary.net_stance == pytest.approx(((0.8 - 0.1) + (0.2 - 0.6)) / 2)
    assert summary.mean_confidence == pytest.approx((0.8 + 0.6) / 2)
    assert (summary.first_date, summary.last_date) == ("2024-01-02", "2025-02-13")
    assert summary.sentiment["counts"] == {"positive": 1, "negative": 1, "neutral": 0}
    assert summary.stance == "favor"  # tie broken by the positive net stance


def test_without_sentiment_scores_the_summary_has_no_sentiment_not_zero_counts():
    unfelt = QuoteScore(score(0.7, 0.1).stances, None)  # a model without a sentiment head
    aggregator = ActorAggregator(ActorNames({}))
    aggregator.add("A Minister", unfelt, "2025-02-13")
    (summary,) = aggregator.summaries()
    assert summary.sentiment is None and summary.to_dict()["sentiment"] is None
    # Carried on, a summary without sentiment adds to quotes that have it.
    later = ActorAggregator(ActorNames({}))
    later.add_summary(summary)
    later.add("A Minister", score(0.6, 0.2, "negative"), "2025-03-01")
    (merged,) = later.summaries()
    assert merged.quotes == 2
    assert merged.sentiment == {
        "counts": {"positive": 0, "negative": 1, "neutral": 0},
        "net": pytest.approx(0.2 - 0.6),
    }


def test_quotes_without_a_stance_do_not_outvote_one_that_has_it():
    aggregator = ActorAggregator(ActorNames({}))
    aggregator.add("Speaker", score(0.1, 0.7))
    for _ in range(3):
        aggregator.add("Speaker", score(0.05, 0.05))
    assert aggregator.summaries()[0].stance == "against"


def test_by_month_splits_the_summary_into_periods():
    aggregator = ActorAggregator(ActorNames({}), by="month")
    for date in ("2025-01-03", "2025-01-30", "2025-02-01"):
        aggregator.add("Speaker", score(0.7, 0.1), date)
    periods = {s.period: s.quotes for s in aggregator.summaries()}
    assert periods == {"2025-01": 2, "2025-02": 1}


def test_ambiguous_short_form_follows_the_full_name_with_the_same_title():
    aggregator = ActorAggregator(ActorNames({}))
    for raw in ("President Obama", "President Barack Obama", "Michelle Obama", "Barack Obama"):
        aggregator.add(raw, score(0.7, 0.1))
    assert {s.actor: s.quotes for s in aggregator.summaries()} == {
        "Barack Obama": 3,
        "Michelle Obama": 1,
    }


def test_capitalised_spelling_merges_and_shows_the_usual_one():
    aggregator = ActorAggregator(ActorNames({}))
    for raw in ("DONALD Trump", "Donald Trump", "Donald Trump"):
        aggregator.add(raw, score(0.7, 0.1))
    assert [(s.actor, s.quotes) for s in aggregator.summaries()] == [("Donald Trump", 3)]


def test_descriptions_are_kept_as_written_and_never_merged_with_people():
    names = ActorNames({})
    assert names.canonical("Former officials", "description") == "Former officials"
    assert names.canonical("a senior NATO official", "description") == "a senior NATO official"
    aggregator = ActorAggregator(names)
    aggregator.add("Jan Smith", score(0.8, 0.1), actor_type="person")
    aggregator.add("Smith", score(0.8, 0.1), actor_type="description")
    actors = {(s.actor, s.actor_type) for s in aggregator.summaries()}
    assert actors == {("Jan Smith", "person"), ("Smith", "description")}


def test_an_organisation_is_one_actor_with_or_without_the():
    aggregator = ActorAggregator(ActorNames({}))
    aggregator.add("the Kremlin", score(0.1, 0.8), actor_type="organisation")
    aggregator.add("Kremlin", score(0.1, 0.8), actor_type="organisation")
    (summary,) = aggregator.summaries()
    assert (summary.actor, summary.actor_type, summary.quotes) == ("Kremlin", "organisation", 2)
    assert summary.to_dict()["actor_type"] == "organisation"


def test_an_unknown_actor_type_is_refused():
    with pytest.raises(ValueError, match="actor type must be one of person, organisation"):
        ActorNames({}).canonical("Someone", "robot")
