# Perturbed copies of the test sets: written once per (task, family, severity, seed) and shared by every
# model, so clean-vs-perturbed comparisons are paired. One job per task x family (all severities in it):
# the families are independent, so they run in parallel.


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


rule perturb_testset:
    input:
        data=f"{DATA}/manifest.json",
        homoglyphs=lambda w: (
            ["resources/perturbed/homoglyphs.json"] if w.family == "homoglyph" else []
        ),
    output:
        "resources/perturbed/task~{ttask}/family~{family}/manifest.json",
    log:
        "logs/perturb_testset/task~{ttask}/family~{family}.log",
    wildcard_constraints:
        family="|".join(config["perturb"]["families"]),
    conda:
        ENV
    params:
        data=lambda w, input: os.path.dirname(input.data),
        severities=config["perturb"]["severities"],
        seed=config["perturb"]["seed"],
        cfg=config["perturb"],
    script:
        "../scripts/perturb_testset.py"


def perturbed_manifests(tasks):
    """The per-family manifests of the perturbed copies of `tasks` (inputs of the evaluating jobs)."""
    return [
        f"resources/perturbed/task~{t}/family~{f}/manifest.json"
        for t in tasks
        if t in PERTURB_TASKS
        for f in config["perturb"]["families"]
    ]
