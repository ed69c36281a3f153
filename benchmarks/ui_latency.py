"""Review-page interaction latency with AppTest at 1k and 50k records (issue 4).

For each size: build a local project (no analysis, so the queue is in import order), then time in
one AppTest session the first load of the review page, a Next click and a Good (submit) click
(medians of ``--repeats``). The baseline is the plain library work one click needs (get_record +
save_response), measured in the same run, so the ratio is the app's overhead per click. Results
are in docs/benchmarks.md.

    .venv/bin/python benchmarks/ui_latency.py [--sizes 1000 50000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from streamlit.testing.v1 import AppTest

from curation.model import Record, Response, Role, User
from curation.project import init_project
from curation.review.auth import sign_in
from ui.state import PROJECT_ENV, Keys

APP = Path(__file__).resolve().parents[1] / "ui" / "app.py"


def build(root: Path, n: int) -> None:
    store = init_project(root, "bench")
    store.add_user(User(name="ann", role=Role.annotator))
    batch = (
        Record(
            id=f"r{i:06d}",
            input=f"Where is order FW-{i}? It was due on day {i % 30}.",
            output=f'{{"order": "FW-{i}"}}',
        )
        for i in range(n)
    )
    store.upsert_records(batch, batch_size=5000)
    store.close()


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def measure(n: int, repeats: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp()) / "p"
    t = time.perf_counter()
    build(root, n)
    print(f"  built {n} records in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    os.environ[PROJECT_ENV] = str(root)
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state[Keys.SESSION] = sign_in(root, user_name="ann")
    at.run()
    first = timed(lambda: at.switch_page("app_pages/review.py").run())
    assert not at.exception, at.exception
    nexts = [timed(lambda: at.button(key="review_next").click().run()) for _ in range(repeats)]
    goods = [timed(lambda: at.button(key="review_good").click().run()) for _ in range(repeats)]
    assert not at.exception, at.exception
    store = sign_in(root, user_name="ann").store
    ids = [f"r{i:06d}" for i in range(n - repeats, n)]
    base_get = [timed(lambda rid=rid: store.get_record(rid)) for rid in ids]
    base_save = [
        timed(
            lambda rid=rid: store.save_response(
                Response(record_id=rid, user="ann", values={"label": "good"}, status="submitted")
            )
        )
        for rid in ids
    ]
    store.close()
    return {
        "first load": first,
        "next click": statistics.median(nexts),
        "good click": statistics.median(goods),
        "baseline get_record": statistics.median(base_get),
        "baseline get+save": statistics.median(base_get) + statistics.median(base_save),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'records':>8} | {'first load ms':>13} | {'next ms':>8} | {'good ms':>8} | {'lib get+save ms':>15} | {'good/lib':>8}"
    )
    for n in args.sizes:
        r = measure(n, args.repeats)
        ratio = r["good click"] / max(r["baseline get+save"], 1e-6)
        print(
            f"{n:>8} | {r['first load']:>13.0f} | {r['next click']:>8.0f} | {r['good click']:>8.0f} | "
            f"{r['baseline get+save']:>15.1f} | {ratio:>7.0f}x"
        )


if __name__ == "__main__":
    main()
