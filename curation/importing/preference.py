"""Preference data: a conversation with a chosen and a rejected reply.

The chosen reply becomes the record's output and the rejected one is kept with the record (metadata
``rejected_output``, see :mod:`curation.metadata_keys`) for the ``preference`` export (TRL's DPO
prompt/chosen/rejected JSONL). Four spellings are read:

- ``sharegpt-preference``: ``{"conversations": [...], "chosen": {"from", "value"}, "rejected": {...}}``
  (LLaMA-Factory's ranking format);
- ``preference``: ``{"prompt", "chosen", "rejected"}``, each text or a list of messages (TRL);
- ``preference-messages``: ``{"chosen_messages": [...], "rejected_messages": [...]}``, two whole
  conversations that share everything but the last reply;
- ``hh-rlhf``: ``{"chosen": "\\n\\nHuman: ... \\n\\nAssistant: ...", "rejected": "..."}`` transcripts
  (Anthropic's HH-RLHF), which likewise share everything but the last reply.
"""

from __future__ import annotations

from typing import Any, ClassVar

from curation.importing.messages import (
    RowError,
    any_messages,
    content_text,
    message,
    require_user_message,
    sharegpt_messages,
    split_chat,
    transcript_messages,
)
from curation.importing.shapes import Parts, Shape, register_chat_format
from curation.model import ChatMessage


class PreferenceShape(Shape):
    """A shape whose rows hold a chosen and a rejected reply; ``keys`` are the keys it reads."""

    keys: ClassVar[tuple[str, ...]]

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        return set(cls.keys) <= set(values)

    def convert(self, values: dict[str, Any]) -> Parts:
        missing = [k for k in self.keys if k not in values]
        if missing:
            raise RowError(
                f"a {self.name} record needs {', '.join(repr(k) for k in self.keys)}; missing: {missing}"
            )
        chat_input, chosen, rejected = self.pair(values)
        used = {*self.keys, "system", *([self.id_col] if self.id_col else [])}
        return Parts(
            input=chat_input,
            output=chosen,
            metadata=self._metadata(values, used),
            id=self._row_id(values),
            rejected=rejected,
        )

    def pair(self, values: dict[str, Any]) -> tuple[list[ChatMessage], str, str]:
        """(chat input, chosen reply, rejected reply)."""
        raise NotImplementedError


def _reply(value: Any, key: str) -> str:
    """A reply given as text, one message (``{"from", "value"}`` / ``{"role", "content"}``) or a
    list of messages ending with the assistant's."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        role = value.get("from", value.get("role", "assistant"))
        reply = message(role, value.get("value", value.get("content")), f"'{key}'")
        if reply.role != "assistant":
            raise RowError(f"'{key}' is a {reply.role} message; it should be the assistant's reply")
        return reply.content
    if isinstance(value, list):
        messages = any_messages(value, key)
        if not messages or messages[-1].role != "assistant":
            raise RowError(f"'{key}' should end with the assistant's reply")
        return messages[-1].content
    raise RowError(f"'{key}' is {type(value).__name__}, expected the reply as text or a message")


def _shared_history(chosen: list[ChatMessage], rejected: list[ChatMessage]) -> list[ChatMessage]:
    """The conversation before the last reply, which both sides must share."""
    chat_input, _ = split_chat(chosen)
    rejected_input, _ = split_chat(rejected)
    if rejected_input != chat_input:
        at = next(
            (i for i, (a, b) in enumerate(zip(chat_input, rejected_input, strict=False), start=1) if a != b),
            min(len(chat_input), len(rejected_input)) + 1,
        )
        raise RowError(
            f"the chosen and rejected conversations differ before the last reply (at message {at}); "
            "a preference pair needs the same conversation with two replies"
        )
    return chat_input


class ShareGPTPreferenceShape(PreferenceShape):
    name = "sharegpt-preference"
    keys = ("conversations", "chosen", "rejected")

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        return super().detect(values) and isinstance(values.get("conversations"), list)

    def pair(self, values: dict[str, Any]) -> tuple[list[ChatMessage], str, str]:
        turns = values["conversations"]
        if not isinstance(turns, list):
            raise RowError(f"'conversations' is {type(turns).__name__}, expected a list of turns")
        chat_input = sharegpt_messages(turns, values.get("system"))
        require_user_message(chat_input)
        return chat_input, _reply(values["chosen"], "chosen"), _reply(values["rejected"], "rejected")


class PromptPreferenceShape(PreferenceShape):
    name = "preference"
    keys = ("prompt", "chosen", "rejected")

    def pair(self, values: dict[str, Any]) -> tuple[list[ChatMessage], str, str]:
        prompt = values["prompt"]
        if isinstance(prompt, list):
            chat_input = any_messages(prompt, "prompt")
        else:
            text = content_text(prompt, "'prompt'", "user")
            system = values.get("system")
            chat_input = (
                [ChatMessage(role="system", content=system)] if isinstance(system, str) and system else []
            )
            chat_input.append(ChatMessage(role="user", content=text))
        require_user_message(chat_input)
        return chat_input, _reply(values["chosen"], "chosen"), _reply(values["rejected"], "rejected")


class MessagesPreferenceShape(PreferenceShape):
    name = "preference-messages"
    keys = ("chosen_messages", "rejected_messages")

    def pair(self, values: dict[str, Any]) -> tuple[list[ChatMessage], str, str]:
        chosen = any_messages(values["chosen_messages"], "chosen_messages")
        rejected = any_messages(values["rejected_messages"], "rejected_messages")
        chat_input = _shared_history(chosen, rejected)
        return chat_input, chosen[-1].content, rejected[-1].content


class TranscriptPreferenceShape(PreferenceShape):
    name = "hh-rlhf"
    keys = ("chosen", "rejected")

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        chosen = values.get("chosen")
        return (
            super().detect(values)
            and isinstance(chosen, str)
            and chosen.lstrip().startswith("Human:")
            and "prompt" not in values
        )

    def pair(self, values: dict[str, Any]) -> tuple[list[ChatMessage], str, str]:
        chosen = transcript_messages(values["chosen"], "chosen")
        rejected = transcript_messages(values["rejected"], "rejected")
        chat_input = _shared_history(chosen, rejected)
        return chat_input, chosen[-1].content, rejected[-1].content


for _cls in (
    ShareGPTPreferenceShape,
    PromptPreferenceShape,
    MessagesPreferenceShape,
    TranscriptPreferenceShape,
):
    register_chat_format(_cls)
