"""Encoders and task heads.

The embedded micro XLM-R and `xlm-roberta-large` go through the same loader (`load_encoder` on a local
folder written by `save_pretrained`), so the paper-scale path is the code the default run exercises.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from xstilts import tasks as T

SP_MODEL = "sentencepiece.bpe.model"  # the file name XLM-R's own checkpoint uses


# ---------------------------------------------------------------------------------------------------------
# Tokenizer and micro model construction
def train_tokenizer(texts: list[str], outdir, vocab_size: int, seed: int = 0) -> None:
    """Train a sentencepiece unigram model and wrap it as an XLM-R tokenizer in `outdir`.

    The wrapper is loaded with `from_pretrained(<folder>)`: in transformers 5, XLMRobertaTokenizer(vocab_file=)
    silently ignores the file and maps every token to <unk>.
    """
    import sentencepiece as spm
    from transformers import XLMRobertaTokenizer

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = out / "_corpus.txt"
    corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
    # XLM-R's sentencepiece layout: <unk>=0, <s>=1, </s>=2, no pad piece (the wrapper adds the fairseq offset).
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(out / "sentencepiece.bpe"), vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        hard_vocab_limit=False, num_threads=1, minloglevel=2,
        input_sentence_size=0, shuffle_input_sentence=False, normalization_rule_name="nmt_nfkc")
    corpus.unlink()
    (out / "sentencepiece.bpe.vocab").unlink(missing_ok=True)
    tok = XLMRobertaTokenizer.from_pretrained(str(out))
    tok.model_max_length = 512
    tok.save_pretrained(str(out))


def build_micro_encoder(tokenizer_dir, arch: dict, seed: int):
    """A randomly initialised XLMRobertaForMaskedLM sized by `arch`, vocabulary from the tokenizer."""
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForMaskedLM

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    torch.manual_seed(seed)
    cfg = XLMRobertaConfig(vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                           eos_token_id=tok.eos_token_id, type_vocab_size=1, **arch)
    return XLMRobertaForMaskedLM(cfg), tok


def load_tokenizer(path):
    from transformers import AutoTokenizer
    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: model folder missing")
    # tokenizer_config.json alone is not a tokenizer: without the vocabulary, from_pretrained would look for
    # it on the hub (or fail with a message that does not name the folder)
    if not any((p / f).exists() for f in ("tokenizer.json", SP_MODEL)):
        raise FileNotFoundError(f"{p}: no tokenizer files with a vocabulary (tokenizer.json or {SP_MODEL}); "
                                f"found {sorted(f.name for f in p.iterdir())}")
    return AutoTokenizer.from_pretrained(str(p))


def load_encoder(path, with_mlm_head: bool = False):
    """Load an encoder (and its tokenizer) from a local folder; never remote code, never the hub."""
    from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the load report lists the unused LM head on every load
    p = Path(path)
    if not (p / "config.json").exists():
        raise FileNotFoundError(f"{p}/config.json missing: not a model folder")
    cfg = AutoConfig.from_pretrained(str(p))
    if cfg.model_type not in ("xlm-roberta", "roberta", "bert"):
        raise ValueError(f"{p}: model_type {cfg.model_type!r} is not an encoder this pipeline supports "
                         "(xlm-roberta, roberta, bert)")
    tok = load_tokenizer(p)
    # use_safetensors=True: a folder holding only a pickled checkpoint is refused, never unpickled
    if with_mlm_head:
        return AutoModelForMaskedLM.from_pretrained(str(p), use_safetensors=True), tok
    return AutoModel.from_pretrained(str(p), add_pooling_layer=False, use_safetensors=True), tok


# ---------------------------------------------------------------------------------------------------------
# Heads
class ClassificationHead(nn.Module):
    def __init__(self, hidden: int, n: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n)

    def forward(self, h):  # h: [B, L, H] -> logits [B, n] from the <s> token, as RoBERTa does
        x = self.drop(h[:, 0])
        return self.out(self.drop(torch.tanh(self.dense(x))))


class TokenHead(nn.Module):
    def __init__(self, hidden: int, n: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n)

    def forward(self, h):
        return self.out(self.drop(h))


def make_head(task: T.Task, hidden: int, n_labels: int, dropout: float = 0.1) -> nn.Module:
    if task.format == T.CLASSIFICATION:
        return ClassificationHead(hidden, n_labels, dropout)
    if task.format == T.MULTIPLE_CHOICE:
        return ClassificationHead(hidden, 1, dropout)  # one score per (context, choice) sequence
    if task.format == T.SPAN_QA:
        return TokenHead(hidden, 2, 0.0)  # start / end logits
    if task.format == T.TAGGING:
        return TokenHead(hidden, n_labels, dropout)
    raise ValueError(f"no head for format {task.format!r}")


class MultiTaskModel(nn.Module):
    """A shared encoder with one head per task (jiant's design); the MLM head, when present, is the
    pretrained checkpoint's own so the MLM control continues pretraining rather than starting afresh."""

    def __init__(self, encoder, heads: dict[str, nn.Module], formats: dict[str, str], lm_head=None):
        super().__init__()
        self.encoder = encoder
        self.heads = nn.ModuleDict(heads)
        self.formats = formats
        self.lm_head = lm_head

    def hidden(self, batch):
        kw = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        return self.encoder(**kw).last_hidden_state

    def forward(self, task: str, batch: dict):
        """Return (loss or None, logits) for one task's batch."""
        fmt = self.formats[task]
        if fmt == T.MLM:
            h = self.hidden(batch)
            labels = batch["labels"]
            sel = labels != -100  # the LM head runs on masked positions only: half the pretraining cost
            logits = self.lm_head(h[sel])
            return nn.functional.cross_entropy(logits, labels[sel]), None
        if fmt == T.MULTIPLE_CHOICE:
            b, c, l = batch["input_ids"].shape
            flat = {"input_ids": batch["input_ids"].view(b * c, l),
                    "attention_mask": batch["attention_mask"].view(b * c, l)}
            logits = self.heads[task](self.hidden(flat)).view(b, c)
            loss = nn.functional.cross_entropy(logits, batch["labels"]) if "labels" in batch else None
            return loss, logits
        h = self.hidden(batch)
        logits = self.heads[task](h)
        loss = None
        if fmt == T.CLASSIFICATION and "labels" in batch:
            loss = nn.functional.cross_entropy(logits, batch["labels"])
        elif fmt == T.TAGGING and "labels" in batch:
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1),
                                               ignore_index=-100)
        elif fmt == T.SPAN_QA and "start_positions" in batch:
            mask = batch["attention_mask"] == 0
            s, e = logits[..., 0].masked_fill(mask, -1e4), logits[..., 1].masked_fill(mask, -1e4)
            loss = (nn.functional.cross_entropy(s, batch["start_positions"]) +
                    nn.functional.cross_entropy(e, batch["end_positions"])) / 2
        return loss, logits


def save_encoder(model: MultiTaskModel, tokenizer, outdir, info: dict) -> None:
    """Write the encoder alone (heads are discarded: target fine-tuning starts a fresh head) + run info."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    enc = getattr(model.encoder, "_orig_mod", model.encoder)  # torch.compile wraps the module
    enc.save_pretrained(str(out), safe_serialization=True)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # tokenizer.json would record the truncation of the tokenizer's last call, which depends on which
        # job filled a shared feature cache first; every call passes its own, so the file keeps none
        backend.no_truncation()
        backend.no_padding()
    tokenizer.save_pretrained(str(out))
    (out / "xstilts_run.json").write_text(json.dumps(info, indent=1, sort_keys=True), encoding="utf-8")
