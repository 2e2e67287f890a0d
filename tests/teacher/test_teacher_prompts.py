"""Teacher prompts: three modes, chat and completion styles, packaged and user templates."""

from __future__ import annotations

import json

import pytest

from cotdistill.data.example import Example
from cotdistill.errors import ConfigError
from cotdistill.teacher.prompts import PromptBuilder, load_template, packaged_templates

EXAMPLE = Example(id="x1", question="Which melts first in the sun?", choices={"A": "ice", "B": "stone"}, answer="A",
                  context="It is a hot day.")


def test_every_packaged_template_renders_every_mode_and_style():
    assert {"openbookqa", "commonsense_qa", "quarel", "generic"} <= set(packaged_templates())
    for name in packaged_templates():
        template = load_template(name)
        assert len(template.shots) >= 3
        for mode in ("label_first", "rationalize", "reasoning_first"):
            for style in ("chat", "completion"):
                prompt = PromptBuilder(template, mode, style).build(EXAMPLE)
                assert "Which melts first in the sun?" in prompt.canonical()


def test_label_first_chat_is_system_then_worked_turns_then_the_question():
    template = load_template("openbookqa")
    prompt = PromptBuilder(template, "label_first", "chat").build(EXAMPLE)
    roles = [role for role, _ in prompt.messages]
    assert roles == ["system"] + ["user", "assistant"] * len(template.shots) + ["user"]
    assert all(content.startswith("The answer is ") and " because " in content
               for role, content in prompt.messages if role == "assistant")
    assert prompt.messages[-1][1] == "Context: It is a hot day.\nQuestion: Which melts first in the sun?\n" \
                                     "Choices:\nA: ice\nB: stone"
    assert prompt.stop == ()
    assert json.loads(prompt.canonical())[0]["role"] == "system"


def test_reasoning_first_puts_the_label_last_and_rationalize_shows_the_gold_answer():
    template = load_template("quarel")
    reasoning = PromptBuilder(template, "reasoning_first", "completion").build(EXAMPLE)
    shot_answers = [line for line in reasoning.text.splitlines() if line.startswith("Answer: ")]
    assert len(shot_answers) == len(template.shots)
    assert all(a.rstrip().endswith(f"So the answer is {s.answer}.") for a, s in zip(shot_answers, template.shots))
    assert reasoning.text.endswith("B: stone\nAnswer:") and reasoning.stop == ("\nQuestion:",)

    rationalize = PromptBuilder(template, "rationalize", "chat").build(EXAMPLE)
    assert rationalize.messages[-1][1].endswith("Correct answer: A: ice")
    label_first = PromptBuilder(template, "label_first", "chat").build(EXAMPLE)
    assert "Correct answer" not in label_first.canonical()
    with pytest.raises(ConfigError, match="no gold label"):
        PromptBuilder(template, "rationalize", "chat").build(Example("t", "q?", {"A": "a", "B": "b"}, None))


def test_user_template_overrides_instructions_shots_and_response_pattern(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "instructions:\n  label_first: Pick one.\n"
        "responses:\n  label_first: 'Option {label} ({answer_text}), since {explanation}'\n"
        "shots:\n  - {question: 'Sky colour?', choices: {A: blue, B: green}, answer: A,\n"
        "     explanation: it scatters blue}\n")
    template = load_template("openbookqa", path)
    prompt = PromptBuilder(template, "label_first", "completion").build(EXAMPLE)
    assert prompt.text.startswith("Pick one.\n\nQuestion: Sky colour?")
    assert "Answer: Option A (blue), since it scatters blue\n" in prompt.text
    with pytest.raises(ConfigError, match="instructions.reasoning_first"):
        PromptBuilder(template, "reasoning_first", "chat")
    assert PromptBuilder(load_template("openbookqa"), "label_first", "chat", n_shots=1).build(EXAMPLE).messages[2][0] \
        == "assistant"


def test_bad_template_errors_name_file_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("instructions: {label_first: x}\nshots:\n  - {question: q, choices: {A: a}, answer: B, "
                    "explanation: e}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.*shots.0"):
        load_template(None, path)
    path.write_text("instructions: {label_frist: x}\n")
    with pytest.raises(ConfigError, match="label_frist"):
        load_template(None, path)
