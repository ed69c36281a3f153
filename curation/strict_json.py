"""JSON parsed exactly as RFC 8259 defines it, for the figures that say whether an output is JSON.

Python's :func:`json.loads` also accepts ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON:
another parser (JavaScript's ``JSON.parse``, Go, jq...) refuses them, so an output holding them is
not valid JSON for whoever consumes it. They also slip through a schema check, since ``NaN`` is a
Python float and passes ``{"type": "number"}``.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def loads_strict(text: str) -> Any:
    """The JSON value of ``text``; ValueError for anything RFC 8259 refuses, ``NaN`` and ``Infinity`` included."""
    return json.loads(text, parse_constant=_refuse_constant)
