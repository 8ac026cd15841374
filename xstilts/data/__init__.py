"""Data stage. Takes: raw sources (the micro world's generator, the committed small bundle, hub datasets).
Gives: validated per-task folders `<task>/<lang>/<split>.jsonl` + meta, MT copies, MLM shards, an inventory."""
