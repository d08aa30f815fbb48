"""Display names: the schema states the one rule the server enforces (no hidden refusals)."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from facepass.http.text import DISPLAY_TEXT_PATTERN, DisplayName


class Named(BaseModel):
    name: DisplayName | None


@pytest.mark.parametrize(
    "bad", ["Anna\n", "A\x00nna", "\x7fAnna", "An\x85na", "Anna\u2028", "\u202eannA", "a" * 121]
)
def test_control_separators_overrides_and_long_names_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Named(name=bad)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  Анна  ", "Анна"),
        ("José 🎉", "José 🎉"),
        ("   ", None),
        ("\u200bzw", "\u200bzw"),
        (None, None),
    ],
)
def test_printable_names_are_kept_trimmed_and_blank_clears(
    given: str | None, kept: str | None
) -> None:
    assert Named(name=given).name == kept


def test_the_schema_carries_the_rule_and_python_reads_it_as_pydantic_does() -> None:
    schema = Named.model_json_schema()
    text = next(s for s in schema["properties"]["name"]["anyOf"] if s.get("type") == "string")
    assert text["pattern"] == DISPLAY_TEXT_PATTERN
    assert text["maxLength"] == 120
    # A schema-following client generating from the pattern gets only names the server keeps.
    for sample in ["ok", "Ünïcødé", "tab\there", "bidi\u2066x"]:
        allowed = re.fullmatch(DISPLAY_TEXT_PATTERN, sample) is not None
        try:
            Named(name=sample)
            accepted = True
        except ValidationError:
            accepted = False
        assert allowed == accepted, sample
