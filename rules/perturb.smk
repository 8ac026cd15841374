# Perturbed copies of the test sets: written once per (task, family, severity, seed) and shared by every
# model, so clean-vs-perturbed comparisons are paired. One job per task x family (all severities in it):
# the families are independent, so they run in parallel. perturb.bundle_families (embedded default) runs
# all families of a task in one job (family~all): the sets are small and Python start-up would dominate.
PERTURB_FAMILY_UNITS = (
    ["all"]
    if config["perturb"].get("bundle_families")
    else config["perturb"]["families"]
)


# Which homoglyphs survive is a property of the tokenizer's normaliser: checked against the real tokenizer
# once (micro: the trained sentencepiece; paper: the downloaded XLM-R), never assumed.
rule homoglyph_table:
    input:
        tokenizer=(
            f"{MODELS}/tokenizer"
            if config["model"]["source"] == "micro"
            else f"{MODELS}/encoder~pretrained"
        ),
    output:
        "resources/perturbed/homoglyphs.json",
    log:
        "logs/homoglyph_table.log",
    conda:
        ENV
    script:
        "../scripts/homoglyph_table.py"


def _perturb_families(w):
    return config["perturb"]["families"] if w.family == "all" else [w.family]


rule perturb_testset:
    input:
        data=f"{DATA}/manifest.json",
        homoglyphs=lambda w: (
            ["resources/perturbed/homoglyphs.json"]
            if "homoglyph" in _perturb_families(w)
            else []
        ),
    output:
        "resources/perturbed/task~{ttask}/family~{family}/manifest.json",
    log:
        "logs/perturb_testset/task~{ttask}/family~{family}.log",
    wildcard_constraints:
        family="|".join(PERTURB_FAMILY_UNITS),
    conda:
        ENV
    params:
        data=lambda w, input: os.path.dirname(input.data),
        families=_perturb_families,
        severities=config["perturb"]["severities"],
        seed=config["perturb"]["seed"],
        cfg=config["perturb"],
    script:
        "../scripts/perturb_testset.py"


def perturbed_manifests(tasks):
    """The manifests of the perturbed copies of `tasks` (inputs of the evaluating jobs)."""
    return [
        f"resources/perturbed/task~{t}/family~{f}/manifest.json"
        for t in tasks
        if t in PERTURB_TASKS
        for f in PERTURB_FAMILY_UNITS
    ]


ATTACK = config["perturb"].get("attack") or {}
ATTACK_TASKS = ATTACK.get("tasks", []) if ATTACK.get("enabled") else []


def attack_homoglyphs(tasks):
    """The homoglyph table, when the attack runs on one of `tasks` with the homoglyph family."""
    run = set(tasks) & set(ATTACK_TASKS) and "homoglyph" in ATTACK.get("families", [])
    return ["resources/perturbed/homoglyphs.json"] if run else []


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
