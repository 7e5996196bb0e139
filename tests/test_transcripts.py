"""Transcripts and interviews with speaker labels, with the real spaCy pipeline.

Every article here is fictional and written for the test.
"""

from service.extraction import extract_quotes


def turns(text, nlp):
    """(quotation, speaker, cue) of every quotation, in text order."""
    return [(q.quote, q.speaker, q.cue) for q in extract_quotes(text, nlp=nlp)]


def test_answers_go_to_the_interviewee_and_questions_to_the_publication(nlp):
    text = (
        "Westmoor colliery: the last shift\n"
        "Jake Morrow has managed Westmoor colliery for twenty years. "
        "He spoke to the Westmoor Gazette about its future.\n"
        "Q: Will the mine close next year?\n"
        "A: Not while I am in charge. We have orders until 2030.\n"
        "And the miners know it.\n"
        "Q: What do you say to the council?\n"
        "A: They should visit the pit before they vote."
    )
    assert turns(text, nlp) == [
        ("Will the mine close next year?", "Westmoor Gazette", "Q:"),
        ("Not while I am in charge. We have orders until 2030.", "Jake Morrow", "A:"),
        ("And the miners know it.", "Jake Morrow", "A:"),  # the answer runs on
        ("What do you say to the council?", "Westmoor Gazette", "Q:"),
        ("They should visit the pit before they vote.", "Jake Morrow", "A:"),
    ]


def test_interviewer_named_in_the_introduction_asks_the_questions(nlp):
    text = (
        "Our reporter Lena Hart interviewed Jake Morrow, the colliery manager, at the pit head.\n"
        "Q: How long have you worked here?\n"
        "A: Thirty-one years, man and boy."
    )
    assert turns(text, nlp) == [
        ("How long have you worked here?", "Lena Hart", "Q:"),
        ("Thirty-one years, man and boy.", "Jake Morrow", "A:"),
    ]


def test_without_an_introduction_answers_go_to_the_last_person_named(nlp):
    text = (
        "Anna Lind chaired the meeting. Afterwards the new councillor, Tomas Ekberg, "
        "took questions from readers.\n"
        "Q: Why did you stand for the council?\n"
        "A: Because nobody else would."
    )
    assert turns(text, nlp) == [
        ("Why did you stand for the council?", "the interviewer", "Q:"),
        ("Because nobody else would.", "Tomas Ekberg", "A:"),
    ]


def test_transcript_labels_resolve_to_the_fullest_name_the_article_gives(nlp):
    text = (
        "The Dornfeld council debated the mine on Monday night. "
        "Below is an edited transcript.\n"
        "ANNA LIND, COUNCIL LEADER: We cannot keep paying for a mine that loses money.\n"
        "MORROW: The mine made a profit last year, and you know it.\n"
        "LIND: Only because of the subsidy.\n"
        "[Laughter]\n"
        "MORROW: Then keep the subsidy.\n"
        "Jake Morrow, the manager of Westmoor colliery, left before the vote."
    )
    assert turns(text, nlp) == [
        (
            "We cannot keep paying for a mine that loses money.",
            "Anna Lind",
            "ANNA LIND, COUNCIL LEADER:",
        ),
        ("The mine made a profit last year, and you know it.", "Jake Morrow", "MORROW:"),
        ("Only because of the subsidy.", "Anna Lind", "LIND:"),
        ("Then keep the subsidy.", "Jake Morrow", "MORROW:"),
    ]


def test_an_honorific_in_the_label_picks_among_people_sharing_a_surname(nlp):
    text = (
        "John Ellis and his wife Mary Ellis run the last farm in the valley.\n"
        "MRS ELLIS: We have never seen a drought like it.\n"
        "MR ELLIS: Nor have I, and I have farmed here for fifty years."
    )
    assert [speaker for _, speaker, _ in turns(text, nlp)] == ["Mary Ellis", "John Ellis"]


def test_unnamed_labels_count_only_in_a_transcript_and_are_credited_as_written(nlp):
    text = (
        "Radio Westmoor took calls about the colliery on Tuesday.\n"
        "HOST: Good morning, you are on the air.\n"
        "CALLER: My father worked that pit and so did I."
    )
    assert turns(text, nlp) == [
        ("Good morning, you are on the air.", "Host", "HOST:"),
        ("My father worked that pit and so did I.", "Caller", "CALLER:"),
    ]


def test_a_quotation_inside_a_turn_belongs_to_the_turn(nlp):
    text = (
        "Jake Morrow and Anna Lind met at the colliery gates.\n"
        'MORROW: The minister told me "we will see" and then went home.\n'
        "LIND: That is what ministers say."
    )
    assert turns(text, nlp) == [
        ('The minister told me "we will see" and then went home.', "Jake Morrow", "MORROW:"),
        ("That is what ministers say.", "Anna Lind", "LIND:"),
    ]


def test_lists_sentences_and_editorial_labels_are_not_turns(nlp):
    text = (
        "Jake Morrow and Anna Lind stood in the Dornfeld ward election.\n"
        "Jake Morrow: 1,203 votes\n"
        "Anna Lind: 998 votes\n"
        "Update: The recount has been postponed to May.\n"
        "Ms Lind, the council leader, was blunt: the recount was a waste of money."
    )
    assert not [q for q in extract_quotes(text, nlp=nlp) if q.cue and q.cue.endswith(":")]


def test_a_named_person_label_opening_a_paragraph_is_their_quotation(nlp):
    text = (
        "Anna Lind, the council leader, has ruled out a new subsidy for the colliery.\n"
        "Anna Lind: Dornfeld will not pay for a mine that loses money."
    )
    assert turns(text, nlp)[-1] == (
        "Dornfeld will not pay for a mine that loses money.",
        "Anna Lind",
        "Anna Lind:",
    )


def test_subheads_naming_several_people_over_narrative_are_not_turns(nlp):
    text = (
        "Three candidates remain in the Dornfeld mayoral race.\n"
        "Lind: Hold the centre.\n"
        "Anna Lind leads the polls and needs only to avoid mistakes in the last week.\n"
        "Morrow: Win the miners.\n"
        "Jake Morrow has spent the campaign at the colliery gates.\n"
        "Ekberg: Survive the debate.\n"
        "Tomas Ekberg trails both and has one televised debate left."
    )
    assert not [q for q in extract_quotes(text, nlp=nlp) if q.cue and q.cue.endswith(":")]
