"""Where every paper-scale task comes from: per task, which hub repo, config and split (or raw URL) feeds which
of our splits and languages, with the pinned revisions and the converter each part goes through (`hub`
downloads; this table is data, read by `config` to check a config and by `hub` to run it)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from xstilts.data import loaders as L

PARQUET_BRANCH = "refs/convert/parquet"

# Pins that HUB_SCHEMAS.md verified as commits holding the parquet data; any repo can be (re)pinned with
# `revisions={repo: sha}` (config `data.revisions`). google/xtreme is left on main on purpose: its parquet
# conversion added one config per commit, so no commit seen there holds all 183 configs.
DEFAULT_REVISIONS = {
    "facebook/xnli": "83ecd0da7773326e49a494fca44b9467b27103c8",
    "facebook/anli": "8e4813d81f46d313dac7892e1c28076917cfcdf9",
    "stanfordnlp/snli": "cdb5c3d5eed6ead6e5a341c8e56e669bb666725b",
    "nyu-mll/glue": "0de23925db68e9cf6287d3776a0f67f5267a42eb",
    "rajpurkar/squad_v2": "dccd52e142ef4ad27083cc78299b15ebccb8fd13",
}

# --- languages per task (HUB_SCHEMAS §1-3, PROTOCOL.md) -------------------------------------------------------
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGS = ("de", "en", "es", "fr", "ja", "ko", "zh")
UDPOS_NAMES = {code: name for name, code in L.UDPOS_LANGUAGES.items()}  # en -> English
UDPOS_LANGS = tuple(UDPOS_NAMES)
UDPOS_NO_DEV = ("kk", "tl", "th", "yo")  # Kazakh train+test, Tagalog/Thai/Yoruba test only
PANX_LANGS = ("af", "ar", "bg", "bn", "de", "el", "en", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id",
              "it", "ja", "jv", "ka", "kk", "ko", "ml", "mr", "ms", "my", "nl", "pt", "ru", "sw", "ta", "te", "th",
              "tl", "tr", "ur", "vi", "yo", "zh")
XQUAD_LANGS = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
MLQA_LANGS = ("ar", "de", "en", "es", "hi", "vi", "zh")
TYDIQA_LANGS = tuple(L.TYDIQA_LANGS.values())
BUCC_LANGS = ("de", "fr", "ru", "zh")
ISO3 = {code: iso3 for iso3, code in L.TATOEBA_ISO3.items()}  # de -> deu
TATOEBA_LANGS = tuple(ISO3)
CC100_LANGS = PANX_LANGS  # CC-100 covers all 40 XTREME languages
CC100_CODES = {"zh": "zh-Hans"}  # CC-100 splits Chinese by script
EN = ("en",)

BUCC_URL = "https://comparable.limsi.fr/bucc2018/bucc2018-{lang}-en.{release}-gold.tar.bz2"
CC100_URL = "https://data.statmt.org/cc-100/{cc100}.txt.xz"
HELLASWAG_URL = "https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{split}.jsonl"
COSMOSQA_URL = ("https://raw.githubusercontent.com/wilburOne/cosmosqa/"
                "b6eb99cca4e2a51dd28a9a6f562534872d851639/data/{split}.csv")


@dataclass(frozen=True)
class Part:
    """One upstream table feeding one of our splits, for some languages of a task.

    `config` (and `url`) may hold `{lang}`, `{Language}` (udpos name), `{lang3}` (Tatoeba ISO 639-3) and
    `{cc100}` (CC-100 file code). `langs=None` means every language of the task. Records of parts with the same
    (language, split) are concatenated; a `component` (ANLI+) prefixes their ids and is counted in
    meta["components"]."""
    split: str
    repo: str | None = None
    config: str | None = None
    hub_split: str | None = None
    convert: str = ""
    langs: tuple[str, ...] | None = None
    component: str | None = None
    url: str | None = None
    parquet_layout: bool = False
    streaming: bool = False
    alternatives: tuple["Part", ...] = ()
    note: str = ""

    def source(self, lang: str) -> str:
        if self.url:
            return self.url.format(**_fmt(lang))
        if not self.repo:
            return f"local files ({self.convert})"
        where = self.repo + (f":{self.config.format(**_fmt(lang))}" if self.config else "")
        return f"{where}:{self.hub_split}"


@dataclass(frozen=True)
class Source:
    languages: tuple[str, ...]
    parts: tuple[Part, ...]
    note: str = ""
    extra: dict = field(default_factory=dict)


def _fmt(lang: str) -> dict:
    return {"lang": lang, "Language": UDPOS_NAMES.get(lang, lang), "lang3": ISO3.get(lang, lang),
            "cc100": CC100_CODES.get(lang, lang)}


def _pq(p: Part, config: str = "default") -> Part:
    """The same table read from the repo's parquet conversion branch."""
    return replace(p, config=config if p.config is None else p.config, parquet_layout=True, alternatives=())


def _train_dev(repo, config, convert, train="train", dev="validation", **kw) -> tuple[Part, Part]:
    return (Part("train", repo, config, train, convert, EN, **kw), Part("dev", repo, config, dev, convert, EN, **kw))


def _with_pq_fallback(*parts: Part) -> tuple[Part, ...]:
    return tuple(replace(p, alternatives=(_pq(p),)) for p in parts)


PUBLISHED_MT = {"xnli_mt"}  # converters of published machine translations (MT control)
_GLUE_MNLI_TRAIN = Part("train", "nyu-mll/glue", "mnli", "train", "nli_glue", EN)
_TYDI = "google-research-datasets/tydiqa"
_XT = "google/xtreme"

SOURCES: dict[str, Source] = {
    # --- targets ---------------------------------------------------------------------------------------------
    "xnli": Source(XNLI_LANGS, (
        replace(_GLUE_MNLI_TRAIN, note="English training = MNLI (PROTOCOL.md)"),
        Part("dev", "facebook/xnli", "{lang}", "validation", "xnli"),
        Part("test", "facebook/xnli", "{lang}", "test", "xnli"))),
    "pawsx": Source(PAWSX_LANGS, _with_pq_fallback(
        Part("train", "google-research-datasets/paws-x", "{lang}", "train", "pawsx", EN),
        Part("dev", "google-research-datasets/paws-x", "{lang}", "validation", "pawsx"),
        Part("test", "google-research-datasets/paws-x", "{lang}", "test", "pawsx")),
        note="not google/xtreme PAWS-X.*, whose parser loses rows to quoting (HUB_SCHEMAS §1.2)"),
    "udpos": Source(UDPOS_LANGS, (
        Part("train", _XT, "udpos.{Language}", "train", "udpos", EN),
        Part("dev", _XT, "udpos.{Language}", "validation", "udpos",
             tuple(l for l in UDPOS_LANGS if l not in UDPOS_NO_DEV)),
        Part("test", _XT, "udpos.{Language}", "test", "udpos")),
        note="HF udpos keeps syntactic words of all treebanks of a language (HUB_SCHEMAS §1.3)"),
    "panx": Source(PANX_LANGS, (
        Part("train", _XT, "PAN-X.{lang}", "train", "panx", EN),
        Part("dev", _XT, "PAN-X.{lang}", "validation", "panx"),
        Part("test", _XT, "PAN-X.{lang}", "test", "panx"))),
    "xquad": Source(XQUAD_LANGS, (Part("test", _XT, "XQuAD.{lang}", "validation", "qa"),),
                    note="XQuAD has one split, used as test; English training/dev = squad_v1"),
    "mlqa": Source(MLQA_LANGS, (
        Part("dev", _XT, "MLQA.{lang}.{lang}", "validation", "qa"),
        Part("test", _XT, "MLQA.{lang}.{lang}", "test", "qa"))),
    "tydiqa": Source(TYDIQA_LANGS, tuple(replace(p, alternatives=(replace(p, repo=_XT, config="tydiqa"),)) for p in (
        Part("train", _TYDI, "secondary_task", "train", "tydiqa_en", EN),
        Part("dev", _TYDI, "secondary_task", "validation", "tydiqa",
             note="no public dev set: dev = the validation rows of every language, which are also its test "
                  "rows (jiant scores them in every language; the paper's dev averages include them)"),
        Part("test", _TYDI, "secondary_task", "validation", "tydiqa"))),
        note="GoldP; English-only training (3,696); official test hidden, validation used as test"),
    "bucc": Source(BUCC_LANGS, (
        Part("dev", url=BUCC_URL.replace("{release}", "sample"), convert="bucc:sample"),
        Part("test", url=BUCC_URL.replace("{release}", "training"), convert="bucc:training")),
        note="raw BUCC 2018 candidate pools; google/xtreme bucc18 holds gold pairs only"),
    "tatoeba": Source(TATOEBA_LANGS, (Part("test", _XT, "tatoeba.{lang3}", "validation", "tatoeba"),)),
    # --- training sets of targets and corpora ------------------------------------------------------------------
    "squad_v1": Source(EN, _with_pq_fallback(*_train_dev("rajpurkar/squad", "plain_text", "qa"))),
    "mlm_corpus": Source(CC100_LANGS, (
        Part("train", "statmt/cc100", "{cc100}", "train", "mlm", parquet_layout=True, streaming=True,
             alternatives=(Part("train", url=CC100_URL, convert="mlm_xz"),)),),
        note="CC-100, first N non-empty lines per language"),
    # --- intermediate tasks -------------------------------------------------------------------------------------
    "anli_plus": Source(EN, tuple(
        [Part("train", "facebook/anli", "plain_text", f"train_r{r}", "nli_anli", EN, f"anli_r{r}") for r in (1, 2, 3)]
        + [replace(_GLUE_MNLI_TRAIN, component="mnli"),
           Part("train", "stanfordnlp/snli", "plain_text", "train", "nli_snli", EN, "snli")]
        + [Part("dev", "facebook/anli", "plain_text", f"dev_r{r}", "nli_anli", EN, f"anli_r{r}") for r in (1, 2, 3)]),
        note="ANLI R1-R3 + MNLI + SNLI train (label -1 dropped); dev = ANLI dev R1-R3"),
    "mnli": Source(XNLI_LANGS, (
        _GLUE_MNLI_TRAIN,
        Part("dev", "nyu-mll/glue", "mnli", "validation_matched", "nli_glue", EN),
        Part("train", "facebook/xnli", "{lang}", "train", "xnli_mt", tuple(l for l in XNLI_LANGS if l != "en"),
             note="XNLI-MT 1.0: MNLI train machine-translated (MT control)"))),
    "qqp": Source(EN, _train_dev("nyu-mll/glue", "qqp", "qqp")),
    "sst2": Source(EN, _train_dev("nyu-mll/glue", "sst2", "sst2")),
    "squad_v2": Source(EN, _train_dev("rajpurkar/squad_v2", "squad_v2", "qa_v2")),
    "hellaswag": Source(EN, (
        Part("train", "Rowan/hellaswag", "default", "train", "hellaswag", EN, parquet_layout=True,
             alternatives=(Part("train", url=HELLASWAG_URL.format(split="train"), convert="hellaswag_jsonl"),)),
        Part("dev", "Rowan/hellaswag", "default", "validation", "hellaswag", EN, parquet_layout=True,
             alternatives=(Part("dev", url=HELLASWAG_URL.format(split="val"), convert="hellaswag_jsonl"),))),
        note="script-only on main: parquet conversion branch, raw jsonl as fallback"),
    "cosmosqa": Source(EN, (
        Part("train", "allenai/cosmos_qa", "default", "train", "cosmosqa", EN, parquet_layout=True,
             alternatives=(Part("train", url=COSMOSQA_URL.format(split="train"), convert="cosmosqa_csv"),)),
        Part("dev", "allenai/cosmos_qa", "default", "validation", "cosmosqa", EN, parquet_layout=True,
             alternatives=(Part("dev", url=COSMOSQA_URL.format(split="valid"), convert="cosmosqa_csv"),))),
        note="script-only on main: parquet conversion branch, raw csv as fallback"),
    "commonsenseqa": Source(EN, _with_pq_fallback(*_train_dev("tau/commonsense_qa", None, "commonsenseqa"))),
    "ccg": Source(EN, (Part("train", convert="ccgbank:02-21"), Part("dev", convert="ccgbank:00")),
                  note="CCGbank (LDC2005T13) AUTO files from a local copy: sections 02-21 train, 00 dev"),
}


WIKIPEDIA_REPO = "wikimedia/wikipedia"


def mlm_corpus_source(name: str = "cc100", wikipedia_date: str = "20231101") -> Source:
    """The MLM-control corpus pool (config data.mlm_corpus.source): CC-100 (`SOURCES["mlm_corpus"]`) or a
    Wikipedia dump of `wikipedia_date` (`wikimedia/wikipedia` config `<date>.<lang>`, articles split into
    paragraphs)."""
    if name == "cc100":
        return SOURCES["mlm_corpus"]
    if name == "wikipedia":
        if not re.fullmatch(r"\d{8}", str(wikipedia_date)):
            raise ValueError(f"config key data.mlm_corpus.wikipedia_date: {wikipedia_date!r} is not YYYYMMDD")
        return Source(CC100_LANGS, (Part("train", WIKIPEDIA_REPO, f"{wikipedia_date}.{{lang}}", "train", "mlm_wiki",
                                         streaming=True),),
                      note=f"Wikipedia {wikipedia_date}, first paragraphs per language")
    raise ValueError(f"config key data.mlm_corpus.source: {name!r} is not one of ['cc100', 'wikipedia']")
