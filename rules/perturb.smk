# Perturbed copies of the test sets: written once per (task, family, severity, seed) and shared by every
# model, so clean-vs-perturbed comparisons are paired.


rule perturb_testset:
    input:
        data=f"{DATA}/manifest.json",
    output:
        "resources/perturbed/task~{ttask}/manifest.json",
    log:
        "logs/perturb_testset/task~{ttask}.log",
    conda:
        ENV
    params:
        data=lambda w, input: os.path.dirname(input.data),
        families=config["perturb"]["families"],
        severities=config["perturb"]["severities"],
        seed=config["perturb"]["seed"],
    script:
        "../scripts/perturb_testset.py"
