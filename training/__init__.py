"""pairsmith's training side: export, LoRA training, evaluation and the job runner."""

import os

# OpenMP threads that spin while they wait starve each other on a shared or busy CPU: on the
# 2-core development machine, with other work running, training steps were 1.5-4x slower with
# torch's default (spinning) than with passive waiting, which costs little on an idle machine.
# Only effective when set before torch is first imported; OMP_WAIT_POLICY in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
