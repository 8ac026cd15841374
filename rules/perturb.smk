# Perturbed copies of the test sets: written once per (task, family, severity, seed) and shared by every
# model, so clean-vs-perturbed comparisons are paired. One job per task x family (all severities in it):
# the families are independent, so they run in parallel. perturb.bundle_families (embedded default) runs
# all families of a task in one job (family~all): the sets are small and Python start-up would dominate.
# (PERTURB_FAMILY_UNITS and the input functions live in common.smk.)


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
        HOMOGLYPHS,
    log:
        "logs/homoglyph_table.log",
    conda:
        conda_env("data")
    script:
        "../scripts/homoglyph_table.py"


rule perturb_testset:
    input:
        data=f"{DATA}/manifest.json",
        homoglyphs=lambda w: (
            [HOMOGLYPHS] if "homoglyph" in _perturb_families(w) else []
        ),
    output:
        f"{PERTURBED}/task~{{ttask}}/family~{{family}}/manifest.json",
    log:
        "logs/perturb_testset/task~{ttask}/family~{family}.log",
    wildcard_constraints:
        family="|".join(PERTURB_FAMILY_UNITS),
    conda:
        conda_env("data")
    params:
        data=lambda w, input: os.path.dirname(input.data),
        families=_perturb_families,
        severities=config["perturb"]["severities"],
        seed=config["perturb"]["seed"],
        cfg=config["perturb"],
    script:
        "../scripts/perturb_testset.py"
