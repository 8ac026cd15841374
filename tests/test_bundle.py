"""The small profile's real-data bundle (data/small, xstilts/data/bundle/): checksums, every file through the
paper path's hub loaders into valid records, refusal of altered or missing files, and the cut rules on the
real fixtures."""
from __future__ import annotations

import gzip
import json
import shutil

import pytest
import yaml

from conftest import REPO
from xstilts import records as R
from xstilts import tasks as T
from xstilts.data import bundle as B
from xstilts.data import hub as H
from xstilts.data import sources as SRC
from xstilts.data.bundle import build as BB

BUNDLE = REPO / "data" / "small"
SMALL = REPO / "config" / "small.yaml"


def _hub_tasks() -> list[str]:
    """Every task the bundle holds data for (targets, English training sets, intermediate tasks, MLM)."""
    return ["xnli", "udpos", "xquad", "tatoeba", "squad_v1", "anli_plus", "squad_v2", "cosmosqa", "sst2",
            "mlm_corpus"]


def test_every_bundle_file_matches_its_checksum_and_row_count():
    entries = B.verify(BUNDLE)
    files = [e for e in entries if not e.omitted]
    assert len(files) >= 100
    listed = {e.file for e in files}
    on_disk = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*.jsonl.gz")}
    assert listed == on_disk, "bundle files not listed in SOURCES.tsv (or listed but absent)"
    for e in files:
        assert e.source_repo.count("/") == 1 and len(e.source_commit) == 40, e
        assert e.license and e.cut, e
    size = sum((BUNDLE / e.file).stat().st_size for e in files)
    assert size < 8 * 2 ** 20, f"bundle is {size / 2 ** 20:.1f} MiB (limit 8)"


@pytest.mark.parametrize("task", _hub_tasks())
def test_every_bundle_table_loads_through_the_hub_loaders(tmp_path, task):
    """The paper path's download (xstilts.data.hub) with the bundle as its loader: valid records in every
    configured language, provenance naming the bundle file and the real source."""
    cfg = yaml.safe_load(SMALL.read_text())
    loader = B.BundleLoader(BUNDLE)
    meta = H.download_task(task, tmp_path, languages=cfg["languages"], load=loader, log=lambda *a: None,
                           fetch=lambda url: pytest.fail(f"network fetch of {url}"),
                           pool_lines=cfg["data"]["mlm_corpus"]["pool_lines"])
    folder = tmp_path / f"task~{task}"
    fmt = T.get(task).format if task in T.TASKS else T.MLM
    n = 0
    for lang in meta["languages"]:
        for split in meta["splits"][lang]:
            recs = R.read_jsonl(R.task_file(tmp_path, task, lang, split), fmt, meta.get("labels") or None)
            assert recs, (task, lang, split)
            n += len(recs)
    assert n == sum(sum(v.values()) for v in meta["counts"].values())
    used = [s for s in json.loads((folder / "meta.json").read_text())["provenance"]["sources"]
            if "omitted" not in s]
    assert used and all(s["bundle"]["source_commit"] and s["bundle"]["content_sha256"] for s in used)


def test_targets_cover_the_languages_the_issue_asks_for(tmp_path):
    cfg = yaml.safe_load(SMALL.read_text())
    loader = B.BundleLoader(BUNDLE)
    langs = {}
    for task in ("xnli", "udpos", "xquad", "tatoeba"):
        meta = H.download_task(task, tmp_path, languages=cfg["languages"], load=loader, log=lambda *a: None)
        langs[task] = set(meta["languages"]) - {"en"}
    assert len(langs["xnli"]) >= 3
    assert {"ar", "hi", "ru", "zh"} <= langs["udpos"] and len(langs["udpos"]) >= 6
    assert langs["xquad"] | {"en"} == set(SRC.XQUAD_LANGS)
    assert len(langs["tatoeba"]) >= 10
    # XNLI: the held-out rows are parallel across languages (same labels in the same order)
    en = R.read_jsonl(R.task_file(tmp_path, "xnli", "en", "test"), T.CLASSIFICATION)
    for lang in langs["xnli"]:
        other = R.read_jsonl(R.task_file(tmp_path, "xnli", lang, "test"), T.CLASSIFICATION)
        assert [r["label"] for r in other] == [r["label"] for r in en]


def test_omitted_table_is_recorded_not_an_error(tmp_path):
    meta = H.download_task("anli_plus", tmp_path, languages=["en"], load=B.BundleLoader(BUNDLE),
                           log=lambda *a: None)
    assert meta["components"]["snli"]["train"] == 0
    srcs = json.loads((tmp_path / "task~anli_plus" / "meta.json").read_text())["provenance"]["sources"]
    assert [s for s in srcs if "omitted" in s and "SNLI" in s["omitted"]]
    assert meta["counts"]["en"]["train"] == sum(c["train"] for c in meta["components"].values())


def _copy(tmp_path):
    dest = tmp_path / "small"
    shutil.copytree(BUNDLE, dest)
    return dest


def test_altered_missing_or_unlisted_files_are_refused_with_the_rebuild_command(tmp_path):
    dest = _copy(tmp_path)
    f = dest / "facebook/xnli/de/test.jsonl.gz"
    rows = gzip.decompress(f.read_bytes()).decode().splitlines()
    rows[0] = rows[1]  # one row altered
    f.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    with pytest.raises(B.BundleError, match=r"facebook/xnli/de/test\.jsonl\.gz: content sha256 .*xstilts\.data\.bundle build"):
        B.verify(dest)
    f.unlink()
    with pytest.raises(B.BundleError, match=r"facebook/xnli/de/test\.jsonl\.gz: bundle file missing"):
        B.verify(dest)
    loader_dir = _copy(tmp_path / "b")
    loader = B.BundleLoader(loader_dir)
    with pytest.raises(B.BundleError, match="no bundle file for hub table facebook/xnli:th:test"):
        loader("facebook/xnli", "th", "test")
    with pytest.raises(B.Omitted, match="SNLI"):
        loader("stanfordnlp/snli", "plain_text", "train")


def test_workflow_stops_before_any_job_on_an_altered_bundle(tmp_path):
    """`snakemake -n --configfile config/small.yaml` names the altered file and plans nothing."""
    from workflow import copy_workflow, snakemake
    d = copy_workflow(tmp_path / "wf", overlay=None, extra=("config", "data/small"))
    f = d / "data/small/google/xtreme/tatoeba.deu/validation.jsonl.gz"
    f.write_bytes(gzip.compress(gzip.decompress(f.read_bytes())[:-30] + b"\n"))
    r = snakemake(d, "-n", configfiles=("config/small.yaml",), timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "tatoeba.deu/validation.jsonl.gz" in out and "xstilts.data.bundle build" in out
    assert "Job stats" not in out


# --- cut rules and determinism, on the real fixtures ----------------------------------------------------------

def test_gzip_and_jsonl_are_deterministic():
    rows = [{"b": "ü", "a": 1}, {"a": 2, "b": "漢"}]
    a, b = BB._gz(BB._jsonl(rows)), BB._gz(BB._jsonl(list(rows)))
    assert a == b and a[4:8] == b"\0\0\0\0"  # mtime 0
    assert gzip.decompress(a).decode() == '{"a": 1, "b": "ü"}\n{"a": 2, "b": "漢"}\n'


def test_conllu_rows_keep_syntactic_words(real):
    raw = (real / "udpos/ar_pud-ud-test.first100.conllu").read_bytes()
    rows = BB._conllu_rows(raw, 5)
    assert len(rows) == 5
    from xstilts.data.loaders import udpos_from_conllu  # the project's own CoNLL-U loader: same words and tags
    recs = udpos_from_conllu(real / "udpos/ar_pud-ud-test.first100.conllu")[:5]
    assert [r["tokens"] for r in rows] == [r["tokens"] for r in recs]
    assert [[T.UPOS[i] for i in r["pos_tags"]] for r in rows] == [r["tags"] for r in recs]


def test_squad_rows_cut_by_paragraph_and_ids(real):
    raw = (real / "xquad/xquad.de.json").read_bytes()
    doc = json.loads(raw)
    n_par = sum(len(a["paragraphs"]) for a in doc["data"])
    first = BB._squad_rows(raw, 1, titles=False)
    rest = BB._squad_rows(raw, None, 1, titles=False)
    assert len(first) + len(rest) == sum(len(p["qas"]) for a in doc["data"] for p in a["paragraphs"])
    assert n_par > 1 and rest and first[0]["id"] == doc["data"][0]["paragraphs"][0]["qas"][0]["id"]
    for r in first + rest:  # every answer sits at its offset
        for t, s in zip(r["answers"]["text"], r["answers"]["answer_start"]):
            assert r["context"][s:s + len(t)] == t
    # renumbered ids count questions over the whole file, so the two cuts never collide
    a = BB._squad_rows(raw, 1, id_prefix="q-")
    b = BB._squad_rows(raw, None, 1, id_prefix="q-")
    assert [r["id"] for r in a + b] == [f"q-{i}" for i in range(len(a) + len(b))]


def test_tatoeba_rows_align_and_keep_the_hub_newline(real):
    src = (real / "tatoeba/tatoeba.deu-eng.deu").read_bytes()
    eng = (real / "tatoeba/tatoeba.deu-eng.eng").read_bytes()
    rows = BB._tatoeba_rows(src, eng, "deu", 0, 50)
    assert len(rows) == 50 and all(r["source_sentence"].endswith("\n") for r in rows)
    assert rows[3]["target_sentence"].rstrip("\n") == eng.decode().split("\n")[3]
    recs = H.L.tatoeba_from_hub_rows(rows, "tatoeba.deu")
    assert recs[3]["source"] == src.decode().split("\n")[3]


def test_xnli_cut_lands_on_a_premise_boundary():
    rows = [["p1", "h", "entailment"], ["p1", "h2", "neutral"], ["p2", "h", "contradiction"], ["p2", "x", "neutral"]]
    assert BB._premise_cut(rows, 1) == 2 and BB._premise_cut(rows, 2) == 2 and BB._premise_cut(rows, 3) == 4
