"""The black-box attack (xstilts.perturb.attack) against a stand-in model whose class probabilities are a fixed
function of the text: budgets, query counting, success, transfer and the tidy rows."""
from __future__ import annotations

import numpy as np
import pytest

from xstilts import tasks as T
from xstilts.perturb import attack as A
from xstilts.perturb import core as P

from test_perturb import needs_real, xnli_records

XNLI = T.get("xnli")
LABELS = list(XNLI.labels)


class Oracle:
    """P(gold) falls with every changed character (a model that trusts the exact spelling); records every
    call so that queries can be counted from outside."""

    def __init__(self, originals):
        self.orig = {r["id"]: r for r in originals}
        self.calls = []

    def __call__(self, model, tok, task, recs, labels, max_length, device="cpu", batch_size=128):
        self.calls.append(len(recs))
        out = np.zeros((len(recs), len(labels)))
        for i, r in enumerate(recs):
            o = self.orig.get(r["id"], r)
            changed = sum(a != b for f in ("text_a", "text_b") for a, b in zip(o[f], r[f]))
            changed += sum(abs(len(o[f]) - len(r[f])) for f in ("text_a", "text_b"))
            p = max(0.05, 0.6 - 0.08 * changed)
            out[i] = (1 - p) / (len(labels) - 1)
            out[i, r["label"]] = p
        return out


@pytest.fixture
def recs():
    return [{"id": f"x{i}", "text_a": a, "text_b": b, "label": i % 3} for i, (a, b) in enumerate([
        ("Der Mann liest ein Buch im Garten.", "Ein Mann liest."),
        ("Die Kinder spielen draußen im Regen.", "Niemand ist draußen."),
        ("Sie kaufte gestern drei Äpfel.", "Sie kaufte Obst."),
        ("Wir fahren morgen nach Berlin.", "Wir bleiben zu Hause."),
    ])]


@pytest.mark.parametrize("max_queries,max_words", [(1, 3), (5, 3), (12, 1), (40, 2), (200, 5)])
def test_budgets_are_respected_and_queries_counted(monkeypatch, recs, max_queries, max_words):
    oracle = Oracle(recs)
    monkeypatch.setattr(A, "gold_probs", oracle)
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo", "keyboard_typo", "word_drop"],
                           A.Budget(max_queries, max_words), 7, "de")
    total = 0
    for r, a in zip(recs, adv):
        info = a["attack"]
        assert info["queries"] <= max_queries and info["words_changed"] <= max_words
        total += info["queries"]
        changed = sum(u.text != v.text for f in ("text_a", "text_b")
                      for u, v in zip(P.segment(r[f]), P.segment(a[f])))
        dropped = sum(len(P.segment(r[f])) - len(P.segment(a[f])) for f in ("text_a", "text_b"))
        assert changed + dropped >= info["words_changed"] >= (1 if info["success"] else 0)
        assert a["orig"] == {"text_a": r["text_a"], "text_b": r["text_b"]} and a["label"] == r["label"]
        assert info["adv_correct"] == (not info["success"])
    # the first call scores every clean record at once; each later call is one example's batch
    assert sum(oracle.calls) == total  # every record sent to the model is counted as a query


def test_success_means_the_prediction_flipped(monkeypatch, recs):
    oracle = Oracle(recs)
    monkeypatch.setattr(A, "gold_probs", oracle)
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo", "word_drop"], A.Budget(100, 5), 1, "de")
    assert any(a["attack"]["success"] for a in adv)
    for a in adv:
        p = Oracle(recs)(None, None, XNLI, [a], LABELS, 128)[0]
        assert (int(np.argmax(p)) != a["label"]) == a["attack"]["success"]
    again = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo", "word_drop"], A.Budget(100, 5), 1,
                             "de")
    assert again == adv  # deterministic


def test_wrong_examples_are_not_attacked(monkeypatch, recs):
    def wrong(model, tok, task, rs, labels, *a, **k):
        out = np.full((len(rs), len(labels)), 0.1)
        for i, r in enumerate(rs):
            out[i, (r["label"] + 1) % len(labels)] = 0.8
        return out
    monkeypatch.setattr(A, "gold_probs", wrong)
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo"], A.Budget(50, 3), 0, "de")
    assert all(a["attack"]["queries"] == 1 and not a["attack"]["success"] for a in adv)
    rows = {r["metric"]: r["value"] for r in A.summary_rows("xnli", "de", "attack", adv)}
    assert rows["accuracy"] == 0 and rows["attack_success_rate"] == 0


def test_transfer_and_rows(monkeypatch, recs):
    monkeypatch.setattr(A, "gold_probs", Oracle(recs))
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo", "word_drop"], A.Budget(100, 5), 1, "de")
    tr = A.transfer(None, None, XNLI, adv, LABELS, 128)
    # the same "model" on its own adversaries: the same outcome
    assert [t["attack"]["success"] for t in tr] == [a["attack"]["success"] for a in adv]
    rows = A.summary_rows("xnli", "de", "attack", adv)
    assert {r["metric"] for r in rows} == {"accuracy", "attack_success_rate", "attack_words_changed", "attack_queries"}
    n_ok = sum(a["attack"]["clean_correct"] for a in adv)
    rate = next(r["value"] for r in rows if r["metric"] == "attack_success_rate")
    assert rate == pytest.approx(100 * sum(a["attack"]["success"] for a in adv) / n_ok)
    assert {r["metric"] for r in A.summary_rows("xnli", "de", "attack_transfer", tr)} == {"accuracy",
                                                                                         "attack_success_rate"}


def test_attack_refuses_other_formats_and_permutations(recs):
    with pytest.raises(ValueError, match="sentence-pair classification"):
        A.attack_records(None, None, T.get("udpos"), [], [], 128, ["char_typo"], A.Budget(5, 1), 0, "de")
    with pytest.raises(ValueError, match="perturb.attack.families"):
        A.attack_records(None, None, XNLI, recs, LABELS, 128, ["word_shuffle"], A.Budget(5, 1), 0, "de")


def test_adversarial_file_round_trip(tmp_path, monkeypatch, recs):
    monkeypatch.setattr(A, "gold_probs", Oracle(recs))
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo"], A.Budget(30, 2), 1, "de")
    rows = [{"ttask": "xnli", "lang": "de", **a} for a in adv]
    A.write_adversarial(tmp_path / "a.jsonl.gz", rows)
    first = (tmp_path / "a.jsonl.gz").read_bytes()
    assert A.read_adversarial(tmp_path / "a.jsonl.gz") == rows
    A.write_adversarial(tmp_path / "a.jsonl.gz", rows)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == first
    A.write_adversarial(tmp_path / "b.jsonl.gz", [{"id": "x"}])
    with pytest.raises(ValueError, match="b.jsonl.gz: adversarial row 1 lacks"):
        A.read_adversarial(tmp_path / "b.jsonl.gz")


@needs_real
def test_attack_on_real_german_xnli_within_budget(monkeypatch):
    recs = xnli_records()[:30]
    monkeypatch.setattr(A, "gold_probs", Oracle(recs))
    adv = A.attack_records(None, None, XNLI, recs, LABELS, 128, ["char_typo", "keyboard_typo", "word_drop"],
                           A.Budget(25, 2), 3, "de")
    assert all(a["attack"]["queries"] <= 25 and a["attack"]["words_changed"] <= 2 for a in adv)
    assert sum(a["attack"]["success"] for a in adv) > 0
