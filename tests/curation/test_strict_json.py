"""JSON validity per RFC 8259: NaN and Infinity are refused, by the parser and the quality signal alike."""

from __future__ import annotations

import pydantic_core
import pytest

from curation import metadata_keys
from curation.analysis.quality.signals import compute_quality_signals
from curation.model import Project
from curation.strict_json import loads_strict
from tests.factories import make_record

TEXTS = [
    "NaN",
    "Infinity",
    "-Infinity",
    '{"a": NaN}',
    '{"amount": Infinity, "currency": "EUR"}',
    "[1, 2, -Infinity]",
    '{"a": 1}',
    '"NaN"',
    '{"note": "Infinity and beyond"}',
    "1e400",
    "-0",
    "[1, 2,]",
    "{'a': 1}",
    '{"a": 1} trailing',
    " [true, false, null] ",
]


def _valid(text: str) -> bool:
    try:
        loads_strict(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", TEXTS)
def test_validity_matches_a_strict_reference_parser(text: str) -> None:
    """pydantic-core's parser (jiter) with inf/nan off is the reference for what is JSON."""
    try:
        pydantic_core.from_json(text, allow_inf_nan=False)
        expected = True
    except ValueError:
        expected = False
    assert _valid(text) is expected


def test_nan_and_infinity_are_not_json_but_strings_naming_them_are() -> None:
    for text in ("NaN", "Infinity", "-Infinity", '{"a": NaN}', "[Infinity]"):
        with pytest.raises(ValueError, match="not JSON"):
            loads_strict(text)
    assert loads_strict('{"a": "NaN"}') == {"a": "NaN"}


def test_the_quality_signal_flags_nan_as_invalid_json_even_with_a_number_schema() -> None:
    project = Project(
        name="p",
        output_schema={"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]},
    )
    records = [
        make_record(output='{"a": NaN}'),
        make_record(output='{"a": Infinity}'),
        make_record(output='{"a": 1.5}'),
    ]
    found = compute_quality_signals(records, project, tokenizer=None)
    flags = [found[r.id][metadata_keys.FLAGS] for r in records]
    assert flags == [["invalid_json"], ["invalid_json"], []]
    no_schema = compute_quality_signals(records[:1], None, tokenizer=None)
    assert no_schema[records[0].id][metadata_keys.FLAGS] == ["invalid_json"]
