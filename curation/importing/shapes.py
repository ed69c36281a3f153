"""What a row's values mean: a prompt/response table, or one of the chat formats.

A shape turns one row (column → value) into the parts of a record: input (a prompt, or chat
messages), output, metadata and an optional id. The table shape maps columns by option or by
common names; the chat formats (OpenAI chat, Alpaca, ShareGPT) are recognised from the content of
the first row, whatever container they came in.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from curation.errors import BadInputError
from curation.importing.decode import is_missing
from curation.importing.messages import RowError, as_chat, openai_messages, sharegpt_messages, split_chat
from curation.metadata_keys import ANALYSIS_KEYS
from curation.model import ChatMessage

INPUT_NAMES = ("prompt", "instruction", "question", "input", "query", "message")
OUTPUT_NAMES = ("response", "output", "answer", "completion", "reply")
ID_NAMES = ("id",)


class ColumnMapping(BaseModel):
    """Which columns hold what; anything left None is detected from common names."""

    input_col: str | None = None
    output_col: str | None = None
    id_col: str | None = None
    metadata_cols: list[str] | None = Field(
        default=None, description="Columns kept as metadata; None keeps every other column."
    )

    @property
    def explicit(self) -> bool:
        """Whether the user named the input or output column (which rules out the chat formats)."""
        return self.input_col is not None or self.output_col is not None


@dataclass
class Parts:
    """The parts of a record taken from one row."""

    input: str | list[ChatMessage]
    output: str
    metadata: dict[str, Any]
    id: str | None = None
    system: str | None = None
    rejected: str | None = None
    """The rejected reply of a preference pair (kept in metadata ``rejected_output``)."""


@dataclass
class MetadataCleaner:
    """Make metadata storable: drop missing values, stringify odd types, keep clear of analysis keys."""

    infer_types: bool = False
    """For untyped text formats (CSV, TSV): an empty cell is missing and canonical numbers become
    numbers, so range filters work on them ("007" stays text, so codes keep their zeros)."""
    renamed: dict[str, str] = field(default_factory=dict)

    def clean(self, items: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items.items():
            if self.infer_types and isinstance(value, str):
                if not value.strip():
                    continue
                value = _number_or_text(value)
            if is_missing(value):
                continue  # NaN / None carries no information; a missing key reads the same in filters
            name = str(key)
            if name in ANALYSIS_KEYS:
                # Analysis owns these keys and rewrites them; keep the source value under another name.
                self.renamed[name] = f"source_{name}"
                name = f"source_{name}"
            out[name] = _storable(value)
        return out


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _number_or_text(value: str) -> Any:
    """``value`` as an int or float when that is exactly how the number is written, else the text."""
    if len(value) > 30 or not _NUMBER.fullmatch(value):
        return value  # most cells are words: one regex instead of two failing conversions
    if "." not in value:
        as_int = int(value)
        # Past 2**53 a JSON reader may round it: keep such codes as text.
        return as_int if value != "-0" and abs(as_int) <= 2**53 else value
    as_float = float(value)
    return as_float if repr(as_float) == value else value


def _storable(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return None if is_missing(value) else value
    if isinstance(value, dict):
        return {str(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _text(value: Any, what: str, column: str) -> str:
    if is_missing(value):
        raise RowError(f"{what} is missing (null or NaN in '{column}')")
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | decimal.Decimal):
        return str(value)
    raise RowError(f"{what} in '{column}' is {type(value).__name__}, expected text")


def _id(value: Any, column: str) -> str:
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        raise RowError(f"id is empty (column '{column}')")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # pandas turns an int id column with gaps into floats
    if not isinstance(value, str | int):
        raise RowError(f"id in '{column}' is {type(value).__name__}, expected text or a number")
    return str(value).strip()


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    by_lower = {c.lower(): c for c in columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    return None


class Shape(ABC):
    """Turns a row into record parts. Subclasses set ``name``."""

    name: ClassVar[str]

    def __init__(self, mapping: ColumnMapping, columns: list[str], cleaner: MetadataCleaner) -> None:
        self.mapping = mapping
        self.columns = columns
        self.cleaner = cleaner
        self.id_col = mapping.id_col or _find(columns, ID_NAMES)
        if mapping.id_col is not None:
            _require(mapping.id_col, "--id-col", columns)

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        """Whether a row's content says it is this shape (the table shape never claims a row)."""
        return False

    @abstractmethod
    def convert(self, values: dict[str, Any]) -> Parts:
        """The record parts of one row; RowError with a reason when it cannot be used."""

    def _row_id(self, values: dict[str, Any]) -> str | None:
        if self.id_col is None:
            return None
        if self.id_col not in values:
            raise RowError(f"no '{self.id_col}' field (the id column)")
        return _id(values[self.id_col], self.id_col)

    def _metadata(self, values: dict[str, Any], used: set[str]) -> dict[str, Any]:
        if self.mapping.metadata_cols is not None:
            chosen = {k: values[k] for k in self.mapping.metadata_cols if k in values}
        else:
            chosen = {k: v for k, v in values.items() if k not in used}
        return self.cleaner.clean(chosen)


def _require(column: str, option: str, columns: list[str]) -> None:
    if column not in columns:
        raise BadInputError(f"{option} '{column}' is not a column; columns found: {', '.join(columns)}")


class TableShape(Shape):
    """Rows with one input column and one output column; other columns become metadata."""

    name = "table"

    def __init__(self, mapping: ColumnMapping, columns: list[str], cleaner: MetadataCleaner) -> None:
        super().__init__(mapping, columns, cleaner)
        found = ", ".join(columns) or "(none)"
        input_col = mapping.input_col or _find(columns, INPUT_NAMES)
        output_col = mapping.output_col or _find(columns, OUTPUT_NAMES)
        if mapping.input_col:
            _require(mapping.input_col, "--input-col", columns)
        if mapping.output_col:
            _require(mapping.output_col, "--output-col", columns)
        if input_col is None:
            raise BadInputError(
                f"cannot tell which column is the input (looked for {', '.join(INPUT_NAMES)}); "
                f"columns found: {found}; pass --input-col NAME"
            )
        if output_col is None:
            raise BadInputError(
                f"cannot tell which column is the output (looked for {', '.join(OUTPUT_NAMES)}); "
                f"columns found: {found}; pass --output-col NAME"
            )
        if input_col == output_col:
            raise BadInputError(
                f"the input and output column are both '{input_col}'; name two different columns"
            )
        for column in mapping.metadata_cols or []:
            _require(column, "--metadata-col", columns)
        self.input_col, self.output_col = input_col, output_col
        self.used = {input_col, output_col} | ({self.id_col} if self.id_col else set())

    def convert(self, values: dict[str, Any]) -> Parts:
        for column, what in ((self.input_col, "input"), (self.output_col, "output")):
            if column not in values:
                raise RowError(f"no '{column}' field (the {what} column)")
        raw_input = values[self.input_col]
        chat = as_chat(raw_input) if isinstance(raw_input, list) else None
        return Parts(
            input=chat if chat is not None else _text(raw_input, "input", self.input_col),
            output=_text(values[self.output_col], "output", self.output_col),
            metadata=self._metadata(values, self.used),
            id=self._row_id(values),
        )


class ChatShape(Shape):
    """A chat format recognised from the first row's keys."""

    key: ClassVar[str]

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        return isinstance(values.get(cls.key), list)

    def convert(self, values: dict[str, Any]) -> Parts:
        turns = values.get(self.key)
        if not isinstance(turns, list):
            raise RowError(f"no '{self.key}' list in this record")
        chat_input, output = split_chat(self.messages(turns, values))
        return Parts(
            input=chat_input,
            output=output,
            metadata=self._metadata(
                values, {self.key, *self.extra_keys, *([self.id_col] if self.id_col else [])}
            ),
            id=self._row_id(values),
        )

    extra_keys: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def messages(self, turns: list[Any], values: dict[str, Any]) -> list[ChatMessage]: ...


class OpenAIChatShape(ChatShape):
    """``{"messages": [{"role", "content"}, ...]}``: the last assistant message is the output.

    Content may be text or text parts; ``tool_calls`` and ``tool`` messages become tool messages."""

    name = "openai"
    key = "messages"

    def messages(self, turns: list[Any], values: dict[str, Any]) -> list[ChatMessage]:
        return openai_messages(turns)


class ShareGPTShape(ChatShape):
    """``{"conversations": [{"from": "human"|"gpt"|"system", "value"}, ...]}`` (plus optional ``system``);
    ``function_call`` and ``observation`` turns become tool messages of the input."""

    name = "sharegpt"
    key = "conversations"
    extra_keys = ("system",)

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        # ShareGPT preference data has the same key plus chosen/rejected: that is another shape.
        return super().detect(values) and not {"chosen", "rejected"} <= set(values)

    def messages(self, turns: list[Any], values: dict[str, Any]) -> list[ChatMessage]:
        return sharegpt_messages(turns, values.get("system"))


class AlpacaShape(Shape):
    """``instruction``, ``input``, ``output``: the prompt is the instruction, then the input if any."""

    name = "alpaca"

    @classmethod
    def detect(cls, values: dict[str, Any]) -> bool:
        return {"instruction", "input", "output"} <= set(values)

    def convert(self, values: dict[str, Any]) -> Parts:
        if "instruction" not in values or "output" not in values:
            raise RowError("an Alpaca record needs 'instruction' and 'output'")
        instruction = _text(values["instruction"], "input", "instruction")
        extra = values.get("input")
        extra_text = "" if is_missing(extra) else _text(extra, "input", "input")
        prompt = f"{instruction}\n\n{extra_text}" if extra_text.strip() else instruction
        system = values.get("system")
        used = {"instruction", "input", "output", "system", *([self.id_col] if self.id_col else [])}
        return Parts(
            input=prompt,
            output=_text(values["output"], "output", "output"),
            metadata=self._metadata(values, used),
            id=self._row_id(values),
            system=system if isinstance(system, str) and system.strip() else None,
        )


CHAT_FORMATS: dict[str, type[Shape]] = {}


def register_chat_format(cls: type[Shape]) -> type[Shape]:
    """Make a record shape available by name (for --format) and to content detection, in order."""
    CHAT_FORMATS[cls.name] = cls
    return cls


for _cls in (OpenAIChatShape, ShareGPTShape, AlpacaShape):
    register_chat_format(_cls)


def detect_shape(values: dict[str, Any], mapping: ColumnMapping) -> type[Shape]:
    """The chat format the first row looks like, or the table shape."""
    if not mapping.explicit:
        for cls in CHAT_FORMATS.values():
            if cls.detect(values):
                return cls
    return TableShape
