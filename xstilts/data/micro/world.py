"""The micro world: an English lexicon, four synthetic languages derived from it, semantic structures
(noun phrases, events, copula clauses, sentences, questions) and their rendering into every language.

Everything here is deterministic given the seeded `random.Random` streams passed in; nothing iterates over
a set or depends on hash order. Rendering returns tokens as 7-tuples
``(form, upos, ner, ccg, slot, lemma, infl)``; `slot` marks the semantic role of a token so that task
builders can find answer spans in any language, `lemma`/`infl` let code-switching and the dictionary find
the English counterpart.

Why one module (about 1,270 lines): it is one grammar. The `World` class (two thirds of the file) renders
every semantic structure into all five languages from the lexicon, scripts and word-order specs above it,
and its methods share that state; the tables above it are read only by it. Cut apart, one design would be
spread over files that cannot be read or tested alone.
"""
from __future__ import annotations

import hashlib
import random
import unicodedata
from bisect import bisect
from itertools import accumulate


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def stream(seed: int, *names) -> random.Random:
    """An independent, reproducible random stream named by `names` (stable across Python versions)."""
    h = hashlib.sha256(("|".join([str(seed), *map(str, names)])).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


# ---------------------------------------------------------------------------------------------------------
# English lexicon
# ---------------------------------------------------------------------------------------------------------
# Topics give topical co-occurrence (a noun mostly meets its topic's verbs), the scripts of the
# HellaSwag-like task (ordered steps done to one object), and commonsense facts (where a thing is found,
# what kind of thing it is).
TOPICS = {
    "food": dict(nouns="apple pear lemon melon carrot onion potato/potatoes tomato/tomatoes cake pie cookie egg "
                       "sandwich/sandwiches plum peach/peaches",
                 verbs="eat cook cut bake taste", script="buy wash cut cook eat", place="kitchen",
                 category="food"),
    "tools": dict(nouns="hammer drill ladder rope nail brush/brushes shovel bucket wrench/wrenches knife/knives "
                        "hook chisel",
                  verbs="fix sharpen clean use", script="buy clean fix use store", place="workshop",
                  category="tool"),
    "animals": dict(nouns="dog cat horse cow goat duck rabbit pig chicken bird lamb fox/foxes",
                    verbs="feed brush walk watch", script="find feed wash brush walk", place="farm",
                    category="animal"),
    "clothes": dict(nouns="shirt hat coat shoe sock dress/dresses jacket glove boot skirt belt sweater",
                    verbs="wear iron fold mend", script="buy wash iron fold wear", place="wardrobe",
                    category="garment"),
    "vehicles": dict(nouns="car bus/buses bike truck boat van tractor scooter wagon train",
                     verbs="drive park repair paint ride", script="buy repair paint drive park", place="garage",
                     category="vehicle"),
    "writing": dict(nouns="book letter poem note card diary/diaries story/stories report essay list",
                    verbs="read write print sign", script="write print sign copy send", place="library",
                    category="document"),
    "music": dict(nouns="guitar drum piano violin flute trumpet harp cello banjo horn",
                  verbs="play tune record", script="buy tune play record store", place="studio",
                  category="instrument"),
    "garden": dict(nouns="flower rose tulip lily/lilies daisy/daisies herb fern bean pea bulb",
                   verbs="plant water pick grow", script="buy plant water grow pick", place="garden",
                   category="plant"),
}
TOPIC_NAMES = list(TOPICS)
GENERAL_VERBS = "buy sell find bring carry see take lose keep hide show".split()
SOCIAL_VERBS = "meet call help visit thank invite praise greet follow teach blame warn".split()
ANIMAL_VERBS = "chase follow watch".split()
ORG_VERBS = "buy sell find bring repair print send".split()  # verbs an organisation can be the agent of
EXTRA_VERBS = ["feel"]
IRREGULAR = {  # lemma: (past, participle)
    "buy": ("bought", "bought"), "sell": ("sold", "sold"), "find": ("found", "found"),
    "bring": ("brought", "brought"), "see": ("saw", "seen"), "take": ("took", "taken"), "lose": ("lost", "lost"),
    "keep": ("kept", "kept"), "hide": ("hid", "hidden"), "show": ("showed", "shown"), "eat": ("ate", "eaten"),
    "cut": ("cut", "cut"), "feed": ("fed", "fed"), "wear": ("wore", "worn"), "drive": ("drove", "driven"),
    "ride": ("rode", "ridden"), "read": ("read", "read"), "write": ("wrote", "written"), "send": ("sent", "sent"),
    "grow": ("grew", "grown"), "meet": ("met", "met"), "teach": ("taught", "taught"), "feel": ("felt", "felt"),
}
COLOURS = "red blue green yellow black white brown pink grey purple".split()
SIZES = "big small old new heavy long short round".split()
POSITIVE = "good great wonderful excellent lovely nice beautiful perfect pleasant fantastic delightful superb".split()
NEGATIVE = "bad terrible awful horrible poor ugly boring nasty dreadful dull broken dirty".split()
FEEL_POS = "happy glad pleased proud".split()
FEEL_NEG = "sad angry upset unhappy".split()
INTENSIFIERS = "very really quite extremely".split()
TIME_PAST = "yesterday recently earlier".split()
TIME_PRES = "today now often".split()
MISC_NOUNS = ["colour", "city"]
ORG_WORDS = "Bank Group Press Club Union Company Institute Market".split()
LOC_WORDS = "Port Lake Mount Fort".split()
# Function words: id -> (English form, UPOS). None = not a word of English (particles of xk).
FUNCTION = {
    "the": ("the", "DET"), "a": ("a", "DET"), "in": ("in", "ADP"), "by": ("by", "ADP"), "and": ("and", "CCONJ"),
    "but": ("but", "CCONJ"), "because": ("because", "SCONJ"), "not": ("not", "PART"), "do": ("do", "AUX"),
    "be": ("be", "AUX"), "can": ("can", "AUX"), "would": ("would", "AUX"), "you": ("you", "PRON"),
    "that": ("that", "PRON"), "then": ("then", "ADV"), "who": ("who", "PRON"), "whom": ("whom", "PRON"),
    "what": ("what", "PRON"), "where": ("where", "ADV"), "why": ("why", "ADV"), "how": ("how", "ADV"),
    "many": ("many", "ADJ"), "which": ("which", "DET"),
    "ga": (None, "ADP"), "o": (None, "ADP"), "wa": (None, "ADP"), "ka": (None, "PART"),
}
CONTENT_CLASSES = ("noun", "verb", "adj", "adv")


def _plural(sg: str) -> str:
    return sg + "s"


def _third(v: str) -> str:
    if v.endswith(("s", "sh", "ch", "x", "z")):
        return v + "es"
    if v.endswith("y") and v[-2] not in "aeiou":
        return v[:-1] + "ies"
    return v + "s"


def _past(v: str) -> str:
    if v.endswith("e"):
        return v + "d"
    if v.endswith("y") and v[-2] not in "aeiou":
        return v[:-1] + "ied"
    return v + "ed"


class Lexeme:
    __slots__ = ("id", "cls", "upos", "en", "topic", "sub")

    def __init__(self, id, cls, upos, en, topic=None, sub=None):
        self.id, self.cls, self.upos, self.en, self.topic, self.sub = id, cls, upos, en, topic, sub


def english_lexicon() -> dict[str, Lexeme]:
    """Every lexeme with its English inflected forms; ids are 'pos:lemma'."""
    lex: dict[str, Lexeme] = {}

    def noun(word, sub, topic=None, upos="NOUN"):
        sg, _, pl = word.partition("/")
        lex["n:" + sg] = Lexeme("n:" + sg, "noun", upos, {"sg": sg, "pl": pl or _plural(sg)}, topic, sub)

    def verb(v, sub, topic=None):
        if "v:" + v in lex:
            return
        past, part = IRREGULAR.get(v, (_past(v), _past(v)))
        lex["v:" + v] = Lexeme("v:" + v, "verb", "VERB", {"base": v, "3sg": _third(v), "past": past,
                                                            "part": part}, topic, sub)

    for t, d in TOPICS.items():
        for w in d["nouns"].split():
            noun(w, "thing" if t != "animals" else "animal", t)
        for v in d["verbs"].split():
            verb(v, "topic", t)
        for v in d["script"].split():
            verb(v, "script", t)
        noun(d["place"], "place", t)
        noun(d["category"], "category", t)
    for v in GENERAL_VERBS:
        verb(v, "general")
    for v in SOCIAL_VERBS:
        verb(v, "social")
    for v in ANIMAL_VERBS:
        verb(v, "animal")
    for v in EXTRA_VERBS:
        verb(v, "extra")
    for w in MISC_NOUNS:
        noun(w, "misc")
    for w in ORG_WORDS:
        noun(w, "orgword", upos="PROPN")
    for w in LOC_WORDS:
        noun(w, "locword", upos="PROPN")
    for sub, words in (("colour", COLOURS), ("size", SIZES), ("pos", POSITIVE), ("neg", NEGATIVE),
                       ("feel_pos", FEEL_POS), ("feel_neg", FEEL_NEG)):
        for w in words:
            if "a:" + w not in lex:
                lex["a:" + w] = Lexeme("a:" + w, "adj", "ADJ", {"": w}, None, sub)
    for sub, words in (("intens", INTENSIFIERS), ("time_past", TIME_PAST), ("time_pres", TIME_PRES)):
        for w in words:
            lex["r:" + w] = Lexeme("r:" + w, "adv", "ADV", {"": w}, None, sub)
    for fid, (form, upos) in FUNCTION.items():
        forms = {"": form} if form else {}
        if fid == "a":
            forms = {"": "a", "an": "an"}
        elif fid == "do":
            forms = {"base": "do", "3sg": "does", "past": "did"}
        elif fid == "be":
            forms = {"base": "be", "pres_sg": "is", "pres_pl": "are", "past_sg": "was", "past_pl": "were",
                     "pres_you": "are", "past_you": "were"}
        lex["f:" + fid] = Lexeme("f:" + fid, "function", upos, forms, None, fid)
    return lex


# ---------------------------------------------------------------------------------------------------------
# Scripts and transliteration
# ---------------------------------------------------------------------------------------------------------
ROMAN_C = "k s t n h m r d b g p z".split()
ROMAN_V = "a i u e o".split()
_KATA_ROWS = {"k": "カキクケコ", "s": "サシスセソ", "t": "タチツテト", "n": "ナニヌネノ", "h": "ハヒフヘホ",
              "m": "マミムメモ", "r": "ラリルレロ", "d": "ダヂヅデド", "b": "バビブベボ", "g": "ガギグゲゴ",
              "p": "パピプペポ", "z": "ザジズゼゾ", "": "アイウエオ", "y": "ヤイユエヨ", "w": "ワイウエオ"}
_HIRA_ROWS = {"k": "かきくけこ", "s": "さしすせそ", "t": "たちつてと", "n": "なにぬねの", "h": "はひふへほ",
              "m": "まみむめも", "r": "らりるれろ", "d": "だぢづでど", "b": "ばびぶべぼ", "g": "がぎぐげご",
              "p": "ぱぴぷぺぽ", "z": "ざじずぜぞ", "y": "やゆよ", "w": "わ"}
CYR = dict(a="а", b="б", c="к", d="д", e="е", f="ф", g="г", h="х", i="и", j="дж", k="к", l="л", m="м", n="н",
           o="о", p="п", q="к", r="р", s="с", t="т", u="у", v="в", w="в", x="кс", y="й", z="з")
GRK = dict(a="α", b="β", c="κ", d="δ", e="ε", f="φ", g="γ", h="χ", i="ι", j="τζ", k="κ", l="λ", m="μ", n="ν",
           o="ο", p="π", q="κ", r="ρ", s="σ", t="τ", u="ου", v="β", w="ου", x="ξ", y="ι", z="ζ")
_KANA_C = dict(b="b", c="k", d="d", f="h", g="g", h="h", j="z", k="k", l="r", m="m", n="n", p="p", q="k",
               r="r", s="s", t="t", v="b", w="w", x="k", y="y", z="z")


def greek_final_sigma(s: str) -> str:
    return s[:-1] + "ς" if s.endswith("σ") else s


def capitalise(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def translit(word: str, script: str) -> str:
    """Transliterate a Latin-letter word (entity name or English word) into `script`."""
    cap = word[:1].isupper()
    w = word.lower()
    if script == "latin":
        return word
    if script == "cyrillic":
        out = "".join(CYR.get(ch, ch) for ch in w)
    elif script == "greek":
        out = greek_final_sigma("".join(GRK.get(ch, ch) for ch in w))
    elif script == "kana":  # loanwords and names in the katakana-like series, syllable by syllable
        out, i = [], 0
        while i < len(w):
            ch = w[i]
            if ch in "aeiou":
                out.append(_KATA_ROWS[""]["aiueo".index(ch)])
                i += 1
                continue
            c = _KANA_C.get(ch)
            if c is None:
                i += 1
                continue
            nxt = w[i + 1] if i + 1 < len(w) else ""
            if c == "n" and (not nxt or nxt not in "aeiou"):
                out.append("ン")
                i += 1
                continue
            if nxt and nxt in "aeiou":
                out.append(_KATA_ROWS[c]["aiueo".index(nxt)])
                i += 2
            else:
                out.append(_KATA_ROWS[c]["aiueo".index("o" if c in "td" else "u")])
                i += 1
        return nfc("".join(out))
    else:
        raise ValueError(script)
    return nfc(capitalise(out) if cap else out)


# ---------------------------------------------------------------------------------------------------------
# Languages
# ---------------------------------------------------------------------------------------------------------
class LangSpec:
    """Typology of one language: script, word order, morphology, punctuation."""

    def __init__(self, code, name, script, order="SVO", adj_post=False, articles=True, particles=False,
                 sep=" ", cased=True, punct=None, morph=None, onsets=(), vowels=(), codas=("",), accent=None,
                 syllables=None):
        self.code, self.name, self.script, self.order = code, name, script, order
        self.adj_post, self.articles, self.particles = adj_post, articles, particles
        self.sep, self.cased = sep, cased
        self.punct = punct or {".": ".", ",": ",", "?": "?"}
        self.morph = morph or {}  # inflection -> suffix
        self.onsets, self.vowels, self.codas, self.accent, self.syllables = onsets, vowels, codas, accent, syllables
        self.wh_front = not particles


LANGS = {
    "en": LangSpec("en", "English", "latin"),
    # Latin script with diacritics; adjectives follow the noun (Romance-like); plural -i, past -àva.
    "xl": LangSpec("xl", "Xlatin", "latin", adj_post=True,
                   morph={"pl": "i", "past": "àva", "part": "àto"},
                   onsets=("b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "ch", "br", "tr", "gl",
                           "ñ", "z"),
                   vowels=("a", "e", "i", "o", "u"), codas=("", "", "", "", "n", "r", "l", "s"),
                   accent={"a": "àá", "e": "èé", "i": "ìí", "o": "òó", "u": "ùú"}),
    # Cyrillic script, verb-final (SOV) word order, no articles; plural -ы, past -ла.
    "xc": LangSpec("xc", "Xcyrillic", "cyrillic", order="SOV", articles=False,
                   morph={"pl": "ы", "past": "ла", "part": "но"},
                   onsets=tuple("бвгджзклмнпрстфхцчш"), vowels=tuple("аеиоуыяюэ"),
                   codas=("", "", "", "", "н", "р", "л", "с", "к", "й", "ь")),
    # Greek script with tonos accents and final sigma; plural -ες, past -σε.
    "xg": LangSpec("xg", "Xgreek", "greek", punct={".": ".", ",": ",", "?": ";"},
                   morph={"pl": "ες", "past": "σε", "part": "μενο"},
                   onsets=tuple("βγδζθκλμνξπρστφχ"), vowels=tuple("αεηιουω"), codas=("", "", "", "", "ν", "σ", "ρ"),
                   accent={"α": "ά", "ε": "έ", "η": "ή", "ι": "ί", "ο": "ό", "υ": "ύ", "ω": "ώ"}),
    # A kana-like syllabary written without spaces: SOV with case particles and postpositions, past -た,
    # passive -れた, negation after the verb, question particle; names and loans in the katakana-like series.
    "xk": LangSpec("xk", "Xkana", "kana", order="SOV", articles=False, particles=True, sep="", cased=False,
                   punct={".": "。", ",": "、", "?": "？"}, morph={"past": "た", "part": "れた"},
                   syllables=tuple(ch for row in _HIRA_ROWS.values() for ch in row)),
}
SYNTHETIC = [c for c in LANGS if c != "en"]
PUNCT_FORMS = {".", ",", "?", ";", "。", "、", "？"}


class Language:
    """A language instance: its spec plus the seeded lexicon (forms of every lexeme) and entity names."""

    def __init__(self, spec: LangSpec):
        self.spec = spec
        self.code = spec.code
        self.forms: dict[str, dict[str, str]] = {}
        self.names: dict[str, str] = {}
        self.cognate: dict[str, bool] = {}

    def __getattr__(self, k):  # spec attributes
        return getattr(self.spec, k)


def _word(spec: LangSpec, rng: random.Random, nsyl: int) -> str:
    if spec.syllables:  # syllabary
        s = "".join(rng.choice(spec.syllables) for _ in range(nsyl))
        if rng.random() < 0.15:
            s += "ん"
        return s
    sylls = []
    for i in range(nsyl):
        syl = rng.choice(spec.onsets) + rng.choice(spec.vowels)
        if rng.random() < 0.35 or i == nsyl - 1 and rng.random() < 0.3:
            syl += rng.choice(spec.codas)
        sylls.append(syl)
    if spec.accent and (nsyl > 1 or spec.script == "latin") and rng.random() < 0.7:
        i = rng.randrange(nsyl)
        s = sylls[i]
        for j, ch in enumerate(s):
            if ch in spec.accent:
                acc = spec.accent[ch]
                sylls[i] = s[:j] + rng.choice(acc) + s[j + 1:]
                break
    return "".join(sylls)


_VOWELS_ALL = set("aeiouàáèéìíòóùúаеиоуыяюэαεηιουωάέήίόύώ")


def _affix(stem: str, suffix: str, spec: LangSpec) -> str:
    if not suffix:
        return stem
    if stem[-1] in _VOWELS_ALL and suffix[0] in _VOWELS_ALL and len(stem) > 2:
        stem = stem[:-1]
    out = stem + suffix
    if spec.script == "greek":
        out = greek_final_sigma(out.replace("ς", "σ"))
    return out


# ---------------------------------------------------------------------------------------------------------
# Semantic structures
# ---------------------------------------------------------------------------------------------------------
class NP:
    """A noun phrase. kind: per | org | loc | thing | animal | common | pron | wh.
    ent: per (first, last|None); org (name, orgword lexeme); loc (locword lexeme|None, name).
    count: None, int >= 1, or 'wh' (how many). adjs: adjective lexeme ids, or 'wh' for 'what colour'."""
    __slots__ = ("kind", "ent", "noun", "num", "count", "definite", "adjs", "wh")

    def __init__(self, kind, ent=None, noun=None, num="sg", count=None, definite=True, adjs=(), wh=None):
        self.kind, self.ent, self.noun, self.num, self.count = kind, ent, noun, num, count
        self.definite, self.adjs, self.wh = definite, tuple(adjs), wh

    def copy(self, **kw):
        n = NP.__new__(NP)
        for s in NP.__slots__:
            setattr(n, s, kw.get(s, getattr(self, s)))
        return n

    def key(self):
        return (self.kind, self.ent, self.noun, self.num, self.count, self.definite, self.adjs, self.wh)


class Event:
    """agent VERB patient [in place] [time]; voice act|pass; tense past|pres; modal None|can|would;
    lead: an adverb lexeme put first ('then')."""
    __slots__ = ("agent", "verb", "patient", "place", "time", "tense", "neg", "voice", "modal", "front_time",
                 "lead")

    def __init__(self, agent, verb, patient, place=None, time=None, tense="past", neg=False, voice="act",
                 modal=None, front_time=False, lead=None):
        self.agent, self.verb, self.patient, self.place, self.time = agent, verb, patient, place, time
        self.tense, self.neg, self.voice, self.modal, self.front_time, self.lead = (tense, neg, voice, modal,
                                                                                   front_time, lead)

    def copy(self, **kw):
        e = Event.__new__(Event)
        for s in Event.__slots__:
            setattr(e, s, kw.get(s, getattr(self, s)))
        return e

    def key(self):
        return ("E", self.agent.key(), self.verb, self.patient.key() if self.patient else None,
                self.place.key() if self.place else None, self.time, self.tense, self.neg, self.voice,
                self.modal, self.front_time, self.lead)


class Copula:
    """subj BE [not] pred [and pred]; preds: ('adj', lexeme, intensifier|None) | ('np', NP) | ('pp', NP)."""
    __slots__ = ("subj", "preds", "neg", "tense", "lead")

    def __init__(self, subj, preds, neg=False, tense="past", lead=None):
        self.subj, self.preds, self.neg, self.tense, self.lead = subj, tuple(preds), neg, tense, lead

    def copy(self, **kw):
        c = Copula.__new__(Copula)
        for s in Copula.__slots__:
            setattr(c, s, kw.get(s, getattr(self, s)))
        return c

    def key(self):
        return ("C", self.subj.key(), tuple((p[0], p[1].key() if isinstance(p[1], NP) else p[1]) + tuple(p[2:])
                                            for p in self.preds), self.neg, self.tense, self.lead)


class Sentence:
    """Clauses joined by conjunctions ('and' | 'but' | 'because')."""
    __slots__ = ("clauses", "conjs")

    def __init__(self, clauses, conjs=()):
        self.clauses, self.conjs = list(clauses), list(conjs)

    def key(self):
        return ("S", tuple(c.key() for c in self.clauses), tuple(self.conjs))


class Question:
    """A question about one slot of a clause. wh: A (agent), O (patient), P (place), Pwhich (in which city),
    C (how many), K (what colour), Abywhom (by whom, passive), Opass / Cpass / Kpass (the passive forms of
    O, C, K: 'what was bought by X'), M (how did X feel), Y (why), W (where was X), I (what is X)."""
    __slots__ = ("clause", "wh")

    def __init__(self, clause, wh):
        self.clause, self.wh = clause, wh

    def key(self):
        return ("Q", self.clause.key(), self.wh)


def T(form, upos, ner="O", ccg="", slot="", lemma="", infl=""):
    return (form, upos, ner, ccg, slot, lemma, infl)


# CCG-like supertags (CCGbank-style categories with simplified features). The renderers only produce these.
CCG_LABELS = [
    "N", "N/N", "N\\N", "NP", "NP[nb]/N", "NP\\NP", "(N/N)/(N/N)", ".", ",", "conj",
    "(S[dcl]\\NP)/NP", "(S[dcl]\\NP)\\NP", "(S[b]\\NP)/NP", "(S[b]\\NP)\\NP", "(S[dcl]\\NP)/(S[b]\\NP)",
    "(S[dcl]\\NP)\\(S[b]\\NP)", "(S\\NP)\\(S\\NP)", "(S\\NP)/(S\\NP)", "S/S",
    "(S[dcl]\\NP)/(S[pss]\\NP)", "(S[dcl]\\NP)\\(S[pss]\\NP)", "S[pss]\\NP",
    "((S\\NP)\\(S\\NP))/NP", "((S\\NP)/(S\\NP))/NP", "((S\\NP)/(S\\NP))\\NP",
    "(S[dcl]\\NP)/(S[adj]\\NP)", "(S[dcl]\\NP)\\(S[adj]\\NP)", "S[adj]\\NP", "(S[adj]\\NP)/(S[adj]\\NP)",
    "(S[dcl]\\NP)/NP[pred]", "(S[dcl]\\NP)\\NP[pred]", "(S[dcl]\\NP)/PP", "(S[dcl]\\NP)\\PP", "PP/NP", "PP\\NP",
    "((S\\NP)\\(S\\NP))/S[dcl]",
]


class Zipf:
    """Draw from `items` with Zipfian weights 1/(rank+1)^a over a seeded random rank order."""

    def __init__(self, items, a, rng):
        self.items = list(items)
        ranks = list(range(len(self.items)))
        rng.shuffle(ranks)
        self.cum = list(accumulate(1.0 / (r + 1) ** a for r in ranks))

    def __call__(self, rng, exclude=()):
        for _ in range(50):
            x = self.items[bisect(self.cum, rng.random() * self.cum[-1])]
            if x not in exclude:
                return x
        rest = [x for x in self.items if x not in exclude]
        return rng.choice(rest)


# ---------------------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------------------
class World:
    def __init__(self, seed: int, languages, cognate_share: dict, cognate_script: str = "english",
                 zipf_exponent: float = 1.0, n_names: int = 150, name_zipf_exponent: float = 0.7):
        self.seed = seed
        self.lex = english_lexicon()
        self.langs: dict[str, Language] = {}
        self.zipf_a = zipf_exponent
        self.name_a = name_zipf_exponent
        self._names(stream(seed, "names"), n_names)
        for code in languages:
            self.langs[code] = self._language(code, cognate_share.get(code, 0.0), cognate_script)
        self._samplers(stream(seed, "zipf"))

    # -- lexicon ---------------------------------------------------------------------------------------
    def _names(self, rng, n):
        seen, self.roman = set(), {}
        en_words = {f.lower() for lx in self.lex.values() for f in lx.en.values()}

        def make(kind, lo, hi, count):
            out = []
            while len(out) < count:
                sy = [rng.choice(ROMAN_C) + rng.choice(ROMAN_V) for _ in range(rng.randint(lo, hi))]
                if rng.random() < 0.2:
                    sy.append("n")
                s = capitalise("".join(sy))
                if s in seen or s.lower() in en_words:
                    continue
                seen.add(s)
                nid = f"{kind}{len(out)}"
                self.roman[nid] = s
                out.append(nid)
            return out

        self.first = make("F", 2, 3, n)
        self.last = make("L", 2, 4, n)
        self.places = make("P", 2, 3, max(40, n * 2 // 3))
        self.orgnames = make("O", 2, 3, max(30, n // 3))
        self.person_topic = {p: TOPIC_NAMES[rng.randrange(len(TOPIC_NAMES))] for p in self.first}

    def _language(self, code, share, cognate_script):
        spec = LANGS[code]
        L = Language(spec)
        en = code == "en"
        rng = stream(self.seed, "lexicon", code)
        # entity names: shared in Latin script, transliterated otherwise
        for nid, s in self.roman.items():
            L.names[nid] = translit(s, spec.script)
        ids = list(self.lex)
        content = [i for i in ids if self.lex[i].cls in CONTENT_CLASSES]
        cognates = set()
        if not en:
            # exactly round(share * n) cognates in each class, chosen at random
            for cls in CONTENT_CLASSES:
                members = [i for i in content if self.lex[i].cls == cls]
                k = round(share * len(members))
                cognates.update(rng.sample(members, k))
        used = set()
        en_forms = {f for lx in self.lex.values() for f in lx.en.values()}
        for i in ids:
            lx = self.lex[i]
            L.cognate[i] = en or i in cognates
            if en:
                L.forms[i] = dict(lx.en)
                continue
            if i in cognates:
                if cognate_script == "english" or spec.script == "latin":
                    L.forms[i] = dict(lx.en)
                else:
                    L.forms[i] = {k: translit(v, spec.script) for k, v in lx.en.items()}
                continue
            if lx.cls == "function" and spec.code != "xk" and i in ("f:ga", "f:o", "f:wa", "f:ka"):
                continue
            if i == "f:whom":
                continue  # same form as 'who', filled below
            for _ in range(200):
                if lx.cls == "function":
                    nsyl = 1 if rng.random() < 0.8 else 2
                else:
                    ln = len(next(iter(lx.en.values())))
                    nsyl = 1 + (ln > 3) + (ln > 6 and rng.random() < 0.6)
                    nsyl = max(nsyl, 2) if spec.syllables else nsyl
                stem = nfc(_word(spec, rng, nsyl))
                if spec.script == "greek":
                    stem = greek_final_sigma(stem)
                forms = self._inflect(lx, stem, spec)
                if lx.upos == "PROPN":
                    forms = {k: capitalise(v) for k, v in forms.items()}
                vals = set(forms.values())
                if not used.intersection(vals) and not en_forms.intersection(vals):
                    break
            else:
                raise RuntimeError(f"could not make a unique word for {i} in {code}")
            used.update(forms.values())
            L.forms[i] = forms
        if not en:
            L.forms["f:whom"] = dict(L.forms["f:who"])
            L.cognate["f:whom"] = False
        for i, fs in L.forms.items():
            L.forms[i] = {k: nfc(v) for k, v in fs.items()}
        return L

    @staticmethod
    def _inflect(lx, stem, spec):
        m = spec.morph
        if lx.cls == "noun":
            return {"sg": stem, "pl": _affix(stem, m.get("pl", ""), spec) if m.get("pl") else stem}
        if lx.cls == "verb":
            return {"base": stem, "3sg": stem, "past": _affix(stem, m["past"], spec),
                    "part": _affix(stem, m["part"], spec)}
        if lx.sub == "be":
            past = _affix(stem, m["past"], spec)
            return {"base": stem, "pres_sg": stem, "pres_pl": stem, "pres_you": stem, "past_sg": past,
                    "past_pl": past, "past_you": past}
        if lx.sub == "do":
            return {"base": stem, "3sg": stem, "past": _affix(stem, m["past"], spec)}
        if lx.sub == "a":
            return {"": stem, "an": stem}
        return {"": stem}

    def _samplers(self, rng):
        a = self.zipf_a
        lx = self.lex
        self.z_topic = Zipf(TOPIC_NAMES, 0.5, rng)
        self.z_nouns = {t: Zipf([i for i in lx if lx[i].cls == "noun" and lx[i].topic == t
                                 and lx[i].sub in ("thing", "animal")], a, rng) for t in TOPIC_NAMES}
        self.z_topic_verbs = {t: Zipf([f"v:{v}" for v in TOPICS[t]["verbs"].split()], a, rng) for t in TOPIC_NAMES}
        self.z_general = Zipf([f"v:{v}" for v in GENERAL_VERBS], a, rng)
        self.z_social = Zipf([f"v:{v}" for v in SOCIAL_VERBS], a, rng)
        self.z_animal_verbs = Zipf([f"v:{v}" for v in ANIMAL_VERBS], a, rng)
        self.z_animals = self.z_nouns["animals"]
        self.z_colour = Zipf([f"a:{w}" for w in COLOURS], a, rng)
        self.z_size = Zipf([f"a:{w}" for w in SIZES], a, rng)
        self.z_pos = Zipf([f"a:{w}" for w in POSITIVE], a, rng)
        self.z_neg = Zipf([f"a:{w}" for w in NEGATIVE], a, rng)
        self.z_feel = {1: Zipf([f"a:{w}" for w in FEEL_POS], a, rng), 0: Zipf([f"a:{w}" for w in FEEL_NEG], a, rng)}
        self.z_intens = Zipf([f"r:{w}" for w in INTENSIFIERS], a, rng)
        self.z_time = {"past": Zipf([f"r:{w}" for w in TIME_PAST], a, rng),
                       "pres": Zipf([f"r:{w}" for w in TIME_PRES], a, rng)}
        na = self.name_a
        self.z_first = Zipf(self.first, na, rng)
        self.z_last = Zipf(self.last, na, rng)
        self.z_place = Zipf(self.places, na, rng)
        self.z_org = Zipf(self.orgnames, na, rng)
        self.z_orgword = Zipf([f"n:{w}" for w in ORG_WORDS], a, rng)
        self.z_locword = Zipf([f"n:{w}" for w in LOC_WORDS], a, rng)

    def polarity(self, adj):
        sub = self.lex[adj].sub
        return 1 if sub in ("pos", "feel_pos") else 0 if sub in ("neg", "feel_neg") else None

    # -- sampling ---------------------------------------------------------------------------------------
    def person(self, rng, exclude=()):
        for _ in range(100):
            f = self.z_first(rng)
            if f in exclude:
                continue
            return NP("per", (f, self.z_last(rng) if rng.random() < 0.4 else None))
        raise RuntimeError("no person left")

    def org(self, rng):
        return NP("org", (self.z_org(rng), self.z_orgword(rng)))

    def place(self, rng, exclude=()):
        p = self.z_place(rng, exclude)
        return NP("loc", (self.z_locword(rng) if rng.random() < 0.2 else None, p))

    def thing(self, rng, topic=None, noun=None, colour=0.45, size=0.12, senti=0.12, exclude=()):
        topic = topic or self.z_topic(rng)
        noun = noun or self.z_nouns[topic](rng, exclude)
        r = rng.random()
        if r < 0.2:
            num, count, definite = "sg", None, True
        elif r < 0.35:
            num, count, definite = "pl", None, False
        elif r < 0.55:
            num, count, definite = "sg", 1, False
        else:
            num, count, definite = "pl", rng.randint(2, 12), False
        adjs = []
        if rng.random() < senti:
            adjs.append(self.z_pos(rng) if rng.random() < 0.5 else self.z_neg(rng))
        if rng.random() < size:
            adjs.append(self.z_size(rng))
        if rng.random() < colour:
            adjs.append(self.z_colour(rng))
        return NP("thing" if self.lex[noun].sub == "thing" else "animal", noun=noun, num=num, count=count,
                  definite=definite, adjs=adjs)

    def event(self, rng, kind="thing", agent=None, topic=None, place_p=0.55, time_p=0.35, org_p=0.12,
              exclude_nouns=(), exclude_agents=()):
        tense = "past" if rng.random() < 0.75 else "pres"
        if kind == "social":
            agent = agent or self.person(rng, exclude_agents)
            exc = tuple(exclude_agents) + (agent.ent[0],)
            patient = self.person(rng, exc)
            verb = self.z_social(rng)
        elif kind == "animal":
            a = self.z_animals(rng, exclude_nouns)
            p = self.z_animals(rng, (a,) + tuple(exclude_nouns))
            agent = NP("animal", noun=a, definite=True,
                       adjs=(self.z_colour(rng),) if rng.random() < 0.3 else ())
            patient = NP("animal", noun=p, definite=True,
                         adjs=(self.z_colour(rng),) if rng.random() < 0.3 else ())
            verb = self.z_animal_verbs(rng)
        else:
            if agent is None:
                if rng.random() < org_p:
                    agent = self.org(rng)
                else:
                    agent = self.person(rng, exclude_agents)
            if topic is None:
                if agent.kind == "per" and rng.random() < 0.4:
                    topic = self.person_topic[agent.ent[0]]
                else:
                    topic = self.z_topic(rng)
            patient = self.thing(rng, topic, exclude=exclude_nouns)
            if agent.kind == "org":
                verb = f"v:{rng.choice(ORG_VERBS)}"
            elif rng.random() < 0.6:
                verb = self.z_topic_verbs[topic](rng)
            else:
                verb = self.z_general(rng)
        place = self.place(rng) if rng.random() < place_p else None
        time = self.z_time[tense](rng) if rng.random() < time_p else None
        return Event(agent, verb, patient, place, time, tense)

    def copula(self, rng, label=None, neg=None, subj=None, two=None):
        """A sentiment clause; `label` (0/1) is the polarity the clause expresses."""
        label = rng.randrange(2) if label is None else label
        neg = (rng.random() < 0.3) if neg is None else neg
        adj_pol = label ^ int(neg)
        if subj is None:
            if rng.random() < 0.2:
                subj = self.person(rng)
            else:
                t = self.thing(rng, colour=0.3, size=0.1, senti=0)
                subj = t.copy(definite=True, count=None)
        z = (self.z_pos if adj_pol else self.z_neg) if subj.kind != "per" else self.z_feel[adj_pol]
        preds = [("adj", z(rng), self.z_intens(rng) if rng.random() < 0.35 else None)]
        if (rng.random() < 0.25) if two is None else two:
            preds.append(("adj", z(rng, (preds[0][1],)), None))
        return Copula(subj, preds, neg, "past" if rng.random() < 0.7 else "pres")

    # -- rendering ----------------------------------------------------------------------------------------
    def f(self, L, lemma, infl=""):
        return L.forms[lemma][infl]

    def fw(self, L, fid, ccg="", slot="", infl=""):
        lemma = "f:" + fid
        return T(L.forms[lemma][infl], self.lex[lemma].upos, "O", ccg, slot, lemma, infl)

    def np(self, L, np, role, out):
        """Append the tokens of `np` in role `role` ('A', 'O', 'P', 'S', 'X')."""
        k = np.kind
        if k == "per":
            f, l = np.ent
            if l is None:
                out.append(T(L.names[f], "PROPN", "B-PER", "N", role))
            else:
                out.append(T(L.names[f], "PROPN", "B-PER", "N/N", role))
                out.append(T(L.names[l], "PROPN", "I-PER", "N", role))
            return
        if k == "org":
            name, ow = np.ent
            out.append(T(L.names[name], "PROPN", "B-ORG", "N/N", role))
            out.append(T(L.forms[ow]["sg"], "PROPN", "I-ORG", "N", role, ow, "sg"))
            return
        if k == "loc":
            lw, name = np.ent
            if lw:
                out.append(T(L.forms[lw]["sg"], "PROPN", "B-LOC", "N/N", role, lw, "sg"))
                out.append(T(L.names[name], "PROPN", "I-LOC", "N", role))
            else:
                out.append(T(L.names[name], "PROPN", "B-LOC", "N", role))
            return
        if k == "pron":
            out.append(self.fw(L, np.noun, "NP", role))
            return
        if k == "wh":
            w = np.wh
            if w == "whichcity":
                out.append(self.fw(L, "which", "NP[nb]/N", role))
                out.append(T(L.forms["n:city"]["sg"], "NOUN", "O", "N", role, "n:city", "sg"))
            else:
                out.append(self.fw(L, w, "NP", role))
            return
        # common noun phrase
        toks = []
        if L.articles:
            if np.definite:
                toks.append(self.fw(L, "the", "NP[nb]/N", role))
            elif np.count == 1 or (np.count is None and np.num == "sg"):
                toks.append(self.fw(L, "a", "NP[nb]/N", role))
        if np.count == "wh":
            toks.append(self.fw(L, "how", "(N/N)/(N/N)", role))
            toks.append(self.fw(L, "many", "N/N", role))
        elif np.count is not None and np.count != 1:
            toks.append(T(str(np.count), "NUM", "O", "N/N", role + "C"))
        adjs = []
        for a in np.adjs:
            if a == "wh":
                adjs.append(self.fw(L, "what", "(N/N)/(N/N)", role + "K"))
                adjs.append(T(L.forms["n:colour"]["sg"], "NOUN", "O", "N/N", role + "K", "n:colour", "sg"))
            else:
                sub = self.lex[a].sub
                adjs.append(T(L.forms[a][""], "ADJ", "O", "N\\N" if L.adj_post else "N/N",
                              role + "K" if sub == "colour" else role, a))
        head = T(L.forms[np.noun][np.num], "NOUN", "O", "N", role + "N", np.noun, np.num)
        if L.adj_post:
            toks += [head] + adjs
        else:
            toks += adjs + [head]
        if L.code == "en" and toks[0][6] == "" and toks[0][5] == "f:a":
            nxt = toks[1][0]
            if nxt[:1].lower() in "aeiou":
                toks[0] = self.fw(L, "a", "NP[nb]/N", role, "an")
        out.extend(toks)

    def pp(self, L, np, out, pre_verbal, role="P"):
        """Place phrase: adposition + NP (postposition in xk); 'where' replaces the whole phrase."""
        if np.kind == "wh" and np.wh == "where":
            out.append(self.fw(L, "where", "(S\\NP)/(S\\NP)" if pre_verbal else "(S\\NP)\\(S\\NP)", role))
            return
        if L.particles:
            self.np(L, np, role, out)
            out.append(self.fw(L, "in", "((S\\NP)/(S\\NP))\\NP", role + "a"))
        else:
            out.append(self.fw(L, "in", "((S\\NP)/(S\\NP))/NP" if pre_verbal else "((S\\NP)\\(S\\NP))/NP",
                               role + "a"))
            self.np(L, np, role, out)

    def _agr(self, np):
        if np.kind == "pron" and np.noun == "you":
            return "you"
        return np.num if np.kind in ("thing", "animal", "common") else "sg"

    def _vform(self, L, ev):
        """Inflection key of the main verb of an active, non-modal clause."""
        if ev.tense == "past":
            return "past"
        return "base" if self._agr(ev.agent) in ("you", "pl") else "3sg"

    def event_tokens(self, L, ev, out):
        en = L.code == "en"
        sov = L.order == "SOV"
        v = ev.verb
        if ev.lead:
            out.append(self.fw(L, ev.lead, "S/S"))
        if ev.time and ev.front_time:
            out.append(T(L.forms[ev.time][""], "ADV", "O", "S/S", "T", ev.time))
            out.append(T(L.punct[","], "PUNCT", "O", ","))
        time_tok = T(L.forms[ev.time][""], "ADV", "O", "(S\\NP)/(S\\NP)" if sov else "(S\\NP)\\(S\\NP)", "T",
                     ev.time) if ev.time and not ev.front_time else None
        if ev.voice == "act":
            self.np(L, ev.agent, "A", out)
            if L.particles:
                out.append(self.fw(L, "ga", "NP\\NP"))
            if sov:
                if time_tok:
                    out.append(time_tok)
                if ev.place:
                    self.pp(L, ev.place, out, True)
                if ev.patient:
                    self.np(L, ev.patient, "O", out)
                    if L.particles and not (ev.patient.kind == "wh" and ev.patient.wh == "how"):
                        out.append(self.fw(L, "o", "NP\\NP"))
                if L.particles:
                    infl = "base" if ev.modal else self._vform(L, ev)
                    out.append(T(L.forms[v][infl], "VERB", "O",
                                 "(S[b]\\NP)\\NP" if ev.modal else "(S[dcl]\\NP)\\NP", "V", v, infl))
                    if ev.modal:
                        out.append(self.fw(L, ev.modal, "(S[dcl]\\NP)\\(S[b]\\NP)"))
                    if ev.neg:
                        out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)"))
                else:
                    if ev.neg:
                        out.append(self.fw(L, "not", "(S\\NP)/(S\\NP)"))
                    if ev.modal:
                        out.append(self.fw(L, ev.modal, "(S[dcl]\\NP)/(S[b]\\NP)"))
                    infl = "base" if ev.modal else self._vform(L, ev)
                    out.append(T(L.forms[v][infl], "VERB", "O",
                                 "(S[b]\\NP)\\NP" if ev.modal else "(S[dcl]\\NP)\\NP", "V", v, infl))
            else:
                if ev.modal:
                    out.append(self.fw(L, ev.modal, "(S[dcl]\\NP)/(S[b]\\NP)"))
                    if ev.neg:
                        out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)" if en else "(S\\NP)/(S\\NP)"))
                    out.append(T(L.forms[v]["base"], "VERB", "O", "(S[b]\\NP)/NP", "V", v, "base"))
                elif ev.neg and en:
                    do = "past" if ev.tense == "past" else ("base" if self._agr(ev.agent) in ("you", "pl")
                                                             else "3sg")
                    out.append(self.fw(L, "do", "(S[dcl]\\NP)/(S[b]\\NP)", "", do))
                    out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)"))
                    out.append(T(L.forms[v]["base"], "VERB", "O", "(S[b]\\NP)/NP", "V", v, "base"))
                else:
                    if ev.neg:
                        out.append(self.fw(L, "not", "(S\\NP)/(S\\NP)"))
                    infl = self._vform(L, ev)
                    out.append(T(L.forms[v][infl], "VERB", "O", "(S[dcl]\\NP)/NP", "V", v, infl))
                if ev.patient:
                    self.np(L, ev.patient, "O", out)
                if ev.place:
                    self.pp(L, ev.place, out, False)
                if time_tok:
                    out.append(time_tok)
        else:  # passive
            self.np(L, ev.patient, "O", out)
            be = f"{ev.tense}_{self._agr(ev.patient)}"
            if L.particles:
                out.append(self.fw(L, "ga", "NP\\NP"))
                if ev.agent:
                    self.np(L, ev.agent, "A", out)
                    out.append(self.fw(L, "by", "((S\\NP)/(S\\NP))\\NP", "Aa"))
                if time_tok:
                    out.append(time_tok)
                if ev.place:
                    self.pp(L, ev.place, out, True)
                out.append(T(L.forms[v]["part"], "VERB", "O", "S[pss]\\NP", "V", v, "part"))
                if ev.neg:
                    out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)"))
            elif sov:
                if ev.agent:
                    out.append(self.fw(L, "by", "((S\\NP)/(S\\NP))/NP", "Aa"))
                    self.np(L, ev.agent, "A", out)
                if time_tok:
                    out.append(time_tok)
                if ev.place:
                    self.pp(L, ev.place, out, True)
                if ev.neg:
                    out.append(self.fw(L, "not", "(S\\NP)/(S\\NP)"))
                out.append(self.fw(L, "be", "(S[dcl]\\NP)/(S[pss]\\NP)", "", be))
                out.append(T(L.forms[v]["part"], "VERB", "O", "S[pss]\\NP", "V", v, "part"))
            else:
                out.append(self.fw(L, "be", "(S[dcl]\\NP)/(S[pss]\\NP)", "", be))
                if ev.neg:
                    out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)" if en else "(S\\NP)/(S\\NP)"))
                out.append(T(L.forms[v]["part"], "VERB", "O", "S[pss]\\NP", "V", v, "part"))
                if ev.agent:
                    out.append(self.fw(L, "by", "((S\\NP)\\(S\\NP))/NP", "Aa"))
                    self.np(L, ev.agent, "A", out)
                if ev.place:
                    self.pp(L, ev.place, out, False)
                if time_tok:
                    out.append(time_tok)

    def copula_tokens(self, L, c, out):
        en = L.code == "en"
        sov = L.order == "SOV"
        if c.lead:
            out.append(self.fw(L, c.lead, "S/S"))
        self.np(L, c.subj, "S", out)
        if L.particles:
            out.append(self.fw(L, "wa", "NP\\NP"))
        kind = c.preds[0][0]
        be = f"{c.tense}_{self._agr(c.subj)}"
        cat = {"adj": "(S[dcl]\\NP){}(S[adj]\\NP)", "np": "(S[dcl]\\NP){}NP[pred]", "pp": "(S[dcl]\\NP){}PP"}[kind]
        pred = []
        for i, p in enumerate(c.preds):
            if i:
                pred.append(self.fw(L, "and", "conj"))
            if p[0] == "adj":
                if p[2]:
                    pred.append(T(L.forms[p[2]][""], "ADV", "O", "(S[adj]\\NP)/(S[adj]\\NP)", "", p[2]))
                pred.append(T(L.forms[p[1]][""], "ADJ", "O", "S[adj]\\NP", "J", p[1]))
            elif p[0] == "np":
                self.np(L, p[1], "R", pred)
            else:
                np = p[1]
                if np.kind == "wh":
                    pred.append(self.fw(L, np.wh, "PP", "R"))
                elif L.particles:
                    self.np(L, np, "P", pred)
                    pred.append(self.fw(L, "in", "PP\\NP", "Pa"))
                else:
                    pred.append(self.fw(L, "in", "PP/NP", "Pa"))
                    self.np(L, np, "P", pred)
        if sov:
            if L.particles:
                out.extend(pred)
                out.append(self.fw(L, "be", cat.format("\\"), "", be))
                if c.neg:
                    out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)"))
            else:
                if c.neg:
                    out.append(self.fw(L, "not", "(S\\NP)/(S\\NP)"))
                out.extend(pred)
                out.append(self.fw(L, "be", cat.format("\\"), "", be))
        else:
            out.append(self.fw(L, "be", cat.format("/"), "", be))
            if c.neg:
                out.append(self.fw(L, "not", "(S\\NP)\\(S\\NP)" if en else "(S\\NP)/(S\\NP)"))
            out.extend(pred)

    def clause_tokens(self, L, c, out):
        if isinstance(c, Event):
            self.event_tokens(L, c, out)
        else:
            self.copula_tokens(L, c, out)

    def sentence(self, L, s, punct=True, cap=True):
        """Tokens of a declarative sentence (Sentence, Event or Copula)."""
        if not isinstance(s, Sentence):
            s = Sentence([s])
        out = []
        for i, c in enumerate(s.clauses):
            if i:
                conj = s.conjs[i - 1]
                if conj == "but":
                    out.append(T(L.punct[","], "PUNCT", "O", ","))
                out.append(self.fw(L, conj, "((S\\NP)\\(S\\NP))/S[dcl]" if conj == "because" else "conj"))
            self.clause_tokens(L, c, out)
        if punct:
            out.append(T(L.punct["."], "PUNCT", "O", "."))
        if cap:
            self._cap(L, out)
        return out

    def _cap(self, L, out):
        if L.cased and out and out[0][0][:1].islower():
            t = out[0]
            out[0] = (capitalise(t[0]),) + t[1:]

    def fragment(self, L, s, conj=None):
        """A sentence without final punctuation or capitalisation, optionally led by a conjunction."""
        out = []
        if conj:
            out.append(self.fw(L, conj, "((S\\NP)\\(S\\NP))/S[dcl]"))
        if isinstance(s, NP):
            self.np(L, s, "X", out)
        elif isinstance(s, tuple) and s[0] == "pp":
            if L.particles:
                self.np(L, s[1], "P", out)
                out.append(self.fw(L, "in", "PP\\NP"))
            else:
                out.append(self.fw(L, "in", "PP/NP"))
                self.np(L, s[1], "P", out)
        elif isinstance(s, str):  # a bare lexeme (verb base, adjective)
            lx = self.lex[s]
            infl = "base" if lx.cls == "verb" else ("sg" if lx.cls == "noun" else "")
            out.append(T(L.forms[s][infl], lx.upos, "O", "", "", s, infl))
        else:
            out.extend(self.sentence(L, s, punct=False, cap=False))
        return out

    # -- questions --------------------------------------------------------------------------------------
    def question(self, L, q: Question):
        out = self._en_question(q) if L.code == "en" else self._x_question(L, q)
        out.append(T(L.punct["?"], "PUNCT", "O", "."))
        self._cap(L, out)
        return out

    def _en_question(self, q):
        L = self.langs["en"]
        c, wh = q.clause, q.wh
        out = []
        if wh == "I":  # What is an apple?
            out.append(self.fw(L, "what"))
            out.append(self.fw(L, "be", "", "", f"{c.tense}_{self._agr(c.subj)}"))
            self.np(L, c.subj, "S", out)
            return out
        if wh == "W":  # Where was Marta?
            out.append(self.fw(L, "where"))
            out.append(self.fw(L, "be", "", "", f"{c.tense}_{self._agr(c.subj)}"))
            self.np(L, c.subj, "S", out)
            return out
        if wh == "Y":  # Why was Marta happy?
            out.append(self.fw(L, "why"))
            out.append(self.fw(L, "be", "", "", f"{c.tense}_{self._agr(c.subj)}"))
            self.np(L, c.subj, "S", out)
            for i, p in enumerate(c.preds):
                if i:
                    out.append(self.fw(L, "and"))
                out.append(T(L.forms[p[1]][""], "ADJ", "O", "", "J", p[1]))
            return out
        ev = c
        agr = self._agr(ev.agent)

        def do():
            if ev.modal:
                return self.fw(L, ev.modal)
            return self.fw(L, "do", "", "", "past" if ev.tense == "past" else ("base" if agr in ("you", "pl")
                                                                               else "3sg"))

        def base():
            return T(L.forms[ev.verb]["base"], "VERB", "O", "", "V", ev.verb, "base")

        def tail(place=True, patient=False):
            if patient and ev.patient:
                self.np(L, ev.patient, "O", out)
            if place and ev.place:
                self.pp(L, ev.place, out, False)
            if ev.time:
                out.append(T(L.forms[ev.time][""], "ADV", "O", "", "T", ev.time))

        if wh == "M":  # How did Marta feel?
            out += [self.fw(L, "how"), do()]
            self.np(L, ev.agent, "A", out)
            out.append(base())
            return out
        if wh == "A":
            out.append(self.fw(L, "who"))
            if ev.modal:
                out += [self.fw(L, ev.modal), base()]
            else:
                infl = "past" if ev.tense == "past" else "3sg"
                out.append(T(L.forms[ev.verb][infl], "VERB", "O", "", "V", ev.verb, infl))
            tail(patient=True)
            return out
        if wh == "Abywhom":
            out += [self.fw(L, "by"), self.fw(L, "whom"),
                    self.fw(L, "be", "", "", f"{ev.tense}_{self._agr(ev.patient)}")]
            self.np(L, ev.patient, "O", out)
            out.append(T(L.forms[ev.verb]["part"], "VERB", "O", "", "V", ev.verb, "part"))
            tail()
            return out
        def by_agent():
            out.append(self.fw(L, "by"))
            self.np(L, ev.agent, "A", out)

        if wh == "Opass":  # What was bought by Marta?
            out += [self.fw(L, "who" if ev.patient.kind == "per" else "what"),
                    self.fw(L, "be", "", "", f"{ev.tense}_sg"),
                    T(L.forms[ev.verb]["part"], "VERB", "O", "", "V", ev.verb, "part")]
            by_agent()
            tail()
            return out
        if wh == "Cpass":  # How many apples were bought by Marta?
            out += [self.fw(L, "how"), self.fw(L, "many"),
                    T(L.forms[ev.patient.noun]["pl"], "NOUN", "O", "", "ON", ev.patient.noun, "pl"),
                    self.fw(L, "be", "", "", f"{ev.tense}_pl"),
                    T(L.forms[ev.verb]["part"], "VERB", "O", "", "V", ev.verb, "part")]
            by_agent()
            tail()
            return out
        if wh == "Kpass":  # What colour were the apples bought by Marta?
            pat = ev.patient
            out += [self.fw(L, "what"), T(L.forms["n:colour"]["sg"], "NOUN", "O", "", "", "n:colour", "sg"),
                    self.fw(L, "be", "", "", f"{ev.tense}_{self._agr(pat)}")]
            self.np(L, pat.copy(definite=True, count=None, adjs=()), "O", out)
            out.append(T(L.forms[ev.verb]["part"], "VERB", "O", "", "V", ev.verb, "part"))
            by_agent()
            return out
        if wh == "O":
            out.append(self.fw(L, "who" if ev.patient is None or ev.patient.kind == "per" else "what"))
            out.append(do())
            self.np(L, ev.agent, "A", out)
            out.append(base())
            tail()
            return out
        if wh in ("P", "Pwhich"):
            if wh == "P":
                out.append(self.fw(L, "where"))
            else:
                out += [self.fw(L, "in"), self.fw(L, "which"),
                        T(L.forms["n:city"]["sg"], "NOUN", "O", "", "", "n:city", "sg")]
            out.append(do())
            self.np(L, ev.agent, "A", out)
            out.append(base())
            tail(place=False, patient=True)
            return out
        if wh == "C":
            out += [self.fw(L, "how"), self.fw(L, "many"),
                    T(L.forms[ev.patient.noun]["pl"], "NOUN", "O", "", "ON", ev.patient.noun, "pl"), do()]
            self.np(L, ev.agent, "A", out)
            out.append(base())
            tail()
            return out
        if wh == "K":
            pat = ev.patient
            out += [self.fw(L, "what"), T(L.forms["n:colour"]["sg"], "NOUN", "O", "", "", "n:colour", "sg"),
                    self.fw(L, "be", "", "", f"{ev.tense}_{self._agr(pat)}")]
            self.np(L, pat.copy(definite=True, count=None, adjs=()), "O", out)
            out.append(self.fw(L, "that"))
            self.np(L, ev.agent, "A", out)
            infl = self._vform(L, ev)
            out.append(T(L.forms[ev.verb][infl], "VERB", "O", "", "V", ev.verb, infl))
            return out
        raise ValueError(wh)

    def _x_question(self, L, q):
        """Synthetic languages: render the declarative with the questioned constituent replaced by a wh-phrase,
        then front it (or leave it in situ and add the question particle, in xk)."""
        c, wh = q.clause, q.wh
        out = []
        if wh == "Y":
            out.append(self.fw(L, "why", "", "Q"))
            self.copula_tokens(L, c, out)
        elif wh in ("I", "W"):
            pred = ("np", NP("wh", wh="what")) if wh == "I" else ("pp", NP("wh", wh="where"))
            self.copula_tokens(L, c.copy(preds=(pred,), neg=False), out)
        else:
            ev = c.copy(neg=False, front_time=False, lead=None)
            if wh in ("Opass", "Cpass", "Kpass"):
                ev = ev.copy(voice="pass")
                wh = wh[0]
            if wh == "A":
                ev = ev.copy(agent=NP("wh", wh="who"))
            elif wh == "Abywhom":
                ev = ev.copy(voice="pass", agent=NP("wh", wh="who"))
            elif wh == "O":
                ev = ev.copy(patient=NP("wh", wh="who" if ev.patient.kind == "per" else "what"))
            elif wh == "M":
                ev = ev.copy(patient=NP("wh", wh="how"), place=None, time=None)
            elif wh == "P":
                ev = ev.copy(place=NP("wh", wh="where"))
            elif wh == "Pwhich":
                ev = ev.copy(place=NP("wh", wh="whichcity"))
            elif wh == "C":
                ev = ev.copy(patient=ev.patient.copy(count="wh", num="pl", definite=False, adjs=()))
            elif wh == "K":
                ev = ev.copy(patient=ev.patient.copy(adjs=("wh",), count=None, definite=True))
            self.event_tokens(L, ev, out)
        moving = {"A": ("A",), "Abywhom": ("A", "Aa"), "O": ("O",), "M": ("O",), "P": ("P", "Pa"),
                  "Pwhich": ("P", "Pa"), "C": ("O", "OC", "ON", "OK"), "K": ("O", "OC", "ON", "OK"),
                  "I": ("R",), "W": ("R",), "Y": ("Q",)}[wh]
        if L.wh_front:
            front = [t for t in out if t[4] in moving]
            rest = [t for t in out if t[4] not in moving]
            out = front + rest
        else:
            out.append(self.fw(L, "ka"))
        return out

    # -- text assembly ----------------------------------------------------------------------------------
    @staticmethod
    def join(L, toks, start=0):
        """Surface text of tokens, and each token's character offset (from `start`)."""
        parts, offs, pos = [], [], start
        sep = L.sep
        for i, t in enumerate(toks):
            f = t[0]
            if i and sep and f not in PUNCT_FORMS:
                parts.append(sep)
                pos += len(sep)
            offs.append(pos)
            parts.append(f)
            pos += len(f)
        return "".join(parts), offs

    def text(self, L, toks):
        return self.join(L, toks)[0]

    def paragraph(self, L, sents):
        """Join token lists of sentences into one text; returns (text, [(offsets) per sentence])."""
        texts, all_offs, pos = [], [], 0
        sep = L.sep
        for i, toks in enumerate(sents):
            if i and sep:
                texts.append(sep)
                pos += len(sep)
            s, offs = self.join(L, toks, pos)
            texts.append(s)
            all_offs.append(offs)
            pos += len(s)
        return "".join(texts), all_offs

    @staticmethod
    def span(toks, offs, slots):
        """(start, end) of the contiguous tokens whose slot is in `slots`."""
        idx = [i for i, t in enumerate(toks) if t[4] in slots]
        if not idx:
            return None
        assert idx == list(range(idx[0], idx[-1] + 1)), (toks, slots)
        return offs[idx[0]], offs[idx[-1]] + len(toks[idx[-1]][0])

    def codeswitch(self, L, toks, rng, p=0.5):
        """Replace content words by their English forms with probability p (dictionary anchors)."""
        en = self.langs["en"]
        out = []
        for t in toks:
            lemma, infl = t[5], t[6]
            if lemma and self.lex[lemma].cls in CONTENT_CLASSES and rng.random() < p:
                t = (en.forms[lemma][infl],) + t[1:]
            out.append(t)
        return out

    def dictionary(self):
        """{lang: [{lemma, infl, en, form, upos, cognate}]} for every lexeme form."""
        en = self.langs.get("en") or self._language("en", 0.0, "english")
        out = {}
        for code, L in self.langs.items():
            if code == "en":
                continue
            rows = []
            for lemma in sorted(L.forms):
                lx = self.lex[lemma]
                for infl, form in L.forms[lemma].items():
                    rows.append({"lemma": lemma, "infl": infl, "en": en.forms.get(lemma, {}).get(infl),
                                 "form": form, "upos": lx.upos, "class": lx.cls, "cognate": L.cognate[lemma]})
            rows += [{"lemma": f"name:{nid}", "infl": "", "en": self.roman[nid], "form": L.names[nid],
                      "upos": "PROPN", "class": "name", "cognate": L.names[nid] == self.roman[nid]}
                     for nid in self.roman]
            out[code] = rows
        return out
