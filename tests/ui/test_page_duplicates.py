"""The duplicates page: resolving a group updates its records; bulk-resolve exact groups."""

from __future__ import annotations

from curation import metadata_keys
from tests.ui.conftest import OWNER, app_as, dup_records, fake_analysis, no_exception

PAGE = "app_pages/duplicates.py"


def resolutions(store):
    return {r.id: r.metadata.get(metadata_keys.DUP_RESOLUTION) for r in store.query_records().records}


def test_without_analysis_the_page_says_run_analysis_first(seeded_project):
    root, _ = seeded_project(dup_records())
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert "Run analysis first" in at.info[0].value


def test_keep_one_drops_the_others(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    at.button(key="dup_keep_dup-1_b").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": "drop", "b": "keep", "c": None}
    assert "Kept one" in at.success[0].value


def test_keep_all_conflict_and_clear(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_keep_all_dup-1").click().run()
    assert resolutions(store) == {"a": "keep", "b": "keep", "c": None}
    at.button(key="dup_conflict_dup-1").click().run()
    assert resolutions(store) == {"a": "conflict", "b": "conflict", "c": None}
    at.button(key="dup_clear_dup-1").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": None, "b": None, "c": None}


def test_bulk_resolve_exact_keeps_the_suggested_keeper(seeded_project):
    root, store = seeded_project(dup_records())
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_bulk_exact").click().run()
    no_exception(at)
    assert resolutions(store) == {"a": "keep", "b": "drop", "c": None}


def many_groups(count: int, size: int = 2, decided: int = 0) -> list:
    """``count`` exact groups of ``size`` records; the first ``decided`` already kept-all by a reviewer."""
    from tests.factories import make_record

    records = []
    for g in range(count):
        for m in range(size):
            record = make_record(id=f"g{g:03d}-m{m:02d}", input=f"question {g}", output=f"answer {g}")
            record.metadata.update(
                {
                    metadata_keys.DUP_GROUP: f"grp-{g:03d}",
                    metadata_keys.DUP_TIER: "exact",
                    metadata_keys.DUP_SCORE: 1.0,
                }
            )
            if m == 0:
                record.metadata[metadata_keys.DUP_KEEPER] = "yes"
            if g < decided:
                record.metadata[metadata_keys.DUP_RESOLUTION] = "keep"
            records.append(record)
    return records


def groups_on_screen(at) -> list[str]:
    return [
        m.value.split("**")[1].removeprefix("Group ").replace("\\", "")
        for m in at.markdown
        if m.value.startswith("**Group")
    ]


def test_undecided_only_pages_through_different_groups(seeded_project):
    root, store = seeded_project(many_groups(60, decided=5))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.toggle(key="dup_undecided").set_value(True).run()
    first = groups_on_screen(at)
    assert first == [f"grp-{g:03d}" for g in range(5, 15)]
    at.number_input(key="dup_page").set_value(3).run()
    no_exception(at)
    third = groups_on_screen(at)
    assert third == [f"grp-{g:03d}" for g in range(25, 35)] and not set(third) & set(first)
    assert "55 groups · page 3 of 6" in " ".join(c.value for c in at.caption)


def test_a_keep_that_drops_more_than_ten_asks_first_and_undo_brings_them_back(seeded_project):
    root, store = seeded_project(many_groups(1, size=31))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_keep_grp-000_g000-m05").click().run()
    no_exception(at)
    assert set(resolutions(store).values()) == {None}  # asked, not done
    assert "drops 30 records" in at.warning[0].value
    at.button(key="dup_confirm").click().run()
    no_exception(at)
    decided = resolutions(store)
    assert list(decided.values()).count("drop") == 30 and decided["g000-m05"] == "keep"
    at.button(key="dup_undo").click().run()
    no_exception(at)
    assert set(resolutions(store).values()) == {None}
    assert "Undone" in at.success[0].value


def test_cancelling_a_large_drop_changes_nothing(seeded_project):
    root, store = seeded_project(many_groups(1, size=12))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_conflict_grp-000").click().run()
    at.button(key="dup_cancel").click().run()
    no_exception(at)
    assert set(resolutions(store).values()) == {None} and not at.warning


def test_bulk_resolve_says_why_it_skipped_a_group(seeded_project):
    root, store = seeded_project(many_groups(3, decided=1))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    at.button(key="dup_bulk_exact").click().run()
    no_exception(at)
    assert "skipped 1" in at.success[0].value
    assert any(
        "Skipped group grp-000: already decided by a reviewer" in c.value.replace("\\", "")
        for c in at.caption
    )
    at.button(key="dup_undo").click().run()
    assert resolutions(store)["g001-m01"] is None and resolutions(store)["g000-m01"] == "keep"


# --- the reviewer's day (issue 15) ----------------------------------------------------------------


def group_of(gid: str, members: list[tuple[str, str, str]], tier: str = "near", keeper: str | None = None):
    from tests.factories import make_record

    records = []
    for rid, text, output in members:
        record = make_record(id=rid, input=text, output=output)
        record.metadata.update(
            {metadata_keys.DUP_GROUP: gid, metadata_keys.DUP_TIER: tier, metadata_keys.DUP_SCORE: 0.9}
        )
        if rid == (keeper or members[0][0]):
            record.metadata[metadata_keys.DUP_KEEPER] = "yes"
        records.append(record)
    return records


def test_the_header_shows_size_and_tier_and_the_largest_group_comes_first(seeded_project):
    small = group_of("small", [("s1", "a b", "x"), ("s2", "a b", "x")], tier="exact")
    large = group_of("large", [(f"l{n}", "refund my order", "ok") for n in range(3)])
    root, store = seeded_project(small + large)
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    assert groups_on_screen(at) == ["large", "small"]
    header = next(m.value for m in at.markdown if m.value.startswith("**Group large"))
    assert "3 records · tier near" in header
    at.segmented_control(key="dup_order").set_value("analysis").run()
    assert groups_on_screen(at) == ["small", "large"]


def test_riskiest_first_puts_a_near_group_whose_outputs_differ_above_exact_copies(seeded_project):
    exact = group_of("exact-1", [(f"e{n}", "hello", "hi") for n in range(3)], tier="exact")
    risky = group_of("near-1", [("n1", "cancel order 5", "Cancelled."), ("n2", "cancel order 5!", "No.")])
    root, store = seeded_project(exact + risky)
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    assert groups_on_screen(at) == ["exact-1", "near-1"]  # largest first
    at.segmented_control(key="dup_order").set_value("risk").run()
    assert groups_on_screen(at) == ["near-1", "exact-1"]


def test_each_member_shows_the_words_that_differ_from_the_keeper(seeded_project):
    members = [
        ("k", "Where is my order FW-1?", "It ships today."),
        ("m", "Where is my parcel FW-1?", "It ships today."),
    ]
    root, store = seeded_project(group_of("g", members, keeper="k"))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    diffs = [h.proto.body for h in at.html if 'class="ps-diff"' in h.proto.body]
    assert len(diffs) == 1  # the input differs, the output is the same
    assert "<del>order</del>" in diffs[0] and "<ins>parcel</ins>" in diffs[0]
    captions = " ".join(c.value for c in at.caption)
    assert "output: same as the keeper" in captions and "k · suggested keeper" in captions.replace("\\", "")


def test_a_large_group_gets_one_line_per_member(seeded_project):
    members = [(f"m{n}", f"refund order {n}", "Refunded.") for n in range(7)]
    root, store = seeded_project(group_of("big", members))
    fake_analysis(root, store)
    at = app_as(root, OWNER, PAGE)
    no_exception(at)
    keep_buttons = [b.key for b in at.button if b.key.startswith("dup_keep_big_")]
    assert len(keep_buttons) == 7
    # One line each: a short input diff per member, no output blocks side by side.
    assert len([h for h in at.html if 'class="ps-diff"' in h.proto.body]) == 6
    assert not at.code
    at.button(key="dup_keep_big_m3").click().run()
    assert resolutions(store)["m3"] == "keep"
