"""Names shared across steps: metadata keys written by analysis and review, and vector names.

Analysis writes its results into record metadata under these keys so that every backend's filters
work on them; review, export and the UI read them from here rather than spelling them out.
"""

from __future__ import annotations

# Vectors (one per record, float32): input, output, and input + output.
VECTOR_INPUT = "input"
VECTOR_OUTPUT = "output"
VECTOR_PAIR = "pair"

# Clusters and the 2-D map.
CLUSTER = "cluster"  # int cluster id
CLUSTER_NAME = "cluster_name"  # str, distinctive terms
MAP_X = "map_x"
MAP_Y = "map_y"

# Duplicates.
DUP_GROUP = "dup_group"  # str group id, absent when the record has no duplicate
DUP_TIER = "dup_tier"  # "exact" | "near" | "semantic": the strongest tier linking it to its group
DUP_SCORE = "dup_score"  # float similarity to the closest member of its group
DUP_KEEPER = "dup_keeper"  # "yes" on the suggested keeper of its group
DUP_RESOLUTION = "dup_resolution"  # a human's decision: "keep" | "drop" | "conflict"
CONFLICT_GROUP = "conflict_group"  # str: same input, clearly different outputs

# Quality signals.
FLAGS = "flags"  # list[str] of quality flags, see QUALITY_FLAGS
LANGUAGE = "lang"
INPUT_CHARS = "input_chars"
OUTPUT_CHARS = "output_chars"
INPUT_TOKENS = "input_tokens"
OUTPUT_TOKENS = "output_tokens"
OUTPUT_AGREEMENT = "output_agreement"  # float: how well the output agrees with those of similar inputs

QUALITY_FLAGS = (
    "empty_output",
    "truncated_output",
    "too_long",
    "pii",
    "invalid_json",
    "schema_mismatch",
    "refusal",
    "inconsistent_output",  # the output disagrees with what similar inputs get (analysis.quality.consistency)
    "off_format",  # the output's shape (prose, list, JSON, ...) is rare in the project
)

# Preference data (import): the rejected reply of a chosen/rejected pair. The chosen reply is the
# record's output; this one is kept for the `preference` export (TRL's prompt/chosen/rejected).
# Source data, not an analysis result: analysis never rewrites it.
REJECTED_OUTPUT = "rejected_output"

# Review.
ADJUDICATED_BY = "adjudicated_by"  # name of the owner who set this record's final answer
FINAL_ANSWER = "final_answer"  # {"values": {question: answer}, "by": owner, "at": ISO time}: the adjudication
ASSIGNED_TO = "assigned_to"  # list[str]: who is to review this record (curation.review.assignment)
REVIEW_KEYS = (DUP_RESOLUTION, ADJUDICATED_BY, FINAL_ANSWER, ASSIGNED_TO)
"""Keys review writes (decisions, not source data): analysis never touches them."""

# Every key analysis owns: re-running analysis replaces these and nothing else.
ANALYSIS_KEYS = (
    CLUSTER,
    CLUSTER_NAME,
    MAP_X,
    MAP_Y,
    DUP_GROUP,
    DUP_TIER,
    DUP_SCORE,
    DUP_KEEPER,
    CONFLICT_GROUP,
    FLAGS,
    LANGUAGE,
    INPUT_CHARS,
    OUTPUT_CHARS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    OUTPUT_AGREEMENT,
)
