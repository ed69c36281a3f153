"""argilla-server 2.8.0's request limits, in one place.

Each number is the server's own constant (named in the comment) from its request schemas and
handlers, or the Elasticsearch index setting Argilla creates. A request past one of them is refused
(HTTP 422) or fails; every request the Argilla backend sends stays within them, and
``tests/argilla/test_limits.py`` checks the numbers against the installed server.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

SEARCH_PAGE_MAX = 1000
"""Records per search page (``LIST_DATASET_RECORDS_LIMIT_LE``, the ``limit`` query parameter)."""
TERMS_VALUES_MAX = 250
"""Values in one terms filter (``TERMS_FILTER_VALUES_MAX_ITEMS``): longer id lists go in chunks."""
FILTERS_MAX = 50
"""Filters in one search's ``and`` (``FILTERS_AND_MAX_ITEMS``)."""
SORT_MAX = 10
"""Sort keys in one search (``SEARCH_RECORDS_QUERY_SORT_MAX_ITEMS``)."""
BULK_RECORDS_MAX = 500
"""Records in one bulk create or upsert (``RECORDS_BULK_CREATE_MAX_ITEMS``, ``RECORDS_BULK_UPSERT_MAX_ITEMS``)."""
DELETE_RECORDS_MAX = 100
"""Record ids in one ``DELETE /datasets/{id}/records`` (``DELETE_DATASET_RECORDS_LIMIT``)."""
SIMILARITY_MAX = 1000
"""Hits of one similarity search (``SEARCH_MAX_SIMILARITY_SEARCH_RESULT``)."""
RESULT_WINDOW_MAX = 500_000
"""``offset + limit`` of a search (the index's ``max_result_window`` that Argilla sets)."""
KEYWORD_BYTES_MAX = 32_766
"""Longest terms metadata value Elasticsearch indexes (Lucene's term limit); longer ones are left out."""
CHAT_MESSAGES_MAX = 500
"""Messages in a chat field (``CHAT_FIELDS_MAX_MESSAGES``)."""
CHAT_MESSAGE_CHARS_MAX = 20_000
"""Characters of one chat message (``MAX_MESSAGE_LENGTH``); at least one (``MIN_MESSAGE_LENGTH``)."""
CHAT_ROLE_CHARS_MAX = 20
"""Characters of a chat message's role (``MAX_ROLE_LENGTH``)."""


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive slices of at most ``size`` (the one way requests are split)."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
