"""xstilts: the X-STILTs study as a library, one subpackage per pipeline stage, in DAG order:
`data` (raw sources -> validated task folders), `models` (encoders: micro pretraining, e5 conversion),
`train` (intermediate and target training, zero-shot evaluation), `perturb` (perturbed test sets, attacks),
`retrieve` (sentence embeddings, BUCC/Tatoeba search), `report` (tidy results -> tables, claims, figures).
The shared core at the top level (`tasks`, `records`, `config`, `env`, `snake`, `stats`) imports no stage,
except `config`, which checks a config against `data.sources` and the micro world's languages;
`tests/test_layout.py` keeps it so and the whole import graph acyclic.
"""
