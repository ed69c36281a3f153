"""AppTest helpers: a seeded local project and an app signed in as one of its people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from curation import metadata_keys
from curation.model import Role, User
from curation.project import init_project, open_store
from curation.review.auth import Session
from curation.store.base import RecordStore
from tests.factories import make_chat_record, make_record
from ui.state import PROJECT_ENV, Keys

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
# The pages only owners (designers) may open.
DESIGNER_PAGES = [
    "app_pages/project_import.py",
    "app_pages/guidelines.py",
    "app_pages/duplicates.py",
    "app_pages/agreement.py",
    "app_pages/export_train.py",
]
OWNER, ANNOTATOR, ANNOTATOR_2 = "olivia", "ann", "bob"


@pytest.fixture
def seeded_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[Path, RecordStore]]]:
    """``seeded_project(records=[...])``: a local project with an owner, two annotators and records."""
    stores: list[RecordStore] = []

    def factory(records: list[Any] | None = None, name: str = "proj") -> tuple[Path, RecordStore]:
        root = tmp_path / name
        store = init_project(root, name)
        stores.append(store)
        store.add_user(User(name=OWNER, role=Role.owner))
        store.add_user(User(name=ANNOTATOR, role=Role.annotator))
        store.add_user(User(name=ANNOTATOR_2, role=Role.annotator))
        store.upsert_records(
            records if records is not None else [make_record() for _ in range(5)] + [make_chat_record()]
        )
        monkeypatch.setenv(PROJECT_ENV, str(root))
        return root, store

    yield factory
    for store in stores:
        store.close()


def app_as(project_dir: Path, user: str | None, page: str | None = None, timeout: float = 30) -> AppTest:
    """The app with ``user`` signed in (None: nobody), run once, then switched to ``page`` and run."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if user is not None:  # signed in as the sign-in page would leave it (passwords are tested there)
        store = open_store(project_dir)
        at.session_state[Keys.SESSION] = Session(
            store=store, user=store.get_user(user), project_dir=project_dir
        )
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def dup_records() -> list[Any]:
    """Three records of which two are one exact duplicate group (as analysis would mark them)."""
    a = make_record(id="a", input="Where is my order?", output="It ships today.")
    b = make_record(id="b", input="Where is my order?", output="It ships today.")
    c = make_record(id="c", input="Refund please", output="Refund issued.")
    for record, keeper in ((a, "yes"), (b, None)):
        record.metadata.update(
            {metadata_keys.DUP_GROUP: "dup-1", metadata_keys.DUP_TIER: "exact", metadata_keys.DUP_SCORE: 1.0}
        )
        if keeper:
            record.metadata[metadata_keys.DUP_KEEPER] = keeper
    return [a, b, c]


def fake_analysis(root: Path, store: RecordStore, clusters: int = 2) -> None:
    """Write what analysis would (map positions, clusters, vectors, artifacts) without running it."""
    import numpy as np

    from curation.files import ProjectPaths, atomic_write_json

    records = [r for batch in store.iter_records() for r in batch]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(records), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for name in (metadata_keys.VECTOR_INPUT, metadata_keys.VECTOR_PAIR):
        store.set_vectors(name, [r.id for r in records], vectors)
    names = {c: f"topic {c}" for c in range(clusters)}
    store.update_metadata(
        {
            r.id: {
                metadata_keys.CLUSTER: i % clusters,
                metadata_keys.CLUSTER_NAME: names[i % clusters],
                metadata_keys.MAP_X: float(vectors[i, 0]),
                metadata_keys.MAP_Y: float(vectors[i, 1]),
            }
            for i, r in enumerate(records)
        }
    )
    analysis = ProjectPaths(root).analysis
    members = {c: [r.id for i, r in enumerate(records) if i % clusters == c] for c in range(clusters)}
    atomic_write_json(
        analysis / "clusters.json",
        {
            "k": clusters,
            "clusters": [
                {
                    "id": c,
                    "name": names[c],
                    "size": len(members[c]),
                    "share": len(members[c]) / len(records),
                    "label_mix": {},
                    "quality_mix": {"clean": len(members[c])},
                    "records": [{"id": m, "source_row": None} for m in members[c]],
                }
                for c in range(clusters)
            ],
        },
    )
    groups: dict[str, list[Any]] = {}
    for r in records:
        if r.metadata.get(metadata_keys.DUP_GROUP):
            groups.setdefault(r.metadata[metadata_keys.DUP_GROUP], []).append(r)
    atomic_write_json(
        analysis / "duplicates.json",
        {
            "groups": [
                {
                    "group": gid,
                    "tier": members_[0].metadata[metadata_keys.DUP_TIER],
                    "score": 1.0,
                    "records": [{"id": m.id, "source_row": m.source.row} for m in members_],
                    "keeper": next(
                        (m.id for m in members_ if m.metadata.get(metadata_keys.DUP_KEEPER) == "yes"), None
                    ),
                }
                for gid, members_ in groups.items()
            ],
            "conflicts": [],
        },
    )
    atomic_write_json(analysis / "report.json", {"records": len(records)})


@pytest.fixture
def map_selection(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """``map_selection["ids"] = [...]``: the records a box or lasso on the clusters map selects.

    AppTest cannot draw on a plotly chart, so every run sends the chart's selection state as the
    browser would (the same JSON Streamlit's frontend sends), for as long as ``ids`` is set.
    """
    import json

    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1.element_tree import ElementTree

    selection: dict[str, list[str]] = {"ids": []}
    original = ElementTree.get_widget_states

    def with_selection(tree: ElementTree) -> Any:
        states = original(tree)
        for chart in tree.get("plotly_chart"):
            if selection["ids"] and getattr(chart, "key", None) == "clusters_map":
                points = [
                    {"customdata": rid, "curve_number": 0, "point_index": n}
                    for n, rid in enumerate(selection["ids"])
                ]
                value = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}
                states.widgets.append(WidgetState(id=chart.proto.id, string_value=json.dumps(value)))
        return states

    monkeypatch.setattr(ElementTree, "get_widget_states", with_selection)
    return selection
