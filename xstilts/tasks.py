"""The task registry: every task the pipeline knows, its format, labels and metric.

One table drives the config schema (task names), the loaders (record format), the heads (task type) and
the scorer (metric), so adding a task means adding one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Record formats (see docs/records.md). Every loader, generated or hub, writes exactly these.
CLASSIFICATION = "classification"  # single sentence or sentence pair -> one label
MULTIPLE_CHOICE = "multiple_choice"  # context (+ question) and k choices -> index
SPAN_QA = "span_qa"  # SQuAD-style extractive QA, unanswerable = empty answers
TAGGING = "tagging"  # pre-split tokens -> one tag per token
BUCC = "bucc"  # monolingual candidate pools + gold pairs
TATOEBA = "tatoeba"  # index-aligned parallel sentences
MLM = "mlm"  # unlabelled text

UPOS = ["ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
        "PUNCT", "SCONJ", "SYM", "VERB", "X"]
NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
NLI = ["entailment", "neutral", "contradiction"]


@dataclass(frozen=True)
class Task:
    name: str
    format: str
    role: str  # "target" | "intermediate" | "corpus"
    metric: str  # primary metric name in the tidy table
    labels: tuple[str, ...] = ()
    n_choices: int = 0
    pair: bool = False  # classification over two texts
    unanswerable: bool = False  # span QA may have no answer (SQuAD v2.0)
    qa_normalisation: str = "squad"  # "squad" | "mlqa"
    train_from: str | None = None  # target tasks: which English training set (task name) they fine-tune on
    description: str = ""
    extra: dict = field(default_factory=dict)


TASKS: dict[str, Task] = {t.name: t for t in [
    # --- XTREME target tasks -------------------------------------------------------------------------------
    Task("xnli", CLASSIFICATION, "target", "accuracy", tuple(NLI), pair=True, train_from="xnli",
         description="natural language inference (English training = MNLI)"),
    Task("pawsx", CLASSIFICATION, "target", "accuracy", ("0", "1"), pair=True, train_from="pawsx",
         description="adversarial paraphrase identification"),
    Task("udpos", TAGGING, "target", "f1", tuple(UPOS), train_from="udpos",
         description="universal POS tagging"),
    Task("panx", TAGGING, "target", "f1", tuple(NER), train_from="panx",
         description="named entity recognition (WikiANN)"),
    Task("xquad", SPAN_QA, "target", "f1", train_from="squad_v1",
         description="extractive QA (English training = SQuAD v1.1)"),
    Task("mlqa", SPAN_QA, "target", "f1", qa_normalisation="mlqa", train_from="squad_v1",
         description="extractive QA, context in the question language"),
    Task("tydiqa", SPAN_QA, "target", "f1", train_from="tydiqa",
         description="TyDiQA gold passage; English training part only"),
    Task("bucc", BUCC, "target", "f1", description="parallel sentence mining (no training data)"),
    Task("tatoeba", TATOEBA, "target", "accuracy", description="parallel sentence retrieval (no training data)"),
    # --- English intermediate tasks ------------------------------------------------------------------------
    Task("anli_plus", CLASSIFICATION, "intermediate", "accuracy", tuple(NLI), pair=True,
         description="ANLI R1-R3 + MNLI + SNLI, one NLI head"),
    Task("mnli", CLASSIFICATION, "intermediate", "accuracy", tuple(NLI), pair=True,
         description="multi-genre NLI"),
    Task("qqp", CLASSIFICATION, "intermediate", "accuracy", ("not_duplicate", "duplicate"), pair=True,
         description="question paraphrase"),
    Task("squad_v2", SPAN_QA, "intermediate", "f1", unanswerable=True,
         description="span extraction from Wikipedia, with unanswerable questions"),
    Task("hellaswag", MULTIPLE_CHOICE, "intermediate", "accuracy", n_choices=4,
         description="sentence completion from ActivityNet video captions and WikiHow"),
    Task("cosmosqa", MULTIPLE_CHOICE, "intermediate", "accuracy", n_choices=4,
         description="reading-comprehension multiple choice"),
    Task("commonsenseqa", MULTIPLE_CHOICE, "intermediate", "accuracy", n_choices=5,
         description="commonsense multiple choice"),
    Task("sst2", CLASSIFICATION, "intermediate", "accuracy", ("negative", "positive"),
         description="binary sentiment"),
    Task("ccg", TAGGING, "intermediate", "accuracy", description="CCG supertagging (word classification)"),
    # --- training sets of targets that are not themselves targets, and corpora ---------------------------
    Task("squad_v1", SPAN_QA, "corpus", "f1", description="SQuAD v1.1, English training set of XQuAD/MLQA"),
    Task("mlm_corpus", MLM, "corpus", "loss", description="multilingual unlabelled text for MLM"),
]}

TARGET_TASKS = [t for t, v in TASKS.items() if v.role == "target"]
INTERMEDIATE_TASKS = [t for t, v in TASKS.items() if v.role == "intermediate"]
TRAINABLE_TARGETS = [t for t in TARGET_TASKS if TASKS[t].train_from]
RETRIEVAL_TARGETS = [t for t in TARGET_TASKS if not TASKS[t].train_from]
# Intermediate "phases" beyond the single tasks: no phase at all, all nine at once, and the two controls.
SPECIAL_ITASKS = ["baseline", "multitask", "mlm_control", "mt_control"]

# Task-format families as the paper groups them (claim C15).
PAPER_GROUPS = {
    "anli_plus": "sentence classification", "mnli": "sentence classification", "qqp": "sentence classification",
    "sst2": "sentence classification", "squad_v2": "question answering", "hellaswag": "question answering",
    "cosmosqa": "question answering", "commonsenseqa": "question answering", "ccg": "word classification",
}


def get(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


def lang_order(langs) -> list[str]:
    """Languages in the order every meta.json and inventory lists them: English first, then sorted codes."""
    return sorted(set(langs), key=lambda lang: (lang != "en", lang))
