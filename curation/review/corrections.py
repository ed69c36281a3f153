"""A reviewer's corrected output: edited in the output's own layout, checked before it is submitted.

A JSON output is shown pretty-printed, so the correction box starts from the same pretty-printed text
(not the one-line original). When the correction is saved it is written back in the original's
style (one line stays one line), and a correction that only re-formats the JSON is no correction at
all. A correction of a JSON output must be JSON, and, when the project has an output JSON schema, it
must match the schema: a correction is training data, so a broken one must not be submitted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_PROBLEMS_SHOWN = 3


@dataclass(frozen=True)
class JsonStyle:
    """How a JSON text was written: its indent (None for one line) and separators."""

    indent: int | None
    compact: bool

    def dumps(self, value: Any) -> str:
        if self.indent is not None:
            return json.dumps(value, ensure_ascii=False, indent=self.indent)
        separators = (",", ":") if self.compact else (", ", ": ")
        return json.dumps(value, ensure_ascii=False, separators=separators)


def parse_json_document(text: str) -> Any | None:
    """The JSON object or array ``text`` holds, else None (plain text, a bare number, broken JSON)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


def json_style(text: str) -> JsonStyle:
    """The layout of a JSON text: the indent of its first indented line, or one line with or without
    spaces after ``,`` and ``:``."""
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" ")
        if stripped and len(line) > len(stripped):
            return JsonStyle(indent=len(line) - len(stripped), compact=False)
    if "\n" in text.strip():
        return JsonStyle(indent=2, compact=False)
    value = parse_json_document(text)
    compact = (
        value is not None and json.dumps(value, ensure_ascii=False, separators=(",", ":")) == text.strip()
    )
    return JsonStyle(indent=None, compact=compact)


def editable_output(output: str) -> str:
    """The text a correction starts from: a JSON output pretty-printed as the page shows it, any other
    output unchanged."""
    value = parse_json_document(output)
    if value is None:
        return output
    return json.dumps(value, ensure_ascii=False, indent=2)


def normalise_correction(text: str, original: str) -> str:
    """The correction as it will be stored: for a JSON output, re-written in the original's layout (and
    the original itself when only the layout changed); any other text unchanged."""
    before = parse_json_document(original)
    after = parse_json_document(text)
    if before is None or after is None:
        return text
    if after == before:
        return original
    return json_style(original).dumps(after)


def correction_problems(text: str, original: str, schema: Mapping[str, Any] | None = None) -> list[str]:
    """What is wrong with a correction: it must be JSON when the output is JSON or the project has an
    output schema, and it must match that schema. Empty when it may be submitted."""
    if not text.strip():
        return []
    must_be_json = schema is not None or parse_json_document(original) is not None
    if not must_be_json:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [f"the corrected output is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
    if schema is None:
        return []
    import jsonschema

    validator = jsonschema.Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    problems = [
        f"the corrected output does not match the output schema at "
        f"{'/'.join(str(p) for p in e.absolute_path) or 'the top level'}: {e.message}"
        for e in errors[:_PROBLEMS_SHOWN]
    ]
    if len(errors) > _PROBLEMS_SHOWN:
        problems.append(f"and {len(errors) - _PROBLEMS_SHOWN} more schema problems")
    return problems
