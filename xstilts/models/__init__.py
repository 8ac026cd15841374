"""Models stage. Takes: MLM shards (micro), a pinned e5 checkpoint (small) or hub weights (paper).
Gives: an encoder folder (`save_pretrained` layout + tokenizer) and the task heads built on it."""
