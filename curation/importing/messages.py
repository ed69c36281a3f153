"""Chat messages as the common formats write them, read into :class:`ChatMessage`.

One place knows the role names (``human``/``gpt``, ``function_call``/``observation``, OpenAI's
``tool`` and ``tool_calls``), content given as a list of parts (``{"type": "text", "text"}`` or
``{"type": "text", "value"}``), and Human:/Assistant: transcripts, so every shape reads messages
the same way and says the same thing about one it cannot read.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from curation.importing.decode import is_missing
from curation.model import ChatMessage


class RowError(Exception):
    """One row cannot become a record; the message is the reason written to quarantine."""


SPEAKER_ROLES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "model": "assistant",
    "bing": "assistant",
}
"""Role names of people and models, as OpenAI chat, ShareGPT and their variants spell them."""

TOOL_KINDS = {
    "function_call": "call",
    "tool_call": "call",
    "observation": "result",
    "tool": "result",
    "function": "result",
    "tool_response": "result",
    "ipython": "result",
}
"""Role names of tool use: a call the assistant makes, or what the tool returns."""

_SUPPORTED = "system, user/human, assistant/gpt, function_call/tool_call, observation/tool/function"


def message(role: Any, content: Any, where: str, *, name: Any = None) -> ChatMessage:
    """One message from a role name and its content (text or a list of text parts)."""
    key = str(role).strip().lower() if role is not None else ""
    text = content_text(content, where, key or "?")
    if key in SPEAKER_ROLES:
        return ChatMessage(role=SPEAKER_ROLES[key], content=text)
    if key in TOOL_KINDS:
        kind = TOOL_KINDS[key]
        tool_name = name if isinstance(name, str) and name.strip() else _called_name(text, kind)
        return ChatMessage(role="tool", content=text, kind=kind, name=tool_name)
    raise RowError(f"{where} has role {role!r}; supported: {_SUPPORTED}")


def content_text(content: Any, where: str, role: str) -> str:
    """A message's content as text: a string, or text parts (``text`` or ``value``) joined by lines."""
    if isinstance(content, list):
        parts = []
        for number, part in enumerate(content, start=1):
            if isinstance(part, str):
                parts.append(part)
                continue
            kind = part.get("type", "text") if isinstance(part, dict) else type(part).__name__
            text = (
                (part.get("text", part.get("value")) if isinstance(part, dict) else None)
                if kind == "text"
                else None
            )
            if not isinstance(text, str):
                raise RowError(
                    f"{where} ({role}), content part {number} is {kind!r}; only text parts "
                    "({'type': 'text', 'text' or 'value': ...}) can be imported"
                )
            parts.append(text)
        return "\n".join(parts)
    if is_missing(content):
        raise RowError(f"{where} ({role}) has no content")
    if not isinstance(content, str):
        raise RowError(f"{where} ({role}) content is {type(content).__name__}, expected text or text parts")
    return content


def _called_name(text: str, kind: str) -> str | None:
    """The function name of a call written as JSON (``{"name": ..., "arguments": ...}``)."""
    if kind != "call":
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def openai_messages(turns: list[Any], key: str = "message") -> list[ChatMessage]:
    """OpenAI chat messages, tool use included: an assistant turn's ``tool_calls`` become tool
    call messages after its text (if any), and ``tool``/``function`` turns tool results."""
    out: list[ChatMessage] = []
    for number, turn in enumerate(turns, start=1):
        where = f"{key} {number}"
        if not isinstance(turn, dict):
            raise RowError(f"{where} is {type(turn).__name__}, not an object")
        calls = turn.get("tool_calls") or ([turn["function_call"]] if turn.get("function_call") else [])
        if calls:
            content = turn.get("content")
            if not is_missing(content) and content not in ("", []):
                out.append(message(turn.get("role"), content, where))
            out.extend(_tool_call(call, f"{where}, tool call {i}") for i, call in enumerate(calls, start=1))
            continue
        out.append(message(turn.get("role"), turn.get("content"), where, name=turn.get("name")))
    return out


def _tool_call(call: Any, where: str) -> ChatMessage:
    function = call.get("function", call) if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise RowError(f"{where} has no function name")
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # arguments that are not JSON stay the text they are
            arguments = json.loads(arguments)
    text = json.dumps({"name": function["name"], "arguments": arguments}, ensure_ascii=False)
    return ChatMessage(role="tool", content=text, kind="call", name=function["name"])


def sharegpt_messages(turns: list[Any], system: Any = None, key: str = "turn") -> list[ChatMessage]:
    """ShareGPT turns (``{"from", "value"}``), after the optional top-level system prompt."""
    out = []
    if isinstance(system, str) and system.strip():
        out.append(ChatMessage(role="system", content=system))
    for number, turn in enumerate(turns, start=1):
        if not isinstance(turn, dict):
            raise RowError(f"{key} {number} is {type(turn).__name__}, not an object")
        out.append(message(turn.get("from"), turn.get("value"), f"{key} {number}", name=turn.get("name")))
    return out


def any_messages(value: Any, key: str) -> list[ChatMessage]:
    """A list of messages in either spelling (``role``/``content`` or ``from``/``value``)."""
    if not isinstance(value, list):
        raise RowError(f"'{key}' is {type(value).__name__}, expected a list of messages")
    if value and all(isinstance(m, dict) and "from" in m for m in value):
        return sharegpt_messages(value, key=f"'{key}' turn")
    return openai_messages(value, key=f"'{key}' message")


_SPEAKER = re.compile(r"(?:^|\n\n)(Human|Assistant):[ \t]?")


def transcript_messages(text: Any, key: str) -> list[ChatMessage]:
    """A ``Human: ... Assistant: ...`` transcript (the HH-RLHF format) as user/assistant messages."""
    if not isinstance(text, str):
        raise RowError(f"'{key}' is {type(text).__name__}, expected a Human:/Assistant: transcript")
    body = text.lstrip("\n")
    pieces = _SPEAKER.split(body)
    if len(pieces) < 3 or pieces[0].strip():
        raise RowError(
            f"'{key}' is not a transcript: it should start with 'Human:' and alternate with 'Assistant:'"
        )
    roles = {"Human": "user", "Assistant": "assistant"}
    return [
        ChatMessage(role=roles[speaker], content=content.strip())
        for speaker, content in zip(pieces[1::2], pieces[2::2], strict=True)
    ]


def split_chat(messages: list[ChatMessage]) -> tuple[list[ChatMessage], str]:
    """(chat input, output): the output is the last message, which must be the assistant's reply."""
    if not messages:
        raise RowError("the conversation has no messages")
    last = messages[-1]
    if last.role != "assistant":
        if not any(m.role == "assistant" for m in messages):
            raise RowError("the conversation has no assistant message (nothing to use as the output)")
        what = f"a tool {last.kind}" if last.role == "tool" else f"a '{last.role}' message"
        raise RowError(
            f"the conversation ends with {what} (message {len(messages)}); the assistant's reply must come last"
        )
    chat_input = messages[:-1]
    require_user_message(chat_input)
    return chat_input, last.content


def require_user_message(chat_input: list[ChatMessage]) -> None:
    if not any(m.role == "user" and m.content.strip() for m in chat_input):
        raise RowError("input is empty (no user message before the assistant's reply)")


def as_chat(value: list[Any]) -> list[ChatMessage] | None:
    """A list of {"role", "content"} objects as chat messages (None when it is not one)."""
    if value and all(isinstance(m, dict) and "role" in m and "content" in m for m in value):
        return openai_messages(value)
    return None
