"""pairsmith's training side: export, LoRA training, evaluation and the job runner."""
