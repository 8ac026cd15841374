"""The paper-scale data stage without the hub: malformed rows (one test per record format, both policies), the
offline prepare step (translations merged, MLM corpus sampled by temperature), the inventory and its ANLI+/MNLI
arithmetic, and the paper dry-run's download / translate / prepare jobs."""
import copy
import io
import json

import pytest

from conftest import REPO
from test_hub import FakeHub, _glue_mnli, _hellaswag_rows, _no_fetch, _squad_rows, _tar_bz2, _xnli_tables
from xstilts import records as R
from xstilts import tasks as T
from xstilts.data import hub as H
from xstilts.data import loaders as L
from xstilts.data import prepare as P
from xstilts.data import sources as SRC
from workflow import snakemake
from xstilts.records import RecordError

XT = "google/xtreme"




# ---------------------------------------------------------------------------------------------- malformed rows
# One case per record format: the task, its tables (hub rows built from the real fixtures), the row to break,
# how it is broken, the languages, and what the error must say. The row index is the one `datasets` gives.

def _udpos_tables(real):
    rows = [{"tokens": r["tokens"], "pos_tags": [T.UPOS.index(t) for t in r["tags"]]}
            for r in L.udpos_from_conllu(real / "udpos/en_ewt-ud-test.first100.conllu")]
    return {(XT, "udpos.English", "train"): rows[:60], (XT, "udpos.English", "validation"): rows[60:80],
            (XT, "udpos.English", "test"): rows[80:]}


def _tatoeba_tables(real):
    src = (real / "tatoeba/tatoeba.deu-eng.deu").read_text("utf-8").split("\n")[:-1]
    tgt = (real / "tatoeba/tatoeba.deu-eng.eng").read_text("utf-8").split("\n")[:-1]
    return {(XT, "tatoeba.deu", "validation"): [{"source_sentence": s + "\n", "target_sentence": t + "\n"}
                                                 for s, t in zip(src, tgt)]}


def _squad_tables(real):
    rows = _squad_rows(real / "intermediate/squad_v2/dev-v2.0.first40q.json")
    return {("rajpurkar/squad_v2", "squad_v2", "train"): rows, ("rajpurkar/squad_v2", "squad_v2", "validation"): rows[:8]}


def _hellaswag_tables(real):
    _, rows = _hellaswag_rows(real)
    rows = [dict(rows[i % len(rows)], ind=i) for i in range(6)]
    return {("Rowan/hellaswag", "default", "train"): rows, ("Rowan/hellaswag", "default", "validation"): rows[:2]}


def _mlm_tables(real):
    de = [{"id": str(i), "text": t} for i, t in enumerate(["Ein Satz.\n", "Noch einer.\n", "Der dritte.\n"])]
    return {("statmt/cc100", "de", "train"): de}


def _first_answered(rows):
    return next(i for i, r in enumerate(rows) if r["answers"]["text"])


CASES = {  # format: (task, tables, table key, row, corrupt(row), languages, message)
    T.CLASSIFICATION: ("xnli", _xnli_tables, ("facebook/xnli", "de", "validation"), 3,
                       lambda r: r.update(label=7), ["en", "de"], "label 7 out of range 0..2"),
    T.MULTIPLE_CHOICE: ("hellaswag", _hellaswag_tables, ("Rowan/hellaswag", "default", "train"), 4,
                        lambda r: r.pop("endings"), ["en"], "missing field 'endings'"),
    T.SPAN_QA: ("squad_v2", _squad_tables, ("rajpurkar/squad_v2", "squad_v2", "train"), None,
                lambda r: r["answers"].update(text=["an answer nowhere in this context"] * len(r["answers"]["text"])),
                ["en"],
                "does not occur in the context"),
    T.TAGGING: ("udpos", _udpos_tables, (XT, "udpos.English", "validation"), 5,
                lambda r: r["pos_tags"].pop(), ["en"], "tokens"),
    T.TATOEBA: ("tatoeba", _tatoeba_tables, (XT, "tatoeba.deu", "validation"), 2,
                lambda r: r.update(source_sentence="\n"), ["en", "de"], "empty"),
    T.MLM: ("mlm_corpus", _mlm_tables, ("statmt/cc100", "de", "train"), 1, lambda r: r.pop("text"), ["de"],
            "field 'text' is missing"),
}


def _broken(real, fmt, corrupt=True):
    task, tables_of, key, row, breaker, langs, msg = CASES[fmt]
    tables = {k: copy.deepcopy(v) for k, v in tables_of(real).items()}  # tables may share rows: break one only
    if row is None:
        row = _first_answered(tables[key])
    if corrupt:
        breaker(tables[key][row])
    return task, tables, key, row, langs, msg


def test_every_record_format_has_a_malformed_row_case():
    assert set(CASES) | {T.BUCC} == {t.format for t in T.TASKS.values()}  # BUCC: own test below


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_malformed_row_names_dataset_split_and_row(real, tmp_path, fmt):
    task, tables, (repo, config, split), row, langs, msg = _broken(real, fmt)
    with pytest.raises(RecordError) as e:
        H.download_task(task, tmp_path, langs, load=FakeHub(tables), fetch=_no_fetch, log=lambda m: None)
    text = str(e.value)
    assert f"{repo}:{config}:{split}:row {row}" in text and msg in text, text
    assert not (tmp_path / f"task~{task}").exists()  # nothing partial written


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_malformed_row_dropped_and_counted_when_config_says_so(real, tmp_path, fmt):
    task, tables, (repo, config, split), row, langs, msg = _broken(real, fmt)
    clean = H.download_task(task, tmp_path / "clean", langs, load=FakeHub(_broken(real, fmt, corrupt=False)[1]),
                            fetch=_no_fetch, log=lambda m: None)
    logs = []
    meta = H.download_task(task, tmp_path / "drop", langs, load=FakeHub(tables), fetch=_no_fetch, log=logs.append,
                           on_bad_row="drop")
    assert clean["bad_rows"]["dropped"] == 0
    assert meta["bad_rows"]["dropped"] == 1 and meta["bad_rows"]["policy"] == "drop"
    (bad,) = [json.loads(l) for l in (tmp_path / f"drop/task~{task}/bad_rows.jsonl").read_text().splitlines()]
    assert f"{repo}:{config}:{split}:row {row}" in bad["where"] and msg in bad["error"]
    assert any("dropped 1 malformed row" in m for m in logs)
    rows = P.inventory_rows(tmp_path / "drop", [task])
    assert sum(r["dropped_malformed"] for r in rows) == 1
    # exactly that row is missing: one record fewer in its language and split, the rest unchanged
    diff = [(l, s, n - meta["counts"][l][s]) for l, by in clean["counts"].items() for s, n in by.items()]
    assert [d for d in diff if d[2]] == [(bad["lang"], bad["split"], 1)]


def test_bucc_malformed_line_names_file_and_line(tmp_path):
    de = "de-0\tEin Satz.\nde-1 missing tab\nde-2\tNoch einer.\n"
    en = "en-0\tA sentence.\nen-1\tAnother.\nen-2\tOne more.\n"
    gold = "de-0\ten-0\nde-1\ten-1\nde-2\ten-2\n"
    d = "bucc2018/de-en/de-en"
    blobs = {SRC.BUCC_URL.format(lang="de", release=rel): _tar_bz2({f"{d}.{rel}.de": de, f"{d}.{rel}.en": en,
                                                                  f"{d}.{rel}.gold": gold})
             for rel in ("sample", "training")}
    fetch = lambda u: io.BytesIO(blobs[u])  # noqa: E731
    with pytest.raises(RecordError, match=r"de-en\.sample\.de:2: expected `id<TAB>sentence`"):
        H.download_task("bucc", tmp_path / "a", ["en", "de"], load=FakeHub({}), fetch=fetch, log=lambda m: None)
    meta = H.download_task("bucc", tmp_path / "b", ["en", "de"], load=FakeHub({}), fetch=fetch, log=lambda m: None,
                           on_bad_row="drop")
    # the bad sentence and the gold pair naming it, in both releases
    assert meta["bad_rows"]["dropped"] == 4
    gold_dev = R.read_jsonl(tmp_path / "b/task~bucc/lang~de/dev.gold.jsonl")
    assert [g["source_id"] for g in gold_dev] == ["de-0", "de-2"]


def test_ccg_malformed_derivation_names_file(tmp_path):
    (tmp_path / "02").mkdir()
    (tmp_path / "02" / "wsj_0201.auto").write_text("ID=wsj_0201.1 PARSER=GOLD NUMPARSE=1\n(<T S 0 1> nothing)\n")
    with pytest.raises(RecordError, match=r"wsj_0201\.auto:2: no \(<L"):
        H.read_ccgbank(tmp_path, H.CCG_SECTIONS["02-21"])


def test_bad_row_policy_is_checked():
    with pytest.raises(ValueError, match="data.on_bad_row"):
        with L.bad_rows("skip"):
            pass


# ------------------------------------------------------------------------------------------------- inventory


def test_inventory_arithmetic_anli_plus_and_mnli(real, tmp_path):
    """ANLI+ = ANLI R1-R3 + MNLI + SNLI without "-" rows; the inventory counts each component and the total, and
    the claims read the total. On the real data: 16,946 + 45,460 + 100,459 + 392,702 + 549,367 = 1,104,934."""
    anli = [{"uid": f"u{i}", "premise": f"Premise {i}.", "hypothesis": f"Hypothesis {i}.", "label": i % 3}
            for i in range(30)]
    snli = [{"premise": f"P{i}.", "hypothesis": f"H{i}.", "label": -1 if i in (2, 5) else i % 3} for i in range(9)]
    a, s = "facebook/anli", "plain_text"
    tables = {(a, s, "train_r1"): anli[:5], (a, s, "train_r2"): anli[5:12], (a, s, "train_r3"): anli[12:24],
              (a, s, "dev_r1"): anli[24:26], (a, s, "dev_r2"): anli[26:28], (a, s, "dev_r3"): anli[28:],
              ("nyu-mll/glue", "mnli", "train"): _glue_mnli(real), ("stanfordnlp/snli", "plain_text", "train"): snli,
              ("nyu-mll/glue", "mnli", "validation_matched"): _glue_mnli(real)}
    root = tmp_path / "data"
    H.download_task("anli_plus", root, ["en"], load=FakeHub(tables), fetch=_no_fetch, log=lambda m: None)
    H.download_task("mnli", root, ["en"], load=FakeHub(tables), fetch=_no_fetch, log=lambda m: None)
    rows = P.inventory_rows(root, ["anli_plus", "mnli"])
    P.write_inventory(tmp_path / "inventory.tsv", rows)
    rows = P.read_inventory(tmp_path / "inventory.tsv")
    comp = {r["component"]: r["examples"] for r in rows if r["task"] == "anli_plus" and r["component"]
            and r["split"] == "train"}
    n_mnli = len(_glue_mnli(real))
    assert comp == {"anli_r1": 5, "anli_r2": 7, "anli_r3": 12, "mnli": n_mnli, "snli": 7}
    total = P.inventory_count(rows, "anli_plus")
    assert total == sum(comp.values()) == 5 + 7 + 12 + n_mnli + (9 - 2)
    (main,) = [r for r in rows if r["task"] == "anli_plus" and not r["component"] and r["split"] == "train"]
    assert main["dropped_unlabelled"] == 2
    assert P.inventory_count(rows, "mnli") == n_mnli
    # the paper's numbers are the same sum of the published component sizes (PROTOCOL.md)
    assert 16946 + 45460 + 100459 + 392702 + 549367 == 1104934


def test_claims_read_the_inventory(tmp_path):
    """The aggregate inventory (what the claims read) takes its counts from inventory.tsv, not from the files."""
    from xstilts.report import aggregate
    from xstilts.data.micro import generate
    d = tmp_path / "micro"
    generate(d, {"seed": 3, "tasks": ["xnli", "anli_plus", "mnli", "mlm_corpus"], "n_train": 40, "n_dev": 10,
                 "n_test": 10, "n_mlm": 40})
    rows = P.read_inventory(d / "inventory.tsv")
    for r in rows:
        if r["task"] == "mnli" and r["split"] == "train" and r["language"] == "en":
            r["examples"] = 392702  # as the real data would give
    P.write_inventory(d / "inventory.tsv", rows)
    cfg = {"scale": "paper", "model": {"id": "micro"}, "intermediate_tasks": ["anli_plus", "mnli"],
           "targets": ["xnli"]}
    inv = aggregate.inventory(cfg, d)
    assert inv["intermediate"]["mnli"]["train_examples"] == 392702
    from xstilts.report.claims import evaluate_claims
    import pandas as pd
    claims = {c.id: c for c in evaluate_claims(pd.DataFrame(columns=["encoder", "itask", "ttask", "lang", "split",
                                                                          "seed", "family", "severity", "metric",
                                                                          "value", "n", "scale", "model_id",
                                                                          "config_hash", "git_rev"]), inv)}
    assert claims["C17"].verdict == "supported", claims["C17"]


# ------------------------------------------------------------------------------------------------- MLM sampling


def test_temperature_allocation():
    pool = {"en": 1000, "de": 100, "sw": 10}
    q = P.temperature_shares(pool, 0.3)
    p = {l: v / 1110 for l, v in pool.items()}
    z = sum(v ** 0.3 for v in p.values())
    assert q == pytest.approx({l: v ** 0.3 / z for l, v in p.items()})
    assert q["sw"] > p["sw"] and q["en"] < p["en"]  # low-resource languages are upsampled
    assert P.temperature_shares(pool, 1.0) == pytest.approx(p)
    assert P.temperature_shares(pool, 0.0) == pytest.approx({l: 1 / 3 for l in pool})
    alloc = P.mlm_allocation(pool, 300, 0.3)
    assert sum(alloc.values()) == 300 and alloc["sw"] == 10  # capped at its pool, the rest re-split
    assert alloc["en"] > alloc["de"] > alloc["sw"]
    free = {l: round(300 * q[l]) for l in pool}
    assert free["sw"] > 10  # without the cap sw would have wanted more than it has
    assert P.mlm_allocation(pool, 5000, 0.3) == pool  # asks for more than exists: everything
    sizes = {"en": 1.0, "de": 1.0, "sw": 1.0}  # config sizes override the pool sizes: uniform shares
    assert P.mlm_allocation({"en": 1000, "de": 1000, "sw": 1000}, 300, 0.3, sizes) == {"en": 100, "de": 100, "sw": 100}
    with pytest.raises(ValueError, match="data.mlm_corpus.alpha"):
        P.temperature_shares(pool, 2)


def _mlm_download(tmp_path):
    tables = {("statmt/cc100", "de", "train"): [{"id": str(i), "text": f"Satz {i}.\n"} for i in range(200)],
              ("statmt/cc100", "sw", "train"): [{"id": str(i), "text": f"Sentensi {i}.\n"} for i in range(20)],
              ("statmt/cc100", "en", "train"): [{"id": str(i), "text": f"Sentence {i}.\n"} for i in range(500)]}
    root = tmp_path / "downloads"
    H.download_task("mlm_corpus", root, ["en", "de", "sw"], pool_lines=400, load=FakeHub(tables), fetch=_no_fetch,
                    log=lambda m: None)
    return root / "task~mlm_corpus"


def test_prepare_samples_mlm_corpus_into_shards(tmp_path):
    from xstilts.models.pretrain import corpus_texts
    dl = _mlm_download(tmp_path)
    cfg = {"total_lines": 120, "alpha": 0.3, "seed": 1, "shards": 4}
    out = tmp_path / "data" / "task~mlm_corpus"
    meta = P.prepare_task("mlm_corpus", dl, out, mlm=cfg, log=lambda m: None)
    rep = meta["provenance"]["prepared"]["mlm_sampling"]
    assert rep["pool"] == {"de": 200, "en": 400, "sw": 20} and sum(rep["lines"].values()) == 120
    assert meta["counts"] == {l: {"train": n} for l, n in rep["lines"].items()}
    assert meta["shards"] == [f"shards/shard~{k:03d}.txt" for k in range(4)]
    lines = [l for s in meta["shards"] for l in (out / s).read_text().splitlines()]
    assert len(lines) == 120 and sum(l.startswith("Sentensi") for l in lines) == rep["lines"]["sw"]
    assert sorted(corpus_texts(out.parent, ["en", "de", "sw"])) == sorted(lines)  # the MLM control reads the shards
    again = P.prepare_task("mlm_corpus", dl, tmp_path / "again" / "task~mlm_corpus", mlm=cfg, log=lambda m: None)
    assert [(out / s).read_bytes() for s in meta["shards"]] == \
        [(tmp_path / "again/task~mlm_corpus" / s).read_bytes() for s in again["shards"]]


def test_prepare_links_downloads_and_leaves_no_partial_folder(real, tmp_path):
    root = tmp_path / "downloads"
    H.download_task("xnli", root, ["en", "de"], load=FakeHub(_xnli_tables(real)), fetch=_no_fetch, log=lambda m: None)
    out = tmp_path / "data" / "task~xnli"
    meta = P.prepare_task("xnli", root / "task~xnli", out, log=lambda m: None)
    assert meta["counts"] == R.read_meta(root / "task~xnli")["counts"]
    assert (out / "lang~de/test.jsonl").read_bytes() == (root / "task~xnli/lang~de/test.jsonl").read_bytes()
    with pytest.raises(ValueError, match="expected 'mnli'"):
        P.prepare_task("mnli", root / "task~xnli", tmp_path / "data" / "task~mnli", log=lambda m: None)
    assert not (tmp_path / "data" / "task~mnli").exists()
    assert not list((tmp_path / "data").glob(".task~*"))


def test_prepare_merges_translated_shards(real, tmp_path):
    """MT control: the English training set, sharded, translated by a lexicon translator (the interface the micro
    benchmark's exact translation and the HF models share), merged back in order into lang~xx/train.jsonl."""
    from xstilts.data import translate as X
    rows = _squad_rows(real / "intermediate/squad_v2/dev-v2.0.first40q.json")
    r2 = "rajpurkar/squad_v2"
    root = tmp_path / "downloads"
    H.download_task("squad_v2", root, ["en"], load=FakeHub({(r2, "squad_v2", "train"): rows,
                                                           (r2, "squad_v2", "validation"): rows[:5]}),
                    fetch=_no_fetch, log=lambda m: None)
    en = R.read_jsonl(root / "task~squad_v2/lang~en/train.jsonl")

    class Upper(X.Translator):  # a deterministic stand-in for a model: every text upper-cased
        info = {"engine": "upper"}

        def translate(self, texts):
            return [t.upper() for t in texts]

    paths = []
    for k in range(3):
        out, rep = X.translate_records("squad_v2", X.shard(en, k, 3), Upper(), "de", log=lambda m: None)
        paths.append(X.write_shard(tmp_path / f"tr/shard~{k:02d}-of-03.jsonl.gz", out, rep))
    meta = P.prepare_task("squad_v2", root / "task~squad_v2", tmp_path / "data/task~squad_v2",
                          translations={"de": paths}, log=lambda m: None)
    de = R.read_jsonl(tmp_path / "data/task~squad_v2/lang~de/train.jsonl", T.SPAN_QA)
    assert meta["splits"]["de"] == ["train"] and meta["counts"]["de"]["train"] == len(de)
    assert [r["id"] for r in de] == [r["id"] for r in en][:len(de)] or {r["id"] for r in de} <= {r["id"] for r in en}
    assert all(r["question"] == next(e for e in en if e["id"] == r["id"])["question"].upper() for r in de)
    rep = meta["provenance"]["prepared"]["translations"]["de"]
    assert rep["examples_in"] == len(en) and rep["examples_out"] == len(de)


# ------------------------------------------------------------------------------------------------- the DAG


def _dry(*targets):
    r = snakemake(REPO, "-n", "--forceall", *targets, configfiles=("config/paper.yaml",), timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    jobs = []  # (rule, wildcards) per planned job
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith(("rule ", "localrule ")) and line.endswith(":"):
            jobs.append((line.split(" ", 1)[1][:-1], {}))
        elif line.startswith("wildcards:") and jobs:
            jobs[-1][1].update(kv.split("=", 1) for kv in line[len("wildcards:"):].strip().split(", "))
    return jobs


def test_paper_dry_run_plans_download_translate_and_prepare_jobs():
    import yaml
    cfg = yaml.safe_load((REPO / "config/paper.yaml").read_text())
    jobs = _dry()
    by_rule = {}
    for rule, w in jobs:
        by_rule.setdefault(rule, []).append(w)
    tasks = {w["task"] for w in by_rule["download_hub_task"]}
    want = set(cfg["targets"]) | {"squad_v1", "mlm_corpus"} | (set(cfg["intermediate_tasks"]) - {"ccg"})
    assert tasks == want and len(by_rule["download_hub_task"]) == len(want) == 19
    assert {w["task"] for w in by_rule["prepare_hub_task"]} == want
    mt = cfg["controls"]["mt"]
    model_tasks = [t for t in cfg["controls"]["mt_tasks"] if mt["source"].get(t, "model") == "model"]
    assert model_tasks == ["squad_v2"]
    shards = {(w["task"], w["lang"], w["shard"]) for w in by_rule["translate_shard"]}
    assert shards == {("squad_v2", l, f"{k:02d}-of-{mt['shards']:02d}") for l in mt["languages"]
                      for k in range(mt["shards"])}
    assert len(by_rule["download_mt_model"]) == 1 and len(by_rule["data_inventory"]) == 1


def test_download_target_holds_exactly_the_network_jobs():
    """`snakemake download` on the head node: every job that reaches the network and nothing else."""
    jobs = _dry("download")
    rules = {r for r, _ in jobs} - {"download"}
    assert rules == {"download_hub_task", "download_model", "download_mt_model"}
    text = (REPO / "rules/data.smk").read_text() + (REPO / "rules/pretrain.smk").read_text()
    # the scripts that lift the offline flags are exactly those of the download rules
    lifting = {p.name for p in (REPO / "scripts").glob("*.py") if "os.environ.pop" in p.read_text()}
    assert lifting == {"download_hub_task.py", "download_model.py"}
    assert "download_model.py" in text and "download_hub_task.py" in text


def test_translate_and_prepare_jobs_run_offline_through_snakemake(real, tmp_path):
    """The MT path end to end through the rules: downloads already on disk (as the head node leaves them), then
    `snakemake resources/data/hub/task~squad_v2/meta.json` with the offline flags runs two translate_shard jobs
    with a tiny local seq2seq model and prepare_hub_task merges them; nothing is downloaded."""
    import tiny_seq2seq
    from workflow import copy_workflow

    model = tiny_seq2seq.build(tmp_path / "tiny_mt", real)
    overlay = {"languages": ["en", "de"], "targets": ["xnli"], "intermediate_tasks": ["squad_v2"],
               "phases": ["baseline", "mt_control"],
               "controls": {"mt_tasks": ["squad_v2"],
                            "mt": {"source": {"squad_v2": "model"}, "engine": "hf", "model": str(model),
                                   "lang_codes": "m2m100", "languages": ["de"], "shards": 2, "batch_size": 4,
                                   "num_beams": 1, "max_new_tokens": 12, "progress": False}}}
    d = copy_workflow(tmp_path / "wf", overlay, extra=("config/paper.yaml",))
    rows = _squad_rows(real / "intermediate/squad_v2/dev-v2.0.first40q.json")[:12]
    r2 = "rajpurkar/squad_v2"
    H.download_task("squad_v2", d / "resources/downloads/hub", ["en"],
                    load=FakeHub({(r2, "squad_v2", "train"): rows, (r2, "squad_v2", "validation"): rows[:4]}),
                    fetch=_no_fetch, log=lambda m: None)
    r = snakemake(d, "--cores", "2", "resources/data/hub/task~squad_v2/meta.json",
                  configfiles=("config/paper.yaml", "test.yaml"), timeout=600,
                  env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    log = r.stdout + r.stderr
    assert "download_hub_task" not in log.split("Job stats")[1].split("\n\n")[0]  # the downloads were reused
    assert log.count("rule translate_shard:") == 2 and "prepare_hub_task" in log
    meta = R.read_meta(d / "resources/data/hub/task~squad_v2")
    rep = meta["provenance"]["prepared"]["translations"]["de"]
    assert rep["examples_in"] == len(rows) and rep["shards"] == 2
    assert meta["counts"]["de"]["train"] == rep["examples_out"]
    de = R.read_jsonl(d / "resources/data/hub/task~squad_v2/lang~de/train.jsonl", T.SPAN_QA)
    assert len(de) == rep["examples_out"]  # random weights: most answers cannot be located, and are reported
    assert rep["dropped_unlocated_answer"] + rep.get("dropped_empty_translation", 0) == len(rows) - len(de)


def test_micro_mt_copies_are_an_exact_lexicon_translation(tmp_path):
    """The embedded benchmark's MT-control copies and the MT stage share one interface: translating the English
    micro training set with a LexiconTranslator (its exact sentence dictionary) gives the generator's copies."""
    from xstilts.data import translate as X
    from xstilts.data.micro import generate
    d = tmp_path / "micro"
    generate(d, {"seed": 5, "tasks": ["mnli", "commonsenseqa"], "n_train": 30, "n_dev": 10, "n_test": 10})
    for task, fields in (("mnli", ("text_a", "text_b")), ("commonsenseqa", ("context", "question", "choices"))):
        en = R.read_jsonl(d / f"task~{task}/lang~en/train.jsonl")
        xl = {r["id"]: r for r in R.read_jsonl(d / f"task~{task}/lang~xl/train.jsonl")}
        lex = {}
        for r in en:
            for f in fields:
                src, tgt = r[f], xl[r["id"]][f]
                for a, b in (zip(src, tgt) if isinstance(src, list) else [(src, tgt)]):
                    if a:
                        assert lex.setdefault(a, b) == b, "the micro rendering is a function of the English text"
        out, rep = X.translate_records(task, en, X.LexiconTranslator(lex, "xl"), "xl", log=lambda m: None)
        assert out == [xl[r["id"]] for r in en] and rep["examples_out"] == len(en)
