"""cotdistill.json: written atomically, read back (or a one-line error naming the file), and the prompt format a
student was trained with read one way, defaults included."""

from __future__ import annotations

import pytest

from cotdistill.errors import DataError
from cotdistill.models.metadata import (
    METADATA_FILE,
    read_metadata,
    recorded_prompt_format,
    write_metadata,
)


def test_metadata_round_trips_and_a_directory_without_it_has_none(tmp_path):
    assert read_metadata(tmp_path) is None
    record = {"finished": True, "student": {"model": "tiny"}, "output": tmp_path}
    write_metadata(tmp_path, record)
    assert read_metadata(tmp_path) == {**record, "output": str(tmp_path)}  # paths as their text
    assert [p.name for p in tmp_path.iterdir()] == [METADATA_FILE]  # no temporary file left behind


@pytest.mark.parametrize(("text", "message"), [('{"finished": true,\n  "seed": }', f"{METADATA_FILE}:2: not valid JSON"),
                                               ("[1, 2]", "holds a JSON list, not an object")])
def test_a_broken_metadata_file_is_a_data_error_naming_it(tmp_path, text, message):
    (tmp_path / METADATA_FILE).write_text(text)
    with pytest.raises(DataError, match=message):
        read_metadata(tmp_path)


@pytest.mark.parametrize(("recorded", "expected"), [
    ({"label_style": "letter", "show_choices": False}, {"label_style": "letter", "show_choices": False}),
    ({"label_style": "letter"}, {"label_style": "letter", "show_choices": True}),
    ({}, {"label_style": "text", "show_choices": True}),
    (None, {"label_style": "text", "show_choices": True}),
    ("letter", {"label_style": "text", "show_choices": True}),
], ids=["whole", "partial", "empty", "null", "not a mapping"])
def test_recorded_prompt_format_fills_what_the_metadata_lacks_with_the_defaults(recorded, expected):
    assert recorded_prompt_format({"prompt_format": recorded}) == expected
    if recorded is None:
        assert recorded_prompt_format({}) == expected


def test_the_defaults_are_those_of_the_prompt_format():
    from dataclasses import asdict

    from cotdistill.prompting import PromptFormat

    assert recorded_prompt_format({}) == asdict(PromptFormat())
