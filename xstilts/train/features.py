"""Records -> token features -> padded batches, per task format (jiant's Example -> features -> batch)."""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from xstilts import tasks as T


@dataclass
class Encoded:
    task: str
    fmt: str
    features: list[dict]  # one dict of python lists per model input sequence (QA: per window)
    records: list[dict]

    def __len__(self):
        return len(self.features)


def qa_limits(max_length: int, doc_stride: int = 128, max_query_length: int = 64) -> tuple[int, int]:
    """(question token cap, window overlap) for extractive QA features. XTREME: 64 and 128 at max length 384.
    Short max lengths (the micro scale's 128, tests) keep at least half of a window for the context: the
    question cap is cut to that, and the overlap to half the context room (a stride as large as the room makes
    the tokenizer refuse)."""
    specials = 4  # <s> question </s></s> context </s>
    if max_length < specials + 4:
        raise ValueError(f"max_length {max_length} is too short for question-answering features")
    q_cap = max(1, min(max_query_length, (max_length - specials) // 2))
    room = max_length - q_cap - specials
    return q_cap, max(1, min(doc_stride, room // 2))


def cap_questions(questions: list[str], tokenizer, max_query_length: int) -> list[str]:
    """Questions cut to their first `max_query_length` tokens (XTREME's max_query_length), at a character
    offset so that the text stays an exact prefix of the original."""
    enc = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for q, offs in zip(questions, enc["offset_mapping"]):
        out.append(q[:offs[max_query_length - 1][1]] if len(offs) > max_query_length else q)
    return out


def encode(records: list[dict], task: T.Task, tokenizer, max_length: int, labels=None, train: bool = False,
           doc_stride: int = 128, max_query_length: int = 64) -> Encoded:
    fmt = task.format
    feats: list[dict] = []
    if fmt == T.CLASSIFICATION:
        a = [r["text_a"] for r in records]
        b = [r["text_b"] for r in records] if task.pair else None
        enc = tokenizer(a, b, truncation=True, max_length=max_length)
        for i, r in enumerate(records):
            feats.append({"input_ids": enc["input_ids"][i], "label": r["label"], "ex": i})
    elif fmt == T.MULTIPLE_CHOICE:
        for i, r in enumerate(records):
            first = [(r["context"] + (" " + r["question"] if r["question"] else ""))] * len(r["choices"])
            enc = tokenizer(first, r["choices"], truncation=True, max_length=max_length)
            feats.append({"input_ids": enc["input_ids"], "label": r["label"], "ex": i})
    elif fmt == T.TAGGING:
        lab = {t: j for j, t in enumerate(labels)} if labels else None
        enc = tokenizer([r["tokens"] for r in records], is_split_into_words=True, truncation=True,
                        max_length=max_length)
        for i, r in enumerate(records):
            wids = enc.word_ids(i)
            first, prev = [], None
            y = []
            for p, w in enumerate(wids):
                # label the first sub-token of each word (XTREME/transformers convention)
                if w is not None and w != prev:
                    first.append(p)
                    y.append(lab[r["tags"][w]] if lab else -100)
                else:
                    y.append(-100)
                prev = w
            feats.append({"input_ids": enc["input_ids"][i], "labels": y, "first": first,
                          "n_words": len(r["tokens"]), "ex": i})
    elif fmt == T.SPAN_QA:
        # XTREME: questions capped at 64 tokens, windows over a long context overlapping by 128 (qa_limits)
        q_cap, stride = qa_limits(max_length, doc_stride, max_query_length)
        questions = cap_questions([r["question"] for r in records], tokenizer, q_cap)
        enc = tokenizer(questions, [r["context"] for r in records],
                        truncation="only_second", max_length=max_length, stride=stride,
                        return_overflowing_tokens=True, return_offsets_mapping=True)
        for j in range(len(enc["input_ids"])):
            i = enc["overflow_to_sample_mapping"][j]
            seq = enc.sequence_ids(j)
            # offsets only for context tokens, so post-processing can never pick a question span
            offs = [o if s == 1 else None for o, s in zip(enc["offset_mapping"][j], seq)]
            f = {"input_ids": enc["input_ids"][j], "offsets": offs, "ex": i}
            if train:
                f["start"], f["end"] = _span_positions(records[i], offs)
            feats.append(f)
    else:
        raise ValueError(f"cannot encode format {fmt!r}")
    return Encoded(task.name, fmt, feats, records)


FEATURES_VERSION = 2  # bump when encode() changes what it produces: old cache entries are then never read


def _file_digest(path) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tokenizer_digest(tokenizer) -> str:
    """Identity of a tokenizer: its vocabulary files' bytes (not its folder name, which differs per model).

    Memoised on the tokenizer object: a fine-tuning job looks up a hundred evaluation sets with one tokenizer,
    and hashing its files each time would cost more than reading the cached features."""
    memo = getattr(tokenizer, "_xstilts_digest", None)
    if memo is not None:
        return memo
    digest = _tokenizer_digest(tokenizer)
    try:
        tokenizer._xstilts_digest = digest
    except AttributeError:
        pass  # an object that takes no attributes: hashed again next time, still correct
    return digest


def _tokenizer_digest(tokenizer) -> str:
    import hashlib
    from pathlib import Path
    folder = Path(getattr(tokenizer, "name_or_path", "") or ".")
    h = hashlib.sha256(type(tokenizer).__name__.encode())
    files = [folder / n for n in ("tokenizer.json", "sentencepiece.bpe.model", "vocab.txt", "tokenizer_config.json",
                                  "special_tokens_map.json") if (folder / n).is_file()]
    if not files:
        # no files to identify it by: fall back to the vocabulary itself
        h.update(repr(sorted(tokenizer.get_vocab().items())).encode())
    for f in files:
        h.update(f.name.encode())
        h.update(_file_digest(f).encode())
    return h.hexdigest()[:16]


def encode_cached(records: list[dict], task: T.Task, tokenizer, max_length: int, labels=None, train: bool = False,
                  cache_dir=None, source=None, limit: int = 0, log=None, doc_stride: int = 128,
                  max_query_length: int = 64) -> Encoded:
    """`encode`, with the features stored once per (source file bytes, task, tokenizer, max length, labels,
    train, limit) under `cache_dir` and reused by every later job: tokenising MNLI or SQuAD for XLM-R Large
    takes minutes, and nine intermediate runs plus the controls read the same files. Entries are written
    atomically, so parallel jobs at worst both compute the same entry."""
    import gzip
    import hashlib
    import json
    from pathlib import Path
    qa = {"doc_stride": doc_stride, "max_query_length": max_query_length}
    if not cache_dir or source is None:
        return encode(records, task, tokenizer, max_length, labels, train=train, **qa)
    key = json.dumps({"v": FEATURES_VERSION, "src": _file_digest(source), "task": task.name, "fmt": task.format,
                      "tok": tokenizer_digest(tokenizer), "max_length": max_length, "labels": labels,
                      "train": train, "limit": limit, "n": len(records),
                      **(qa if task.format == T.SPAN_QA else {})}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    path = Path(cache_dir) / f"{task.name}-{digest}.json.gz"
    if path.exists():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                feats = json.load(f)
            if len(feats) and feats[-1]["ex"] < len(records):
                if log:
                    log(f"features of {source} from cache {path.name}")
                return Encoded(task.name, task.format, feats, records)
        except (OSError, EOFError, ValueError, KeyError, IndexError):
            pass  # a damaged entry is recomputed and replaced, never trusted
    enc = encode(records, task, tokenizer, max_length, labels, train=train, **qa)
    from xstilts.records import atomic_write_bytes
    atomic_write_bytes(path, gzip.compress(json.dumps(enc.features, separators=(",", ":")).encode("utf-8"),
                                           compresslevel=1, mtime=0))
    return enc


def _span_positions(rec, offs):
    ans = rec["answers"]
    if not ans["text"]:
        return 0, 0  # unanswerable: point at <s>
    s_char = ans["answer_start"][0]
    e_char = s_char + len(ans["text"][0])
    ctx = [k for k, o in enumerate(offs) if o is not None]
    if not ctx or offs[ctx[0]][0] > s_char or offs[ctx[-1]][1] < e_char:
        return 0, 0  # answer outside this window
    st = next(k for k in ctx if offs[k][1] > s_char)
    en = next(k for k in reversed(ctx) if offs[k][0] < e_char)
    return st, en


def lengths(enc: Encoded) -> list[int]:
    if enc.fmt == T.MULTIPLE_CHOICE:
        return [max(len(x) for x in f["input_ids"]) for f in enc.features]
    return [len(f["input_ids"]) for f in enc.features]


def length_grouped_batches(lens: list[int], batch_size: int, rng: random.Random, shuffle: bool = True,
                           mega: int = 50) -> list[list[int]]:
    """Shuffle, then sort by length inside mega-batches of `mega` batches: little padding, still random."""
    idx = list(range(len(lens)))
    if shuffle:
        rng.shuffle(idx)
    batches = []
    for m in range(0, len(idx), batch_size * mega):
        chunk = sorted(idx[m:m + batch_size * mega], key=lambda i: -lens[i])
        batches += [chunk[k:k + batch_size] for k in range(0, len(chunk), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def collate(enc: Encoded, ids: list[int], pad_id: int, train: bool = True, pad_to: int | None = None) -> dict:
    """Pad to the longest sequence of the batch (dynamic padding), or to `pad_to` (fixed shapes: the naive
    baseline of benchmarks/bench_training.py, or accelerators that recompile per shape)."""
    fs = [enc.features[i] for i in ids]
    if enc.fmt == T.MULTIPLE_CHOICE:
        L = max(len(x) for f in fs for x in f["input_ids"])
        L = max(L, pad_to or 0)
        ii = torch.full((len(fs), len(fs[0]["input_ids"]), L), pad_id, dtype=torch.long)
        for b, f in enumerate(fs):
            for c, x in enumerate(f["input_ids"]):
                ii[b, c, :len(x)] = torch.tensor(x)
        out = {"input_ids": ii, "attention_mask": (ii != pad_id).long()}
        out["labels"] = torch.tensor([f["label"] for f in fs])
        return out
    L = max(max(len(f["input_ids"]) for f in fs), pad_to or 0)
    ii = torch.full((len(fs), L), pad_id, dtype=torch.long)
    am = torch.zeros((len(fs), L), dtype=torch.long)
    for b, f in enumerate(fs):
        ii[b, :len(f["input_ids"])] = torch.tensor(f["input_ids"])
        am[b, :len(f["input_ids"])] = 1
    out = {"input_ids": ii, "attention_mask": am}
    if enc.fmt == T.CLASSIFICATION:
        out["labels"] = torch.tensor([f["label"] for f in fs])
    elif enc.fmt == T.TAGGING:
        lab = torch.full((len(fs), L), -100, dtype=torch.long)
        for b, f in enumerate(fs):
            lab[b, :len(f["labels"])] = torch.tensor(f["labels"])
        out["labels"] = lab
    elif enc.fmt == T.SPAN_QA and train:
        out["start_positions"] = torch.tensor([f["start"] for f in fs])
        out["end_positions"] = torch.tensor([f["end"] for f in fs])
    return out


def mlm_batch(token_lists: list[list[int]], tokenizer, mask_prob: float, gen: torch.Generator) -> dict:
    """BERT masking (80% <mask>, 10% random, 10% kept) of non-special tokens, padded to the longest."""
    pad = tokenizer.pad_token_id
    L = max(len(t) for t in token_lists)
    ii = torch.full((len(token_lists), L), pad, dtype=torch.long)
    for b, t in enumerate(token_lists):
        ii[b, :len(t)] = torch.tensor(t)
    special = torch.zeros_like(ii, dtype=torch.bool)
    for sid in tokenizer.all_special_ids:
        special |= ii == sid
    prob = torch.full(ii.shape, mask_prob)
    prob.masked_fill_(special, 0.0)
    masked = torch.bernoulli(prob, generator=gen).bool()
    labels = torch.where(masked, ii, torch.full_like(ii, -100))
    inputs = ii.clone()
    repl = torch.bernoulli(torch.full(ii.shape, 0.8), generator=gen).bool() & masked
    inputs[repl] = tokenizer.mask_token_id
    rnd = torch.bernoulli(torch.full(ii.shape, 0.5), generator=gen).bool() & masked & ~repl
    inputs[rnd] = torch.randint(len(tokenizer), ii.shape, generator=gen)[rnd]
    return {"input_ids": inputs, "attention_mask": (ii != pad).long(), "labels": labels}
