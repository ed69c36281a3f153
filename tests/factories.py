"""Factories for test data: each call builds fresh objects (never shared defaults)."""

from __future__ import annotations

import itertools
from typing import Any

from curation.model import ChatMessage, Record, RecordSource, Response, ResponseStatus

_counter = itertools.count(1)


def make_record(**overrides: Any) -> Record:
    """A small prompt → output record; every field can be overridden."""
    n = next(_counter)
    fields: dict[str, Any] = {
        "id": f"rec-{n:05d}",
        "input": f"Where is my order FW-{10000 + n}?",
        "output": f'{{"category": "shipping_delay", "order_id": "FW-{10000 + n}"}}',
        "metadata": {"channel": "email"},
        "source": RecordSource(file="tickets.csv", row=n),
    }
    fields.update(overrides)
    return Record(**fields)


def make_chat_record(**overrides: Any) -> Record:
    n = next(_counter)
    fields: dict[str, Any] = {
        "id": f"chat-{n:05d}",
        "input": [
            ChatMessage(role="system", content="You triage support tickets."),
            ChatMessage(role="user", content=f"My fern {n} arrived broken"),
        ],
        "output": '{"category": "damaged_plant"}',
    }
    fields.update(overrides)
    return Record(**fields)


def make_response(record_id: str, user: str = "ann", **overrides: Any) -> Response:
    fields: dict[str, Any] = {
        "record_id": record_id,
        "user": user,
        "values": {"label": "good", "rating": 4},
        "status": ResponseStatus.submitted,
    }
    fields.update(overrides)
    return Response(**fields)
