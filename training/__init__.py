"""pairsmith's training side: export, LoRA training, evaluation and the job runner."""

import curation  # noqa: F401  (sets OMP_WAIT_POLICY before torch is imported; see curation/__init__.py)
