"""What keeping every decision costs: the decision log and undo on the local store (issue 13).

For each size, on a fresh local project: a bulk resolve of exact groups of three (ours: every group
a logged decision of one batch) against writing the same ``dup_resolution`` values with plain
``update_metadata`` (the baseline: what the resolve did before the log); then undoing the whole
batch; then 200 review submits with ``save_review`` (ours: logs each label) against 200 plain
``save_response`` calls. Also the cost of checking a session token (argon2 is only paid at sign-in).

    .venv/bin/python benchmarks/bench_decision_log.py [--sizes 3000 30000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from curation import metadata_keys as F
from curation.model import Record, Response, ResponseStatus
from curation.project import init_project
from curation.review.answers import save_review
from curation.review.decisions import undo_batch
from curation.review.duplicates import bulk_resolve_exact
from curation.review.sessions import issue_token, read_token


def records(n: int) -> list[Record]:
    out = []
    for i in range(n):
        group = i // 3
        meta = {F.DUP_GROUP: f"g{group}", F.DUP_TIER: "exact"}
        if i % 3 == 0:
            meta[F.DUP_KEEPER] = "yes"
        out.append(Record(id=f"r{i:06d}", input=f"question {group}", output=f"answer {group}", metadata=meta))
    return out


def timed(call) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def run(size: int, root: Path) -> dict[str, float]:
    store = init_project(root / f"ours-{size}", "ours")
    store.upsert_records(records(size))
    ours = timed(lambda: bulk_resolve_exact(store, confirm=True))
    batch = store.list_decisions()[0].batch or ""
    undo = timed(lambda: undo_batch(store, batch))
    plain = init_project(root / f"plain-{size}", "plain")
    plain.upsert_records(records(size))
    updates = {f"r{i:06d}": {F.DUP_RESOLUTION: "keep" if i % 3 == 0 else "drop"} for i in range(size)}
    baseline = timed(
        lambda: [
            plain.update_metadata(dict(list(updates.items())[s : s + 1000])) for s in range(0, size, 1000)
        ]
    )
    subset = [r for batch_ in store.iter_records(batch_size=200) for r in batch_][:200]
    logged = [
        timed(
            lambda r=r: save_review(
                store, r, "ann", {"label": "good"}, ResponseStatus.submitted, expected_version=0
            )
        )
        for r in subset
    ]
    bare = [
        timed(
            lambda r=r: plain.save_response(
                Response(record_id=r.id, user="ann", values={"label": "good"}, status="submitted"),
                expected_version=0,
            )
        )
        for r in subset
    ]
    store.close()
    plain.close()
    return {
        "bulk_ours": ours,
        "bulk_plain": baseline,
        "undo": undo,
        "save_ours_ms": statistics.median(logged) * 1000,
        "save_plain_ms": statistics.median(bare) * 1000,
    }


def token_cost(root: Path) -> float:
    from curation.model import Role, User

    store = init_project(root / "tokens", "tokens")
    store.add_user(User(name="dana", role=Role.owner))
    token = issue_token(root / "tokens", store, "dana")
    times = [timed(lambda: read_token(root / "tokens", store, token)) for _ in range(200)]
    store.close()
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(
            "| records | bulk resolve, logged (s) | plain metadata writes (s) | ratio | undo the batch (s) | save_review, logged (ms) | plain save_response (ms) | ratio |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for size in args.sizes:
            r = run(size, root)
            print(
                f"| {size:,} | {r['bulk_ours']:.2f} | {r['bulk_plain']:.2f} | {r['bulk_ours'] / r['bulk_plain']:.2f}× "
                f"| {r['undo']:.2f} | {r['save_ours_ms']:.2f} | {r['save_plain_ms']:.2f} | {r['save_ours_ms'] / r['save_plain_ms']:.2f}× |"
            )
        print(f"\nchecking a session token: {token_cost(root):.2f} ms (median of 200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
