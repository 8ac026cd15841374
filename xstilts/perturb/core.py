"""Noise perturbations of evaluation records: a registry of families, applied by severity, task-aware.

Research question: does English intermediate-task training change XLM-R's robustness to perturbed input in
zero-shot cross-lingual transfer? Every target test set is rewritten by a *family* of perturbations at a
*severity* s in [0, 1] = the share of a field's eligible words that are perturbed.

Design (what the later full suite builds on)
--------------------------------------------
* A family is a `Family` entry in `FAMILIES` (see `register_family`): an eligibility test and an edit, both
  per *unit* (a word, or a grapheme cluster of text written without spaces), and a flag saying whether it
  maps one token to exactly one token (only such families can touch tagging data). Which units are perturbed,
  how many, and the offsets, gaps and invariants are handled once, here, for every family.
* Segmentation (`segment`): whitespace-separated tokens; leading and trailing punctuation/symbols are cut
  off a token into their own units (never eligible), so "dich." loses "dich" and keeps ".". A token that
  holds letters of a script written without spaces (`SPACELESS_SCRIPTS`: Han, Hiragana, Katakana, Thai, Lao,
  Khmer, Myanmar) is cut into one unit per such grapheme cluster; runs of other characters inside it (a
  Latin name, digits) stay one unit each. Text with no whitespace at all and more than one cluster is cut
  into one unit per cluster (a one-word field still has several units). Such one-cluster units are
  *atomic*: the only typos defined on them are substitute and insert. Units without a letter or digit are
  never eligible; a non-atomic unit needs >= 2 clusters to be eligible for `char_typo`.
* Grapheme clusters (`clusters`): a base character plus the combining marks (category M*), joiners and
  variation selectors that follow it. Edits move, delete or insert whole clusters; `substitute` replaces
  the base and keeps its marks, so a mark is never split from a base.
* Scripts (`script_of`): from the first word of `unicodedata.name` (LATIN, CYRILLIC, GREEK, ARABIC,
  DEVANAGARI, HANGUL, THAI, ...; CJK and IDEOGRAPHIC -> HAN; full- and half-width forms are scripts of their
  own). New letters come from the letters of the same script that occur in the field being perturbed; when
  that field holds fewer than `MIN_OWN_LETTERS` distinct letters of the script they are pooled with a
  built-in alphabet of that script (`ALPHABETS`). A letter of another script is never introduced.
* Severity: with n eligible units in a field, k = floor(s * n + v) units are perturbed, where v in [0, 1) is
  a fixed hash of (seed, record id, field). This is *stochastic rounding*: k is within 1 of s * n, k = 0 at
  s = 0, k = n at s = 1, and E[k] = s * n exactly, so the realised share over a test set matches s even for
  short sentences (ceil would over-perturb and round would leave short sentences untouched at small s).
  `word_drop` keeps at least one eligible word per field (an empty premise is not a perturbation of it).
* Nesting: eligible units are ranked by a hash of (seed, id, field, unit index), and the first k are
  perturbed, so the units hit at s are a subset of those hit at any s' > s. The edit of a unit depends only on
  (seed, id, field, unit index, family) and the original field text, so it is the same at every severity.
  The ranking does not depend on the family: families hit the same words (a paired design).
* Randomness comes from BLAKE2b of a JSON key, never from Python's `hash()` or a library RNG stream, so the
  output is identical across processes, platforms and Python/numpy versions.
* Formats (`VARIANTS` lists the variants): classification perturbs text_a and text_b ("premise" /
  "hypothesis" only one); multiple_choice perturbs context and question, never the choices; span_qa perturbs
  the question ("question" = "default") or, with "context", the context outside every answer span, with
  answer_start recomputed; tagging perturbs tokens one-to-one (token-preserving families only); tatoeba
  perturbs `source`, bucc the `text` of side "source" records (target records pass through unchanged); mlm
  perturbs `text`. Every produced record is checked with `records.validate` and the format's invariants.
* `lang` is handed to families in their `Context`; the two families here use script detection instead, so a
  mislabelled language cannot make them inject a foreign alphabet. `Context.resources` carries what a
  family needs from the run (a homoglyph table, bilingual dictionaries); `Family.needs` names it.
* More families (keyboard_typo, diacritic_drop, homoglyph, code_switch, word_shuffle) are registered by
  `xstilts.perturb.families`, which the package `xstilts.perturb` imports (so any import of the stage
  registers them; this module never imports it back). A `permute` family (word_shuffle) swaps selected
  units with nearby eligible ones instead of editing them.
"""
from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass, field as _dc_field
from typing import Callable, Iterable, Mapping, Sequence

from xstilts import records as R
from xstilts import tasks as T
# the text units; `clusters` is re-exported so families and tests reach the stage's units through `core`
from xstilts.perturb.text import (ALPHABETS, MIN_OWN_LETTERS, _POOL_CATEGORIES, Unit, _is_wordish, clusters,  # noqa: F401
                                  script_of, segment, token_unit)


class NotApplicable(ValueError):
    """A family or variant that does not apply to a record format (e.g. word_drop on tagging)."""


class PerturbationError(ValueError):
    """A perturbed record that breaks its schema or an invariant; the message names the record id."""


# --------------------------------------------------------------------------------------------------------
# Stable randomness

def _key_bytes(parts: Sequence) -> bytes:
    return json.dumps(list(parts), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _uniform(*parts) -> float:
    """A uniform number in [0, 1) fixed by `parts` (BLAKE2b; identical on every platform and version)."""
    return int.from_bytes(hashlib.blake2b(_key_bytes(parts), digest_size=8).digest(), "big") / 2.0 ** 64


class Rng:
    """A counter-mode BLAKE2b stream keyed by `parts`; only what the families need."""
    __slots__ = ("_key", "_n")

    def __init__(self, *parts):
        self._key = _key_bytes(parts)
        self._n = 0

    def _u64(self) -> int:
        self._n += 1
        return int.from_bytes(hashlib.blake2b(self._key + b"#%d" % self._n, digest_size=8).digest(), "big")

    def random(self) -> float:
        return self._u64() / 2.0 ** 64

    def below(self, n: int) -> int:
        if n <= 0:
            raise ValueError("below() needs n >= 1")
        return self._u64() % n  # bias < n / 2**64

    def choice(self, seq: Sequence):
        return seq[self.below(len(seq))]


# --------------------------------------------------------------------------------------------------------
# Families

class Letters:
    """Letters by script occurring in a field, for drawing replacement letters of the same script."""

    def __init__(self, text: str):
        own: dict[str, set[str]] = {}
        for ch in text:
            if unicodedata.category(ch) in _POOL_CATEGORIES:
                s = script_of(ch)
                if s is not None:
                    own.setdefault(s, set()).add(_lower(ch, s))
        self._own = own
        self._cache: dict[str, tuple[str, ...]] = {}

    def pool(self, script: str | None) -> tuple[str, ...]:
        if script is None:
            return ()
        if script not in self._cache:
            own = self._own.get(script, set())
            if len(own) < MIN_OWN_LETTERS and script in ALPHABETS:
                own = own | set(ALPHABETS[script])
            self._cache[script] = tuple(sorted(own))
        return self._cache[script]


def _lower(ch: str, script: str) -> str:
    lo = ch.lower()
    return lo if len(lo) == 1 and script_of(lo) == script else ch


def _like_case(new: str, like: str) -> str:
    if like.isupper():
        up = new.upper()
        if len(up) == 1 and script_of(up) == script_of(new):
            return up
    return new


@dataclass(frozen=True)
class Context:
    """What a family may know besides the unit: the field's letters, the record's language and the
    resources the run supplies (`resources`: e.g. "homoglyphs" = a per-tokenizer table, "dictionary" =
    {target language: {word: translation}} for the record's language)."""
    letters: Letters
    lang: str
    resources: Mapping = _dc_field(default_factory=dict)


def _typo_options(unit: Unit, ctx: Context) -> list[tuple]:
    """Every edit `char_typo` could make to `unit`, each one changing it, in a fixed order."""
    cl = unit.clusters
    n = len(cl)
    opts: list[tuple] = []
    if n >= 2 and not unit.atomic:
        for i in range(n - 1):
            if cl[i] != cl[i + 1] and not cl[i][0].isspace() and not cl[i + 1][0].isspace():
                opts.append(("swap", i))
        for i in range(n):
            rest = cl[:i] + cl[i + 1:]
            if not cl[i][0].isspace() and any(_is_wordish(c) for c in rest):
                opts.append(("delete", i))
    all_upper = all(c[0].isupper() for c in cl if c[0].isalpha() and c[0].lower() != c[0].upper())
    for p in range(n + 1):
        for j in (p - 1, p):  # the script of the left neighbour, else of the right one
            if 0 <= j < n and (s := script_of(cl[j][0])) is not None and ctx.letters.pool(s):
                opts.append(("insert", p, s, all_upper))
                break
    for i, c in enumerate(cl):
        s = script_of(c[0])
        if s is not None and unicodedata.category(c[0]) in _POOL_CATEGORIES:
            if any(x.casefold() != c[0].casefold() for x in ctx.letters.pool(s)):
                opts.append(("substitute", i, s))
    return opts


def _typo_eligible(unit: Unit, ctx: Context) -> bool:
    if not unit.wordlike or (len(unit.clusters) < 2 and not unit.atomic):
        return False
    return bool(_typo_options(unit, ctx))


def _typo_edit(unit: Unit, rng: Rng, ctx: Context) -> str:
    opts = _typo_options(unit, ctx)
    by_op: dict[str, list[tuple]] = {}
    for o in opts:
        by_op.setdefault(o[0], []).append(o)
    kind = rng.choice(sorted(by_op))  # first the kind of edit, uniformly, then where
    op = rng.choice(by_op[kind])
    cl = list(unit.clusters)
    if kind == "swap":
        i = op[1]
        cl[i], cl[i + 1] = cl[i + 1], cl[i]
    elif kind == "delete":
        del cl[op[1]]
    elif kind == "insert":
        _, p, s, upper = op
        new = rng.choice(ctx.letters.pool(s))
        cl.insert(p, _like_case(new, "A") if upper else new)
    else:
        _, i, s = op
        base = cl[i][0]
        alts = [x for x in ctx.letters.pool(s) if x.casefold() != base.casefold()]
        cl[i] = _like_case(rng.choice(alts), base) + cl[i][1:]
    out = "".join(cl)
    assert out != unit.text and out, (unit, op)
    return out


def _drop_eligible(unit: Unit, ctx: Context) -> bool:
    return unit.wordlike


def _drop_edit(unit: Unit, rng: Rng, ctx: Context) -> str:
    return ""


@dataclass(frozen=True)
class Family:
    """A perturbation family: which units it may touch, and what it does to one of them.

    `edit` returns the unit's new text ("" deletes the unit and one adjacent whitespace gap). It must depend
    only on the unit, the `Rng` it is given and the `Context`, so that nesting across severities holds.
    `token_preserving` families map a non-empty token to exactly one non-empty token without whitespace
    changes, and so may perturb tagging data. `min_keep` eligible units of each field are never touched.
    """
    name: str
    level: str  # "char" | "word" | later "sentence", ...
    eligible: Callable[[Unit, Context], bool]
    edit: Callable[[Unit, Rng, Context], str]
    token_preserving: bool
    min_keep: int = 0
    description: str = ""
    # permute: the selected units swap places with a nearby eligible unit (local word shuffle); `edit` is
    # not called. Each selected unit's partner depends only on its own Rng, so selection stays nested.
    permute: bool = False
    # resources (Context.resources keys) the family cannot work without: missing -> NotApplicable
    needs: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {}


def register_family(family: Family, replace: bool = False) -> Family:
    """Add a family to the registry (the single place the pipeline looks families up)."""
    if family.name in FAMILIES and not replace:
        raise ValueError(f"perturbation family {family.name!r} is already registered")
    if family.name == "clean":
        raise ValueError("'clean' is reserved for unperturbed data in the results table")
    FAMILIES[family.name] = family
    return family


def get_family(name: str | Family) -> Family:
    if isinstance(name, Family):
        return name
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown perturbation family {name!r}; known: {', '.join(FAMILIES)}") from None


register_family(Family(
    "char_typo", "char", _typo_eligible, _typo_edit, token_preserving=True,
    description="one typo per selected word: swap adjacent clusters, delete, insert or substitute a letter "
                "of the word's own script"))
register_family(Family(
    "word_drop", "word", _drop_eligible, _drop_edit, token_preserving=False, min_keep=1,
    description="delete the selected words (and one adjacent whitespace gap)"))


# --------------------------------------------------------------------------------------------------------
# Text-level application

@dataclass(frozen=True)
class Edit:
    index: int  # unit index in segment(text) (token index for tagging)
    start: int
    end: int
    old: str
    new: str  # "" = dropped


@dataclass(frozen=True)
class PerturbedText:
    text: str
    edits: tuple[Edit, ...]
    n_eligible: int
    _pieces: tuple[tuple[int, int, int, bool], ...] = ()  # (old start, old end, new start, unchanged)

    def new_offset(self, old: int) -> int:
        """Where character `old` of the original text sits now; it must lie in an untouched part."""
        for a, b, n, same in self._pieces:
            if a <= old < b:
                if not same:
                    raise ValueError(f"offset {old} lies in an edited part of the text")
                return n + old - a
        raise ValueError(f"offset {old} was removed or is out of range")


def _check_severity(severity) -> float:
    if isinstance(severity, bool) or not isinstance(severity, (int, float)) or not math.isfinite(severity) \
            or not 0.0 <= severity <= 1.0:
        raise ValueError(f"severity must be a number in [0, 1], got {severity!r}")
    return float(severity)


def select(eligible: Sequence[int], severity: float, seed: int, rec_id: str, field: str,
           min_keep: int = 0) -> list[int]:
    """The unit indices perturbed at `severity` (nested in severity; see the module docstring)."""
    n = len(eligible)
    k = math.floor(severity * n + _uniform("round", seed, rec_id, field))
    k = max(0, min(k, n - min_keep))
    if k == 0:
        return []
    ranked = sorted(eligible, key=lambda i: (_uniform("rank", seed, rec_id, field, i), i))
    return sorted(ranked[:k])


def _overlaps(a: int, b: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a < e and s < b for s, e in spans)


def _check_needs(fam: Family, resources: Mapping) -> None:
    missing = [k for k in fam.needs if not resources.get(k)]
    if missing:
        raise NotApplicable(f"family {fam.name!r} needs resource(s) {', '.join(missing)} (none supplied)")


def _permuted(units: Sequence[Unit], elig: list[int], chosen: list[int], seed: int, rec_id: str, field: str,
              fam: Family) -> dict[int, str]:
    """Local shuffle: each chosen unit, left to right, swaps places with an eligible unit at most
    `SHUFFLE_WINDOW` eligible positions away (its partner is fixed by the unit's own Rng)."""
    arr = {i: units[i].text for i in elig}
    pos = {i: p for p, i in enumerate(elig)}
    for i in chosen:
        p = pos[i]
        partners = [elig[q] for q in range(max(0, p - SHUFFLE_WINDOW), min(len(elig), p + SHUFFLE_WINDOW + 1))
                    if q != p]
        if not partners:
            continue
        j = Rng("edit", seed, rec_id, field, i, fam.name).choice(partners)
        arr[i], arr[j] = arr[j], arr[i]
    return {i: t for i, t in arr.items() if t != units[i].text}


SHUFFLE_WINDOW = 2


def perturb_text(text: str, family: str | Family, severity: float, seed: int, rec_id: str,
                 field: str = "text", lang: str = "", protected: Sequence[tuple[int, int]] = (),
                 resources: Mapping | None = None) -> PerturbedText:
    """Perturb one field. Units overlapping a `protected` [start, end) span are left alone, as are gaps
    overlapping one; `PerturbedText.new_offset` maps offsets of untouched text to the new text."""
    fam = get_family(family)
    severity = _check_severity(severity)
    seed = int(seed)
    resources = resources or {}
    _check_needs(fam, resources)
    units = segment(text)
    ctx = Context(Letters(text), lang, resources)
    elig = [i for i, u in enumerate(units)
            if not _overlaps(u.start, u.end, protected) and fam.eligible(u, ctx)]
    if fam.permute and len(elig) < 2:
        elig = []  # nothing to swap with
    chosen = select(elig, severity, seed, rec_id, field, fam.min_keep) if severity > 0 else []
    if fam.permute:
        new_of = _permuted(units, elig, chosen, seed, rec_id, field, fam)
        chosen = sorted(new_of)
    else:
        new_of = {i: fam.edit(units[i], Rng("edit", seed, rec_id, field, i, fam.name), ctx) for i in chosen}
    edits = tuple(Edit(i, units[i].start, units[i].end, units[i].text, new_of[i]) for i in chosen)
    if not edits:
        return PerturbedText(text, (), len(elig), ((0, len(text), 0, True),))

    # gap j lies before unit j; gap len(units) is the tail. A dropped unit takes the gap before it when
    # something was kept before it, else the gap after it (no leading blank), never a protected gap.
    bounds = [0] + [u.end for u in units]
    gaps = [(bounds[j], units[j].start if j < len(units) else len(text)) for j in range(len(units) + 1)]
    dropped_gaps: set[int] = set()
    kept_any = False
    for j, u in enumerate(units):
        if new_of.get(j, None) != "":
            kept_any = True
            continue
        order = (j, j + 1) if kept_any else (j + 1, j)
        for g in order:
            a, b = gaps[g]
            if b > a and g not in dropped_gaps and not _overlaps(a, b, protected) and text[a:b].isspace():
                dropped_gaps.add(g)
                break
    out: list[str] = []
    pieces: list[tuple[int, int, int, bool]] = []
    pos = 0

    def emit(a: int, b: int, new: str, same: bool):
        nonlocal pos
        out.append(new)
        pieces.append((a, b, pos, same))
        pos += len(new)

    for j in range(len(units) + 1):
        a, b = gaps[j]
        emit(a, b, "" if j in dropped_gaps else text[a:b], j not in dropped_gaps)
        if j < len(units):
            u = units[j]
            emit(u.start, u.end, new_of.get(j, u.text), j not in new_of)
    return PerturbedText("".join(out), edits, len(elig), tuple(pieces))


def perturb_tokens(tokens: Sequence[str], family: str | Family, severity: float, seed: int, rec_id: str,
                   field: str = "tokens", lang: str = "", resources: Mapping | None = None
                   ) -> tuple[list[str], tuple[Edit, ...], int]:
    """Perturb pre-split tokens one-to-one (token-preserving families only): (tokens, edits, n_eligible)."""
    fam = get_family(family)
    resources = resources or {}
    _check_needs(fam, resources)
    if not fam.token_preserving or fam.permute:
        raise NotApplicable(f"family {fam.name!r} does not map one token to one token, so it cannot perturb "
                            "pre-split tokens without misaligning their tags")
    severity = _check_severity(severity)
    seed = int(seed)
    ctx = Context(Letters(" ".join(tokens)), lang, resources)
    units, pos = [], 0
    for t in tokens:
        units.append(token_unit(t, pos))
        pos += len(t) + 1
    elig = [i for i, u in enumerate(units) if fam.eligible(u, ctx)]
    chosen = select(elig, severity, seed, rec_id, field, fam.min_keep) if severity > 0 else []
    out = list(tokens)
    edits = []
    for i in chosen:
        out[i] = fam.edit(units[i], Rng("edit", seed, rec_id, field, i, fam.name), ctx)
        edits.append(Edit(i, units[i].start, units[i].end, tokens[i], out[i]))
    return out, tuple(edits), len(elig)


# --------------------------------------------------------------------------------------------------------
# Records

VARIANTS: dict[str, tuple[str, ...]] = {
    T.CLASSIFICATION: ("default", "premise", "hypothesis"),
    T.MULTIPLE_CHOICE: ("default",),
    T.SPAN_QA: ("default", "question", "context"),
    T.TAGGING: ("default",),
    T.TATOEBA: ("default",),
    T.BUCC: ("default",),
    T.MLM: ("default",),
}

_TEXT_FIELDS = {
    (T.CLASSIFICATION, "default"): ("text_a", "text_b"),
    (T.CLASSIFICATION, "premise"): ("text_a",),
    (T.CLASSIFICATION, "hypothesis"): ("text_b",),
    (T.MULTIPLE_CHOICE, "default"): ("context", "question"),
    (T.SPAN_QA, "default"): ("question",),
    (T.SPAN_QA, "question"): ("question",),
    (T.TATOEBA, "default"): ("source",),
    (T.BUCC, "default"): ("text",),
    (T.MLM, "default"): ("text",),
}


def applicable(fmt: str, family: str | Family, variant: str = "default") -> bool:
    """Whether `family` can perturb records of `fmt` under `variant` (for building the rule targets)."""
    try:
        _check_applicable(fmt, get_family(family), variant)
    except NotApplicable:
        return False
    return True


def _check_applicable(fmt: str, fam: Family, variant: str) -> None:
    if fmt not in VARIANTS:
        raise ValueError(f"unknown record format {fmt!r}; known: {', '.join(VARIANTS)}")
    if variant not in VARIANTS[fmt]:
        raise NotApplicable(f"variant {variant!r} does not exist for format {fmt!r}; "
                            f"known: {', '.join(VARIANTS[fmt])}")
    if fmt == T.TAGGING and (not fam.token_preserving or fam.permute):
        raise NotApplicable(f"family {fam.name!r} is not applicable to tagging: it does not map one token to "
                            "one token, so tokens and tags would fall out of alignment")


def _perturb_one(rec: dict, fmt: str, fam: Family, severity: float, seed: int, lang: str, variant: str,
                 resources: Mapping | None = None) -> tuple[dict, int, int]:
    rid = rec.get("id") if isinstance(rec, dict) else None
    R.validate(rec, fmt, f"record {rid!r} (input to {fam.name})")
    rid = rec["id"]
    new = dict(rec)
    n_elig = n_pert = 0
    touched: set[str] = set()
    if fmt == T.TAGGING:
        toks, edits, n_elig = perturb_tokens(rec["tokens"], fam, severity, seed, rid, "tokens", lang,
                                             resources)
        new["tokens"], n_pert = toks, len(edits)
        touched.add("tokens")
    elif fmt == T.SPAN_QA and variant == "context":
        ans = rec["answers"]
        spans = [(s, s + len(t)) for t, s in zip(ans["text"], ans["answer_start"])]
        pt = perturb_text(rec["context"], fam, severity, seed, rid, "context", lang, protected=spans,
                          resources=resources)
        new["context"] = pt.text
        try:
            starts = [pt.new_offset(s) for s in ans["answer_start"]]
        except ValueError as e:
            raise PerturbationError(f"record {rid!r}: an answer span was edited ({e})") from None
        new["answers"] = {"text": list(ans["text"]), "answer_start": starts}
        n_elig, n_pert = pt.n_eligible, len(pt.edits)
        touched |= {"context", "answers"}
    elif not (fmt == T.BUCC and rec["side"] != "source"):
        fields = _TEXT_FIELDS[(fmt, variant)]
        if fmt == T.CLASSIFICATION and variant == "hypothesis" and rec.get("text_b") is None:
            raise NotApplicable(f"record {rid!r}: variant 'hypothesis' needs a sentence pair, text_b is null")
        for f in fields:
            if rec.get(f) is None:
                continue
            pt = perturb_text(rec[f], fam, severity, seed, rid, f, lang, resources=resources)
            new[f] = pt.text
            n_elig += pt.n_eligible
            n_pert += len(pt.edits)
            touched.add(f)
    _check_invariants(rec, new, fmt, fam, severity, seed, lang, touched)
    return new, n_elig, n_pert


def _check_invariants(old: dict, new: dict, fmt: str, fam: Family, severity: float, seed: int, lang: str,
                      touched: set[str]) -> None:
    where = (f"perturbed record {old['id']!r} (family {fam.name}, severity {severity}, seed {seed}, "
             f"lang {lang})")
    try:
        R.validate(new, fmt, where)
    except R.RecordError as e:
        raise PerturbationError(str(e)) from None
    for k in set(old) | set(new):
        if k not in touched and old.get(k, KeyError) != new.get(k, KeyError):
            raise PerturbationError(f"{where}: field {k!r} changed but this variant must leave it intact")
    if fmt == T.TAGGING:
        if len(new["tokens"]) != len(old["tokens"]):
            raise PerturbationError(f"{where}: {len(old['tokens'])} tokens became {len(new['tokens'])}")
        blank = [i for i, t in enumerate(new["tokens"]) if not t.strip()]
        if blank:
            raise PerturbationError(f"{where}: tokens {blank} became blank")
    if fmt == T.SPAN_QA and new["answers"]["text"] != old["answers"]["text"]:
        raise PerturbationError(f"{where}: answer texts changed")


def perturb_record(rec: dict, fmt: str, family: str | Family, severity: float, seed: int, lang: str,
                   variant: str = "default", resources: Mapping | None = None) -> dict:
    """A perturbed copy of `rec` (same id). Raises NotApplicable when the family or variant does not apply
    to the format (or to this record, e.g. 'hypothesis' on a single sentence) and PerturbationError, naming
    the record id, when the result breaks the schema or an invariant. BUCC target-side and other records
    the variant does not touch come back as unchanged copies."""
    fam = get_family(family)
    _check_applicable(fmt, fam, variant)
    return _perturb_one(rec, fmt, fam, _check_severity(severity), int(seed), lang, variant, resources)[0]


def _perturb_all(records: Iterable[dict], fmt: str, family, severity, seed, lang, variant, resources=None
                 ) -> tuple[list[dict], dict]:
    fam = get_family(family)
    _check_applicable(fmt, fam, variant)
    severity, seed = _check_severity(severity), int(seed)
    out: list[dict] = []
    stats = {"n": 0, "n_changed": 0, "words_total": 0, "words_perturbed": 0}
    for rec in records:
        new, n_elig, n_pert = _perturb_one(rec, fmt, fam, severity, seed, lang, variant, resources)
        out.append(new)
        stats["n"] += 1
        stats["n_changed"] += new != rec
        stats["words_total"] += n_elig
        stats["words_perturbed"] += n_pert
    return out, stats


def perturb_records(records: Iterable[dict], fmt: str, family: str | Family, severity: float, seed: int,
                    lang: str, variant: str = "default", resources: Mapping | None = None) -> list[dict]:
    """`perturb_record` over a list, in order; every record is returned (untouched ones as copies)."""
    return _perturb_all(records, fmt, family, severity, seed, lang, variant, resources)[0]


def perturb_file(in_path, out_path, fmt: str, family: str | Family, severity: float, seed: int, lang: str,
                 variant: str = "default", resources: Mapping | None = None, labels=None,
                 n_choices=None) -> dict:
    """Read a JSONL split, perturb it, write it atomically; returns {n, n_changed, words_total,
    words_perturbed} (words = eligible units, summed over the perturbed fields). For BUCC pass the sentence
    file; the gold pairs are unaffected (ids are kept)."""
    _check_applicable(fmt, get_family(family), variant)  # before reading: inapplicable sets cost nothing
    recs = R.read_jsonl(in_path, fmt, labels, n_choices)
    out, stats = _perturb_all(recs, fmt, family, severity, seed, lang, variant, resources)
    # read_jsonl allows the two BUCC sides to share ids; every record was validated above already
    R.write_jsonl(out_path, out, None if fmt == T.BUCC else fmt, labels, n_choices)
    return stats
