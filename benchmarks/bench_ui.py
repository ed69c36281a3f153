"""UI interaction latency at 1k and 50k records: the pairsmith app vs. a naive Streamlit page.

Run: .venv/bin/python benchmarks/bench_ui.py [--sizes 1000 50000] [--repeats 3]

Both apps run headless under ``streamlit.testing.v1.AppTest`` against the same local project
(synthetic records with cluster, map and duplicate metadata, upserted into the SQLite store). Each
interaction is timed as the full script rerun AppTest performs for it, which is what a user waits for
after a click (minus the browser's own drawing).

The baseline is what a first Streamlit page usually looks like: on every rerun it opens the store,
loads the whole table with ``store.query_records()`` and filters, pages and groups in Python.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamlit.testing.v1 import AppTest

from curation import fields
from curation.model import Record, RecordSource, Role, User
from curation.project import init_project

REPO = Path(__file__).resolve().parents[1]
OWNER, ANNOTATOR = "olivia", "arun"
TIMEOUT_S = 600
CATEGORIES = ["shipping_delay", "refund", "damaged_plant", "billing", "account", "cancel", "care_question"]


def make_records(n: int) -> list[Record]:
    """Synthetic analysed records: 40 clusters, a 2-D map, one record in 10 in a duplicate pair."""
    records = []
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        cluster = i % 40
        meta: dict[str, Any] = {
            "channel": "email" if i % 3 else "chat",
            fields.CLUSTER: cluster,
            fields.CLUSTER_NAME: f"{category} #{cluster}",
            fields.MAP_X: (i * 37 % 1000) / 100.0,
            fields.MAP_Y: (i * 91 % 1000) / 100.0,
            fields.FLAGS: ["pii"] if i % 50 == 0 else [],
            fields.INPUT_CHARS: 60 + i % 40,
        }
        if i % 10 in (0, 1):  # records 10k and 10k+1 form one duplicate group
            meta[fields.DUP_GROUP] = f"g{i // 10:06d}"
            meta[fields.DUP_TIER] = "exact" if i % 20 < 10 else "near"
            meta[fields.DUP_SCORE] = 1.0 if i % 20 < 10 else 0.93
            if i % 10 == 0:
                meta[fields.DUP_KEEPER] = "yes"
        text = f"Customer {i // 10 if i % 10 in (0, 1) else i} asks about {category} for order FW-{i:06d}."
        records.append(
            Record(
                id=f"r{i:07d}",
                input=text,
                output=json.dumps({"category": category, "order_id": f"FW-{i:06d}"}),
                metadata=meta,
                source=RecordSource(file="bench.csv", row=i + 1),
            )
        )
    return records


def build_project(root: Path, n: int) -> Path:
    """A local project with ``n`` synthetic records, an owner and an annotator (reused if built)."""
    if (root / "pairsmith.json").exists():
        return root
    store = init_project(root, f"bench-{n}")
    try:
        store.upsert_records(make_records(n), batch_size=5000)
        store.add_user(User(name=OWNER, role=Role.owner))
        store.add_user(User(name=ANNOTATOR, role=Role.annotator))
    finally:
        store.close()
    return root


# --- the baseline: a naive page -----------------------------------------------------------------

BASELINE_REVIEW = """
import streamlit as st
from curation.project import open_store
from curation.model import Response, ResponseStatus

store = open_store(PROJECT_DIR)
records = store.query_records().records          # the whole table, every rerun
cluster = st.selectbox("Cluster", ["all"] + sorted({str(r.metadata.get("cluster")) for r in records}))
queue = [r for r in records if cluster == "all" or str(r.metadata.get("cluster")) == cluster]
st.session_state.setdefault("i", 0)
if st.button("Next", key="next"):
    st.session_state.i += 1
record = queue[st.session_state.i % len(queue)]
st.write(f"{st.session_state.i + 1} / {len(queue)}")
st.text(record.input_text)
st.code(record.output)
label = st.radio("Label", ["good", "bad", "needs_fix"], key="label")
if st.button("Submit", key="submit"):
    store.save_response(Response(record_id=record.id, user=USER, values={"label": label},
                                 status=ResponseStatus.submitted))
    st.session_state.i += 1
"""

BASELINE_DUPLICATES = """
import streamlit as st
from curation.project import open_store

store = open_store(PROJECT_DIR)
records = store.query_records().records          # the whole table, every rerun
groups = {}
for r in records:
    if r.metadata.get("dup_group"):
        groups.setdefault(r.metadata["dup_group"], []).append(r)
names = sorted(groups)
page = st.number_input("Page", min_value=1, max_value=max(1, (len(names) + 9) // 10), key="page")
for name in names[(page - 1) * 10 : page * 10]:
    st.subheader(name)
    for r in groups[name]:
        st.text(r.input_text)
"""


def _script(body: str, project: Path) -> str:
    return f"PROJECT_DIR = {str(project)!r}\nUSER = {ANNOTATOR!r}\n" + body


def timed(step: Callable[[], Any]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def check(at: AppTest, what: str) -> AppTest:
    if at.exception:
        raise RuntimeError(f"{what} raised: {[e.message for e in at.exception]}")
    return at


def baseline_timings(project: Path) -> dict[str, float]:
    """Seconds per interaction on the naive pages."""
    out: dict[str, float] = {}
    review = AppTest.from_string(_script(BASELINE_REVIEW, project), default_timeout=TIMEOUT_S)
    out["first render of review"] = timed(lambda: check(review.run(), "baseline review"))
    out["next record"] = timed(lambda: check(review.button(key="next").click().run(), "baseline next"))
    review.radio(key="label").set_value("good")
    out["save label (submit)"] = timed(
        lambda: check(review.button(key="submit").click().run(), "baseline save")
    )
    out["filter change (cluster)"] = timed(
        lambda: check(review.selectbox[0].select("7").run(), "baseline filter")
    )
    dups = AppTest.from_string(_script(BASELINE_DUPLICATES, project), default_timeout=TIMEOUT_S)
    out["duplicates: first render"] = timed(lambda: check(dups.run(), "baseline duplicates"))
    out["duplicates: next page"] = timed(
        lambda: check(dups.number_input(key="page").set_value(2).run(), "baseline page")
    )
    return out
