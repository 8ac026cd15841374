"""A tiny M2M-100-architecture translation checkpoint built locally (random weights, word-level tokenizer), so
tests load it through the same AutoTokenizer / AutoModelForSeq2SeqLM `from_pretrained` path as a real one,
without a network."""
from __future__ import annotations

import re
from pathlib import Path

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
LANG_TOKENS = ["__en__", "__de__", "__fr__", "eng_Latn", "deu_Latn", "fra_Latn"]


def corpus_words(real: Path) -> list[str]:
    words = set()
    for f in (real / "tatoeba" / "tatoeba.deu-eng.eng", real / "intermediate" / "sst2" / "glue_dev.first100.tsv"):
        words.update(re.findall(r"\w+|[^\w\s]", f.read_text(encoding="utf-8").lower()))
    return sorted(words)


def build(out: Path, real: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import M2M100Config, M2M100ForConditionalGeneration, PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(SPECIALS + LANG_TOKENS + corpus_words(real))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 2)])
    tok.decoder = decoders.WordPiece()  # joins word-level tokens with spaces
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>", additional_special_tokens=LANG_TOKENS)
    fast.save_pretrained(out)
    cfg = M2M100Config(vocab_size=len(vocab), d_model=32, encoder_layers=1, decoder_layers=1,
                       encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                       max_position_embeddings=256, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                       decoder_start_token_id=2, init_std=0.2, dropout=0.0, scale_embedding=True)
    torch.manual_seed(0)
    model = M2M100ForConditionalGeneration(cfg)
    # keep end-of-sequence unlikely, so generations are non-empty and differ from input to input
    with torch.no_grad():
        model.lm_head.weight[2].mul_(0.0)
    model.save_pretrained(out, safe_serialization=True)
    return out
