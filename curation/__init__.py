"""pairsmith's curation engine: data model, import, stores, embeddings, dedup, clusters, diversity, quality."""

import os

# OpenMP threads that spin while they wait starve each other on a shared or busy CPU: on the
# 2-core development machine, with other work running, training steps were 1.5-4x slower with
# torch's default (spinning) than with passive waiting, which costs little on an idle machine.
# Embedding (MiniLM) runs on the same OpenMP pool. Only effective when set before torch is first
# imported, hence here, in the package every entry point imports first; the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
