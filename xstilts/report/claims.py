"""The 20 claims of PROTOCOL.md, each judged by one small rule against this run.

Verdicts: "supported", "not supported", "not testable at this scale", "needs data the user must supply".

Rules in general (each claim's function is the exact rule):
- Structural claims (C1-C3, C9, C15-C20) are read from the run inventory (results/inventory.json), C2 also
  from the tidy results. Counts that only the full data can reach (C3 < 40 languages, C16, C17; C1 for a
  non-XLM-R model) are "not testable at this scale" in an embedded run, which still reports what it has.
- Gain claims (C4-C8, C10-C14) are read from the tidy results. At paper scale a claim with a paper value is
  supported when this run's value has the paper's sign and lies within GAIN_TOLERANCE points of it; at
  embedded scale only the direction is judged ("direction only"), never the magnitude. Paper-scale magnitude
  checks also need every target in the average, else "not testable at this scale".
- Missing data: when an intermediate model a claim needs has no results (or its data is unavailable), the
  claim "needs data the user must supply" if the inventory's reason_unavailable says the user must supply the
  data (e.g. LDC-licensed CCGbank), else it is "not testable at this scale" with the reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from .. import tasks as T
from . import tables as tb

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_TESTABLE = "not testable at this scale"
NEEDS_DATA = "needs data the user must supply"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, NOT_TESTABLE, NEEDS_DATA)
VERDICT_MACROS = {SUPPORTED: "Supported", NOT_SUPPORTED: "NotSupported", NOT_TESTABLE: "NotTestable",
                  NEEDS_DATA: "NeedsData"}

# Documented thresholds of the rules.
GAIN_TOLERANCE = 2.0  # points: paper-scale gain within this of the paper's value counts as reproduced
# points: below this a difference is within the noise of one seed on small test sets, so a gain in the
# claimed direction must reach it to count as support (both scales)
MIN_EFFECT = 1.0
ALMOST_EVERY = 0.75  # C8: share of intermediate tasks that must improve both retrieval targets
DRAMATIC_GAIN = 5.0  # C8 at paper scale: mean gain (points) on BUCC and on Tatoeba each at least this
MANY = 0.5  # C10: share of intermediate tasks improving TyDiQA
NO_BENEFIT = 0.5  # C11: mean XNLI gain over intermediate tasks at most this (points) = "no benefit"
PAPER_MODEL = "xlm-roberta-large"
PAPER_N_TARGETS = 9
PAPER_MAX_LANGS = 40
PAPER_N_INTERMEDIATE = 9
PAPER_ANLI_PLUS = 1_104_934
PAPER_MNLI = 392_702
RETRIEVAL = ("bucc", "tatoeba")
# reason_unavailable texts that mean "the user has to provide this data" (licensed corpora and the like).
USER_DATA = re.compile(r"user[- ]?(must |has to |needs to )?(suppl|provid)|(suppl|provid)\w* by the user|"
                       r"user[- ]suppl|licen[cs]e", re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    paper: str
    value: str
    verdict: str
    scale: str
    basis: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"{self.id}: verdict {self.verdict!r} not in {VERDICTS}")


@dataclass
class Evidence:
    """Everything the rules read: the inventory and the tables derived from the tidy results."""
    inventory: dict
    scale: str
    dev: pd.DataFrame  # tables.dev_deltas
    xtreme: pd.DataFrame  # tables.xtreme_test
    controls: pd.DataFrame  # tables.controls
    itasks_run: set = field(default_factory=set)  # itasks with clean target results (main encoder)
    targets_run: set = field(default_factory=set)  # targets with any results

    @classmethod
    def from_results(cls, tidy: pd.DataFrame, inventory: dict) -> "Evidence":
        df = tb.check_tidy(tidy)
        scales = set(df["scale"].unique())
        if scales - {inventory["scale"]}:
            raise ValueError(f"tidy results are from scale {sorted(scales)}, the inventory from "
                             f"{inventory['scale']!r}; claims need one run")
        ts = tb.task_scores(df)
        mc = tb._main_clean(ts)
        return cls(inventory=inventory, scale=inventory["scale"], dev=tb.dev_deltas(df, ts),
                   xtreme=tb.xtreme_test(df, ts), controls=tb.controls(df, ts),
                   itasks_run=set(mc["itask"].unique()), targets_run=set(ts["ttask"].unique()))

    def avg_gain(self, itask: str) -> pd.Series | None:
        return tb.lookup(self.dev, itask=itask, ttask="avg", kind="delta")

    def gains_on(self, target: str) -> dict[str, float]:
        """Mean delta on one target for every candidate itask that has it."""
        d = self.dev[(self.dev["kind"] == "delta") & (self.dev["ttask"] == target)]
        return {r.itask: r.v_mean for r in d.itertuples() if not math.isnan(r.v_mean)}

    def reason(self, itask: str) -> str | None:
        return (self.inventory.get("intermediate", {}).get(itask) or {}).get("reason_unavailable")


# --------------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------------

# scales whose data and model are cut down on purpose: paper-scale counts and the model id are not testable there
REDUCED_SCALES = ("embedded", "small")


def _c(ev: Evidence, cid: str, text: str, paper: str, value: str, verdict: str, basis: str) -> Claim:
    return Claim(cid, text, paper, value, verdict, ev.scale, basis)


def _missing(ev: Evidence, cid: str, text: str, paper: str, what: list[str], why: str) -> Claim:
    """The missing-data rule: NEEDS_DATA when every missing piece in `what` is data the inventory says the user
    must supply (so supplying it makes the claim testable), else NOT_TESTABLE with the reason."""
    reasons = {w: ev.reason(w) for w in what if ev.reason(w)}
    if what and all(w in reasons and USER_DATA.search(reasons[w]) for w in what):
        return _c(ev, cid, text, paper, "—", NEEDS_DATA,
                  f"{why}; " + "; ".join(f"{k}: {v}" for k, v in reasons.items()))
    detail = "; ".join(f"{k}: {v}" for k, v in reasons.items())
    return _c(ev, cid, text, paper, "—", NOT_TESTABLE, why + (f" ({detail})" if detail else ""))


def _pm(mean: float, sd: float, n: int, signed: bool = True) -> str:
    mean = round(mean, 1) + 0.0
    s = f"{mean:+.1f}" if signed else f"{mean:.1f}"
    if n and n > 1 and not math.isnan(sd):
        s += f" ± {sd:.1f}"
    return s + (f" ({n} seeds)" if n and n > 1 else "")


def gain_verdict(scale: str, value: float, paper: float | None) -> tuple[str, str]:
    """The gain rule. paper = the paper's number (its sign is the claimed direction), None = a positive gain
    claimed without a number."""
    sign = 1.0 if paper is None or paper >= 0 else -1.0
    right_way = value * sign > 0
    if scale != "paper" or paper is None:
        how = "direction only" if scale != "paper" else "direction (the paper gives no number)"
        if right_way and value * sign < MIN_EFFECT:
            return NOT_SUPPORTED, f"{how}: same sign but below {MIN_EFFECT} point (within noise)"
        return (SUPPORTED if right_way else NOT_SUPPORTED), f"{how}: {'same' if right_way else 'opposite'} sign"
    close = abs(value - paper) <= GAIN_TOLERANCE
    verdict = SUPPORTED if right_way and close else NOT_SUPPORTED
    return verdict, (f"sign {'matches' if right_way else 'differs'}; |{value:+.1f} - ({paper:+.1f})| "
                     f"{'<=' if close else '>'} {GAIN_TOLERANCE} points")


def _all_targets(ev: Evidence) -> set:
    return set(ev.inventory.get("targets") or T.TARGET_TASKS) or set(T.TARGET_TASKS)


def _dev_gain_claim(ev: Evidence, cid: str, text: str, itask: str, paper: float) -> Claim:
    row = ev.avg_gain(itask)
    paper_s = f"{paper:+.1f}"
    if row is None or math.isnan(row.v_mean):
        return _missing(ev, cid, text, paper_s, [itask],
                        f"no results for {itask} or the baseline on a common target")
    value = f"{_pm(row.v_mean, row.v_sd, row.v_n)} over {row.n_targets} targets"
    if ev.scale == "paper" and row.n_targets < len(_all_targets(ev)):
        return _c(ev, cid, text, paper_s, value, NOT_TESTABLE,
                  f"the paper averages over all {len(_all_targets(ev))} targets; this run has {row.n_targets}")
    verdict, why = gain_verdict(ev.scale, row.v_mean, paper)
    return _c(ev, cid, text, paper_s, value, verdict,
              f"mean over targets of {itask} - baseline (dev; test where no dev); {why}")


def _absent(ev: Evidence) -> list[str]:
    """Candidate intermediate models without clean target results."""
    return [c for c in tb.CANDIDATE_ITASKS if c not in ev.itasks_run]


def _absent_note(ev: Evidence) -> str:
    a = _absent(ev)
    return f"; without results: {', '.join(a)}" if a else ""


def _share(gains: dict[str, float]) -> float:
    return sum(g > 0 for g in gains.values()) / len(gains) if gains else math.nan


def _control_claim(ev: Evidence, cid: str, text: str, control: str) -> Claim:
    ct = ev.controls
    avg = tb.lookup(ct, ttask="avg") if not ct.empty else None
    if control not in ev.itasks_run:
        return _missing(ev, cid, text, "—", [control], f"no results for {control}")
    if tb.CONTROL_REFERENCE not in ev.itasks_run or avg is None or math.isnan(avg[f"{control}_delta_mean"]):
        return _missing(ev, cid, text, "—", [tb.CONTROL_REFERENCE],
                        f"no results for the reference {tb.CONTROL_REFERENCE} on the targets of {control}")
    d = avg[f"{control}_delta_mean"]
    share = avg[f"{control}_share_plain_better"]
    value = (f"{control} - {tb.CONTROL_REFERENCE} = {_pm(d, avg[f'{control}_delta_sd'], avg[f'{control}_delta_n'])}"
             f" over {int(avg[f'{control}_n_targets'])} targets; plain better on {share:.0%}")
    verdict = SUPPORTED if d < 0 else NOT_SUPPORTED
    scope = "direction only" if ev.scale != "paper" else "direction (the paper gives no number)"
    return _c(ev, cid, text, "—", value, verdict,
              f"supported if the mean over targets of control - plain ({tb.CONTROL_REFERENCE}) < 0; {scope}")


# --------------------------------------------------------------------------------------------------------------
# one function per claim
# --------------------------------------------------------------------------------------------------------------

def c01_start_model(ev: Evidence) -> Claim:
    text = "The starting model is XLM-R Large"
    mid = ev.inventory["model_id"]
    ok = mid.lower().rstrip("/").split("/")[-1] == PAPER_MODEL
    if ok:
        return _c(ev, "C1", text, "—", mid, SUPPORTED, f"model_id is {PAPER_MODEL}")
    verdict = NOT_TESTABLE if ev.scale in REDUCED_SCALES else NOT_SUPPORTED
    return _c(ev, "C1", text, "—", mid, verdict,
              f"model_id is not {PAPER_MODEL}" + (f" (the {ev.scale} run uses a small local encoder)"
                                                  if ev.scale in REDUCED_SCALES else ""))


def c02_target_count(ev: Evidence) -> Claim:
    text = "9 target tasks from XTREME"
    inv = len(ev.inventory["targets"])
    run = len(ev.targets_run & set(T.TARGET_TASKS))
    ok = inv == PAPER_N_TARGETS and (run == PAPER_N_TARGETS or not ev.targets_run)
    return _c(ev, "C2", text, "9", f"{inv} in the inventory, {run} with results",
              SUPPORTED if ok else NOT_SUPPORTED, "count of target tasks configured and run == 9")


def c03_max_languages(ev: Evidence) -> Claim:
    text = "Up to 40 languages per task"
    langs = {t: len(v["languages"]) for t, v in ev.inventory["targets"].items()}
    if not langs:
        return _c(ev, "C3", text, "40", "—", NOT_TESTABLE, "no targets in the inventory")
    top = max(langs.values())
    value = f"max {top} ({', '.join(t for t, n in langs.items() if n == top)})"
    if ev.scale in REDUCED_SCALES and top < PAPER_MAX_LANGS:
        return _c(ev, "C3", text, "40", value, NOT_TESTABLE,
                  f"the {ev.scale} run has fewer than {PAPER_MAX_LANGS} languages per task")
    return _c(ev, "C3", text, "40", value, SUPPORTED if top == PAPER_MAX_LANGS else NOT_SUPPORTED,
              f"max languages over targets == {PAPER_MAX_LANGS}")


def c04_squad_gain(ev: Evidence) -> Claim:
    return _dev_gain_claim(ev, "C4", "SQuAD v2.0 intermediate: mean dev gain over target tasks", "squad_v2", 8.2)


def c05_mnli_gain(ev: Evidence) -> Claim:
    return _dev_gain_claim(ev, "C5", "MNLI intermediate: mean dev gain over target tasks", "mnli", 7.5)


def c06_hellaswag_gain(ev: Evidence) -> Claim:
    return _dev_gain_claim(ev, "C6", "HellaSwag intermediate: mean dev gain over target tasks", "hellaswag", 7.0)


def c07_multitask_gain(ev: Evidence) -> Claim:
    return _dev_gain_claim(ev, "C7", "Multi-task (all nine) intermediate: mean dev gain over target tasks",
                           "multitask", 8.7)


def c08_retrieval_gains(ev: Evidence) -> Claim:
    text = "BUCC and Tatoeba improve dramatically with almost every intermediate task"
    if not set(RETRIEVAL) <= ev.targets_run:
        return _c(ev, "C8", text, "—", "—", NOT_TESTABLE,
                  f"no results for {', '.join(sorted(set(RETRIEVAL) - ev.targets_run))}")
    b, t = ev.gains_on("bucc"), ev.gains_on("tatoeba")
    both = {k: min(b[k], t[k]) for k in b.keys() & t.keys()}
    if not both:
        return _missing(ev, "C8", text, "—", _absent(ev),
                        "no intermediate model with BUCC and Tatoeba results")
    share = _share(both)
    mb, mt = sum(b[k] for k in both) / len(both), sum(t[k] for k in both) / len(both)
    value = f"{share:.0%} of {len(both)} improve both; mean gain BUCC {mb:+.1f}, Tatoeba {mt:+.1f}"
    if ev.scale == "paper":
        ok = share >= ALMOST_EVERY and mb >= DRAMATIC_GAIN and mt >= DRAMATIC_GAIN
        basis = f"share >= {ALMOST_EVERY:.0%} and mean gains >= {DRAMATIC_GAIN} points on each"
    else:
        ok = share >= ALMOST_EVERY
        basis = f"direction only: share improving both >= {ALMOST_EVERY:.0%}"
    return _c(ev, "C8", text, "—", value, SUPPORTED if ok else NOT_SUPPORTED, basis + _absent_note(ev))


def c09_retrieval_no_training(ev: Evidence) -> Claim:
    text = "BUCC and Tatoeba have no training data of their own"
    targets = ev.inventory["targets"]
    absent = [t for t in RETRIEVAL if t not in targets]
    if absent:
        return _c(ev, "C9", text, "—", "—", NOT_TESTABLE, f"{', '.join(absent)} not in the inventory")
    has = {t: bool(targets[t]["has_training_data"] or targets[t]["train_examples"]) for t in RETRIEVAL}
    registry = {t: T.TASKS[t].train_from is None for t in RETRIEVAL}
    value = ", ".join(f"{t}: {'has' if h else 'no'} training data" for t, h in has.items())
    ok = not any(has.values()) and all(registry.values())
    return _c(ev, "C9", text, "—", value, SUPPORTED if ok else NOT_SUPPORTED,
              "inventory has_training_data / train_examples and the task registry's train_from")


def c10_tydiqa_gains(ev: Evidence) -> Claim:
    text = "TyDiQA improves with many intermediate tasks"
    if "tydiqa" not in ev.targets_run:
        return _c(ev, "C10", text, "—", "—", NOT_TESTABLE, "no TyDiQA results")
    g = ev.gains_on("tydiqa")
    if not g:
        return _missing(ev, "C10", text, "—", _absent(ev), "no intermediate model with TyDiQA results")
    share = _share(g)
    value = f"{share:.0%} of {len(g)} improve (mean {sum(g.values()) / len(g):+.1f})"
    scope = "direction only: " if ev.scale != "paper" else ""
    return _c(ev, "C10", text, "—", value, SUPPORTED if share >= MANY else NOT_SUPPORTED,
              f"{scope}share of intermediate tasks with a TyDiQA gain >= {MANY:.0%}" + _absent_note(ev))


def c11_xnli_no_benefit(ev: Evidence) -> Claim:
    text = "XNLI does not benefit from intermediate training"
    if "xnli" not in ev.targets_run:
        return _c(ev, "C11", text, "—", "—", NOT_TESTABLE, "no XNLI results")
    g = ev.gains_on("xnli")
    if not g:
        return _missing(ev, "C11", text, "—", _absent(ev), "no intermediate model with XNLI results")
    mean = sum(g.values()) / len(g)
    value = f"mean XNLI gain {mean:+.1f} over {len(g)} intermediate tasks ({_share(g):.0%} positive)"
    scope = "direction only: " if ev.scale != "paper" else ""
    return _c(ev, "C11", text, "—", value, SUPPORTED if mean <= NO_BENEFIT else NOT_SUPPORTED,
              f"{scope}mean XNLI gain <= {NO_BENEFIT} points" + _absent_note(ev))


def c12_best_xtreme_gain(ev: Evidence) -> Claim:
    text = "Best intermediate model per target task: XTREME test average gain"
    row = tb.lookup(ev.xtreme, ttask="xtreme") if not ev.xtreme.empty else None
    if row is None or math.isnan(row.gain_mean):
        return _missing(ev, "C12", text, "+5.4", _absent(ev),
                        "no test results for the baseline and an intermediate model on a common target")
    value = (f"{_pm(row.gain_mean, row.gain_sd, row.gain_n)} over {row.n_targets} targets "
             f"({row.baseline_mean:.1f} -> {row.best_mean:.1f})")
    if ev.scale == "paper" and row.n_targets < len(_all_targets(ev)):
        return _c(ev, "C12", text, "+5.4", value, NOT_TESTABLE,
                  f"the XTREME score needs all {len(_all_targets(ev))} targets; this run has {row.n_targets}")
    verdict, why = gain_verdict(ev.scale, row.gain_mean, 5.4)
    return _c(ev, "C12", text, "+5.4", value, verdict,
              f"best model chosen on dev, scored on test; {why}" + _absent_note(ev))


def c13_beats_mlm_control(ev: Evidence) -> Claim:
    return _control_claim(ev, "C13", "English intermediate training beats continued multilingual MLM",
                          "mlm_control")


def c14_beats_mt_control(ev: Evidence) -> Claim:
    return _control_claim(ev, "C14", "English intermediate training beats machine-translated intermediate data",
                          "mt_control")


def c15_intermediate_inventory(ev: Evidence) -> Claim:
    text = "Nine intermediate tasks: QA, sentence tagging, sentence classification, word classification"
    inv = ev.inventory["intermediate"]
    wrong_group = {t: v["group"] for t, v in inv.items() if T.PAPER_GROUPS.get(t) != v["group"]}
    groups = sorted({v["group"] for v in inv.values()})
    unavailable = [t for t, v in inv.items() if not v["available"]]
    unlisted = [t for t in T.PAPER_GROUPS if t not in inv]  # not configured in this run: untested, not wrong
    extra = sorted(set(inv) - set(T.PAPER_GROUPS))
    value = (f"{len(inv)} listed, {len(inv) - len(unavailable)} available; groups: {', '.join(groups)}")
    if extra or wrong_group:
        return _c(ev, "C15", text, "9", value, NOT_SUPPORTED,
                  f"tasks or groups differ from the paper's (tasks.PAPER_GROUPS): {extra or wrong_group}")
    if unavailable or unlisted:
        why = ", ".join(([f"unavailable: {', '.join(unavailable)}"] if unavailable else [])
                        + ([f"not in this run: {', '.join(unlisted)}"] if unlisted else []))
        c = _missing(ev, "C15", text, "9", unavailable + unlisted, why)
        return Claim(c.id, c.claim, c.paper, value, c.verdict, c.scale, c.basis)
    return _c(ev, "C15", text, "9", value, SUPPORTED,
              "nine tasks with the registry's groups (the registry files tagging-style CCG under word "
              "classification)")


def _count_claim(ev: Evidence, cid: str, text: str, itask: str, paper: int, extra: str = "") -> Claim:
    entry = ev.inventory["intermediate"].get(itask)
    paper_s = f"{paper:,}"
    n = entry["train_examples"] if entry else None
    value = ("—" if n is None else f"{n:,}") + extra
    if ev.scale in REDUCED_SCALES:
        return _c(ev, cid, text, paper_s, value, NOT_TESTABLE,
                  f"{ev.scale} data are cut to a small size; the exact count is a paper-scale check")
    if entry is None or not entry["available"] or n is None:
        c = _missing(ev, cid, text, paper_s, [itask], f"{itask} data unavailable")
        return Claim(c.id, c.claim, c.paper, value, c.verdict, c.scale, c.basis)
    return _c(ev, cid, text, paper_s, value, SUPPORTED if n == paper else NOT_SUPPORTED, "exact count")


def c16_anli_plus_count(ev: Evidence) -> Claim:
    comp = ev.inventory.get("anli_plus_components")
    extra = f" (components sum {sum(comp.values()):,})" if comp else ""
    return _count_claim(ev, "C16", "ANLI+ has 1,104,934 training examples", "anli_plus", PAPER_ANLI_PLUS, extra)


def c17_mnli_count(ev: Evidence) -> Claim:
    return _count_claim(ev, "C17", "MNLI has 392,702 training examples", "mnli", PAPER_MNLI)


def _metadata_claim(ev: Evidence, cid: str, text: str, itask: str, fmt: str, needles: list[tuple[str, ...]]) -> Claim:
    entry = ev.inventory["intermediate"].get(itask)
    if entry is None:
        return _c(ev, cid, text, "—", "—", NOT_TESTABLE, f"{itask} not in the inventory")
    desc = entry["description"].lower()
    hits = [any(n in desc for n in alts) for alts in needles]
    ok = entry["format"] == fmt and all(hits)
    value = f"format {entry['format']}; \"{entry['description']}\""
    need = " and ".join("/".join(a) for a in needles)
    return _c(ev, cid, text, "—", value, SUPPORTED if ok else NOT_SUPPORTED,
              f"task metadata: format {fmt} and description mentions {need}")


def c18_squad_metadata(ev: Evidence) -> Claim:
    return _metadata_claim(ev, "C18", "SQuAD v2.0 is span extraction from Wikipedia", "squad_v2", T.SPAN_QA,
                           [("span", "extract"), ("wikipedia",)])


def c19_hellaswag_metadata(ev: Evidence) -> Claim:
    return _metadata_claim(ev, "C19", "HellaSwag is sentence completion from video captions and WikiHow",
                           "hellaswag", T.MULTIPLE_CHOICE,
                           [("completion",), ("video", "activitynet"), ("wikihow",)])


PHASE_PATTERNS = [("MLM pre-training", re.compile(r"pre-?train", re.I)),
                  ("intermediate training", re.compile(r"intermediate", re.I)),
                  ("target evaluation", re.compile(r"target|zero.?shot|evaluat", re.I))]


def c20_three_phases(ev: Evidence) -> Claim:
    text = "Three phases: MLM pre-training, intermediate training, target evaluation"
    phases = ev.inventory["phases"]
    pos, found = 0, []
    for name, pat in PHASE_PATTERNS:
        while pos < len(phases) and not pat.search(phases[pos]):
            pos += 1
        found.append(pos < len(phases))
        pos += 1
    ok = all(found)
    missing = [n for (n, _), f in zip(PHASE_PATTERNS, found) if not f]
    return _c(ev, "C20", text, "—", " → ".join(phases), SUPPORTED if ok else NOT_SUPPORTED,
              "phases in this order in the pipeline" + (f"; missing or out of order: {', '.join(missing)}"
                                                         if missing else ""))


CLAIM_RULES = [c01_start_model, c02_target_count, c03_max_languages, c04_squad_gain, c05_mnli_gain,
               c06_hellaswag_gain, c07_multitask_gain, c08_retrieval_gains, c09_retrieval_no_training,
               c10_tydiqa_gains, c11_xnli_no_benefit, c12_best_xtreme_gain, c13_beats_mlm_control,
               c14_beats_mt_control, c15_intermediate_inventory, c16_anli_plus_count, c17_mnli_count,
               c18_squad_metadata, c19_hellaswag_metadata, c20_three_phases]


def evaluate_claims(tidy: pd.DataFrame, inventory: dict) -> list[Claim]:
    from . import validate_inventory
    validate_inventory(inventory)
    ev = Evidence.from_results(tidy, inventory)
    return [rule(ev) for rule in CLAIM_RULES]


def claims_frame(claims: list[Claim]) -> pd.DataFrame:
    return pd.DataFrame([asdict(c) for c in claims],
                        columns=["id", "claim", "paper", "value", "verdict", "scale", "basis"])


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_claims(claims: list[Claim], outdir, provenance: str = "") -> list[Path]:
    outdir = Path(outdir)
    df = claims_frame(claims)
    paths = [tb.write_csv(df, outdir / "claims.csv")]
    md = ["# Claims: paper vs this run", "", f"Generated by xstilts.report; {provenance}", "",
          "| id | claim | paper | this run | verdict | scale | basis |", "|---|---|---|---|---|---|---|"]
    md += [f"| {c.id} | {_md(c.claim)} | {_md(c.paper)} | {_md(c.value)} | {c.verdict} | {c.scale} | "
           f"{_md(c.basis)} |" for c in claims]
    counts = ", ".join(f"{v}: {sum(c.verdict == v for c in claims)}" for v in VERDICTS)
    md += ["", f"Verdicts: {counts}.", ""]
    paths.append(tb.atomic_write_text(outdir / "claims.md", "\n".join(md)))
    header = ["ID", "Claim", "Paper", "This run", "Verdict", "Scale", "Basis"]
    body = [[c.id, tb.tex_escape(c.claim), tb.tex_escape(c.paper), tb.tex_escape(c.value),
             tb.tex_escape(c.verdict), tb.tex_escape(c.scale), tb.tex_escape(c.basis)] for c in claims]
    caption = (r"The paper's claims and this run's verdicts. At embedded scale gains are judged by direction "
               rf"only; at paper scale a gain must have the paper's sign and lie within {GAIN_TOLERANCE:g} points "
               r"of the paper's value. " + tb.tex_escape(counts) + ".")
    colspec = r"@{}l p{3.6cm} p{1.3cm} p{3.4cm} p{1.8cm} l p{4.2cm}@{}"
    tex = tb.render_table(colspec, header, body, caption, "tab:claims", provenance).replace(
        "\\small", "\\footnotesize", 1)
    paths.append(tb.atomic_write_text(outdir / "claims.tex", tex))
    return paths
