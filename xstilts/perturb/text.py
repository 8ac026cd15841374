"""Text units for the perturbation families: scripts, grapheme clusters and the segmentation of a field.

* Scripts (`script_of`): a letter's script from its Unicode name, with the alphabets families draw from.
* Grapheme clusters (`clusters`): Unicode extended grapheme clusters (`regex`, `\\X`), cut as `clusters` says.
* Units (`segment`, `token_unit`): a word, or one grapheme cluster of text written without spaces (Chinese,
  Japanese, Thai, Lao, Khmer, Myanmar); `core`'s module docstring ("Segmentation") gives the rules.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

# --------------------------------------------------------------------------------------------------------
# Unicode: scripts and clusters

SPACELESS_SCRIPTS = frozenset({"HAN", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"})
_SCRIPT_ALIASES = {"CJK": "HAN", "IDEOGRAPHIC": "HAN", "KATAKANA-HIRAGANA": "KATAKANA"}
_WIDTH_PREFIXES = ("FULLWIDTH", "HALFWIDTH")  # e.g. FULLWIDTH LATIN: its own pool, so width is kept
_NOT_SCRIPTS = frozenset({"MODIFIER", "MATHEMATICAL", "SUPERSCRIPT", "SUBSCRIPT", "CIRCLED",
                          "PARENTHESIZED", "SQUARED", "NEGATIVE", "DOUBLE-STRUCK", "BLACK-LETTER"})
_POOL_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lo"})  # letters proper: no tatweel, no prolonged-sound mark
MIN_OWN_LETTERS = 5

_HAN_COMMON = ("的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可"
               "她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老"
               "从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给")
ALPHABETS: dict[str, str] = {
    "LATIN": "abcdefghijklmnopqrstuvwxyz",
    "CYRILLIC": "абвгдежзийклмнопрстуфхцчшщъыьэюя",
    "GREEK": "αβγδεζηθικλμνξοπρστυφχψω",
    "ARABIC": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "HEBREW": "אבגדהוזחטיכלמנסעפצקרשת",
    "DEVANAGARI": "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "BENGALI": "অআইঈউঊএঐওঔকখগঘচছজঝটঠডঢণতথদধনপফবভমযরলশষসহ",
    "THAI": "กขคฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ",
    "HIRAGANA": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん",
    "KATAKANA": "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン",
    "HANGUL": "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후기니디리미비시이지치키티피히",
    "HAN": "".join(dict.fromkeys(_HAN_COMMON)),
}


@lru_cache(maxsize=65536)
def script_of(ch: str) -> str | None:
    """The script of a letter from its Unicode name (e.g. 'LATIN', 'ARABIC', 'HAN'); None for non-letters."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    words = unicodedata.name(ch, "").split(" ")
    if not words[0]:
        return None
    if words[0] in _WIDTH_PREFIXES and len(words) > 1:
        return f"{words[0]} {_SCRIPT_ALIASES.get(words[1], words[1])}"
    if words[0] in _NOT_SCRIPTS:
        return None
    return _SCRIPT_ALIASES.get(words[0], words[0])


# Grapheme clusters are Unicode's extended clusters (`regex`'s \X), with two cuts that keep the units the
# families edit: (1) a mark after whitespace stays off the space (\X glues it on, GB9), so a space is never
# edited together with a letter's mark; (2) a consonant after a virama starts a new cluster (\X joins a
# whole Indic conjunct since Unicode 15.1, GB9c), so a typo swaps or drops an akshara (स् | ते), as the
# pre-15.1 rules and our tests have it.
_GRAPHEME = regex.compile(r"\X")
_AFTER_VIRAMA = regex.compile(r"(?<=\p{ccc=9})(?=\p{L})")


def clusters(text: str) -> list[str]:
    """Grapheme clusters: a base character plus the marks, joiners and selectors that belong to it (`\\X`).

    A mark after whitespace (or at the start) has no base; it becomes a cluster of its own rather than
    being glued to the space.
    """
    out: list[str] = []
    for grapheme in _GRAPHEME.findall(text):
        for cl in _AFTER_VIRAMA.split(grapheme) if len(grapheme) > 2 else (grapheme,):
            if len(cl) > 1 and cl[0].isspace():
                out += [cl[0], cl[1:]]
            else:
                out.append(cl)
    return out


def _is_wordish(cl: str) -> bool:
    return unicodedata.category(cl[0])[0] in "LN"


def _is_punct(cl: str) -> bool:
    return unicodedata.category(cl[0])[0] in "PS"


def _spaceless_letter(cl: str) -> bool:
    return script_of(cl[0]) in SPACELESS_SCRIPTS


# --------------------------------------------------------------------------------------------------------
# Segmentation

@dataclass(frozen=True)
class Unit:
    """A perturbable unit of a field: a word, or one grapheme cluster of text written without spaces."""
    text: str
    start: int  # character offsets in the field text
    end: int
    clusters: tuple[str, ...]
    atomic: bool  # one cluster cut out of spaceless text: only substitute/insert typos are defined on it

    @property
    def wordlike(self) -> bool:
        return any(_is_wordish(c) for c in self.clusters)


def _units_of_token(cls: list[str], offs: list[int], atomic: bool) -> list[Unit]:
    return [Unit("".join(cls), offs[0], offs[-1] + len(cls[-1]), tuple(cls), atomic)] if cls else []


def segment(text: str) -> list[Unit]:
    """Cut a field into units (module docstring, 'Segmentation'); gaps between units are left out."""
    cls = clusters(text)
    offs, pos = [], 0
    for c in cls:
        offs.append(pos)
        pos += len(c)
    if not any(ch.isspace() for ch in text) and len(cls) > 1 and not any(_spaceless_letter(c) for c in cls):
        return [Unit(c, o, o + len(c), (c,), True) for c, o in zip(cls, offs)]
    units: list[Unit] = []
    i = 0
    while i < len(cls):
        if cls[i][0].isspace():
            i += 1
            continue
        j = i
        while j < len(cls) and not cls[j][0].isspace():
            j += 1
        tok, tof = cls[i:j], offs[i:j]
        if any(_spaceless_letter(c) for c in tok):
            buf, bof, kind = [], [], None
            for c, o in zip(tok, tof):
                if _spaceless_letter(c):
                    units += _units_of_token(buf, bof, False)
                    buf, bof, kind = [], [], None
                    units.append(Unit(c, o, o + len(c), (c,), True))
                    continue
                k = "punct" if _is_punct(c) else "word"
                if kind is not None and k != kind:
                    units += _units_of_token(buf, bof, False)
                    buf, bof = [], []
                buf.append(c)
                bof.append(o)
                kind = k
            units += _units_of_token(buf, bof, False)
        else:
            a, b = 0, len(tok)
            while a < b and _is_punct(tok[a]):
                a += 1
            while b > a and _is_punct(tok[b - 1]):
                b -= 1
            units += _units_of_token(tok[:a], tof[:a], False)
            units += _units_of_token(tok[a:b], tof[a:b], False)
            units += _units_of_token(tok[b:], tof[b:], False)
        i = j
    return units


def token_unit(token: str, start: int = 0) -> Unit:
    """A pre-split token (tagging) as one unit; a single cluster of a spaceless script is atomic."""
    cls = clusters(token)
    return Unit(token, start, start + len(token), tuple(cls), len(cls) == 1 and _spaceless_letter(cls[0]))
