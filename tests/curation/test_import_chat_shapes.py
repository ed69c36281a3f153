"""Chat shapes people fine-tune on: tool calls, content parts, preference pairs (hand-written fixtures).

The same shapes are imported from the real public files in test_import_public_sets.py (slow).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation import metadata_keys
from curation.errors import BadInputError
from curation.model import ChatMessage, content_hash_of
from tests.curation.import_helpers import Importer, jsonl, read_quarantine, write_file


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    imp = Importer(tmp_path / "proj")
    yield imp
    imp.close()


def test_sharegpt_tool_turns_become_tool_messages_of_the_input(importer: Importer, tmp_path: Path) -> None:
    row = {
        "conversations": [
            {"from": "human", "value": "Find me a recipe with rice."},
            {"from": "function_call", "value": '{"name": "search_recipes", "arguments": {"q": "rice"}}'},
            {"from": "observation", "value": '{"recipes": ["fried rice"]}'},
            {"from": "gpt", "value": "Try fried rice."},
        ],
        "tools": '[{"name": "search_recipes"}]',
    }
    report = importer(write_file(tmp_path, "tools.json", json.dumps([row])))
    assert (report.format, report.imported, report.rejected) == ("sharegpt", 1, 0)
    record = importer.records()[0]
    assert [(m.role, m.kind, m.name) for m in record.input] == [
        ("user", None, None),
        ("tool", "call", "search_recipes"),
        ("tool", "result", None),
    ]
    assert record.output == "Try fried rice."
    assert record.metadata["tools"] == '[{"name": "search_recipes"}]'


def test_openai_tool_calls_and_tool_role(importer: Importer, tmp_path: Path) -> None:
    row = {
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "-3 C, snow"},
            {"role": "assistant", "content": "It is -3 C and snowing in Oslo."},
        ]
    }
    importer(write_file(tmp_path, "tools.jsonl", jsonl(row)))
    record = importer.records()[0]
    call = record.input[1]
    assert (call.role, call.kind, call.name) == ("tool", "call", "weather")
    assert json.loads(call.content) == {"name": "weather", "arguments": {"city": "Oslo"}}
    assert (record.input[2].role, record.input[2].kind) == ("tool", "result")
    assert record.output == "It is -3 C and snowing in Oslo."


def test_a_conversation_ending_with_a_tool_call_is_quarantined_with_the_reason(
    importer: Importer, tmp_path: Path
) -> None:
    row = {
        "conversations": [
            {"from": "human", "value": "Hi"},
            {"from": "gpt", "value": "Hello"},
            {"from": "human", "value": "Weather?"},
            {"from": "function_call", "value": '{"name": "weather"}'},
        ]
    }
    good = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    report = importer(write_file(tmp_path, "c.jsonl", jsonl(good, row)))
    assert (report.imported, report.rejected) == (1, 1)
    reason = read_quarantine(report)[0]["reason"]
    assert "ends with a tool call (message 4)" in reason


@pytest.mark.parametrize("key", ["text", "value"])
def test_content_parts_with_text_or_value(importer: Importer, tmp_path: Path, key: str) -> None:
    row = {
        "messages": [
            {"role": "user", "content": [{"type": "text", key: "hi"}, {"type": "text", key: "there"}]},
            {"role": "assistant", "content": [{"type": "text", key: "Hello!"}], "loss_weight": 1.0},
        ]
    }
    report = importer(write_file(tmp_path, "parts.jsonl", jsonl(row)))
    assert (report.format, report.imported) == ("openai", 1)
    record = importer.records()[0]
    assert record.input[0].content == "hi\nthere" and record.output == "Hello!"


def test_a_non_text_part_is_named_in_the_reason(importer: Importer, tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    image = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "what is this?"}, {"type": "image_url"}]},
            {"role": "assistant", "content": "a cat"},
        ]
    }
    report = importer(write_file(tmp_path, "img.jsonl", jsonl(good, image)))
    reason = read_quarantine(report)[0]["reason"]
    assert reason.startswith("message 1 (user), content part 2 is 'image_url'; only text parts")


def test_sharegpt_preference_keeps_the_rejected_reply(importer: Importer, tmp_path: Path) -> None:
    row = {
        "conversations": [{"from": "human", "value": "Name a colour."}],
        "chosen": {"from": "gpt", "value": "Blue."},
        "rejected": {"from": "gpt", "value": "No."},
    }
    report = importer(write_file(tmp_path, "dpo.json", json.dumps([row])))
    assert (report.format, report.imported) == ("sharegpt-preference", 1)
    record = importer.records()[0]
    assert record.output == "Blue."
    assert record.metadata[metadata_keys.REJECTED_OUTPUT] == "No."
    assert [m.role for m in record.input] == ["user"]


def test_trl_prompt_chosen_rejected(importer: Importer, tmp_path: Path) -> None:
    rows = [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
        {
            "prompt": [{"role": "user", "content": "Capital of France?"}],
            "chosen": [{"role": "assistant", "content": "Paris."}],
            "rejected": [{"role": "assistant", "content": "Lyon."}],
        },
    ]
    report = importer(write_file(tmp_path, "pref.jsonl", jsonl(*rows)))
    assert (report.format, report.imported) == ("preference", 2)
    by_output = {r.output: r for r in importer.records()}
    assert by_output["4"].metadata[metadata_keys.REJECTED_OUTPUT] == "5"
    assert by_output["Paris."].metadata[metadata_keys.REJECTED_OUTPUT] == "Lyon."


def test_hh_rlhf_transcripts(importer: Importer, tmp_path: Path) -> None:
    same = {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant: Why did the fern...",
        "rejected": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Tell me a joke\n\nAssistant: No.",
    }
    differs = {
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Joke?\n\nAssistant: Sure.",
        "rejected": "\n\nHuman: Hi\n\nAssistant: Go away.\n\nHuman: Joke?\n\nAssistant: No.",
    }
    report = importer(write_file(tmp_path, "hh.jsonl", jsonl(same, differs)))
    assert (report.format, report.imported, report.rejected) == ("hh-rlhf", 1, 1)
    record = importer.records()[0]
    assert [m.role for m in record.input] == ["user", "assistant", "user"]
    assert record.output == "Why did the fern..."
    assert record.metadata[metadata_keys.REJECTED_OUTPUT] == "No."
    assert "differ before the last reply (at message 2)" in read_quarantine(report)[0]["reason"]


def test_chosen_and_rejected_messages(importer: Importer, tmp_path: Path) -> None:
    history = [{"role": "user", "content": [{"type": "text", "value": "Translate 'chat'"}]}]
    row = {
        "chosen_messages": [*history, {"role": "assistant", "content": [{"type": "text", "value": "cat"}]}],
        "rejected_messages": [*history, {"role": "assistant", "content": [{"type": "text", "value": "dog"}]}],
    }
    report = importer(write_file(tmp_path, "v1.jsonl", jsonl(row)))
    assert (report.format, report.imported) == ("preference-messages", 1)
    record = importer.records()[0]
    assert (record.output, record.metadata[metadata_keys.REJECTED_OUTPUT]) == ("cat", "dog")


def test_plain_messages_hash_as_before() -> None:
    """Adding tool fields to ChatMessage must not change the ids of chat records already imported."""
    old_payload = json.dumps(
        {"i": [{"role": "user", "content": "hi"}], "s": None, "o": "hello"},
        ensure_ascii=False,
        sort_keys=True,
    )
    import hashlib

    assert (
        content_hash_of([ChatMessage(role="user", content="hi")], "hello")
        == hashlib.sha256(old_payload.encode()).hexdigest()
    )


def test_tool_kind_belongs_to_tool_messages_only() -> None:
    with pytest.raises(ValueError, match="needs a kind"):
        ChatMessage(role="tool", content="x")
    with pytest.raises(ValueError, match="only tool messages"):
        ChatMessage(role="user", content="x", kind="call")


def test_gzip_file_error_says_to_decompress(importer: Importer, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"prompt": "a", "response": "b"}\n'))
    with pytest.raises(BadInputError, match=r"gzip-compressed; decompress it first .*'data\.jsonl'"):
        importer(path)
