"""Classification records (one label per sentence or pair): XNLI, PAWS-X and the intermediate
classification tasks (MNLI, ANLI, QQP, SST-2), from hub rows or their raw files."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from xstilts import tasks as T
from xstilts.data.loaders.common import (_Out, _csv, _fail, _get, _int, _is_unlabelled, _jsonl, _label, _nfc, _row,
                                         _rows, _tsv)

# Hub label aliases: XNLI-MT / XTREME translate-train spell contradiction "contradictory"; ANLI's raw files use e/n/c.
NLI_ALIASES = {"contradictory": 2, "e": 0, "n": 1, "c": 2}


# ---------------------------------------------------------------------------------------------------------------
# XNLI


def xnli_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "facebook/xnli",
                       id_prefix: str | None = None) -> list[dict]:
    """`facebook/xnli` per-language config rows (premise, hypothesis, label = ClassLabel int 0..2 or its name).

    The rows carry no id; ids are `<id_prefix><row index>` (default prefix `xnli-<lang>-`). The `all_languages`
    config (premise is a Translation dict) is rejected: load one config per language."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    for i, (where, row) in enumerate(_rows(rows, source)):
        premise = _get(row, "premise", where)
        if isinstance(premise, Mapping):  # a config error, not a bad row: never dropped
            _fail(where, "premise is a Translation dict: this is the 'all_languages' config; "
                         "load a per-language config (e.g. 'de') instead")
        with _row(where):
            label = _label(_get(row, "label", where), T.NLI, where, NLI_ALIASES)
            out.add({"id": f"{prefix}{i}", "text_a": _nfc(premise),
                     "text_b": _nfc(_get(row, "hypothesis", where)), "label": label}, where)
    return out.recs


def xnli_from_xtreme_rows(rows: Iterable[Mapping], lang: str, source: str = "google/xtreme:XNLI",
                          id_prefix: str | None = None) -> list[dict]:
    """`google/xtreme` config `XNLI`: all 15 languages stacked, fields language, sentence1, sentence2 and a
    **string** gold_label (`entailment`/`neutral`/`contradiction`). Keeps the rows of `lang`; ids are
    `<id_prefix><index within lang>` (default `xnli-<lang>-`). The same works on rows of the raw
    `XNLI-1.0/xnli.{dev,test}.tsv` read with a header."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    k = 0
    for where, row in _rows(rows, source):
        if _get(row, "language", where) != lang:
            continue
        label = _label(_get(row, "gold_label", where), T.NLI, where, NLI_ALIASES, field="gold_label")
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(_get(row, "sentence1", where)),
                 "text_b": _nfc(_get(row, "sentence2", where)), "label": label}, where)
        k += 1
    if not out.recs:
        _fail(source, f"no rows with language {lang!r}")
    return out.recs


def xnli_from_xglue_tsv(path, lang: str, id_prefix: str | None = None) -> list[dict]:
    """XGLUE-style XNLI TSV: no header, `premise<TAB>hypothesis<TAB>label` with a string label.
    Ids are `<id_prefix><row index>` (default `xnli-<lang>-`)."""
    prefix = f"xnli-{lang}-" if id_prefix is None else id_prefix
    out = _Out.task("xnli")
    _, rows = _tsv(path, header=False, n_fields=3)
    for k, (where, (a, b, lab)) in enumerate(rows):
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(a), "text_b": _nfc(b),
                 "label": _label(lab, T.NLI, where, NLI_ALIASES)}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# PAWS-X


def pawsx_from_tsv(path, lang: str | None = None) -> list[dict]:
    """Raw PAWS-X TSV (`id, sentence1, sentence2, label` with a header), read with QUOTE_NONE semantics: a quote
    character is text, so no row is swallowed (the google/xtreme parser's default quoting loses rows).
    Ids are the file's ids. `lang` is informational only."""
    out = _Out.task("pawsx")
    cols, rows = _tsv(path, header=True, required=("id", "sentence1", "sentence2", "label"))
    ix = {c: cols.index(c) for c in ("id", "sentence1", "sentence2", "label")}
    for where, f in rows:
        out.add({"id": f[ix["id"]].strip(), "text_a": _nfc(f[ix["sentence1"]]), "text_b": _nfc(f[ix["sentence2"]]),
                 "label": _label(f[ix["label"]], T.TASKS["pawsx"].labels, where)}, where)
    return out.recs


def pawsx_from_hub_rows(rows: Iterable[Mapping], lang: str, source: str = "google-research-datasets/paws-x",
                        id_prefix: str | None = None) -> list[dict]:
    """PAWS-X hub rows: `google-research-datasets/paws-x` (id int, label ClassLabel int) or `google/xtreme`
    `PAWS-X.<lang>` (no id, label string "0"/"1"). Without an id field the id is `<id_prefix><row index>`
    (default `pawsx-<lang>-`)."""
    prefix = f"pawsx-{lang}-" if id_prefix is None else id_prefix
    labels = T.TASKS["pawsx"].labels
    out = _Out.task("pawsx")
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            rid = row.get("id") if isinstance(row, Mapping) else None
            if rid is None:
                rid = f"{prefix}{i}"
            elif not isinstance(rid, str):
                rid = str(_int(rid, where, "id"))
            out.add({"id": rid, "text_a": _nfc(_get(row, "sentence1", where)),
                     "text_b": _nfc(_get(row, "sentence2", where)),
                     "label": _label(_get(row, "label", where), labels, where)}, where)
    return out.recs


# ---------------------------------------------------------------------------------------------------------------
# intermediate tasks: classification


def classification_from_hub_rows(rows: Iterable[Mapping], task: str, source: str, text_a: str,
                                 text_b: str | None = None, id_field: str | None = None,
                                 id_prefix: str | None = None, label_field: str = "label",
                                 drop_unlabelled: bool = False) -> tuple[list[dict], int]:
    """Generic hub rows -> classification records of `task` (labels from `tasks`): e.g. QQP
    (`question1`, `question2`), SST-2 (`sentence`), ANLI/SNLI/MNLI (`premise`, `hypothesis`). Labels may be the
    ClassLabel int, a label name or an NLI alias. Ids: `str(row[id_field])` when given, else
    `<id_prefix><row index>` (default `<task>-`). With `drop_unlabelled`, rows with label -1 / "-" / "" are
    dropped and counted; otherwise they raise. Returns (records, n_dropped)."""
    spec = T.get(task)
    prefix = f"{task}-" if id_prefix is None else id_prefix
    aliases = NLI_ALIASES if list(spec.labels) == T.NLI else None
    out = _Out.task(task)
    dropped = 0
    for i, (where, row) in enumerate(_rows(rows, source)):
        with _row(where):
            lab = _get(row, label_field, where)
            if drop_unlabelled and _is_unlabelled(lab):
                dropped += 1
                continue
            rid = f"{prefix}{i}" if id_field is None else _get(row, id_field, where)
            rec = {"id": rid if isinstance(rid, str) else str(_int(rid, where, id_field)),
                   "text_a": _nfc(_get(row, text_a, where)),
                   "text_b": _nfc(_get(row, text_b, where)) if text_b else None,
                   "label": _label(lab, spec.labels, where, aliases, field=label_field)}
            out.add(rec, where)
    return out.recs, dropped


def nli_from_hub_rows(rows: Iterable[Mapping], source: str, task: str = "mnli", id_field: str | None = None,
                      id_prefix: str | None = None) -> tuple[list[dict], int]:
    """ANLI (`facebook/anli`, id_field `uid`), SNLI (`stanfordnlp/snli`, no id), MNLI (`nyu-mll/multi_nli`,
    id_field `pairID`; `nyu-mll/glue` mnli, id_field `idx`) rows: premise, hypothesis, label int. Rows with
    label -1 (SNLI gold `-`, GLUE test) are dropped. Returns (records, n_dropped)."""
    return classification_from_hub_rows(rows, task, source, "premise", "hypothesis", id_field=id_field,
                                        id_prefix=id_prefix, drop_unlabelled=True)


def anli_from_csv(path, task: str = "anli_plus") -> list[dict]:
    """ANLI CSV as in facebookresearch/anli `anlizinganli` (context, statement = hypothesis, gold_label e/n/c,
    uid; other columns ignored). Ids are the uids."""
    out = _Out.task(task)
    for where, r in _csv(path, required=("context", "statement", "gold_label", "uid")):
        out.add({"id": r["uid"].strip(), "text_a": _nfc(r["context"]), "text_b": _nfc(r["statement"]),
                 "label": _label(r["gold_label"], T.NLI, where, NLI_ALIASES, field="gold_label")}, where)
    return out.recs


def nli_from_jsonl(path, task: str = "mnli", id_prefix: str | None = None) -> tuple[list[dict], int]:
    """NLI JSONL: jiant's format (premise, hypothesis, label name) or raw SNLI 1.0 / MultiNLI 1.0
    (sentence1, sentence2, gold_label, pairID). Gold `-` rows are dropped and counted; a row with no label
    field at all (an unlabelled test file) raises. Ids: pairID when present, else `<id_prefix><row index>`
    (default `<file stem>-`). Returns (records, n_dropped)."""
    prefix = f"{Path(path).stem}-" if id_prefix is None else id_prefix
    out = _Out.task(task)
    dropped = 0
    for k, (where, row) in enumerate(_jsonl(path)):
        if not isinstance(row, Mapping):
            _fail(where, f"row must be a JSON object, got {type(row).__name__}")
        raw = "gold_label" in row or "sentence1" in row
        a, b, lf = ("sentence1", "sentence2", "gold_label") if raw else ("premise", "hypothesis", "label")
        lab = _get(row, lf, where)
        if isinstance(lab, str) and lab.strip() == "-" or (isinstance(lab, int) and lab == -1):
            dropped += 1
            continue
        rid = row.get("pairID")
        out.add({"id": str(rid) if rid is not None else f"{prefix}{k}", "text_a": _nfc(_get(row, a, where)),
                 "text_b": _nfc(_get(row, b, where)),
                 "label": _label(lab, T.NLI, where, NLI_ALIASES, field=lf)}, where)
    return out.recs, dropped


mnli_from_jiant_jsonl = nli_from_jsonl


def mnli_from_glue_tsv(path, task: str = "mnli") -> tuple[list[dict], int]:
    """GLUE MNLI TSV (header with sentence1, sentence2, gold_label, pairID; QUOTE_NONE). Rows with gold `-`
    are dropped and counted. A test file (no gold_label column) raises. Returns (records, n_dropped)."""
    out = _Out.task(task)
    cols, rows = _tsv(path, header=True, required=("pairID", "sentence1", "sentence2", "gold_label"))
    ix = {c: cols.index(c) for c in ("pairID", "sentence1", "sentence2", "gold_label")}
    dropped = 0
    for where, f in rows:
        if f[ix["gold_label"]].strip() == "-":
            dropped += 1
            continue
        out.add({"id": f[ix["pairID"]].strip(), "text_a": _nfc(f[ix["sentence1"]]),
                 "text_b": _nfc(f[ix["sentence2"]]),
                 "label": _label(f[ix["gold_label"]], T.NLI, where, NLI_ALIASES, field="gold_label")}, where)
    return out.recs, dropped


def qqp_from_tsv(path) -> list[dict]:
    """GLUE QQP TSV (`id qid1 qid2 question1 question2 is_duplicate`, QUOTE_NONE); ids are the pair ids."""
    out = _Out.task("qqp")
    cols, rows = _tsv(path, header=True, required=("id", "question1", "question2", "is_duplicate"))
    ix = {c: cols.index(c) for c in ("id", "question1", "question2", "is_duplicate")}
    for where, f in rows:
        out.add({"id": f[ix["id"]].strip(), "text_a": _nfc(f[ix["question1"]]), "text_b": _nfc(f[ix["question2"]]),
                 "label": _label(f[ix["is_duplicate"]], T.TASKS["qqp"].labels, where, numeric_strings=True,
                                 field="is_duplicate")}, where)
    return out.recs


def sst2_from_tsv(path, id_prefix: str | None = None) -> list[dict]:
    """GLUE SST-2 TSV (`sentence<TAB>label`, 0 = negative, 1 = positive); single-sentence, text_b null.
    Ids `<id_prefix><row index>` (default `sst2-<file stem>-`). A test file (no label column) raises."""
    prefix = f"sst2-{Path(path).name.split('.')[0]}-" if id_prefix is None else id_prefix
    out = _Out.task("sst2")
    cols, rows = _tsv(path, header=True, required=("sentence", "label"))
    ix = {c: cols.index(c) for c in ("sentence", "label")}
    for k, (where, f) in enumerate(rows):
        out.add({"id": f"{prefix}{k}", "text_a": _nfc(f[ix["sentence"]]), "text_b": None,
                 "label": _label(f[ix["label"]], T.TASKS["sst2"].labels, where, numeric_strings=True)}, where)
    return out.recs
