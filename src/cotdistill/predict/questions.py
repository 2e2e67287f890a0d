"""Questions to answer, read one JSON line at a time through the generic jsonl task's field mapping.

A question line is what a line of the generic ``jsonl`` task is (``question``, ``choices`` in any of the forms
that task accepts, optional ``context`` and ``answer``), except that ``id`` is optional: a line without one is
named by its line number. Rows are validated by the task's own parser, so an error names ``file:line: field``
exactly as ``cotdistill eval --task jsonl`` would; nothing is held but the ids seen (to refuse duplicates).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from cotdistill.data.example import Example
from cotdistill.data.jsonl import parse_json_line
from cotdistill.data.rows import Rows, get_field
from cotdistill.data.sources.generic import add_generic_row, generic_fields
from cotdistill.data.task_config import TaskConfig
from cotdistill.errors import DataError

#: Key the line number is put under when a question line has no id of its own.
_LINE_ID_KEY = "(line number)"


def question_fields(fields: Mapping[str, str | list[str]] | None = None) -> dict[str, str | list[str]]:
    """The generic jsonl task's field mapping (``{role: field in the file}``), defaults filled in; an unknown role
    is a one-line error naming ``fields``."""
    task = TaskConfig.from_dict({"name": "jsonl", "fields": dict(fields) if fields else None}, source="--field")
    return generic_fields(task)


def read_json_lines(stream: IO[str], source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of every non-blank line of an open text stream (a file or stdin)."""
    for lineno, line in enumerate(stream, 1):
        rec = parse_json_line(line, source, lineno)
        if rec is not None:
            yield lineno, rec


class QuestionParser:
    """Validates question records one at a time into :class:`Example`; the gold ``answer`` is optional."""

    def __init__(self, source: str, fields: Mapping[str, str | list[str]] | None = None):
        self.mapping = question_fields(fields)
        self.rows = Rows(source, labels_required=False)

    def parse(self, line: int, rec: dict[str, Any]) -> Example:
        mapping = self.mapping
        if get_field(rec, str(mapping["id"]), self.rows, line, required=False) is None:
            rec, mapping = {**rec, _LINE_ID_KEY: str(line)}, {**mapping, "id": _LINE_ID_KEY}
        add_generic_row(self.rows, line, rec, mapping, json_choices=False)
        return self.rows.examples.pop()


def parse_questions(records: Iterable[tuple[int, dict[str, Any]]], source: str,
                    fields: Mapping[str, str | list[str]] | None = None) -> Iterator[Example]:
    """Validated :class:`Example` per ``(line, record)``, lazily."""
    parser = QuestionParser(source, fields)
    for line, rec in records:
        yield parser.parse(line, rec)


def as_examples(questions: Iterable[Example | Mapping[str, Any]],
                fields: Mapping[str, str | list[str]] | None = None) -> Iterator[Example]:
    """Examples from the Python API's input, lazily: :class:`Example` objects pass through, mappings are parsed
    like question lines (numbered from 1 in errors and default ids)."""
    parser = QuestionParser("questions", fields)
    for position, question in enumerate(questions, 1):
        if isinstance(question, Example):
            yield question
        elif isinstance(question, Mapping):
            yield parser.parse(position, dict(question))
        else:
            raise DataError(f"question {position} is a {type(question).__name__}; expected a mapping (question, "
                            "choices, optional id and context) or an Example", path="questions")
