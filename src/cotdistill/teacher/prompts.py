"""Few-shot prompts that elicit a chain-of-thought from a teacher LLM.

Three modes, after the teachers of Wadhwa et al. (2024) and SCOTT (Wang et al. 2023):

- ``label_first``: the teacher states the answer, then why ("The answer is B because ...") -- the style of the
  paper's teacher rationales;
- ``rationalize``: the teacher is told the gold answer and asked why (label-conditioned rationalization, as in
  SCOTT and the authors' generation script) -- rationales that agree with the gold label by construction;
- ``reasoning_first``: the teacher reasons, then answers ("... So the answer is B.").

A template is a YAML file (see ``templates/*.yaml``): one instruction per mode and a few worked shots
``{question, choices, answer, explanation}``; each mode writes a shot's answer with its own response pattern,
so one set of shots serves all three modes. Prompts render either as chat messages (for instruction-tuned models
and chat endpoints) or as one plain completion prompt (for base models and ``/v1/completions``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cotdistill.configbase import config_error_from_validation, read_yaml
from cotdistill.data.example import Example
from cotdistill.errors import ConfigError

PromptMode = Literal["label_first", "rationalize", "reasoning_first"]
PROMPT_MODES: tuple[str, ...] = ("label_first", "rationalize", "reasoning_first")
PromptStyle = Literal["chat", "completion"]

#: How a worked answer is written in each mode; ``{label}`` is the choice letter, ``{explanation}`` the reason.
DEFAULT_RESPONSES: dict[str, str] = {
    "label_first": "The answer is {label} because {explanation}",
    "rationalize": "The answer is {label} because {explanation}",
    "reasoning_first": "{explanation_cap} So the answer is {label}.",
}

#: A completion-style teacher keeps writing new questions after its answer; generation is cut here.
COMPLETION_STOP = "\nQuestion:"


class Shot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., description="The worked question.")
    choices: dict[str, str] = Field(..., description="Choice label -> text, in display order.")
    answer: str = Field(..., description="The correct choice label.")
    explanation: str = Field(..., description="Why the answer is correct (one or two sentences, no label).")
    context: str | None = Field(None, description="Optional passage shown before the question.")

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> Shot:
        if self.answer not in self.choices:
            raise ValueError(f"answer '{self.answer}' is not one of the choices {list(self.choices)}")
        return self


class PromptTemplate(BaseModel):
    """A teacher prompt: instruction per mode, worked shots, optional response patterns per mode."""

    model_config = ConfigDict(extra="forbid")

    instructions: dict[str, str] = Field(..., description="Instruction per prompt mode.")
    shots: list[Shot] = Field(default_factory=list, description="Worked examples shown before the question.")
    responses: dict[str, str] = Field(
        default_factory=dict,
        description="Optional override of how a shot's answer is written per mode ({label}, {answer_text}, "
                    "{explanation}, {explanation_cap} are filled in).")
    source: str = Field("", description="Where the template came from (file path or packaged name).")

    @field_validator("instructions", "responses")
    @classmethod
    def _known_modes(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(PROMPT_MODES))
        if unknown:
            raise ValueError(f"unknown prompt mode(s) {unknown} (known: {list(PROMPT_MODES)})")
        return value

    def instruction(self, mode: str) -> str:
        if mode not in self.instructions:
            raise ConfigError(f"template has no instruction for prompt mode '{mode}'",
                              path=self.source or None, field=f"instructions.{mode}")
        return self.instructions[mode].strip()

    def response(self, mode: str, choices: dict[str, str], label: str, explanation: str) -> str:
        pattern = self.responses.get(mode, DEFAULT_RESPONSES[mode])
        explanation = explanation.strip()
        return pattern.format(label=label, answer_text=choices[label], explanation=explanation,
                              explanation_cap=explanation[:1].upper() + explanation[1:])


_TEMPLATES = resources.files("cotdistill.teacher").joinpath("templates")
#: Tasks that share another task's packaged template.
_TEMPLATE_OF_TASK = {"quarel_ni": "quarel"}


def packaged_templates() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in _TEMPLATES.iterdir() if p.name.endswith(".yaml"))


def load_template(task_name: str | None = None, path: str | Path | None = None) -> PromptTemplate:
    """The user's template file if given, else the packaged one of the task (``generic`` when it has none)."""
    if path is not None:
        data = read_yaml(path)
        source = str(path)
    else:
        name = _TEMPLATE_OF_TASK.get(task_name or "", task_name)
        name = name if name in packaged_templates() else "generic"
        ref = _TEMPLATES.joinpath(f"{name}.yaml")
        source = f"<packaged template '{name}'>"
        data = yaml.safe_load(ref.read_text())
    try:
        return PromptTemplate.model_validate({**data, "source": source})
    except ValidationError as err:
        raise config_error_from_validation(err, source=source) from None


def question_block(question: str, choices: dict[str, str], context: str | None = None) -> str:
    """The question as shown to the teacher (the layout of the paper's teacher prompts)."""
    parts = [f"Context: {context}\n"] if context else []
    parts.append(f"Question: {question}\nChoices:\n")
    parts.extend(f"{label}: {text}\n" for label, text in choices.items())
    return "".join(parts)


@dataclass(frozen=True)
class TeacherPrompt:
    """A rendered prompt: chat ``messages`` or a plain ``text``, plus the stop strings generation ends at."""

    style: PromptStyle
    messages: tuple[tuple[str, str], ...] = ()
    text: str = ""
    stop: tuple[str, ...] = ()

    def canonical(self) -> str:
        """One string that identifies the prompt exactly (cache keys, provenance)."""
        if self.style == "chat":
            return json.dumps([{"role": r, "content": c} for r, c in self.messages], ensure_ascii=False)
        return self.text

    def provenance(self) -> list[dict[str, Any]] | str:
        """The prompt as recorded with each rationale: the chat messages, or the completion text."""
        return self.chat_messages() if self.style == "chat" else self.text

    def chat_messages(self) -> list[dict[str, Any]]:
        return [{"role": role, "content": content} for role, content in self.messages]


class PromptBuilder:
    """Renders :class:`TeacherPrompt` for examples with one template, mode and style."""

    def __init__(self, template: PromptTemplate, mode: str = "label_first", style: str = "chat",
                 n_shots: int | None = None):
        if mode not in PROMPT_MODES:
            raise ConfigError(f"unknown prompt mode '{mode}' (known: {list(PROMPT_MODES)})", field="prompt.mode")
        if style not in ("chat", "completion"):
            raise ConfigError(f"unknown prompt style '{style}' (known: chat, completion)", field="prompt.style")
        self.template = template
        self.mode = mode
        self.style = style
        self.instruction = template.instruction(mode)
        self.shots = template.shots if n_shots is None else template.shots[:n_shots]

    def _query(self, question: str, choices: dict[str, str], context: str | None, gold: str | None) -> str:
        block = question_block(question, choices, context)
        if self.mode == "rationalize":
            block += f"Correct answer: {gold}: {choices[gold]}\n"
        return block

    def build(self, example: Example) -> TeacherPrompt:
        if self.mode == "rationalize" and example.answer is None:
            raise ConfigError(f"example '{example.id}' has no gold label, so it cannot be rationalized "
                              "(use prompt mode label_first or reasoning_first)", field="prompt.mode")
        turns: list[tuple[str, str]] = []
        for shot in self.shots:
            turns.append((self._query(shot.question, shot.choices, shot.context, shot.answer),
                          self.template.response(self.mode, shot.choices, shot.answer, shot.explanation)))
        query = self._query(example.question, example.choices, example.context, example.answer)
        if self.style == "chat":
            messages: list[tuple[str, str]] = [("system", self.instruction)]
            for user, assistant in turns:
                messages += [("user", user.rstrip("\n")), ("assistant", assistant)]
            messages.append(("user", query.rstrip("\n")))
            return TeacherPrompt(style="chat", messages=tuple(messages))
        parts = [self.instruction + "\n\n"]
        parts.extend(f"{user}Answer: {assistant}\n\n" for user, assistant in turns)
        parts.append(f"{query}Answer:")
        return TeacherPrompt(style="completion", text="".join(parts), stop=(COMPLETION_STOP,))
