"""Building the small bundle: the pinned public sources, the cut rule of every file (`SPECS`) and the readers
that turn upstream files into hub-schema rows (`python -m xstilts.data.bundle build`; the package docstring
says what the bundle is)."""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from xstilts import tasks as T
from xstilts.data import loaders as L

from xstilts.data.bundle import SOURCES, COLUMNS, BundleError, Entry, _sha256


@dataclass(frozen=True)
class Src:
    repo: str
    commit: str
    path: str
    license: str


Reader = Callable[[Src], bytes]


@dataclass(frozen=True)
class Spec:
    """One bundle file: the hub table it stands in for, its sources and the rows (cut rule applied)."""
    hub: tuple[str, str, str]
    sources: tuple[Src, ...]
    cut: str
    rows: Callable[[list[bytes]], list[dict]]

    @property
    def file(self) -> str:
        repo, config, split = self.hub
        name = "/".join(x for x in (repo, config) if x)
        return f"{name}/{split}.jsonl.gz"


def mirror_reader(root) -> Reader:
    """Read `commit:path` from local git mirrors `root/<owner>+<name>` (a bare git dir or one holding repo/)."""
    root = Path(root)

    def read(src: Src) -> bytes:
        base = root / src.repo.replace("/", "+")
        gitdir = base / "repo" if (base / "repo").exists() else base
        r = subprocess.run(["git", "--git-dir", str(gitdir), "show", f"{src.commit}:{src.path}"],
                           capture_output=True)
        if r.returncode != 0:
            raise BundleError(f"{src.repo}@{src.commit}:{src.path}: {r.stderr.decode(errors='replace').strip()}")
        return r.stdout
    return read


def github_reader(src: Src) -> bytes:
    import urllib.request
    url = f"https://raw.githubusercontent.com/{src.repo}/{src.commit}/{src.path}"
    with urllib.request.urlopen(url, timeout=120) as r:
        data = r.read()
    if data.startswith(b"version https://git-lfs.github.com/spec/"):
        raise BundleError(f"{url}: a Git LFS pointer, not the file")
    return data


def _text(b: bytes) -> str:
    return b.decode("utf-8").replace("\r\n", "\n")


def _premise_cut(rows: list[list[str]], n: int) -> int:
    """The first row index >= n that starts a new premise (XNLI rows come in premise groups)."""
    while 0 < n < len(rows) and rows[n][0] == rows[n - 1][0]:
        n += 1
    return n


def _xtreme_tsv(b: bytes, n_fields: int) -> list[list[str]]:
    out = []
    for i, line in enumerate(_text(b).split("\n"), 1):
        if not line:
            continue
        f = line.split("\t")
        if len(f) != n_fields:
            raise BundleError(f"line {i}: {len(f)} fields, expected {n_fields}")
        out.append(f)
    return out


NLI_INDEX = {name: i for i, name in enumerate(T.NLI)}


def _xnli_rows(b: bytes, lo: int, hi: int | None, glue: bool = False) -> list[dict]:
    """XTREME's `xnli/dev-<lang>.tsv` (premise, hypothesis, label name) rows [lo, hi) -> facebook/xnli rows
    (premise, hypothesis, label ClassLabel int); `glue`: nyu-mll/glue mnli rows (+ idx)."""
    rows = _xtreme_tsv(b, 3)
    out = []
    for i, (p, h, lab) in enumerate(rows[lo:hi], lo):
        r = {"premise": p, "hypothesis": h, "label": NLI_INDEX[lab]}
        if glue:
            r["idx"] = i
        out.append(r)
    return out


# XNLI dev has labels in every language; XTREME's public test files have none. 2490 dev rows per language,
# parallel across languages: the English rows before XNLI_SPLIT train (stand-in for MNLI), the rest are
# held out and split into dev and test, in every language (translations of English rows never trained on).
XNLI_SPLIT, XNLI_DEV_END = 2190, 2290


def _xnli_bounds(b: bytes) -> tuple[int, int]:
    rows = _xtreme_tsv(b, 3)
    a = _premise_cut(rows, XNLI_SPLIT)
    return a, _premise_cut(rows, XNLI_DEV_END)


def _sentences(b: bytes, n: int, word: Callable[[str, int], tuple[str, str] | None], skip: int = 0) -> list[dict]:
    """Blank-line separated sentences -> google/xtreme udpos rows (tokens, pos_tags as ClassLabel ints in
    `tasks.UPOS` order), sentences [skip, skip + n). `word(line, line_number)` gives (token, UPOS) or None."""
    sents, toks, tags = [], [], []
    for i, line in enumerate(_text(b).split("\n") + [""], 1):
        if not line.strip():
            if toks:
                sents.append({"tokens": toks, "pos_tags": tags})
                toks, tags = [], []
                if len(sents) == skip + n:
                    break
            continue
        w = word(line, i)
        if w is not None:
            toks.append(w[0])
            tags.append(T.UPOS.index(w[1]))
    return sents[skip:skip + n]


def _xtreme_word(line: str, i: int) -> tuple[str, str]:
    """XTREME's `udpos/<split>-<lang>.tsv`: token<TAB>UPOS."""
    f = line.split("\t")
    if len(f) != 2 or f[1] not in T.UPOS:
        raise BundleError(f"line {i}: expected token<TAB>UPOS, got {line!r}")
    return f[0], f[1]


def _conllu_word(line: str, i: int) -> tuple[str, str] | None:
    """CoNLL-U: syntactic words only (multiword-token ranges `1-2` and empty nodes `1.1` are skipped, as the HF
    udpos loader does)."""
    if line.startswith("#"):
        return None
    f = line.split("\t")
    if len(f) != 10:
        raise BundleError(f"line {i}: {len(f)} CoNLL-U fields, expected 10")
    if "-" in f[0] or "." in f[0]:
        return None
    if f[3] not in T.UPOS:
        raise BundleError(f"line {i}: UPOS {f[3]!r} is not one of the 17 tags")
    return f[1], f[3]


def _udpos_rows(b: bytes, n: int) -> list[dict]:
    return _sentences(b, n, _xtreme_word)


def _conllu_rows(b: bytes, n: int) -> list[dict]:
    return _sentences(b, n, _conllu_word)


def _squad_rows(b: bytes, n_paragraphs: int | None = None, skip_paragraphs: int = 0,
                titles: bool = True, id_prefix: str | None = None) -> list[dict]:
    """SQuAD-format JSON -> hub rows (id, title, context, question, answers{text, answer_start}), one per
    question, paragraphs [skip, skip + n) in file order. `id_prefix`: ids `<prefix><question index in the
    file>` instead of the file's (XTREME's TyDiQA files number questions per paragraph, so ids repeat)."""
    doc = json.loads(_text(b))
    out, k, q = [], 0, -1
    for art in doc["data"]:
        for par in art["paragraphs"]:
            k += 1
            if k <= skip_paragraphs or (n_paragraphs is not None and k > skip_paragraphs + n_paragraphs):
                q += len(par["qas"])
                continue
            for qa in par["qas"]:
                q += 1
                r = {"id": qa["id"] if id_prefix is None else f"{id_prefix}{q}", "context": par["context"],
                     "question": qa["question"],
                     "answers": {"text": [a["text"] for a in qa["answers"]],
                                 "answer_start": [a["answer_start"] for a in qa["answers"]]}}
                if titles:
                    r = {"id": r["id"], "title": art.get("title", ""), **{k2: v for k2, v in r.items() if k2 != "id"}}
                out.append(r)
    return out


def _csv_rows(b: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_text(b))))


def _anli_rows(b: bytes, lo: int, hi: int | None) -> list[dict]:
    """facebookresearch/anli analysis CSV (context, statement, gold_label e/n/c, reason, uid) -> facebook/anli
    rows (uid, premise, hypothesis, label int, reason)."""
    lab = {"e": 0, "n": 1, "c": 2}
    return [{"uid": r["uid"], "premise": r["context"], "hypothesis": r["statement"], "label": lab[r["gold_label"]],
             "reason": r["reason"]} for r in _csv_rows(b)[lo:hi]]


def _cosmos_rows(b: bytes, lo: int, hi: int | None) -> list[dict]:
    return [{"id": r["id"], "context": r["context"], "question": r["question"],
             **{f"answer{j}": r[f"answer{j}"] for j in range(4)}, "label": int(r["label"])}
            for r in _csv_rows(b)[lo:hi]]


def _sst2_rows(b: bytes, n: int | None) -> list[dict]:
    rows = _xtreme_tsv(b.split(b"\n", 1)[1], 2)  # header "sentence<TAB>label"
    return [{"sentence": s, "label": int(lab), "idx": i} for i, (s, lab) in enumerate(rows[:n])]


def _tatoeba_rows(other: bytes, eng: bytes, lang3: str, lo: int, hi: int) -> list[dict]:
    """LASER `tatoeba.<l3>-eng.<l3>` / `.eng` -> google/xtreme tatoeba.<l3> rows (the hub keeps the newline)."""
    a, e = _text(other).split("\n"), _text(eng).split("\n")
    a, e = (a[:-1] if a and a[-1] == "" else a), (e[:-1] if e and e[-1] == "" else e)
    if len(a) != len(e):
        raise BundleError(f"tatoeba {lang3}: {len(a)} vs {len(e)} lines")
    return [{"source_sentence": s + "\n", "target_sentence": t + "\n", "source_lang": lang3, "target_lang": "eng"}
            for s, t in zip(a[lo:hi], e[lo:hi])]


def _tatoeba_mlm(other: bytes, lang: str, lo: int) -> list[dict]:
    lines = [x for x in _text(other).split("\n") if x.strip()]
    return [{"id": f"tatoeba-{lang}-{i}", "text": t} for i, t in enumerate(lines[lo:], lo)]


# --- pinned sources ---------------------------------------------------------------------------------------------
_LASER = ("facebookresearch/LASER", "74bc6ae7ffb7cba670fe0f428d0ede9f666fb821",
          "data/tatoeba/v1/README.md: see the Tatoeba terms of use (tatoeba.org); repo LICENSE BSD covers the code")
_XQUAD = ("deepmind/xquad", "60cac411649156efb6aab9dd4c9cde787a2c0345", "CC BY-SA 4.0 (README.md)")
# An XTREME `download/` folder committed with the experiments of this repo (XTREME's own preprocessing of
# XNLI 1.0, UD v2.5 and TyDiQA-GoldP 1.1); files later replaced by LFS pointers, read at this commit.
_WUH = ("wuhjie/few_shots_that_matters_wu", "6bfe6324e428ec21a777b5543cd8e50ec82dcb3c")
# UD test sets: the official treebank repositories (current release; XTREME's public files drop test tags).
# PUD (1000 parallel sentences) where the language has one, English EWT otherwise.
UD_TEST = {"en": ("UniversalDependencies/UD_English-EWT", "15d613d8447b3478787d4c278730a1e48a945efb", "en_ewt"),
           "ar": ("UniversalDependencies/UD_Arabic-PUD", "be733f45d21f42d506c62930f806ed2182a5ee3d", "ar_pud"),
           "de": ("UniversalDependencies/UD_German-PUD", "ff80846ae60a0a70fc4d6251ef73e6a483a620ee", "de_pud"),
           "fr": ("UniversalDependencies/UD_French-PUD", "c245786cfb3020d43bcfc96215ae531a1b07bcbc", "fr_pud"),
           "hi": ("UniversalDependencies/UD_Hindi-PUD", "8bc630f73e0737ce5ed9eaa97abf11f172ecc9bd", "hi_pud"),
           "ru": ("UniversalDependencies/UD_Russian-PUD", "da5b3816eeaa24283c1d81a48bb1de4d062fc5d5", "ru_pud"),
           "zh": ("UniversalDependencies/UD_Chinese-PUD", "2849afd946a8c01b3e9acdf3e7afa8670cf2777d", "zh_pud")}
XNLI_LICENSE = "XNLI 1.0 is distributed by its authors under CC BY-NC 4.0; this repo states no licence"
UD_LICENSE = ("UD v2.5 treebanks: each treebank's README licence (CC BY-SA / CC BY-NC-SA variants); this repo "
              "states no licence")
TYDI_LICENSE = "TyDiQA 1.1 is distributed by its authors under Apache-2.0; this repo states no licence"
_ANLI = ("facebookresearch/anli", "b5ce27af54a53bd495af7260fdc485000eed15f8", "CC BY-NC 4.0 (README, LICENSE)")
_COSMOS = ("wilburOne/cosmosqa", "b6eb99cca4e2a51dd28a9a6f562534872d851639",
           "repo has no LICENSE file and its README states no licence")
_ALPS = ("forest-snow/alps", "3c7ef2c98249fc975a897b27f275695f97d5b7a9",
         "repo LICENSE MIT (code); SST-2 (Socher et al. 2013) via GLUE")
_HAYSTACK = ("deepset-ai/haystack", "bbb6025e8991909dea2dd065baf7e9d17f387d1d",
             "repo LICENSE Apache-2.0; SQuAD 2.0: CC BY-SA 4.0")

UD_TEST_LICENSE = {l: ("CC BY-SA 4.0 (README 'License:' line, LICENSE.txt)" if l == "en" else
                       "CC BY-SA 3.0 (README 'License:' line, LICENSE.txt)") for l in UD_TEST}

# languages of the bundle (small profile and its cut-down test use subsets of these)
XNLI_LANGS = ("ar", "de", "es", "fr", "hi", "ru", "sw", "zh")
UDPOS_LANGS = ("ar", "de", "fr", "hi", "ru", "zh")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
TATOEBA_N = 300  # pairs per language kept for evaluation (XTREME uses all 1000); the rest feed the MLM corpus
UDPOS_NAMES = {code: name for name, code in L.UDPOS_LANGUAGES.items()}  # en -> English (google/xtreme configs)
ISO3 = {code: l3 for l3, code in L.TATOEBA_ISO3.items()}  # de -> deu
MLM_LANGS = ("ar", "de", "es", "fr", "hi", "ja", "ru", "sw", "zh")


def _src(t, path, license=None):
    return Src(t[0], t[1], path, license or t[2])


def _wuh(path, lic, commit=None):
    return Src(_WUH[0], commit or _WUH[1], path, lic)


def _xnli_spec(lang: str, split: str) -> Spec:
    src = _wuh(f"data/xnli/dev-{lang}.tsv", XNLI_LICENSE)

    def rows(bs):
        a, d = _xnli_bounds(bs[0])
        return _xnli_rows(bs[0], a, d) if split == "validation" else _xnli_rows(bs[0], d, None)
    what = "dev" if split == "validation" else "test"
    cut = (f"XNLI dev rows held out from English training (from row {XNLI_SPLIT}, at a premise boundary): "
           f"{'rows before' if what == 'dev' else 'rows from'} {XNLI_DEV_END} (premise boundary) as {what}"
           + ("; stands in for the test split, whose labels XTREME's public files omit" if what == "test" else ""))
    return Spec(("facebook/xnli", lang, split), (src,), cut, rows)


def specs() -> list[Spec]:
    out: list[Spec] = []
    # XNLI: English training (stand-in for MNLI train), dev/test in English and XNLI_LANGS
    en_dev = _wuh("data/xnli/dev-en.tsv", XNLI_LICENSE)
    out.append(Spec(("nyu-mll/glue", "mnli", "train"), (en_dev,),
                    f"XNLI English dev rows before {XNLI_SPLIT} (premise boundary) as English NLI training; "
                    "stands in for MNLI train (MNLI genres and protocol; MNLI train exceeds the snapshot size)",
                    lambda bs: _xnli_rows(bs[0], 0, _xnli_bounds(bs[0])[0], glue=True)))
    for lang in ("en",) + XNLI_LANGS:
        out += [_xnli_spec(lang, "validation"), _xnli_spec(lang, "test")]
    # UD-POS (XTREME's UD v2.5 preprocessing, all treebanks of a language)
    out.append(Spec(("google/xtreme", "udpos.English", "train"), (_wuh("data/udpos/train-en.tsv", UD_LICENSE),),
                    "first 2000 sentences", lambda bs: _udpos_rows(bs[0], 2000)))
    out.append(Spec(("google/xtreme", "udpos.English", "validation"), (_wuh("data/udpos/dev-en.tsv", UD_LICENSE),),
                    "first 300 sentences", lambda bs: _udpos_rows(bs[0], 300)))
    for lang in ("en",) + UDPOS_LANGS:
        name = UDPOS_NAMES[lang]
        if lang != "en":
            out.append(Spec(("google/xtreme", f"udpos.{name}", "validation"),
                            (_wuh(f"data/udpos/dev-{lang}.tsv", UD_LICENSE),), "first 100 sentences",
                            lambda bs: _udpos_rows(bs[0], 100)))
        repo, commit, stem = UD_TEST[lang]
        out.append(Spec(("google/xtreme", f"udpos.{name}", "test"),
                        (Src(repo, commit, f"{stem}-ud-test.conllu", UD_TEST_LICENSE[lang]),),
                        "first 200 sentences (syntactic words); current UD release, not XTREME's v2.5",
                        lambda bs: _conllu_rows(bs[0], 200)))
    # XQuAD: the first 12 of 240 paragraphs (parallel across languages)
    for lang in XQUAD_LANGS:
        out.append(Spec(("google/xtreme", f"XQuAD.{lang}", "validation"), (_src(_XQUAD, f"xquad.{lang}.json"),),
                        "first 12 paragraphs in file order (all their questions)",
                        lambda bs: _squad_rows(bs[0], 12, titles=False)))
    # English extractive-QA training for XQuAD (stand-in for SQuAD v1.1): TyDiQA-GoldP English train
    tydi = _wuh("data/tydiqa/tydiqa-goldp-v1.1-train/tydiqa.goldp.en.train.json", TYDI_LICENSE)
    out.append(Spec(("rajpurkar/squad", "plain_text", "train"), (tydi,),
                    "TyDiQA-GoldP English train, paragraphs 1-3000; stands in for SQuAD v1.1 train (Wikipedia span "
                    "QA; SQuAD v1.1 train exceeds the snapshot size); ids tydiqa-en-<question index> (the file's "
                    "ids repeat)", lambda bs: _squad_rows(bs[0], 3000, id_prefix="tydiqa-en-")))
    out.append(Spec(("rajpurkar/squad", "plain_text", "validation"), (tydi,),
                    "TyDiQA-GoldP English train, paragraphs from 3001; stands in for SQuAD v1.1 dev; ids as for train",
                    lambda bs: _squad_rows(bs[0], None, 3000, id_prefix="tydiqa-en-")))
    # Tatoeba (LASER v1 = XTREME's source), all 36 XTREME languages
    for lang, l3 in sorted(ISO3.items()):
        srcs = (_src(_LASER, f"data/tatoeba/v1/tatoeba.{l3}-eng.{l3}"),
                _src(_LASER, f"data/tatoeba/v1/tatoeba.{l3}-eng.eng"))
        out.append(Spec(("google/xtreme", f"tatoeba.{l3}", "validation"), srcs,
                        f"first {TATOEBA_N} of 1000 sentence pairs",
                        lambda bs, l3=l3: _tatoeba_rows(bs[0], bs[1], l3, 0, TATOEBA_N)))
    # MLM-control corpus (stands in for CC-100): the Tatoeba sentences not used for evaluation
    for lang in ("en",) + MLM_LANGS:
        if lang == "en":
            src = _src(_LASER, "data/tatoeba/v1/tatoeba.deu-eng.eng")
        else:
            src = _src(_LASER, f"data/tatoeba/v1/tatoeba.{ISO3[lang]}-eng.{ISO3[lang]}")
        cc = {"zh": "zh-Hans"}.get(lang, lang)
        out.append(Spec(("statmt/cc100", cc, "train"), (src,),
                        f"Tatoeba sentences {TATOEBA_N + 1}-1000 (never evaluated); stands in for CC-100",
                        lambda bs, lang=lang: _tatoeba_mlm(bs[0], lang, TATOEBA_N)))
    # Intermediate tasks on real English data
    for r, n_train in ((1, 800), (2, 800), (3, 1000)):
        src = _src(_ANLI, f"anlizinganli/anli_annot_v0.2/ANLI_analysis_r{r}_dev.csv")
        out.append(Spec(("facebook/anli", "plain_text", f"train_r{r}"), (src,),
                        f"ANLI R{r} dev (annotated analysis copy), rows 1-{n_train}; stands in for ANLI R{r} train",
                        lambda bs, n=n_train: _anli_rows(bs[0], 0, n)))
        out.append(Spec(("facebook/anli", "plain_text", f"dev_r{r}"), (src,),
                        f"ANLI R{r} dev (annotated analysis copy), rows from {n_train + 1}",
                        lambda bs, n=n_train: _anli_rows(bs[0], n, None)))
    cos = _src(_COSMOS, "data/valid.csv")
    out.append(Spec(("allenai/cosmos_qa", "default", "train"), (cos,),
                    "CosmosQA dev rows 1-2400; stands in for CosmosQA train (train.csv exceeds the snapshot size)",
                    lambda bs: _cosmos_rows(bs[0], 0, 2400)))
    out.append(Spec(("allenai/cosmos_qa", "default", "validation"), (cos,), "CosmosQA dev rows from 2401",
                    lambda bs: _cosmos_rows(bs[0], 2400, None)))
    out.append(Spec(("nyu-mll/glue", "sst2", "train"), (_src(_ALPS, "data/SST-2/train.tsv"),),
                    "first 4000 of 67,349 rows", lambda bs: _sst2_rows(bs[0], 4000)))
    out.append(Spec(("nyu-mll/glue", "sst2", "validation"), (_src(_ALPS, "data/SST-2/test.tsv"),),
                    "all 872 rows (this repo's test.tsv is the GLUE SST-2 dev set)", lambda bs: _sst2_rows(bs[0], None)))
    sq2 = _src(_HAYSTACK, "test/samples/squad/small.json")
    out.append(Spec(("rajpurkar/squad_v2", "squad_v2", "train"), (sq2,),
                    "SQuAD 2.0 dev, first 2 articles (haystack test sample), paragraphs 1-60; stands in for SQuAD "
                    "2.0 train", lambda bs: _squad_rows(bs[0], 60)))
    out.append(Spec(("rajpurkar/squad_v2", "squad_v2", "validation"), (sq2,),
                    "the same sample, paragraphs from 61", lambda bs: _squad_rows(bs[0], None, 60)))
    return out


# Hub tables the bundle leaves out on purpose (download_task records the omission).
OMITTED = [
    (("stanfordnlp/snli", "plain_text", "train"),
     "SNLI is not in the small bundle (no public GitHub copy under the snapshot size); ANLI+ = ANLI + MNLI here"),
]


def _gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def _jsonl(rows: Iterable[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")


def build(folder, read: Reader, log=print) -> list[Entry]:
    """Write every bundle file of `specs()` and SOURCES.tsv into `folder`."""
    folder = Path(folder)
    entries = []
    cache: dict[Src, bytes] = {}
    for spec in specs():
        blobs = []
        for s in spec.sources:
            if s not in cache:
                cache[s] = read(s)
            blobs.append(cache[s])
        rows = spec.rows(blobs)
        if not rows:
            raise BundleError(f"{spec.file}: the cut rule left no rows")
        content = _jsonl(rows)
        data = _gz(content)
        path = folder / spec.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        first = spec.sources[0]
        entries.append(Entry(spec.file, *spec.hub, first.repo, " + ".join(s.path for s in spec.sources),
                             first.commit, first.license, spec.cut, len(rows), _sha256(data), _sha256(content)))
        log(f"{spec.file}: {len(rows)} rows ({len(data)} bytes)")
    for key, why in OMITTED:
        entries.append(Entry("-", *key, "-", "-", "-", "-", why, 0, "-", "-"))
    write_sources(folder, entries)
    return entries


def write_sources(folder, entries: list[Entry]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(COLUMNS)
    for e in entries:
        w.writerow([getattr(e, c) for c in COLUMNS])
    path = Path(folder) / SOURCES
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def compare(built, committed) -> list[str]:
    """Files that differ between two bundle folders (byte for byte, SOURCES.tsv included)."""
    a, b = Path(built), Path(committed)
    names = sorted({p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()}
                   | {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()
                      and not re.match(r"(README|LICENSE)", p.name)})
    return [n for n in names if not (a / n).is_file() or not (b / n).is_file()
            or (a / n).read_bytes() != (b / n).read_bytes()]


