"""The bad-input corpus: every case is refused with a message naming what is wrong and where (file and row,
config key, model folder), and leaves no partial output.

Config cases go through the real entry point: `snakemake` on a scratch copy of the workflow (a non-dry run,
so a config that slipped through would start writing outputs, which the test would see). Data, model and
retrieval cases call the job functions the rule scripts call (perturb_testset -> perturb_task,
finetune_target -> finetune_evaluate, retrieve_sentences -> retrieve) on a small generated benchmark; in a
rule, the same exception exits the script non-zero (test_bad_row_fails_the_rule_without_output shows it).
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import yaml

from conftest import REPO
from workflow import copy_workflow, snakemake
from xstilts.data.micro import generate
from xstilts.models.pretrain import build_tokenizer, pretrain_mlm
from xstilts.perturb.sets import perturb_task
from xstilts.retrieve import job as RJ
from xstilts.retrieve import search as RT
from xstilts.train import jobs

LANGS = ["en", "xl", "xk"]
MICRO = {"n_train": 40, "n_dev": 12, "n_test": 12, "n_mlm": 300, "bucc_sentences": 30, "bucc_gold": 8,
         "languages": LANGS, "tasks": ["xnli", "udpos", "xquad", "bucc", "mlm_corpus"]}
ARCH = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
        "max_position_embeddings": 130}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A small micro benchmark and a random-init micro encoder: the clean inputs every case corrupts."""
    root = tmp_path_factory.mktemp("clean")
    generate(root / "data", {**MICRO, "seed": 3})
    build_tokenizer(root / "data", LANGS, root / "tok", vocab_size=300, seed=0)
    pretrain_mlm(root / "data", LANGS, root / "tok", root / "encoder", ARCH, {}, seed=0, init="random")
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg.update({"languages": LANGS, "targets": ["bucc"]})
    cfg["retrieval"]["layer"] = 1
    cfg["train"]["defaults"].update({"epochs": 1, "batch_size": 8})
    return root, cfg


# ---------------------------------------------------------------------------------------------------------
# helpers that corrupt a copy of the clean inputs
def _lines(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def _edit_row(p: Path, row: int, fn) -> None:
    """Apply fn to the JSON record on 1-based `row` of JSONL file p."""
    lines = _lines(p)
    rec = json.loads(lines[row - 1])
    fn(rec)
    lines[row - 1] = json.dumps(rec, ensure_ascii=False)
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _f(task, lang, split, suffix=".jsonl"):
    return f"data/task~{task}/lang~{lang}/{split}{suffix}"


@dataclass
class Case:
    id: str
    corrupt: Callable[[Path], None]  # (work dir holding data/ and encoder/) -> None
    run: Callable  # (work dir, out dir, cfg) -> None; must raise
    needles: tuple[str, ...]  # all must appear in the message; "{w}" is the work dir


def _perturb(task):
    def run(w, out, cfg):
        return perturb_task(w / "data", task, ["char_typo", "word_drop"], [0.3], 7, out / f"task~{task}",
                            log=lambda m: None)
    return run


def _finetune(task):
    def run(w, out, cfg):
        return jobs.finetune_evaluate(cfg, "baseline", [task], w / "encoder", w / "data", None, 1, log=lambda m: None)
    return run


def _retrieve(w, out, cfg):
    """Both retrieval rules: embed every sentence once, then score from the stored vectors."""
    RJ.embed_sentences(cfg, w / "encoder", w / "data", None, out / "sentences.npz", log=lambda m: None)
    return RJ.score(cfg, out / "sentences.npz", w / "data", None, log=lambda m: None)


def _retrieve_layer9(w, out, cfg):
    _retrieve(w, out, {**cfg, "retrieval": {**cfg["retrieval"], "layer": 9}})


def _rm(rel):
    return lambda w: (w / rel).unlink()


def _truncate(rel):
    def f(w):
        p = w / rel
        t = p.read_text(encoding="utf-8")
        p.write_text(t[: len(t) - 25], encoding="utf-8")  # cut inside the last record, as an interrupted copy
    return f


def _truncate_mid_char(rel):
    def f(w):
        p = w / rel
        b = p.read_bytes().rstrip(b"\n")
        i = max(i for i in range(len(b)) if b[i] >= 0xC0)  # the lead byte of the last multi-byte character
        p.write_bytes(b[: i + 1])
    return f


def _bad_utf8(rel, row):
    def f(w):
        p = w / rel
        lines = p.read_bytes().split(b"\n")
        lines[row - 1] = lines[row - 1].replace(b'"id": "', b'"id": "\xff', 1)
        p.write_bytes(b"\n".join(lines))
    return f


def _dup_id(rel):
    def f(w):
        p = w / rel
        lines = _lines(p)
        first = json.loads(lines[0])
        _edit_row(p, 4, lambda r: r.update(id=first["id"]))
    return f


def _set(rel, row, **kv):
    return lambda w: _edit_row(w / rel, row, lambda r: r.update(kv))


def _shift_answer(rel, row):
    return lambda w: _edit_row(w / rel, row, lambda r: r["answers"].update(
        answer_start=[s + 1 for s in r["answers"]["answer_start"]]))


def _drop_tag(rel, row):
    return lambda w: _edit_row(w / rel, row, lambda r: r["tags"].pop())


def _unknown_tag(rel, row):
    return lambda w: _edit_row(w / rel, row, lambda r: r["tags"].__setitem__(0, "NOT_A_TAG"))


def _pickle_weights(w):
    (w / "encoder/model.safetensors").unlink()
    (w / "encoder/pytorch_model.bin").write_bytes(b"\x80\x04not a real checkpoint")


def _model_type(w):
    p = w / "encoder/config.json"
    c = json.loads(p.read_text())
    c["model_type"] = "gpt2"
    p.write_text(json.dumps(c))


def _one_side(w):
    p = w / _f("bucc", "xk", "test")
    p.write_text("".join(l + "\n" for l in _lines(p) if json.loads(l)["side"] == "source"), encoding="utf-8")


def _gold_unknown_id(w):
    _edit_row(w / _f("bucc", "xl", "dev", ".gold.jsonl"), 2, lambda r: r.update(target_id="no-such-sentence"))


# the last language (xk) is corrupted where it matters: a writer that streamed languages one by one would
# already have written en and xl, so "no partial output" is really tested
CASES = [
    # data, through perturb_testset's job function (reads every language's test set, validated)
    Case("data-missing-file", _rm(_f("xnli", "xk", "test")), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test"), "no such data file")),
    Case("data-missing-meta", _rm("data/task~xnli/meta.json"), _perturb("xnli"),
         ("{w}/data/task~xnli/meta.json", "metadata missing")),
    Case("data-truncated-jsonl", _truncate(_f("xnli", "xk", "test")), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":12", "invalid JSON", "truncated")),
    Case("data-truncated-mid-character", _truncate_mid_char(_f("xnli", "xk", "test")), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":12", "not valid UTF-8", "truncated")),
    Case("data-invalid-utf8", _bad_utf8(_f("xnli", "xk", "test"), 3), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":3", "not valid UTF-8 at byte")),
    Case("data-label-out-of-range", _set(_f("xnli", "xk", "test"), 5, label=7), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":5", "label 7 out of range 0..2")),
    Case("data-label-not-integer", _set(_f("xnli", "xk", "test"), 6, label="entailment"), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":6", "'label' must be an integer")),
    Case("data-empty-text", _set(_f("xnli", "xk", "test"), 2, text_a="  "), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":2", "'text_a' is empty")),
    Case("data-missing-field", _set(_f("xnli", "xk", "test"), 2, text_a=None), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":2", "'text_a' must be a string")),
    Case("data-duplicate-ids", _dup_id(_f("xnli", "xk", "test")), _perturb("xnli"),
         ("{w}/" + _f("xnli", "xk", "test") + ":4", "duplicate id")),
    Case("data-answer-offset-mismatch", _shift_answer(_f("xquad", "xk", "test"), 3), _perturb("xquad"),
         ("{w}/" + _f("xquad", "xk", "test") + ":3", "not found at offset")),
    Case("data-tokens-tags-mismatch", _drop_tag(_f("udpos", "xk", "test"), 4), _perturb("udpos"),
         ("{w}/" + _f("udpos", "xk", "test") + ":4", "tokens but", "tags")),
    Case("data-unknown-tag", _unknown_tag(_f("udpos", "xk", "test"), 1), _perturb("udpos"),
         ("{w}/" + _f("udpos", "xk", "test") + ":1", "['NOT_A_TAG'] not in the label set")),
    # data, through finetune_target's job function: a bad English training row stops it before training
    Case("data-train-label-out-of-range", _set(_f("xnli", "en", "train"), 9, label=-1), _finetune("xnli"),
         ("{w}/" + _f("xnli", "en", "train") + ":9", "label -1 out of range")),
    # model, through retrieve_sentences' job function
    Case("model-missing-tokenizer-file", _rm("encoder/tokenizer.json"), _retrieve,
         ("{w}/encoder", "no tokenizer files with a vocabulary", "tokenizer.json")),
    Case("model-missing-config", _rm("encoder/config.json"), _retrieve,
         ("{w}/encoder/config.json missing", "not a model folder")),
    Case("model-wrong-architecture", _model_type, _retrieve,
         ("{w}/encoder", "model_type 'gpt2'", "not an encoder this pipeline supports")),
    # a pickled checkpoint is refused unread (the bytes here are not even a valid pickle)
    Case("model-weights-not-safetensors", _pickle_weights, _retrieve,
         ("{w}/encoder", "model.safetensors")),
    Case("model-layer-out-of-range", lambda w: None, _retrieve_layer9,
         ("retrieval.layer=9", "{w}/encoder", "1 layers")),
    # retrieval
    Case("retrieval-empty-side", _one_side, _retrieve,
         ("{w}/" + _f("bucc", "xk", "test"), "no target-side sentences")),
    Case("retrieval-gold-unknown-id", _gold_unknown_id, _retrieve,
         ("{w}/" + _f("bucc", "xl", "dev", ".gold.jsonl") + ":2", "'no-such-sentence'", "not a sentence")),
]


def _dim_mismatch_bucc(w, out, cfg):
    RT.mine_bucc(np.ones((3, 8), "float32"), ["a", "b", "c"], ["x", "y", "z"], np.ones((3, 16), "float32"),
                 ["d", "e", "f"], ["u", "v", "w"], k=2)


def _dim_mismatch_tatoeba(w, out, cfg):
    RT.tatoeba_predict(np.ones((3, 8), "float32"), np.ones((3, 16), "float32"))


def _empty_query(w, out, cfg):
    RT.tatoeba_predict(np.ones((0, 8), "float32"), np.ones((3, 8), "float32"))


CASES += [
    Case("retrieval-dimension-mismatch-bucc", lambda w: None, _dim_mismatch_bucc,
         ("dimension mismatch", "dim 8", "dim 16")),
    Case("retrieval-dimension-mismatch-tatoeba", lambda w: None, _dim_mismatch_tatoeba,
         ("dimension mismatch", "dim 8", "dim 16")),
    Case("retrieval-empty-embeddings", lambda w: None, _empty_query, ("is empty (0 vectors)",)),
]

# config cases: (id, overlay on config.yaml, needles naming the key)
CONFIG_CASES = [
    ("config-unknown-key", {"seedz": [1]}, ("seedz", "Additional properties")),
    ("config-unknown-nested-key", {"retrieval": {"layr": 3}}, ("layr", "retrieval")),
    ("config-wrong-type", {"seeds": "one"}, ("seeds", "'one'")),
    ("config-negative-lr", {"train": {"defaults": {"lr": -0.1}}}, ("lr", "-0.1")),
    ("config-unknown-target", {"targets": ["xnli", "xnlj"]}, ("instance['targets'][1]", "xnlj")),
    ("config-unknown-intermediate-task", {"intermediate_tasks": ["mnli", "mnlii"]}, ("intermediate_tasks", "mnlii")),
    ("config-unknown-language", {"languages": ["en", "xl", "zz"]}, ("languages[2]", "'zz'")),
    ("config-empty-language-list", {"languages": []}, ("languages", "[]")),
    ("config-languages-without-english", {"languages": ["xl", "xk"]}, ("languages", "must include 'en'")),
]


def _files(d: Path) -> set:
    return {p.relative_to(d) for p in d.rglob("*") if p.is_file()} if d.exists() else set()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_refused(case, base, tmp_path):
    root, cfg = base
    w = tmp_path / "w"
    shutil.copytree(root / "data", w / "data")
    shutil.copytree(root / "encoder", w / "encoder")
    case.corrupt(w)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises((ValueError, FileNotFoundError, OSError)) as e:
        case.run(w, out, cfg)
    msg = str(e.value)
    for n in case.needles:
        assert n.format(w=w) in msg, f"{case.id}: {n.format(w=w)!r} not in message {msg!r}"
    assert not _files(out), f"{case.id}: partial output left behind: {_files(out)}"
    # nor any temporary folder beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "w"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return copy_workflow(tmp_path_factory.mktemp("cfg"), overlay=None)


@pytest.mark.parametrize("cid, overlay, needles", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_refused_before_any_job(cid, overlay, needles, scratch, tmp_path):
    before = _files(scratch)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(overlay))
    # a real (not dry) run: a config that got through would start generate_micro and leave files
    r = snakemake(scratch, "--cores", "1", "--until", "generate_micro", configfiles=("config.yaml", str(bad)),
                  timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-2000:]
    for n in needles:
        assert n in out, f"{cid}: {n!r} not in output:\n{out[-2000:]}"
    new = {p for p in _files(scratch) - before if not str(p).startswith(".snakemake")}
    assert not new, f"{cid}: files written: {new}"


# the control of the corpus: each job function the cases corrupt the input of runs on the clean inputs and
# gives real results, so each case fails because of its corruption and nothing else
CONTROLS = [("perturb-xnli", _perturb("xnli")), ("perturb-xquad", _perturb("xquad")),
            ("perturb-udpos", _perturb("udpos")), ("finetune-xnli", _finetune("xnli")), ("retrieve", _retrieve)]


@pytest.mark.parametrize("name, run", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_clean_inputs_pass_every_job_the_cases_corrupt(name, run, base, tmp_path):
    root, cfg = base
    w = tmp_path / "w"
    shutil.copytree(root / "data", w / "data")
    shutil.copytree(root / "encoder", w / "encoder")
    out = tmp_path / "out"
    out.mkdir()
    res = run(w, out, cfg)
    if name.startswith("perturb"):
        task = name.split("-")[1]
        manifest = res
        sets = [s for fam in manifest["families"].values() for s in fam["sets"]]
        # every test language perturbed (the last one, xk, is the one the cases corrupt); a family that does not
        # apply to a format (word_drop on tagging) is listed as not applicable instead
        assert manifest["task"] == task and {s["family"] for s in sets} >= {"char_typo"}
        assert all(s["languages"] == LANGS and s["severity"] == 0.3 for s in sets), sets
    elif name.startswith("finetune"):
        langs = {r["lang"] for r in res["examples"] if r["ttask"] == "xnli" and r["split"] == "test"}
        assert langs == set(LANGS), langs
    else:
        scored = {(r["ttask"], r["lang"]) for r in res["rows"]}
        assert scored >= {("bucc", "xl"), ("bucc", "xk")}, scored


@pytest.mark.slow
def test_bad_row_fails_the_rule_without_output(base, tmp_path):
    """End to end through Snakemake and the rule's script: a bad test row makes perturb_testset exit
    non-zero, with the file and row in the rule's log, and neither the manifest nor perturbed copies exist."""
    root, _ = base
    d = copy_workflow(tmp_path / "wf", overlay={"languages": LANGS})
    shutil.copytree(root / "data", d / "resources/data/micro")
    _edit_row(d / "resources/data/micro" / _f("xnli", "xl", "test")[len("data/"):], 5, lambda r: r.update(label=7))
    target = "resources/perturbed/task~xnli/family~all/manifest.json"  # all families of xnli in one job
    r = snakemake(d, target, "--cores", "1", timeout=300)
    assert r.returncode != 0
    assert "generate_micro" not in r.stdout + r.stderr.split("Error in rule")[0], "the clean data was regenerated"
    log = (d / "logs/perturb_testset/task~xnli/family~all.log").read_text()
    assert "test.jsonl:5: label 7 out of range 0..2" in log, log[-2000:]
    # nothing of the failed job: the homoglyph table is another rule's finished output
    left = _files(d / "resources/perturbed") if (d / "resources/perturbed").exists() else set()
    assert not {p for p in left if "task~" in str(p)}, left  # nor a half-built temporary tree
