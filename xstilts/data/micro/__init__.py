"""The embedded micro benchmark: a seeded semantic world rendered into English and four synthetic
languages, and every task of the pipeline built from it, written in the record layout of docs/records.md.

    from xstilts.data.micro import generate
    manifest = generate("resources/data/micro", {"seed": 1})

Only the standard library is used (the generator runs as a light job). Same seed and parameters give
byte-identical files; `manifest.json` is written last and lists every file with its record count and hash.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from xstilts import records as R
from xstilts import tasks as TT
from xstilts.data.micro import tasks as B
from xstilts.data.micro.world import CCG_LABELS, LANGS, SYNTHETIC, World, stream

GENERATOR_VERSION = "1"

# Every parameter of the generator, with its default. `generate(cfg=...)` overrides any of them; an unknown
# key (or an unknown language / task inside a dict-valued key) raises ValueError naming it.
DEFAULTS = {
    # master seed: every random stream (lexicons, names, each task x language x split) is derived from it
    "seed": 0,
    # languages to generate: "en" (required) plus any of the synthetic ones xl (Latin with diacritics),
    # xc (Cyrillic, verb-final), xg (Greek), xk (kana-like syllabary written without spaces)
    "languages": ["en", "xl", "xc", "xg", "xk"],
    # tasks to generate (names of xstilts.tasks); null = all of them
    "tasks": None,
    # English training examples per task (targets with English training data and intermediate tasks)
    "n_train": 1200,
    # per-task overrides of n_train (ANLI+ is larger than MNLI; TyDiQA's English training set is small)
    "n_train_by_task": {"anli_plus": 2400, "tydiqa": 600},
    # dev examples per language (targets) or English dev examples (intermediate tasks)
    "n_dev": 150,
    # test examples per language (targets; also the number of Tatoeba pairs per language)
    "n_test": 150,
    # MLM corpus records per language, sampled independently per language (not line-aligned)
    "n_mlm": 3000,
    # [min, max] sentences per MLM record (a paragraph about one person and one topic)
    "mlm_sentences": [1, 3],
    # BUCC: sentences per side (source and target) per split, and how many of them are gold pairs
    "bucc_sentences": 300,
    "bucc_gold": 100,
    # share of content-word lexemes (nouns, verbs, adjectives, adverbs) whose form is identical to English,
    # per synthetic language (chosen exactly, per word class)
    "cognate_share": {"xl": 0.5, "xc": 0.3, "xg": 0.3, "xk": 0.15},
    # how cognates are spelled in non-Latin scripts: "english" = the English spelling (shared forms, the
    # only way a tokenizer can share them), "native" = transliterated into the language's script
    "cognate_script": "english",
    # dictionary anchors: share of MLM records of each synthetic language in which content words are
    # code-switched to their English forms (each with probability 0.5)
    "mlm_codeswitch_share": 0.0,
    # write the MT control: translated copies of every intermediate task's training set in each language
    "mt_control": True,
    # exponent of the Zipfian word-choice distributions (0 = uniform)
    "zipf_exponent": 1.0,
    # exponent of the Zipfian choice of entity names (flatter than words, so NER and QA meet many names)
    "name_zipf_exponent": 0.7,
    # first names (and surnames); the world also has 2/3 as many place names and 1/3 as many organisations
    "n_names": 150,
    # [min, max] words (punctuation excluded) of single sentences in tagging, sentiment and retrieval data
    "sentence_words": [6, 25],
    # [min, max] sentences per QA context
    "qa_sentences": [3, 6],
    # share of unanswerable questions in SQuAD v2.0
    "unanswerable_share": 0.33,
    # share of ANLI+ examples from the adversarial generator (the rest come from the MNLI-like generator)
    "anli_hard_share": 0.5,
    # PAWS-X negatives that change who takes part (another person) instead of swapping the two roles: the
    # role-swap trap alone is beyond a tiny model trained for seconds; real PAWS mixes both kinds too
    "paws_detail_share": 0.5,
}

ALL_TASKS = list(TT.TASKS)


def _bad(msg):
    raise ValueError(f"micro config: {msg}")


def resolve_config(cfg: dict | None) -> dict:
    """DEFAULTS overridden by `cfg`, validated. Dict-valued keys are merged key by key."""
    cfg = dict(cfg or {})
    for k in cfg:
        if k not in DEFAULTS:
            _bad(f"unknown key {k!r} (known: {', '.join(DEFAULTS)})")
    p = copy.deepcopy(DEFAULTS)
    for k, v in cfg.items():
        if isinstance(DEFAULTS[k], dict):
            if not isinstance(v, dict):
                _bad(f"{k!r} must be a mapping")
            p[k] = {**p[k], **v}
        else:
            p[k] = copy.deepcopy(v)

    def integer(k, lo=0):
        if not isinstance(p[k], int) or isinstance(p[k], bool) or p[k] < lo:
            _bad(f"{k!r} must be an integer >= {lo}, got {p[k]!r}")

    def share(k, v):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1:
            _bad(f"{k!r} must be a number in [0, 1], got {v!r}")

    def pair(k, lo):
        v = p[k]
        if not (isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v)
                and lo <= v[0] <= v[1]):
            _bad(f"{k!r} must be [min, max] integers with {lo} <= min <= max, got {v!r}")
        p[k] = list(v)

    integer("seed")
    for k in ("n_train", "n_dev", "n_test", "n_mlm", "bucc_sentences", "bucc_gold"):
        integer(k, 1)
    if p["bucc_gold"] > p["bucc_sentences"]:
        _bad("'bucc_gold' must not exceed 'bucc_sentences'")
    langs = p["languages"] = list(p["languages"]) if isinstance(p["languages"], (list, tuple)) else p["languages"]
    if not isinstance(langs, list) or "en" not in langs:
        _bad("'languages' must be a list that includes 'en'")
    for l in langs:
        if l not in LANGS:
            _bad(f"unknown language {l!r} in 'languages' (known: {', '.join(LANGS)})")
    if len(set(langs)) != len(langs):
        _bad("'languages' has duplicates")
    p["languages"] = ["en"] + [l for l in LANGS if l in langs and l != "en"]
    if p["tasks"] is not None:
        p["tasks"] = list(p["tasks"]) if isinstance(p["tasks"], (list, tuple)) else p["tasks"]
        if not isinstance(p["tasks"], list):
            _bad("'tasks' must be a list of task names or null")
        for t in p["tasks"]:
            if t not in TT.TASKS:
                _bad(f"unknown task {t!r} in 'tasks'")
    for t, n in p["n_train_by_task"].items():
        if t not in TT.TASKS:
            _bad(f"unknown task {t!r} in 'n_train_by_task'")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            _bad(f"'n_train_by_task'[{t!r}] must be an integer >= 1")
    for l, v in p["cognate_share"].items():
        if l not in SYNTHETIC:
            _bad(f"unknown language {l!r} in 'cognate_share' (synthetic: {', '.join(SYNTHETIC)})")
        share(f"cognate_share[{l!r}]", v)
    if p["cognate_script"] not in ("english", "native"):
        _bad("'cognate_script' must be 'english' or 'native'")
    for k in ("mlm_codeswitch_share", "unanswerable_share", "anli_hard_share", "paws_detail_share"):
        share(k, p[k])
    if not isinstance(p["mt_control"], bool):
        _bad("'mt_control' must be true or false")
    for k in ("zipf_exponent", "name_zipf_exponent"):
        if not isinstance(p[k], (int, float)) or isinstance(p[k], bool) or p[k] < 0:
            _bad(f"{k!r} must be a number >= 0")
    integer("n_names", 30)
    pair("sentence_words", 1)
    pair("qa_sentences", 2)
    pair("mlm_sentences", 1)
    return p


class _Writer:
    """Writes task files through records.write_jsonl and keeps meta and manifest bookkeeping."""

    def __init__(self, outdir: Path, params: dict):
        self.out = outdir
        self.p = params
        self.files: list[dict] = []
        self.meta: dict[str, dict] = {}

    def task_meta(self, task, labels, languages, extra=None):
        spec = TT.get(task)
        m = {"task": task, "format": spec.format, "labels": list(labels), "languages": list(languages),
             "splits": {l: [] for l in languages}, "counts": {l: {} for l in languages}, "source": "micro"}
        if spec.n_choices:
            m["n_choices"] = spec.n_choices
        m["provenance"] = {"generator": "xstilts.data.micro", "version": GENERATOR_VERSION, "seed": self.p["seed"],
                           "params": self.p, **(extra or {})}
        self.meta[task] = m
        return m

    def write(self, task, lang, split, recs, suffix=".jsonl", fmt="default"):
        m = self.meta[task]
        spec = TT.get(task)
        path = R.task_file(self.out, task, lang, split, suffix)
        if fmt == "default":
            fmt = spec.format
        n = R.write_jsonl(path, recs, fmt, m["labels"] or None, spec.n_choices or None)
        if suffix == ".jsonl":
            m["splits"][lang].append(split)
            m["counts"][lang][split] = n
        self.files.append({"path": path.relative_to(self.out).as_posix(), "records": n})
        return n

    def finish_task(self, task):
        p = self.out / f"task~{task}" / "meta.json"
        R.atomic_write_text(p, json.dumps(self.meta[task], ensure_ascii=False, indent=1) + "\n")
        self.files.append({"path": p.relative_to(self.out).as_posix(), "records": None})


def _examples(builder, rng, n, seen, key_lang):
    """n examples with exactly balanced labels and no duplicate (by rendering in `key_lang`) in `seen`."""
    out = []
    for label in builder.labels_for(n, rng):
        for attempt in range(100):
            ex = builder.make(rng, label)
            if ex is None:
                continue
            rec = builder.render(ex, key_lang)
            key = json.dumps(rec, ensure_ascii=False, sort_keys=True)
            if key not in seen or attempt == 99:
                seen.add(key)
                out.append((ex, rec))
                break
    return out


def _builders(w, p):
    return {
        "xnli": lambda: B.NLI(w, p, "mnli"),
        "pawsx": lambda: B.PAWS(w, p, detail_share=p["paws_detail_share"]),
        "udpos": lambda: B.Tagging(w, p, "upos"),
        "panx": lambda: B.Tagging(w, p, "ner", require_entity=True),
        "xquad": lambda: B.SpanQA(w, p),
        "mlqa": lambda: B.SpanQA(w, p, sentences=[p["qa_sentences"][0], p["qa_sentences"][1] + 1],
                                 wh_weights={"A": 1, "O": 1.5, "P": 1, "C": 0.7, "K": 0.7}),
        "tydiqa": lambda: B.SpanQA(w, p, sentences=[max(2, p["qa_sentences"][0] - 1), p["qa_sentences"][1] - 1],
                                   wh_weights={"A": 2, "O": 1, "P": 1.5, "C": 0.5, "K": 0.5}, passive=0.1),
        "squad_v1": lambda: B.SpanQA(w, p),
        "anli_plus": lambda: B.NLI(w, p, "mnli", hard_share=p["anli_hard_share"]),
        "mnli": lambda: B.NLI(w, p, "mnli"),
        "qqp": lambda: B.QQP(w, p),
        "squad_v2": lambda: B.SpanQA(w, p, unanswerable=p["unanswerable_share"]),
        "hellaswag": lambda: B.HellaSwag(w, p),
        "cosmosqa": lambda: B.CosmosQA(w, p),
        "commonsenseqa": lambda: B.CommonsenseQA(w, p),
        "sst2": lambda: B.SST(w, p),
        "ccg": lambda: B.Tagging(w, p, "ccg"),
    }


def _labels(task, builder):
    spec = TT.get(task)
    if spec.labels:
        assert tuple(builder.labels) == spec.labels, (task, builder.labels)
        return list(spec.labels)
    if task == "ccg":
        return list(CCG_LABELS)
    return []


def _split_sizes(p, task):
    return {"train": p["n_train_by_task"].get(task, p["n_train"]), "dev": p["n_dev"], "test": p["n_test"]}


def _ids(task, split, n, lang=None):
    mid = f"{lang}-" if lang else ""
    return [f"{task}-{mid}{split}-{i:05d}" for i in range(n)]


def _rec(rid, fields):
    return {"id": rid, **fields}


def _parallel(wr, w, p, task, builder, en_only, all_langs):
    """English-only splits from English streams; the other splits generated once and rendered in every
    language (parallel test sets, as XNLI, PAWS-X, XQuAD and MLQA are)."""
    langs = p["languages"]
    en = w.langs["en"]
    seen = set()
    sizes = _split_sizes(p, task)
    for split in ("train", "dev", "test"):
        if split in en_only:
            exs = _examples(builder, stream(p["seed"], task, "en", split), sizes[split], seen, en)
            wr.write(task, "en", split, [_rec(i, r) for i, (_, r) in zip(_ids(task, split, len(exs)), exs)])
        elif split in all_langs:
            exs = _examples(builder, stream(p["seed"], task, "all", split), sizes[split], seen, en)
            ids = _ids(task, split, len(exs))
            for l in langs:
                L = w.langs[l]
                wr.write(task, l, split, [_rec(i, r if l == "en" else builder.render(ex, L))
                                          for i, (ex, r) in zip(ids, exs)])


def _per_language(wr, w, p, task, builder, en_splits, other_splits):
    """Independently sampled data per language (UD-POS, PAN-X and TyDiQA are not parallel)."""
    sizes = _split_sizes(p, task)
    for l in p["languages"]:
        L = w.langs[l]
        seen = set()
        for split in ("train", "dev", "test"):
            if split not in (en_splits if l == "en" else other_splits):
                continue
            exs = _examples(builder, stream(p["seed"], task, l, split), sizes[split], seen, L)
            wr.write(task, l, split, [_rec(i, r) for i, (_, r) in zip(_ids(task, split, len(exs), l), exs)])


def _intermediate(wr, w, p, task, builder):
    """English train + dev; with mt_control, the training set rendered in every other language (same ids)."""
    en = w.langs["en"]
    seen = set()
    sizes = _split_sizes(p, task)
    train = _examples(builder, stream(p["seed"], task, "en", "train"), sizes["train"], seen, en)
    dev = _examples(builder, stream(p["seed"], task, "en", "dev"), sizes["dev"], seen, en)
    ids = _ids(task, "train", len(train))
    wr.write(task, "en", "train", [_rec(i, r) for i, (_, r) in zip(ids, train)])
    wr.write(task, "en", "dev", [_rec(i, r) for i, (_, r) in zip(_ids(task, "dev", len(dev)), dev)])
    if p["mt_control"]:
        for l in p["languages"][1:]:
            L = w.langs[l]
            wr.write(task, l, "train", [_rec(i, builder.render(ex, L)) for i, (ex, _) in zip(ids, train)])


def _tatoeba(wr, w, p):
    task = "tatoeba"
    en = w.langs["en"]
    lo, hi = p["sentence_words"]
    for l in p["languages"][1:]:
        L = w.langs[l]
        rng = stream(p["seed"], task, l, "test")
        seen, recs = set(), []
        while len(recs) < p["n_test"]:
            s = B.simple_sentence(w, rng)
            et = w.sentence(en, s)
            n = sum(1 for t in et if t[1] != "PUNCT")
            target = w.text(en, et)
            if not lo <= n <= min(hi, max(lo, 15)) or target in seen:
                continue
            seen.add(target)
            recs.append({"id": f"tatoeba-{l}-{len(recs):05d}", "source": w.text(L, w.sentence(L, s)),
                         "target": target})
        wr.write(task, l, "test", recs)


def _bucc(wr, w, p):
    task = "bucc"
    en = w.langs["en"]
    lo, hi = p["sentence_words"]
    gold_counts = {}
    for l in p["languages"][1:]:
        L = w.langs[l]
        gold_counts[l] = {}
        for split in ("dev", "test"):
            rng = stream(p["seed"], task, l, split)
            seen = set()

            def fresh(base=None):
                for k in range(200):
                    s = B.perturb(w, rng, base) if base is not None and k < 20 else B.simple_sentence(w, rng)
                    et = w.sentence(en, s)
                    t = w.text(en, et)
                    if t not in seen and lo <= sum(1 for x in et if x[1] != "PUNCT") <= hi:
                        seen.add(t)
                        return s
                raise RuntimeError("bucc: no fresh sentence")

            n_gold, n_side = p["bucc_gold"], p["bucc_sentences"]
            gold = [fresh() for _ in range(n_gold)]
            extra = {}
            for side in ("source", "target"):
                extra[side] = [fresh(rng.choice(gold) if gold and rng.random() < 0.5 else None)
                               for _ in range(n_side - n_gold)]
            src = [(s, True, i) for i, s in enumerate(gold)] + [(s, False, None) for s in extra["source"]]
            tgt = [(s, True, i) for i, s in enumerate(gold)] + [(s, False, None) for s in extra["target"]]
            rng.shuffle(src)
            rng.shuffle(tgt)
            recs, src_of, tgt_of = [], {}, {}
            for k, (s, g, gi) in enumerate(src):
                rid = f"{l}-{split}-{k:06d}"
                recs.append({"id": rid, "side": "source", "text": w.text(L, w.sentence(L, s))})
                if g:
                    src_of[gi] = rid
            for k, (s, g, gi) in enumerate(tgt):
                rid = f"en-{split}-{k:06d}"
                recs.append({"id": rid, "side": "target", "text": w.text(en, w.sentence(en, s))})
                if g:
                    tgt_of[gi] = rid
            for side in ("source", "target"):
                texts = [r["text"] for r in recs if r["side"] == side]
                assert len(set(texts)) == len(texts), f"bucc {l} {split}: duplicate {side} sentence"
            golds = sorted(({"source_id": src_of[i], "target_id": tgt_of[i]} for i in range(n_gold)),
                           key=lambda g: g["source_id"])
            sids = {r["id"] for r in recs if r["side"] == "source"}
            tids = {r["id"] for r in recs if r["side"] == "target"}
            gpath = R.task_file(wr.out, task, l, split, ".gold.jsonl")
            for j, g in enumerate(golds):
                R.validate_bucc_gold(g, f"{gpath}:{j + 1}", sids, tids)
            wr.write(task, l, split, recs)
            wr.write(task, l, split, golds, suffix=".gold.jsonl", fmt=None)
            gold_counts[l][split] = len(golds)
    wr.meta[task]["gold_counts"] = gold_counts


def _mlm(wr, w, p):
    task = "mlm_corpus"
    for l in p["languages"]:
        L = w.langs[l]
        rng = stream(p["seed"], task, l, "train")
        recs = []
        for i in range(p["n_mlm"]):
            sents = [B.render_statement(w, L, s) for s in B.mlm_paragraph(w, rng, *p["mlm_sentences"])]
            if l != "en" and p["mlm_codeswitch_share"] and rng.random() < p["mlm_codeswitch_share"]:
                sents = [w.codeswitch(L, t, rng) for t in sents]
            recs.append({"id": f"mlm-{l}-{i:06d}", "lang": l, "text": w.paragraph(L, sents)[0]})
        wr.write(task, l, "train", recs)


TARGET_LAYOUT = {  # task: (layout, English splits, other languages' splits)
    "xnli": ("parallel", ("train",), ("dev", "test")),
    "pawsx": ("parallel", ("train",), ("dev", "test")),
    "udpos": ("per_language", ("train", "dev", "test"), ("dev", "test")),
    "panx": ("per_language", ("train", "dev", "test"), ("dev", "test")),
    "xquad": ("parallel", (), ("test",)),
    "mlqa": ("parallel", (), ("dev", "test")),
    "tydiqa": ("per_language", ("train", "dev", "test"), ("dev", "test")),
    "squad_v1": ("per_language", ("train", "dev"), ()),
}


def generate(outdir, cfg: dict | None = None) -> dict:
    """Write the micro benchmark under `outdir`; return the manifest (also written, last, as manifest.json)."""
    p = resolve_config(cfg)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    man_path = out / "manifest.json"
    if man_path.exists():
        man_path.unlink()  # an interrupted run must not look complete
    w = World(p["seed"], p["languages"], p["cognate_share"], p["cognate_script"], p["zipf_exponent"],
              p["n_names"], p["name_zipf_exponent"])
    wr = _Writer(out, p)
    builders = _builders(w, p)
    tasks = [t for t in ALL_TASKS if p["tasks"] is None or t in p["tasks"]]
    langs = p["languages"]
    others = langs[1:]
    for task in tasks:
        spec = TT.get(task)
        if task in TARGET_LAYOUT:
            layout, en_s, other_s = TARGET_LAYOUT[task]
            b = builders[task]()
            if task == "squad_v1":
                wr.task_meta(task, [], ["en"], {"note": "English training set of XQuAD and MLQA"})
                _per_language(wr, w, {**p, "languages": ["en"]}, task, b, en_s, other_s)
            else:
                wr.task_meta(task, _labels(task, b), langs)
                if layout == "parallel":
                    _parallel(wr, w, p, task, b, en_s, other_s)
                else:
                    _per_language(wr, w, p, task, b, en_s, other_s)
        elif spec.role == "intermediate":
            b = builders[task]()
            mt = others if p["mt_control"] else []
            wr.task_meta(task, _labels(task, b), ["en"] + mt,
                         {"mt_control": {l: "train = rendering of the English training examples in this language"
                                         for l in mt}})
            _intermediate(wr, w, p, task, b)
        elif task == "tatoeba":
            wr.task_meta(task, [], others, {"pairs": "source (non-English) and target (English) of a row are "
                                                     "translations"})
            _tatoeba(wr, w, p)
        elif task == "bucc":
            wr.task_meta(task, [], others, {"gold": "<split>.gold.jsonl beside each split's sentences"})
            _bucc(wr, w, p)
        elif task == "mlm_corpus":
            wr.task_meta(task, [], langs, {"aligned": False})
            _mlm(wr, w, p)
        else:  # pragma: no cover - every registered task is handled above
            raise ValueError(f"micro generator has no builder for task {task!r}")
        wr.finish_task(task)
    lex_path = out / "lexicon.json"
    R.atomic_write_text(lex_path, json.dumps(w.dictionary(), ensure_ascii=False, indent=0) + "\n")
    wr.files.append({"path": "lexicon.json", "records": None})
    from xstilts.data.prepare import inventory_rows, write_inventory  # the same inventory the hub data stage writes
    write_inventory(out / "inventory.tsv", inventory_rows(out, tasks))
    wr.files.append({"path": "inventory.tsv", "records": None})
    for f in wr.files:
        f["sha256"] = hashlib.sha256((out / f["path"]).read_bytes()).hexdigest()
    manifest = {"source": "micro", "generator": "xstilts.data.micro", "version": GENERATOR_VERSION,
                "seed": p["seed"], "params": p, "tasks": tasks, "languages": langs, "files": wr.files}
    R.atomic_write_text(man_path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return manifest


__all__ = ["DEFAULTS", "generate", "resolve_config"]
