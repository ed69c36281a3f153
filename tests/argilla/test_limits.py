"""The request limits pairsmith keeps to are the installed argilla-server's own numbers."""

from __future__ import annotations

import re

import pytest

from curation.store.argilla import limits
from tests.argilla_server.install import VENV

pytestmark = [pytest.mark.argilla]

SERVER = VENV / "lib" / "python3.11" / "site-packages" / "argilla_server"
CONSTANTS = {
    "SEARCH_PAGE_MAX": ("api/handlers/v1/datasets/records.py", "LIST_DATASET_RECORDS_LIMIT_LE"),
    "TERMS_VALUES_MAX": ("api/schemas/v1/records.py", "TERMS_FILTER_VALUES_MAX_ITEMS"),
    "FILTERS_MAX": ("api/schemas/v1/records.py", "FILTERS_AND_MAX_ITEMS"),
    "SORT_MAX": ("api/schemas/v1/records.py", "SEARCH_RECORDS_QUERY_SORT_MAX_ITEMS"),
    "BULK_RECORDS_MAX": ("api/schemas/v1/records_bulk.py", "RECORDS_BULK_UPSERT_MAX_ITEMS"),
    "DELETE_RECORDS_MAX": ("api/handlers/v1/datasets/records.py", "DELETE_DATASET_RECORDS_LIMIT"),
    "SIMILARITY_MAX": ("api/schemas/v1/records.py", "SEARCH_MAX_SIMILARITY_SEARCH_RESULT"),
    "RESULT_WINDOW_MAX": ("search_engine/commons.py", "max_result_window: int"),
    "CHAT_MESSAGES_MAX": ("api/schemas/v1/records.py", "CHAT_FIELDS_MAX_MESSAGES"),
}


def server_value(relative: str, name: str) -> int:
    source = (SERVER / relative).read_text(encoding="utf-8")
    match = re.search(rf"^\s*{re.escape(name)}\s*=\s*([0-9_]+)", source, re.MULTILINE)
    assert match, f"{name} not found in {relative}"
    return int(match.group(1).replace("_", ""))


@pytest.mark.skipif(
    not SERVER.exists(), reason="argilla-server is not installed (python -m tests.argilla_server.install)"
)
@pytest.mark.parametrize("ours", sorted(CONSTANTS))
def test_limit_is_the_servers(ours: str) -> None:
    relative, name = CONSTANTS[ours]
    assert getattr(limits, ours) == server_value(relative, name)


@pytest.mark.skipif(
    not SERVER.exists(), reason="argilla-server is not installed (python -m tests.argilla_server.install)"
)
def test_bulk_create_and_chat_message_limits_are_the_servers() -> None:
    assert (
        server_value("api/schemas/v1/records_bulk.py", "RECORDS_BULK_CREATE_MAX_ITEMS")
        == limits.BULK_RECORDS_MAX
    )
    chat = (SERVER / "api/schemas/v1/chat.py").read_text(encoding="utf-8")
    assert f'"ARGILLA_MAX_MESSAGE_LENGTH", {limits.CHAT_MESSAGE_CHARS_MAX})' in chat
    assert f'"ARGILLA_MAX_ROLE_LENGTH", {limits.CHAT_ROLE_CHARS_MAX})' in chat


def test_requests_are_split_within_the_limits() -> None:
    assert [len(c) for c in limits.chunks(list(range(601)), limits.TERMS_VALUES_MAX)] == [250, 250, 101]
    assert limits.chunks([], 5) == []
