"""Phase 1 at embedded scale: a sentencepiece tokenizer and a tiny XLM-R MLM-pretrained on the micro corpus.

At paper scale this phase is XLM-R Large's own pretraining; the model is fetched instead (rules/pretrain.smk).
"""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import torch

from xstilts import records as R
from xstilts.train.features import mlm_batch


def corpus_texts(data_dir, languages: list[str]) -> list[str]:
    """The MLM corpus texts of the configured languages that the corpus has (a configured language without
    corpus lines, e.g. one the small bundle's corpus lacks, contributes none; the inventory shows which)."""
    have = R.read_meta(Path(data_dir) / "task~mlm_corpus")["languages"]
    texts = []
    for lang in [l for l in languages if l in have]:
        texts += [r["text"] for r in R.read_jsonl(R.task_file(data_dir, "mlm_corpus", lang, "train"), "mlm")]
    if not texts:
        raise ValueError(f"{data_dir}/task~mlm_corpus: no corpus lines in any configured language {languages}")
    return texts


def build_tokenizer(data_dir, languages, outdir, vocab_size: int, seed: int) -> dict:
    from xstilts.models.modeling import load_tokenizer, train_tokenizer
    texts = corpus_texts(data_dir, languages)
    train_tokenizer(texts, outdir, vocab_size, seed)
    tok = load_tokenizer(outdir)
    # The trap this guards against: a wrapper that ignores the sentencepiece file maps everything to <unk>.
    ids = [i for t in texts[:2000] for i in tok(t, add_special_tokens=False)["input_ids"]]
    unk = sum(i == tok.unk_token_id for i in ids) / max(1, len(ids))
    if unk > 0.01:
        raise RuntimeError(f"{outdir}: tokenizer maps {unk:.1%} of its own training corpus to <unk>")
    info = {"vocab_size": len(tok), "unk_rate": unk, "corpus_sentences": len(texts), "languages": languages}
    (Path(outdir) / "xstilts_tokenizer.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info


def pretrain_mlm(data_dir, languages, tokenizer_dir, outdir, arch: dict, hp: dict, seed: int,
                 init: str = "pretrained", log=print) -> dict:
    """MLM-pretrain (init='pretrained') or just save the random initialisation (init='random', the control
    encoder: same tokenizer and architecture, no pretraining)."""
    from xstilts.models.modeling import build_micro_encoder
    model, tok = build_micro_encoder(tokenizer_dir, arch, seed)
    info = {"init": init, "arch": arch, "seed": seed, "parameters": sum(p.numel() for p in model.parameters())}
    if init == "pretrained":
        texts = corpus_texts(data_dir, languages)
        rows = [ids for ids in tok(texts, truncation=True, max_length=hp["max_length"])["input_ids"]]
        rng = random.Random(seed)
        gen = torch.Generator().manual_seed(seed)
        opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], weight_decay=0.01)
        steps, bs = hp["steps"], hp["batch_size"]
        warm = max(1, int(0.06 * steps))
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
        model.train()
        t0, losses = time.time(), []
        for step in range(steps):
            batch = mlm_batch([rows[rng.randrange(len(rows))] for _ in range(bs)], tok, hp["mask_prob"], gen)
            h = model.roberta(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
            sel = batch["labels"] != -100
            loss = torch.nn.functional.cross_entropy(model.lm_head(h[sel]), batch["labels"][sel])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
            if (step + 1) % max(1, steps // 10) == 0:
                log(f"mlm step {step + 1}/{steps} loss {sum(losses[-50:]) / len(losses[-50:]):.3f} "
                    f"({time.time() - t0:.0f}s)")
        if not losses or not all(map(lambda x: x == x, losses)):
            raise RuntimeError("MLM loss is NaN: check the tokenizer (all <unk>?)")
        info.update({"steps": steps, "first_loss": sum(losses[:20]) / min(20, len(losses)),
                     "final_loss": sum(losses[-50:]) / min(50, len(losses)), "seconds": time.time() - t0})
    out = Path(outdir)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    (out / "xstilts_run.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    return info
