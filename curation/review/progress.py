"""How far review has come: submitted, draft, discarded and pending counts, per person or for everyone."""

from __future__ import annotations

from pydantic import BaseModel, Field

from curation.store.base import RecordQuery, RecordStore, ResponseFilter


class Progress(BaseModel):
    """How far review has come: the reviewer's own counts and the team's."""

    records: int
    mine_submitted: int
    mine_draft: int
    mine_discarded: int
    team_done: int = Field(description="Records with at least one submitted or discarded response")
    team_submitted: int
    team_responses: int

    @property
    def mine_done(self) -> int:
        return self.mine_submitted + self.mine_discarded

    def fraction(self, done: int) -> float:
        return done / self.records if self.records else 0.0


def review_progress(store: RecordStore, user: str | None) -> Progress:
    """Counts for the progress bars: a few count queries, no record is loaded."""
    mine = store.response_counts(user) if user else None
    team = store.response_counts()
    done = store.count_records(RecordQuery(response=ResponseFilter(status=["submitted", "discarded"])))
    return Progress(
        records=store.count_records(),
        mine_submitted=mine.submitted if mine else 0,
        mine_draft=mine.draft if mine else 0,
        mine_discarded=mine.discarded if mine else 0,
        team_done=done,
        team_submitted=team.submitted,
        team_responses=team.submitted + team.draft + team.discarded,
    )


class PersonProgress(BaseModel):
    """One person's review so far, and how much of what was assigned to them is done."""

    name: str
    role: str
    submitted: int
    drafts: int
    discarded: int
    assigned: int
    assigned_done: int

    @property
    def assigned_left(self) -> int:
        return max(0, self.assigned - self.assigned_done)


def people_progress(store: RecordStore) -> list[PersonProgress]:
    """Per person: submitted, drafts, discarded, and assigned records done (a few counts each).

    Annotators first, then owners; within a role by name.
    """
    from curation.review.assignment import assigned_count

    rows = []
    for person in store.list_users():
        counts = store.response_counts(person.name)
        rows.append(
            PersonProgress(
                name=person.name,
                role=str(person.role),
                submitted=counts.submitted,
                drafts=counts.draft,
                discarded=counts.discarded,
                assigned=assigned_count(store, person.name),
                assigned_done=assigned_count(store, person.name, done=True),
            )
        )
    return sorted(rows, key=lambda r: (r.role != "annotator", r.name))


def unreviewed_count(store: RecordStore) -> int:
    """Records nobody has submitted or discarded yet."""
    return store.count_records(RecordQuery(response=ResponseFilter(status=["pending"])))
