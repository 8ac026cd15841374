# Validation, wildcard constraints and input functions: the other .smk files stay declarative.
import os
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

validate(config, "schemas/config.schema.yaml")

# Compute jobs never reach the hub (cluster nodes have no internet); downloads are localrules.
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}.items():
    os.environ.setdefault(_k, _v)

from xstilts import tasks as _T
from xstilts import config as _C
from xstilts.snake import claim_locks as _claim_locks

# A run killed with SIGKILL leaves Snakemake's locks behind; rerunning the same command should just
# continue (profiles/default sets rerun-incomplete). Locks are removed only when the process that held them
# is gone (same host, PID and start time); see xstilts.snake.claim_locks.
if workflow.is_main_process:
    _claim_locks(".", log=logger.warning)

_C.check(config)  # cross-field checks the JSON Schema cannot express (names the key)

DATA = f"resources/data/{config['data']['source']}"
if (
    config["data"]["source"] == "hub"
    and "ccg" in config["intermediate_tasks"]
    and not config["data"].get("ccgbank_path")
):
    # CCGbank is LDC-licensed: no public download. Leave CCG out of the DAG, once, loudly; the claims
    # table marks what depends on it.
    logger.warning(
        "config data.ccgbank_path is unset: CCG intermediate training is left out "
        "(CCGbank is LDC-licensed; set the path to a local copy to include it)"
    )
    config["intermediate_tasks"] = [
        t for t in config["intermediate_tasks"] if t != "ccg"
    ]
    config["controls"]["mt_tasks"] = [
        t for t in config["controls"]["mt_tasks"] if t != "ccg"
    ]
# data.bundle (config/small.yaml): real hub-schema rows committed under data/small/. Every file is checked
# against SOURCES.tsv now, before any job: a missing or altered file stops the run here, naming the file and
# the rebuild command (xstilts/data/bundle/).
BUNDLE_INPUT = []
if config["data"].get("bundle"):
    from xstilts.data import bundle as _B

    try:
        _B.verify(config["data"]["bundle"])
    except _B.BundleError as _e:
        raise WorkflowError(f"config data.bundle: {_e}")
    BUNDLE_INPUT = [f"{config['data']['bundle']}/{_B.SOURCES}"]
HUB_TASKS = (
    list(config["targets"])
    + (["squad_v1"] if {"xquad", "mlqa"} & set(config["targets"]) else [])
    + list(config["intermediate_tasks"])
    + (["mlm_corpus"] if "mlm_control" in config["phases"] else [])
)
MODELS = "resources/models"

# ---- MT control data (rules/data.smk): per task, published translations from the download or our own MT ----
MT = config["controls"].get("mt") or {}


def mt_source(task):
    """'published' (translations in the task's download, e.g. XNLI-MT for MNLI), 'model' (translate_shard
    jobs) or None (the task is not an MT-control task). Only hub data translate; micro renders its copies.
    """
    if config["data"]["source"] != "hub" or task not in config["controls"]["mt_tasks"]:
        return None
    return (MT.get("source") or {}).get(task, "model")


def mt_languages():
    """Target languages of our MT: controls.mt.languages (default: every configured language but English)."""
    langs = MT.get("languages") or [l for l in config["languages"] if l != "en"]
    return [l for l in langs if l != "en"]


def mt_model_id(mtkey):
    model = MT.get("model", "")
    return model.format(lang=mtkey) if "{lang}" in model else model


def mt_model_dir(lang):
    """A local model folder as given, else the folder download_mt_model fills: one per language for
    per-language models (an id with {lang}, e.g. Helsinki-NLP/opus-mt-en-{lang}), one shared otherwise.
    """
    model = MT.get("model", "")
    if model and Path(model.format(lang=lang)).is_dir():
        return model.format(lang=lang)
    return f"{MODELS}/mt~{lang if '{lang}' in model else 'all'}"


def translation_shards(task):
    if mt_source(task) != "model":
        return []
    n = int(MT.get("shards", 1))
    return [
        f"resources/translations/task~{task}/lang~{l}/shard~{k:02d}-of-{n:02d}.jsonl.gz"
        for l in mt_languages()
        for k in range(n)
    ]


ENCODERS = ["pretrained"] + (["random"] if config["control_encoder"]["enabled"] else [])
ITASKS = _C.itasks(config)
TTASKS_TRAINED = [t for t in config["targets"] if t in _T.TRAINABLE_TARGETS]
RETRIEVAL = [t for t in config["targets"] if t in _T.RETRIEVAL_TARGETS]
PERTURB_TASKS = [t for t in config["perturb"]["tasks"] if t in config["targets"]]
# Fine-tuning units (wildcard ttask): "all" (bundle_targets), else one per target, except that XQuAD and MLQA,
# which both fine-tune on SQuAD v1.1 with the same hyperparameters, share one job ("squad"): the model is
# trained once and evaluated on both, as XTREME does (jobs.finetune_evaluate reuses it).
SQUAD_UNIT = ("xquad", "mlqa")
if config["bundle_targets"]:
    FT_UNITS = ["all"]
elif all(t in TTASKS_TRAINED for t in SQUAD_UNIT):
    FT_UNITS = [t for t in TTASKS_TRAINED if t not in SQUAD_UNIT] + ["squad"]
else:
    FT_UNITS = TTASKS_TRAINED
ISEED = config["intermediate_seed"]
# Decided once, here: where the perturbed test sets live (rules/perturb.smk writes them, fine-tuning and
# retrieval read them; scripts get the path as a param, never as a string of their own) and how many GPUs a
# compute job asks for (paper scale: one per job; the embedded and small profiles run on CPUs).
PERTURBED = "resources/perturbed"
HOMOGLYPHS = f"{PERTURBED}/homoglyphs.json"
GPUS = 1 if config["scale"] == "paper" else 0
# the tidy table's row schema, read by aggregate_results from the checkout, whatever the working directory
RESULTS_SCHEMA = os.path.join(
    workflow.basedir, "rules", "schemas", "results.schema.yaml"
)


def conda_env(stage):
    """The conda env of a stage family (--sdm conda): xstilts.config.conda_env, which picks faiss-gpu or
    faiss-cpu for retrieval by retrieval.device."""
    return f"../{_C.conda_env(config, stage)}"


# The envs hold xstilts' dependencies, not xstilts itself (a `-e ..` in an env breaks when Snakemake builds it
# under .snakemake/conda): every job -- local, conda or SLURM, each of which runs this file again -- imports
# the xstilts package of this checkout, beside the Snakefile, ahead of any installed copy.
if (Path(workflow.basedir) / "xstilts" / "__init__.py").is_file():
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            [workflow.basedir] + [p for p in [os.environ.get("PYTHONPATH")] if p]
        )
    )

# Per-rule memory (MB) and wall-clock limit (minutes) by scale, declared with the rules so that any executor
# (SLURM, another plugin, a local run with --resources) sees what a job needs; profiles/slurm adds only what
# is site-specific (partitions, CPUs per GPU). Paper scale, XLM-R Large on one GPU: intermediate training of
# ANLI+ or the multi-task model runs for many hours, and writing a resumable checkpoint packs model, AdamW
# moments and best weights (~9 GB of tensors) on the host, ~25 GB peak. Retries get more: memory doubles from
# the second attempt, time grows with each (a job stopped at its limit resumes from its checkpoint).
RULE_RESOURCES = {
    "train_intermediate": {
        "paper": (64000, 1440),
        "small": (6000, 60),
        "embedded": (4000, 60),
    },
    "finetune_target": {
        "paper": (48000, 720),
        "small": (6000, 60),
        "embedded": (4000, 60),
    },
    "embed_sentences": {
        "paper": (64000, 180),
        "small": (6000, 30),
        "embedded": (4000, 30),
    },
    "retrieve_sentences": {
        "paper": (64000, 120),
        "small": (4000, 30),
        "embedded": (4000, 30),
    },
    "translate_shard": {
        "paper": (32000, 240),
        "small": (8000, 60),
        "embedded": (4000, 30),
    },
    "pretrain_encoder": {
        "paper": (16000, 60),
        "small": (4000, 60),
        "embedded": (4000, 60),
    },
    "init_random_encoder": {
        "paper": (16000, 30),
        "small": (4000, 10),
        "embedded": (2000, 10),
    },
}


def rule_mem_mb(rule):
    base = RULE_RESOURCES[rule][config["scale"]][0]
    return lambda wildcards, attempt: base * min(attempt, 2)


def rule_runtime(rule):
    base = RULE_RESOURCES[rule][config["scale"]][1]
    return lambda wildcards, attempt: base * attempt


THREADS = config["resources"]["threads"]


wildcard_constraints:
    encoder="|".join(["pretrained", "random"]),
    shard=r"\d+-of-\d+",
    itask="|".join(_T.INTERMEDIATE_TASKS + _T.SPECIAL_ITASKS),
    ttask="|".join(_T.TARGET_TASKS + ["all", "squad"]),
    seed=r"\d+",


def runs():
    """(encoder, itask) pairs of this config: every phase on the main encoder, the configured phases
    on the random-init control encoder."""
    out = [("pretrained", i) for i in ITASKS]
    if config["control_encoder"]["enabled"]:
        out += [
            ("random", i) for i in config["control_encoder"]["itasks"] if i in ITASKS
        ]
    return out


def encoder_path(encoder, itask):
    """The encoder a target or retrieval job starts from: the raw encoder for the baseline, else the
    intermediate model."""
    if itask == "baseline":
        return f"{MODELS}/encoder~{encoder}"
    return f"results/intermediate/encoder~{encoder}/itask~{itask}/seed~{ISEED}/model"


def encoder_dir(wildcards):
    return encoder_path(wildcards.encoder, wildcards.itask)


def embeddings_path(encoder, itask, seed):
    return (
        f"results/embeddings/encoder~{encoder}/itask~{itask}/seed~{seed}/sentences.npz"
    )


# Files of the one embedding job kind (embed_sentences in rules/retrieve.smk): every encoder in one job
# (bundle_embeddings) or one job per encoder, keyed by the wildcards.
if config.get("bundle_embeddings"):
    EMBED_ENCODERS = [encoder_path(e, i) for e, i in runs()]
    EMBED_OUTPUTS = [embeddings_path(e, i, ISEED) for e, i in runs()]
    EMBED_LOG = "logs/embed_sentences/all.log"
    EMBED_BENCHMARK = "logs/benchmarks/embed_sentences/all.tsv"
else:
    EMBED_ENCODERS = encoder_dir
    EMBED_OUTPUTS = embeddings_path("{encoder}", "{itask}", "{seed}")
    _EMBED_KEY = "encoder~{encoder}/itask~{itask}/seed~{seed}"
    EMBED_LOG = f"logs/embed_sentences/{_EMBED_KEY}.log"
    EMBED_BENCHMARK = f"logs/benchmarks/embed_sentences/{_EMBED_KEY}.tsv"


def ft_targets(wildcards):
    if wildcards.ttask == "all":
        return TTASKS_TRAINED
    if wildcards.ttask == "squad":
        return [t for t in TTASKS_TRAINED if t in SQUAD_UNIT]
    return [wildcards.ttask]


def finetune_outputs():
    return (
        [
            f"results/finetune/encoder~{e}/itask~{i}/ttask~{t}/seed~{s}/metrics.json"
            for e, i in runs()
            for t in FT_UNITS
            for s in config["seeds"]
        ]
        if TTASKS_TRAINED
        else []
    )


def retrieve_outputs():
    return (
        [
            f"results/retrieve/encoder~{e}/itask~{i}/seed~{ISEED}/metrics.json"
            for e, i in runs()
        ]
        if RETRIEVAL
        else []
    )


# ---- perturbation stage (rules/perturb.smk) ----
# One perturbation job per task x family; perturb.bundle_families runs all families of a task in one job.
PERTURB_FAMILY_UNITS = (
    ["all"]
    if config["perturb"].get("bundle_families")
    else config["perturb"]["families"]
)


def _perturb_families(w):
    return config["perturb"]["families"] if w.family == "all" else [w.family]


def perturbed_manifests(tasks):
    """The manifests of the perturbed copies of `tasks` (inputs of the evaluating jobs)."""
    return [
        f"{PERTURBED}/task~{t}/family~{f}/manifest.json"
        for t in tasks
        if t in PERTURB_TASKS
        for f in PERTURB_FAMILY_UNITS
    ]


ATTACK = config["perturb"].get("attack") or {}
ATTACK_TASKS = ATTACK.get("tasks", []) if ATTACK.get("enabled") else []


def attack_homoglyphs(tasks):
    """The homoglyph table, when the attack runs on one of `tasks` with the homoglyph family."""
    run = set(tasks) & set(ATTACK_TASKS) and "homoglyph" in ATTACK.get("families", [])
    return [HOMOGLYPHS] if run else []


def attack_transfer_input(w, tasks):
    """Transfer mode: an intermediate model's job reads the adversaries built on the baseline of the same
    encoder, target unit and seed (the baseline job writes them right after its training).
    """
    if w.itask == "baseline" or not set(tasks) & set(ATTACK_TASKS):
        return []
    if ("baseline", w.encoder) not in [(i, e) for e, i in runs()]:
        return []
    return [
        f"results/finetune/encoder~{w.encoder}/itask~baseline/ttask~{w.ttask}/seed~{w.seed}/adversarial.jsonl.gz"
    ]


# ---- paper outputs (rules/paper.smk) ----
import shutil

from xstilts.report import frozen as _F

PAPER = "paper"  # generated tables, claims, numbers and figures (make_tables writes under it)
FROZEN = f"{PAPER}/frozen"
TABLE_STEMS = ["dev_deltas", "xtreme_test", "controls", "robustness", "control_encoder"]
FIGURE_STEMS = ["dev_deltas", "robustness_curves", "language_gains"]
PAPER_OUTPUTS = (
    [
        f"{PAPER}/claims.tex",
        f"{PAPER}/claims.csv",
        f"{PAPER}/claims.md",
        f"{PAPER}/numbers.tex",
    ]
    + [f"{PAPER}/tables/{s}.{e}" for s in TABLE_STEMS for e in ("tex", "csv")]
    + [f"{PAPER}/tables/significance.csv"]
    + [f"{PAPER}/figures/{s}.{e}" for s in FIGURE_STEMS for e in ("pdf", "png")]
)
# In the HTML report (snakemake --report): figures, the claims and the tables' numbers, with captions.
REPORTED = {
    "paper/figures/dev_deltas.png": ("Figures", "dev_deltas"),
    "paper/figures/language_gains.png": ("Figures", "language_gains"),
    "paper/figures/robustness_curves.png": ("Figures", "robustness_curves"),
    "paper/claims.csv": ("Claims", "claims"),
    "paper/tables/dev_deltas.csv": ("Tables", "dev_deltas"),
    "paper/tables/xtreme_test.csv": ("Tables", "xtreme_test"),
    "paper/tables/controls.csv": ("Tables", "controls"),
    "paper/tables/significance.csv": ("Tables", "significance"),
    "paper/tables/robustness.csv": ("Tables", "robustness"),
    "paper/tables/control_encoder.csv": ("Tables", "control_encoder"),
}
# Targets that only (re)build the paper's outputs: with tables_from auto they may read the frozen copy.
TABLES_ONLY_TARGETS = {
    "tables",
    "make_tables",
    "compile_paper",
    "paper/main.pdf",
    *PAPER_OUTPUTS,
}
# The PDF needs latexmk; without it the DAG leaves it out (one warning) instead of failing.
LATEXMK = shutil.which("latexmk")
PAPER_PDF = ["paper/main.pdf"] if LATEXMK else []
if not LATEXMK:
    logger.warning(
        "latexmk not found: paper/main.pdf is not built (tables and figures are); install a TeX toolchain, "
        "e.g. `python -m xstilts.report.latex --install` as root on Debian/Ubuntu"
    )


def _reported(path):
    if path not in REPORTED:
        return path
    category, stem = REPORTED[path]
    return report(path, caption=f"../report/{stem}.rst", category=category)


def _builds_run():
    """True unless every requested target is one of the paper's outputs (no targets = the default `all`)."""
    settings = getattr(workflow, "dag_settings", None)
    targets = (
        set(settings.targets) if settings is not None and settings.targets else set()
    )
    return not targets or not targets <= TABLES_ONLY_TARGETS


def tables_source():
    mode = config.get("outputs", {}).get("tables_from", "auto")
    return _F.choose_source(mode, "results", FROZEN, _builds_run())


def tables_inputs(wildcards):
    src, _why = tables_source()
    return _F.paths("results" if src == "results" else FROZEN)
