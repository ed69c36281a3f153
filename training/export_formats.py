"""Export formats: one writer per format in a registry, and the OpenAI chat JSONL validator.

Every writer takes the export folder and the rows of each split (the columns of :data:`COLUMNS`)
and returns the files it wrote, relative to the folder. Add a format with :func:`register_format`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from training.splits import SPLITS

Row = dict[str, Any]
FormatWriter = Callable[[Path, Mapping[str, list[Row]]], list[str]]

COLUMNS = ("id", "messages", "prompt", "completion", "input_text", "output", "cluster", "dup_group", "golden")
"""Columns of the hf and parquet exports (TRL's conversational prompt/completion form plus context)."""

_FORMATS: dict[str, FormatWriter] = {}


def register_format(name: str, writer: FormatWriter) -> None:
    """Make ``writer`` available as export format ``name`` (config ``formats``)."""
    _FORMATS[name] = writer


def format_names() -> list[str]:
    return list(_FORMATS)


def get_format(name: str) -> FormatWriter:
    return _FORMATS[name]


def _suffixed(stem: str, split: str, ext: str) -> str:
    """``openai.jsonl`` for train, ``openai_validation.jsonl`` / ``openai_test.jsonl`` for the others."""
    return f"{stem}.{ext}" if split == "train" else f"{stem}_{split}.{ext}"


def _features() -> Any:
    from datasets import Features, List, Value

    message = {"role": Value("string"), "content": Value("string")}
    return Features(
        {
            "id": Value("string"),
            "messages": List(message),
            "prompt": List(message),
            "completion": List(message),
            "input_text": Value("string"),
            "output": Value("string"),
            "cluster": Value("int64"),
            "dup_group": Value("string"),
            "golden": Value("bool"),
        }
    )


def _dataset_dict(rows: Mapping[str, list[Row]]) -> Any:
    from datasets import Dataset, DatasetDict

    features = _features()
    return DatasetDict(
        {
            split: Dataset.from_dict({c: [r[c] for r in rows[split]] for c in COLUMNS}, features=features)
            for split in SPLITS
            if split in rows
        }
    )


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """No progress bars from `datasets` while exporting (they would clutter the CLI's output)."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_enabled = not are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if was_enabled:
            enable_progress_bars()


def write_hf(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """``hf/``: a DatasetDict saved with ``save_to_disk`` (load with ``datasets.load_from_disk``).

    Empty splits are left out: ``datasets.load_from_disk`` fails with an IndexError on a saved
    split of 0 rows, so a split with a 0 fraction would make the whole folder unreadable.
    """
    with _quiet_datasets():
        _dataset_dict({s: r for s, r in rows.items() if r}).save_to_disk(str(out / "hf"))
    return sorted(str(p.relative_to(out)) for p in (out / "hf").rglob("*") if p.is_file())


def write_parquet(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """``parquet/{split}.parquet`` with the same columns and types as ``hf/``."""
    (out / "parquet").mkdir(exist_ok=True)
    written = []
    with _quiet_datasets():
        for split, dataset in _dataset_dict(rows).items():
            dataset.to_parquet(str(out / "parquet" / f"{split}.parquet"))
            written.append(f"parquet/{split}.parquet")
    return written


def _dump_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_openai(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """OpenAI chat fine-tuning JSONL: one ``{"messages": [...]}`` per line."""
    written = []
    for split in SPLITS:
        name = _suffixed("openai", split, "jsonl")
        with (out / name).open("w", encoding="utf-8") as handle:
            for row in rows[split]:
                handle.write(json.dumps({"messages": row["messages"]}, ensure_ascii=False) + "\n")
        written.append(name)
    return written


def _alpaca(row: Row) -> Row:
    messages = row["messages"]
    system = next((m["content"] for m in messages if m["role"] == "system"), None)
    example: Row = {"instruction": row["input_text"], "input": "", "output": row["output"]}
    if system:
        example["system"] = system
    return example


def write_alpaca(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """Alpaca JSON: ``[{"instruction", "input", "output"}]`` (+ ``system`` when the record has one)."""
    written = []
    for split in SPLITS:
        name = _suffixed("alpaca", split, "json")
        _dump_json(out / name, [_alpaca(r) for r in rows[split]])
        written.append(name)
    return written


_SHAREGPT_ROLE = {"system": "system", "user": "human", "assistant": "gpt", "tool": "observation"}


def write_sharegpt(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """ShareGPT JSON: ``[{"conversations": [{"from": "system|human|gpt", "value"}]}]``."""
    written = []
    for split in SPLITS:
        name = _suffixed("sharegpt", split, "json")
        conversations = [
            {
                "conversations": [
                    {"from": _SHAREGPT_ROLE[m["role"]], "value": m["content"]} for m in r["messages"]
                ]
            }
            for r in rows[split]
        ]
        _dump_json(out / name, conversations)
        written.append(name)
    return written


def write_preference(out: Path, rows: Mapping[str, list[Row]]) -> list[str]:
    """TRL's conversational preference JSONL (DPO): one ``{"prompt": [...], "chosen": [assistant],
    "rejected": [assistant]}`` per record that has a rejected reply (preference data on import)."""
    written = []
    for split in SPLITS:
        name = _suffixed("preference", split, "jsonl")
        with (out / name).open("w", encoding="utf-8") as handle:
            for row in rows[split]:
                rejected = row.get("rejected")
                if not isinstance(rejected, str):
                    continue
                example = {
                    "prompt": row["prompt"],
                    "chosen": row["completion"],
                    "rejected": [{"role": "assistant", "content": rejected}],
                }
                handle.write(json.dumps(example, ensure_ascii=False) + "\n")
        written.append(name)
    return written


register_format("hf", write_hf)
register_format("parquet", write_parquet)
register_format("openai", write_openai)
register_format("alpaca", write_alpaca)
register_format("sharegpt", write_sharegpt)
register_format("preference", write_preference)

_OPENAI_ROLES = {"system", "user", "assistant"}
_OPENAI_MESSAGE_KEYS = {"role", "content", "name", "weight"}


def _message_problems(where: str, messages: Any) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return [f"{where}: 'messages' must be a non-empty list"]
    problems = []
    for i, message in enumerate(messages):
        at = f"{where} message {i}"
        if not isinstance(message, dict):
            problems.append(f"{at}: not an object")
            continue
        extra = set(message) - _OPENAI_MESSAGE_KEYS
        if extra:
            problems.append(f"{at}: unknown keys {sorted(extra)}")
        role = message.get("role")
        if role not in _OPENAI_ROLES:
            problems.append(f"{at}: role {role!r} is not one of system, user, assistant")
        content = message.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append(f"{at}: content must be a non-empty string")
        if role == "system" and i != 0:
            problems.append(f"{at}: a system message may only come first")
        if "weight" in message and (role != "assistant" or message["weight"] not in (0, 1)):
            problems.append(f"{at}: weight must be 0 or 1 and only on assistant messages")
    roles = [m.get("role") for m in messages if isinstance(m, dict)]
    if "user" not in roles:
        problems.append(f"{where}: no user message")
    if roles and roles[-1] != "assistant":
        problems.append(f"{where}: the last message must be the assistant's")
    return problems


def validate_openai_chat_jsonl(path: Path | str, *, min_examples: int = 1) -> list[str]:
    """Check a file against OpenAI's chat fine-tuning format; return the problems (empty: valid).

    Rules: UTF-8 JSON Lines; each line an object whose only key is ``messages`` (``tools`` and
    ``parallel_tool_calls`` are not used by pairsmith); messages with role system/user/assistant and
    non-empty string content; system only first; at least one user message; the last message the
    assistant's; ``weight`` only 0/1 on assistant messages. OpenAI needs at least 10 examples to
    train, so pass ``min_examples=10`` for a training file.
    """
    file = Path(path)
    problems: list[str] = []
    count = 0
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"{file}: cannot read as UTF-8 text ({exc})"]
    for n, line in enumerate(lines, start=1):
        where = f"{file.name}:{n}"
        if not line.strip():
            problems.append(f"{where}: empty line")
            continue
        try:
            example = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg})")
            continue
        count += 1
        if not isinstance(example, dict):
            problems.append(f"{where}: each line must be a JSON object")
            continue
        extra = set(example) - {"messages"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        problems += _message_problems(where, example.get("messages"))
    if count < min_examples:
        problems.append(f"{file.name}: {count} examples, at least {min_examples} needed")
    return problems
