"""The perturbation families beyond char_typo and word_drop, registered into `perturb.FAMILIES`.

keyboard_typo   one letter replaced by a neighbouring key of the script's layout (Latin QWERTY, Cyrillic
                ЙЦУКЕН, Greek); words with no letter on a known layout get a `char_typo` edit instead
diacritic_drop  strip diacritics where that leaves the same letter without an accent (Latin and Greek
                combining marks, Arabic harakat). Scripts where a mark makes a different letter (Cyrillic
                й/ё, Devanagari virama and matras, Hebrew, ...) are never touched: their words are not
                eligible, so such a language is reported "not applicable" (perturb.sets: 0 eligible words)
homoglyph       one letter replaced by a look-alike from another script, from a per-tokenizer table
                (`homoglyph_table`) that keeps only the pairs the tokenizer's own normaliser does not fold
                back (resource "homoglyphs")
code_switch     a word replaced by its translation into another language from a bilingual dictionary
                (resource "dictionary" = {target language: {word: translation}}); only one-token
                translations are loaded, so the family maps one token to one token
word_shuffle    local word order noise: each selected word swaps places with an eligible word at most
                `perturb.SHUFFLE_WINDOW` words away

Every edit depends only on (unit, its Rng, the field's Context), which keeps the nesting of severities.
"""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from xstilts.perturb import core as P

# ------------------------------------------------------------------------------------ keyboard typos

# Rows of letter keys, top to bottom; rows are staggered, so key (r, c) touches (r-1, c), (r-1, c+1),
# (r+1, c-1), (r+1, c) besides its row neighbours.
LAYOUTS = {
    "LATIN": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),           # QWERTY
    "CYRILLIC": ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю"),  # ЙЦУКЕН
    "GREEK": ("ςερτυθιοπ", "ασδφγηξκλ", "ζχψωβνμ"),            # Greek (ς on the Latin w key)
}


def _neighbours() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for rows in LAYOUTS.values():
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                near = []
                for rr, cc in ((r, c - 1), (r, c + 1), (r - 1, c), (r - 1, c + 1), (r + 1, c - 1), (r + 1, c)):
                    if 0 <= rr < len(rows) and 0 <= cc < len(rows[rr]):
                        near.append(rows[rr][cc])
                out[ch] = tuple(near)
    return out


KEY_NEIGHBOURS = _neighbours()


def _key_positions(unit: P.Unit) -> list[int]:
    return [i for i, c in enumerate(unit.clusters) if c[0].lower() in KEY_NEIGHBOURS and len(c[0].lower()) == 1]


def _keyboard_eligible(unit: P.Unit, ctx: P.Context) -> bool:
    return unit.wordlike and (bool(_key_positions(unit)) or P._typo_eligible(unit, ctx))


def _keyboard_edit(unit: P.Unit, rng: P.Rng, ctx: P.Context) -> str:
    pos = _key_positions(unit)
    if not pos:
        return P._typo_edit(unit, rng, ctx)  # no layout for this script: a plain same-script typo
    i = rng.choice(pos)
    cl = list(unit.clusters)
    base = cl[i][0]
    new = rng.choice(KEY_NEIGHBOURS[base.lower()])
    cl[i] = P._like_case(new, base) + cl[i][1:]
    return "".join(cl)


# ------------------------------------------------------------------------------------ diacritics

# Arabic harakat (tashkil): fathatan .. sukun. Optional vowel signs: the consonant skeleton is unchanged.
ARABIC_HARAKAT = frozenset(chr(c) for c in range(0x064B, 0x0653))
# Scripts whose combining marks are accents on a letter that stays the same letter without them.
DIACRITIC_SCRIPTS = frozenset({"LATIN", "GREEK", "ARABIC"})


def strip_diacritics(word: str) -> str:
    """`word` without the Latin/Greek combining marks and Arabic harakat; other scripts' marks are kept
    (Cyrillic й stays й: its breve makes another letter; a Devanagari virama is part of the spelling)."""
    out: list[str] = []
    base_script = None
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.category(ch).startswith("M"):
            if ch in ARABIC_HARAKAT or (base_script in ("LATIN", "GREEK") and unicodedata.category(ch) == "Mn"):
                continue
        else:
            base_script = P.script_of(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _diacritic_eligible(unit: P.Unit, ctx: P.Context) -> bool:
    if not unit.wordlike:
        return False
    new = strip_diacritics(unit.text)
    return bool(new) and new != unicodedata.normalize("NFC", unit.text)


def _diacritic_edit(unit: P.Unit, rng: P.Rng, ctx: P.Context) -> str:
    return strip_diacritics(unit.text)


# ------------------------------------------------------------------------------------ homoglyphs

# Candidate look-alikes (before any tokenizer check). Cross-script pairs (Latin <-> Cyrillic, Greek),
# plus compatibility forms (fullwidth, letterlike symbols, CJK compatibility ideographs, Kangxi radicals)
# that NFKC-style normalisers fold back: `homoglyph_table` must reject those for such tokenizers.
_PAIRS = (
    "aа cс eе iі jј oо pр sѕ xх yу hһ dԁ "
    "AА BВ CС EЕ HН IІ JЈ KК MМ OО PР SЅ TТ XХ "
    "AΑ BΒ EΕ HΗ IΙ KΚ MΜ NΝ OΟ PΡ TΤ XΧ YΥ ZΖ oο vν"
)
# Compatibility look-alikes, as escapes so that no editor normalises them away: fullwidth Latin, letterlike
# symbols (script e/o/g, Kelvin sign), Kangxi radicals and CJK compatibility ideographs.
_COMPAT = {
    "a": "\uff41", "e": "\uff45\u212f", "o": "\uff4f\u2134", "g": "\u210a", "K": "\u212a\uff2b",
    "一": "\u2f00", "人": "\u2f08", "大": "\u2f24", "金": "\uf90a",
}


def homoglyph_candidates() -> dict[str, list[str]]:
    """{letter: [look-alikes from another script or a compatibility block]}, both directions for
    cross-script letter pairs."""
    out: dict[str, list[str]] = {}
    for a, b in (tuple(p) for p in _PAIRS.split()):
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)  # Cyrillic а -> Latin a too
    for a, glyphs in _COMPAT.items():
        out.setdefault(a, []).extend(glyphs)
    return {k: sorted(set(v)) for k, v in sorted(out.items())}


def normaliser_of(tokenizer):
    """The function a tokenizer applies to text before splitting it (its Unicode normalisation)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    norm = getattr(backend, "normalizer", None) if backend is not None else None
    if norm is not None:
        return norm.normalize_str
    sp = getattr(tokenizer, "sp_model", None)
    if sp is not None and hasattr(sp, "normalize"):
        return sp.normalize
    raise ValueError(f"tokenizer {type(tokenizer).__name__} exposes no normaliser (backend_tokenizer.normalizer "
                     "or sp_model.normalize): cannot check which homoglyphs survive it")


def build_homoglyph_table(normalise, source: str = "") -> dict:
    """Keep the candidates whose normalised form still differs from the normalised original letter (in
    both cases, so a case-folding normaliser is handled too). The rest are listed with their normal form."""
    kept: dict[str, list[str]] = {}
    rejected: dict[str, dict[str, str]] = {}
    for letter, glyphs in homoglyph_candidates().items():
        n_letter = normalise(letter)
        for g in glyphs:
            n_g = normalise(g)
            if n_g.strip() and n_g != n_letter and n_g.lower() != n_letter.lower():
                kept.setdefault(letter, []).append(g)
            else:
                rejected.setdefault(letter, {})[g] = n_g
    return {"source": source, "pairs": kept, "rejected": rejected}


def build_homoglyph_table_for(tokenizer_dir) -> dict:
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    return build_homoglyph_table(normaliser_of(tok), str(tokenizer_dir))


def load_homoglyph_table(path) -> dict[str, list[str]]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pairs = data["pairs"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a homoglyph table (JSON with 'pairs'): {e}") from e
    return {k: list(v) for k, v in pairs.items()}


def _homoglyph_positions(unit: P.Unit, table) -> list[int]:
    return [i for i, c in enumerate(unit.clusters) if c[0] in table]


def _homoglyph_eligible(unit: P.Unit, ctx: P.Context) -> bool:
    return unit.wordlike and bool(_homoglyph_positions(unit, ctx.resources["homoglyphs"]))


def _homoglyph_edit(unit: P.Unit, rng: P.Rng, ctx: P.Context) -> str:
    table = ctx.resources["homoglyphs"]
    i = rng.choice(_homoglyph_positions(unit, table))
    cl = list(unit.clusters)
    cl[i] = rng.choice(table[cl[i][0]]) + cl[i][1:]
    return "".join(cl)


# ------------------------------------------------------------------------------------ code-switching

def _dict_key(word: str) -> str:
    return unicodedata.normalize("NFC", word).casefold()


def micro_dictionaries(lexicon_path, src: str) -> dict[str, dict[str, str]]:
    """{target language: {word form in `src`: form in the target}} from the micro benchmark's lexicon
    (every language's form of each (lemma, inflection)); English forms come from the 'en' column."""
    path = Path(lexicon_path)
    lex = json.loads(path.read_text(encoding="utf-8"))
    forms: dict[str, dict[tuple, str]] = {"en": {}}
    for lang, entries in lex.items():
        forms[lang] = {}
        for e in entries:
            key = (e["lemma"], e.get("infl", ""))
            if e.get("form"):  # a lexeme a language does not realise (e.g. no articles) has no form
                forms[lang][key] = e["form"]
            if e.get("en"):
                forms["en"].setdefault(key, e["en"])
    if src not in forms:
        raise ValueError(f"{path}: no lexicon for language {src!r} (has {', '.join(sorted(forms))})")
    out: dict[str, dict[str, str]] = {}
    for tgt, tf in forms.items():
        if tgt == src:
            continue
        d = {}
        for key, form in forms[src].items():
            t = tf.get(key)
            if form and t and not any(ch.isspace() for ch in t) and _dict_key(t) != _dict_key(form):
                d.setdefault(_dict_key(form), t)
        if d:
            out[tgt] = d
    return out


def load_muse(path, where: str = "") -> dict[str, str]:
    """A MUSE-style bilingual dictionary: one 'source target' pair per line (whitespace-separated); the
    first translation of a word wins; multi-token entries are skipped (the family is one-token-to-one)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: bilingual dictionary not found{' (' + where + ')' if where else ''}")
    out: dict[str, str] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{i}: expected 'source target' (two whitespace-separated words), "
                             f"got {line!r}")
        out.setdefault(_dict_key(parts[0]), parts[1])
    return out


def _cs_targets(unit: P.Unit, ctx: P.Context) -> list[str]:
    key = _dict_key(unit.text)
    return [t for t in sorted(ctx.resources["dictionary"]) if key in ctx.resources["dictionary"][t]]


def _cs_eligible(unit: P.Unit, ctx: P.Context) -> bool:
    return unit.wordlike and bool(_cs_targets(unit, ctx))


def _cs_edit(unit: P.Unit, rng: P.Rng, ctx: P.Context) -> str:
    tgt = rng.choice(_cs_targets(unit, ctx))
    new = ctx.resources["dictionary"][tgt][_dict_key(unit.text)]
    if unit.text[:1].isupper() and new[:1].islower():
        new = new[:1].upper() + new[1:]
    return new


# ------------------------------------------------------------------------------------ registration

def _word_eligible(unit: P.Unit, ctx: P.Context) -> bool:
    return unit.wordlike


P.register_family(P.Family(
    "keyboard_typo", "char", _keyboard_eligible, _keyboard_edit, token_preserving=True,
    description="one letter replaced by a neighbouring key (QWERTY, ЙЦУКЕН, Greek); char_typo elsewhere"))
P.register_family(P.Family(
    "diacritic_drop", "char", _diacritic_eligible, _diacritic_edit, token_preserving=True,
    description="Latin/Greek accents and Arabic harakat removed; not applicable to other scripts"))
P.register_family(P.Family(
    "homoglyph", "char", _homoglyph_eligible, _homoglyph_edit, token_preserving=True, needs=("homoglyphs",),
    description="one letter replaced by a look-alike of another script that survives the tokenizer's "
                "normalisation"))
P.register_family(P.Family(
    "code_switch", "word", _cs_eligible, _cs_edit, token_preserving=True, needs=("dictionary",),
    description="word replaced by its one-token translation into another language (bilingual dictionary)"))
P.register_family(P.Family(
    "word_shuffle", "word", _word_eligible, lambda u, r, c: u.text, token_preserving=False, permute=True,
    description=f"each selected word swaps places with an eligible word at most {P.SHUFFLE_WINDOW} away"))
