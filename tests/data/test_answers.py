"""Reading the stated label out of free text, and stripping answer statements from rationales."""

from __future__ import annotations

import pytest

from cotdistill.data.answers import extract_label, normalize_answer_text, parse_answer, strip_answer_statement
from cotdistill.data.example import Example

CSQA = Example("x", "q", {"A": "ignore", "B": "enforce", "C": "wooded area", "D": "math problem", "E": "avoid"}, "D")
QUAREL = Example("y", "q", {"A": "the carpet", "B": "the wood floor"}, "A")


@pytest.mark.parametrize("text, label", [
    ("The answer is B", "B"),
    ("the answer is (b)", "B"),
    ("So the answer is (d) math problem.", "D"),
    ("Answer: B", "B"),
    ("answer: e", "E"),
    ("The answer is E, as people avoid it.", "E"),
    ("The answer is D: math problem. \n\nThis is because ...", "D"),
    ("The correct answer is C.", "C"),
    ("B is the correct answer.", "B"),
    ("A because someone must get money first.", "A"),
    ("A. The epidermis is the largest organ.", "A"),
    ("the answer is wooded area because beavers need wood", "C"),
    ("The answer is Math Problem!", "D"),
    ("Reasoning first. So the answer is B.\n\nQ: another question? So the answer is C.", "B"),
    ("The answer is not C, as that is wrong. The answer is A.", "A"),
])
def test_strict_statements(text, label):
    assert extract_label(text, CSQA) == (label, "strict")
    assert extract_label(text, CSQA, strict_only=True) == (label, "strict")


def test_lowercase_a_is_an_article_not_a_label():
    assert extract_label("The answer is a wooded area because ...", CSQA) == ("C", "strict")
    assert extract_label("The answer is a.", CSQA) == ("A", "strict")


def test_stated_text_matches_choice_after_normalisation():
    # Articles and case differ from the choice text.
    assert extract_label("The answer is Carpet, since it is rough.", QUAREL) == ("A", "strict")
    assert normalize_answer_text("The Wood-Floor!") == "wood floor"


def test_restated_text_wins_over_a_slipped_letter():
    # PaLM wrote "(e) unimportant" where "unimportant" is choice D.
    ex = Example("z", "q", {"A": "trivial", "B": "negligible", "C": "slight", "D": "unimportant", "E": "petty"}, "B")
    assert parse_answer("So the answer is (e) unimportant.", ex).label == "D"
    assert parse_answer("So the answer is (e) unimportant.", ex).detail == "text"
    # Duplicate choice texts: the letter stays when its own text is the one restated.
    dup = Example("w", "q", {"A": "house", "B": "hotel", "C": "school", "D": "hotel"}, "A")
    assert parse_answer("So the answer is (d) hotel.", dup).label == "D"


@pytest.mark.parametrize("text, detail", [
    ("The answer is A or E because either could be right.", "hedged"),
    ("The answer is A, B, or C as people play.", "hedged"),
    ("The answer is B and C because both work.", "hedged"),
    ("So the answer is either (a) aquarium or (e) pond.", "hedged"),
    ("A and B are correct answers.", "hedged"),
    ("The answer is none of the above. But D is close.", "abstained"),
])
def test_hedges_and_abstentions_name_no_label_and_block_the_fallback(text, detail):
    parsed = parse_answer(text, CSQA)
    assert (parsed.label, parsed.how, parsed.detail) == (None, None, detail)


def test_few_shot_answer_marker_is_not_choice_a():
    assert extract_label("A: The answer is C because magnets attract.", CSQA) == ("C", "strict")


@pytest.mark.parametrize("text, label", [
    ("I would pick (C) here.", "C"),
    ("Option D seems best, more than option B. D.", "D"),
    ("A person would choose math problem over avoid", "E"),
    ("Beavers build near a wooded area.", "C"),
])
def test_flexible_fallback(text, label):
    assert extract_label(text, CSQA) == (label, "flexible")
    assert extract_label(text, CSQA, strict_only=True) == (None, None)


def test_nothing_found():
    assert extract_label("I cannot tell.", CSQA) == (None, None)
    assert extract_label("The answer is not provided in the question.", CSQA) == (None, None)
    # A letter outside the choices is no label.
    assert extract_label("The answer is F.", CSQA, strict_only=True) == (None, None)


def test_numeric_labels():
    ex = Example("n", "q", {"1": "red", "2": "blue", "10": "green"}, "10")
    assert extract_label("The answer is 10.", ex) == ("10", "strict")


@pytest.mark.parametrize("text, reasoning", [
    ("The answer is A because a revolving door is used at a bank.", "A revolving door is used at a bank."),
    ("The answer is B. The kitten slid across the floor.", "The kitten slid across the floor."),
    ("The answer is E, as a rubber bath mat is soft.", "A rubber bath mat is soft."),
    ("The answer is D: the stars in the night. \n\nThis is because they shine.", "This is because they shine."),
    ("The answer is A or E because a fencing thrust hurts.", "A fencing thrust hurts."),
    ("A because someone must get money before they can shop.", "Someone must get money before they can shop."),
    ("A. The epidermis is the largest organ.", "The epidermis is the largest organ."),
    ("The answer is wooded area because beavers need wood.", "Beavers need wood."),
    ("The answer must be about counting. Of the above choices, math problem fits. So the answer is (d) math problem.",
     "The answer must be about counting. Of the above choices, math problem fits."),
    ("Plain reasoning without a statement.", "Plain reasoning without a statement."),
    ("A person walks. So the answer is B.", "A person walks."),
    ("The answer is A: stand up.", ""),
])
def test_strip_answer_statement(text, reasoning):
    assert strip_answer_statement(text) == reasoning


def test_strip_keeps_a_statement_in_the_middle():
    text = "First, I think the answer is B. Then more reasoning follows."
    assert strip_answer_statement(text) == text
