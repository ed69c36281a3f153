"""A small synthetic support-ticket triage task: ticket text → compact JSON, with a JSON schema.

Stands in for the bundled example (curation/example) in training tests; the base model rarely
answers in the exact schema, a briefly trained adapter does, so "tuned beats base" is testable.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from curation.model import Project, Record
from curation.project import init_project
from curation.store.base import RecordStore
from tests.factories import make_response

SYSTEM = "Triage the support ticket. Reply with compact JSON with keys category, urgency, order_id, summary."
CATEGORIES = {
    "shipping_delay": ["my order {o} has not arrived yet", "where is my package {o}? it is late"],
    "damaged_item": ["the plant in order {o} arrived broken", "order {o} came damaged, the pot is cracked"],
    "refund": ["I want my money back for order {o}", "please refund order {o}"],
    "account_access": ["I cannot log in to my account", "password reset email never comes"],
    "billing": ["I was charged twice for order {o}", "wrong amount billed on order {o}"],
}
URGENCY_WORDS = {"low": "", "medium": " Please help soon.", "high": " URGENT, I need this today!"}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": {"enum": list(CATEGORIES)},
        "urgency": {"enum": list(URGENCY_WORDS)},
        "order_id": {"type": ["string", "null"]},
        "summary": {"type": "string"},
    },
    "required": ["category", "urgency", "order_id", "summary"],
    "additionalProperties": False,
}


def make_examples(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n examples ``{"input", "output"}``; outputs are compact JSON that follow SCHEMA."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        category = rng.choice(list(CATEGORIES))
        urgency = rng.choice(list(URGENCY_WORDS))
        template = rng.choice(CATEGORIES[category])
        order = f"FW-{rng.randint(10000, 99999)}" if "{o}" in template else None
        text = template.format(o=order) + URGENCY_WORDS[urgency]
        summary = template.format(o="").replace("  ", " ").replace(" ?", "?").strip()[:40]
        output = {"category": category, "urgency": urgency, "order_id": order, "summary": summary}
        examples.append(
            {
                "id": f"t{i:04d}",
                "input": f"Ticket {i}: {text}",
                "output": json.dumps(output, separators=(",", ":")),
            }
        )
    return examples


def make_dataset_dict(n_train: int = 64, n_val: int = 8, n_test: int = 16, seed: int = 0) -> Any:
    """A DatasetDict shaped like an export's ``hf/`` folder (the columns export writes)."""
    import datasets

    examples = make_examples(n_train + n_val + n_test, seed)
    parts = {
        "train": examples[:n_train],
        "validation": examples[n_train : n_train + n_val],
        "test": examples[n_train + n_val :],
    }

    def row(e: dict[str, Any]) -> dict[str, Any]:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": e["input"]},
            {"role": "assistant", "content": e["output"]},
        ]
        return {
            "id": e["id"],
            "messages": messages,
            "prompt": messages[:-1],
            "completion": messages[-1:],
            "input_text": e["input"],
            "output": e["output"],
            "cluster": "0",
            "dup_group": "",
            "golden": False,
        }

    return datasets.DatasetDict(
        {name: datasets.Dataset.from_list([row(e) for e in rows]) for name, rows in parts.items()}
    )


def write_export(out_dir: Path, **kwargs: Any) -> Path:
    """Write a fake export folder (``hf/`` only) and return it."""
    make_dataset_dict(**kwargs).save_to_disk(str(out_dir / "hf"))
    return out_dir


def make_task_project(root: Path, n: int = 120, seed: int = 0, labeled: bool = True) -> RecordStore:
    """A local project holding the task's records, each labeled good by an annotator."""
    store = init_project(root, project=Project(name="triage", output_schema=SCHEMA))
    records = [
        Record(id=e["id"], input=e["input"], output=e["output"], system=SYSTEM)
        for e in make_examples(n, seed)
    ]
    store.upsert_records(records)
    if labeled:
        for record in records:
            store.save_response(make_response(record.id, values={"label": "good"}))
    return store
