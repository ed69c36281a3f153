"""Duplicate detection in three tiers (exact, near, semantic), grouping, keepers and conflicts."""
