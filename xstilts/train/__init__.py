"""Training stage. Takes: an encoder folder and task folders (clean and perturbed test sets).
Gives: intermediate-task checkpoints and, per target task, zero-shot scores and per-example statistics."""
