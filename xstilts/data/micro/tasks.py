"""Task builders of the micro benchmark.

Each builder makes language-independent *examples* (semantic structures plus a label) from a seeded stream
and renders an example into a record of any language, so one example gives the English record, its
translations (parallel test sets, the MT control) and nothing can drift between them. Labels follow from the
semantics by explicit rules, documented on each builder.

Why one module (about 910 lines): it is the catalogue of the micro benchmark, one `Builder` subclass per kind
of task (ten, each 35-150 lines, with its labelling rule beside its code) on one shared base of 170 lines; a
file per builder would repeat the same imports and base ten times and hide that every task is built the
same way.
"""
from __future__ import annotations

from xstilts import tasks as T
from xstilts.data.micro.world import (NP, TOPICS, Copula, Event, Question, Sentence, World, TOPIC_NAMES, CCG_LABELS,
                    PUNCT_FORMS)

ENT, NEU, CON = 0, 1, 2
OBJ = ("thing", "animal")  # kinds of noun phrase with count and adjectives
ADJ_ORDER = {"pos": 0, "neg": 0, "size": 1, "colour": 2}


class Builder:
    """Base class: `make(rng, label)` -> example; `render(example, L)` -> record fields (no id)."""
    name = ""
    n_labels = 1  # labels cycled over examples for exact balance (1 = no label to balance)

    def __init__(self, world: World, params: dict):
        self.w = world
        self.p = params

    def labels_for(self, n, rng):
        """The label of each of `n` examples: exactly balanced, in random order."""
        labs = [i % self.n_labels for i in range(n)]
        rng.shuffle(labs)
        return labs

    def words(self, toks):
        return sum(1 for t in toks if t[0] not in PUNCT_FORMS)

    def ok_len(self, toks):
        lo, hi = self.p["sentence_words"]
        return lo <= self.words(toks) <= hi


# ---------------------------------------------------------------------------------------------------------
# helpers on events
# ---------------------------------------------------------------------------------------------------------
def adj_of(w, np, sub):
    for a in np.adjs:
        if a != "wh" and w.lex[a].sub in ((sub,) if sub != "senti" else ("pos", "neg")):
            return a
    return None


def with_adj(w, np, adj):
    adjs = list(np.adjs) + [adj]
    adjs.sort(key=lambda a: ADJ_ORDER[w.lex[a].sub])
    return np.copy(adjs=tuple(adjs))


def without_adj(np, adj):
    return np.copy(adjs=tuple(a for a in np.adjs if a != adj))


def filled_slots(w, ev):
    """Optional details an event states: colour, size, senti (adjectives), count, place, time."""
    s = []
    if ev.patient is not None and ev.patient.kind in OBJ:
        for sub in ("colour", "size", "senti"):
            if adj_of(w, ev.patient, sub):
                s.append(sub)
        if isinstance(ev.patient.count, int) and ev.patient.count >= 2:
            s.append("count")
    if ev.place is not None:
        s.append("place")
    if ev.time is not None:
        s.append("time")
    return s


def empty_slots(w, ev):
    """Details an event leaves open and that can be added without contradicting it."""
    s = []
    if ev.patient is not None and ev.patient.kind in OBJ:
        for sub in ("colour", "size"):
            if not adj_of(w, ev.patient, sub):
                s.append(sub)
        if ev.patient.count is None and ev.patient.num == "pl" and not ev.patient.definite:
            s.append("count")
    if ev.place is None:
        s.append("place")
    if ev.time is None:
        s.append("time")
    return s


def drop(w, ev, slot):
    p = ev.patient
    if slot in ("colour", "size", "senti"):
        return ev.copy(patient=without_adj(p, adj_of(w, p, slot)))
    if slot == "count":
        return ev.copy(patient=p.copy(count=None, num="pl", definite=p.definite))
    if slot == "place":
        return ev.copy(place=None)
    if slot == "time":
        return ev.copy(time=None, front_time=False)
    raise ValueError(slot)


def add(w, rng, ev, slot, value=None):
    p = ev.patient
    if slot == "colour":
        return ev.copy(patient=with_adj(w, p, value or w.z_colour(rng)))
    if slot == "size":
        return ev.copy(patient=with_adj(w, p, value or w.z_size(rng)))
    if slot == "count":
        return ev.copy(patient=p.copy(count=value or rng.randint(2, 12)))
    if slot == "place":
        return ev.copy(place=value or w.place(rng))
    if slot == "time":
        return ev.copy(time=value or w.z_time[ev.tense](rng))
    raise ValueError(slot)


def change(w, rng, ev, slot, value=None):
    """A hypothesis detail that contradicts the premise event."""
    p = ev.patient
    if slot == "count":
        n = value
        while n is None or n == p.count:
            n = rng.randint(2, 12)
        return ev.copy(patient=p.copy(count=n))
    if slot == "colour":
        old = adj_of(w, p, "colour")
        new = value or w.z_colour(rng, (old,))
        return ev.copy(patient=with_adj(w, without_adj(p, old), new))
    if slot == "agent":
        if value is not None:
            return ev.copy(agent=value)
        if ev.agent.kind == "per":
            return ev.copy(agent=w.person(rng, (ev.agent.ent[0],)))
        if ev.agent.kind == "org":
            for _ in range(50):
                o = w.org(rng)
                if o.ent[0] != ev.agent.ent[0]:
                    return ev.copy(agent=o)
        return ev.copy(agent=ev.agent.copy(noun=w.z_animals(rng, (ev.agent.noun,))))
    if slot == "place":
        return ev.copy(place=value or w.place(rng, (ev.place.ent[1],)))
    if slot == "neg":
        return ev.copy(neg=not ev.neg)
    raise ValueError(slot)


def strip_np(np):
    """The patient as a question mentions it: definite, without count or adjectives."""
    if np.kind in ("thing", "animal"):
        return np.copy(count=None, definite=True, adjs=())
    return np


def qevent(ev, keep_place=True, keep_time=False):
    return ev.copy(voice="act", neg=False, front_time=False, lead=None, patient=strip_np(ev.patient),
                   place=ev.place if keep_place else None, time=ev.time if keep_time else None)


def distinct_events(w, rng, n, kinds=(("thing", 1.0),), **kw):
    """n events with pairwise distinct people and distinct patient nouns."""
    evs, used_people, used_nouns = [], [], []
    for _ in range(n):
        r, acc, kind = rng.random(), 0.0, kinds[-1][0]
        for k, p in kinds:
            acc += p
            if r < acc:
                kind = k
                break
        for _ in range(100):
            ev = w.event(rng, kind, exclude_agents=tuple(used_people), exclude_nouns=tuple(used_nouns), **kw)
            people = [np.ent[0] for np in (ev.agent, ev.patient) if np is not None and np.kind == "per"]
            orgs = [np.ent[0] for np in (ev.agent,) if np.kind == "org"]
            nouns = [np.noun for np in (ev.agent, ev.patient) if np is not None and np.kind in ("thing", "animal")]
            if not (set(people) & set(used_people)) and not (set(nouns) & set(used_nouns)) \
                    and not (set(orgs) & set(used_people)) and len(set(people)) == len(people):
                break
        used_people += people + orgs
        used_nouns += nouns
        evs.append(ev)
    return evs


# ---------------------------------------------------------------------------------------------------------
# Classification: NLI
# ---------------------------------------------------------------------------------------------------------
class NLI(Builder):
    """Premise: one or more event sentences; hypothesis about one premise event (the target).
    entailment = the hypothesis drops details (and may be passivised / reordered);
    contradiction = a stated detail changed (count, colour, agent, place) or negation added/removed;
    neutral = a detail the premise leaves open is added (colour, size, count, place, time).
    mode 'mnli': 1-2 premise events, fresh values. mode 'hard' (ANLI-like): 2-3 events, target anywhere,
    changed/added values taken from *other* premise events (lexical-overlap traps), negated premises."""
    n_labels = 3
    labels = T.NLI

    def __init__(self, world, params, mode="mnli", hard_share=0.0):
        super().__init__(world, params)
        self.mode, self.hard_share = mode, hard_share

    def make(self, rng, label):
        hard = self.mode == "hard" or rng.random() < self.hard_share
        for _ in range(200):
            ex = self._hard(rng, label) if hard else self._simple(rng, label)
            if ex is not None:
                return ex
        raise RuntimeError("NLI: no example")

    def _premise_event(self, rng, label, **kw):
        w = self.w
        for _ in range(100):
            ev = w.event(rng, place_p=0.6, time_p=0.45, **kw)
            f, e = filled_slots(w, ev), empty_slots(w, ev)
            if len(f) >= 1 and (label != NEU or e):
                return ev
        return None

    def _simple(self, rng, label):
        w = self.w
        ev = self._premise_event(rng, label)
        if ev is None:
            return None
        prem = [ev]
        if rng.random() < 0.25:
            other = distinct_events(w, rng, 2)[1]
            prem.append(other)
        h = self._hyp(rng, ev, label, prem, hard=False)
        if h is None:
            return None
        if rng.random() < 0.15:
            prem[0] = prem[0].copy(voice="pass")
        premise = [Sentence(prem, ["and"])] if len(prem) == 2 and rng.random() < 0.5 else prem
        return (premise, h, label)

    def _hard(self, rng, label):
        w = self.w
        n = rng.randint(2, 3)
        evs = distinct_events(w, rng, n, place_p=0.7, time_p=0.4)
        t = rng.randrange(n)
        ev = evs[t]
        if len(filled_slots(w, ev)) < 1 or (label == NEU and not empty_slots(w, ev)):
            return None
        if label != NEU and rng.random() < 0.2:  # negated premise
            evs[t] = ev.copy(neg=True)
            if label == ENT:  # paraphrase of the negated event: passive or moved time, nothing dropped
                h = ev.copy(neg=True, voice="pass" if rng.random() < 0.6 or not ev.time else "act",
                            front_time=bool(ev.time) and rng.random() < 0.5)
                if h.voice == "act" and not h.front_time:
                    h = h.copy(voice="pass")
            else:  # the positive event (possibly with a detail dropped) contradicts it
                h = ev
                f = filled_slots(w, h)
                if f and rng.random() < 0.5:
                    h = drop(w, h, rng.choice(f))
            for i in range(n):
                if i != t and rng.random() < 0.3:
                    evs[i] = evs[i].copy(voice="pass")
            return (evs, h, label)
        h = self._hyp(rng, ev, label, evs, hard=True)
        if h is None:
            return None
        for i in range(n):
            if rng.random() < 0.3:
                evs[i] = evs[i].copy(voice="pass")
        return (evs, h, label)

    def _hyp(self, rng, ev, label, prem, hard):
        w = self.w
        others = [e for e in prem if e is not ev]
        f = filled_slots(w, ev)
        if label == ENT:
            k = rng.randint(1, len(f))
            h = ev
            for s in rng.sample(f, k):
                h = drop(w, h, s)
            if rng.random() < (0.5 if hard else 0.2):
                h = h.copy(voice="pass")
            return h
        if label == CON:
            opts = ["agent", "neg"]
            if "count" in f:
                opts.append("count")
            if "colour" in f:
                opts.append("colour")
            if "place" in f:
                opts.append("place")
            slot = rng.choice(opts)
            value = None
            if hard and others:
                o = rng.choice(others)
                if slot == "agent" and o.agent.kind == ev.agent.kind and o.agent.kind in ("per", "org"):
                    value = o.agent
                elif slot == "colour" and o.patient.kind in OBJ and adj_of(w, o.patient, "colour") \
                        and adj_of(w, o.patient, "colour") != adj_of(w, ev.patient, "colour"):
                    value = adj_of(w, o.patient, "colour")
                elif slot == "place" and o.place is not None and o.place.ent[1] != ev.place.ent[1]:
                    value = o.place
                elif slot == "count" and isinstance(o.patient.count, int) and o.patient.count >= 2 \
                        and o.patient.count != ev.patient.count:
                    value = o.patient.count
            h = change(w, rng, ev, slot, value)
            rest = [s for s in filled_slots(w, h) if s != slot]
            if rest and rng.random() < 0.3:
                h = drop(w, h, rng.choice(rest))
            if rng.random() < (0.3 if hard else 0.1):
                h = h.copy(voice="pass")
            return h
        # neutral
        e = empty_slots(w, ev)
        slot = rng.choice(e)
        value = None
        if hard and others:
            o = rng.choice(others)
            if slot == "place" and o.place is not None:
                value = o.place
            elif slot == "time" and o.time is not None and o.tense == ev.tense:
                value = o.time
            elif slot == "colour" and o.patient.kind in OBJ and adj_of(w, o.patient, "colour"):
                value = adj_of(w, o.patient, "colour")
        h = add(w, rng, ev, slot, value)
        if f and rng.random() < 0.3:
            h = drop(w, h, rng.choice(f))
        if rng.random() < (0.3 if hard else 0.1):
            h = h.copy(voice="pass")
        return h

    def render(self, ex, L):
        prem, hyp, label = ex
        w = self.w
        text_a, _ = w.paragraph(L, [w.sentence(L, s) for s in prem])
        return {"text_a": text_a, "text_b": w.text(L, w.sentence(L, hyp)), "label": label}


# ---------------------------------------------------------------------------------------------------------
# Classification: paraphrase (PAWS-X, QQP) and sentiment
# ---------------------------------------------------------------------------------------------------------
class PAWS(Builder):
    """Sentence pairs about two people (or animals). 1 = same event, reordered (time moved to the front)
    and/or passivised; 0 = agent and patient swapped with the same words (the PAWS trap), and, as in the
    positive pairs, the voice or word order of the two sentences differs, so that neither word overlap nor
    sentence shape decides alone: only who did what to whom. A `detail_share` of the negatives replaces
    one participant by another person instead of swapping the roles (still with a voice/order change)."""
    n_labels = 2
    labels = ["0", "1"]

    def __init__(self, world, params, detail_share=0.0):
        super().__init__(world, params)
        self.detail_share = detail_share

    def make(self, rng, label):
        w = self.w
        for _ in range(100):
            ev = w.event(rng, "social" if rng.random() < 0.7 else "animal", place_p=0.5, time_p=0.5)
            if ev.agent.key() != ev.patient.key():
                break
        a = ev.copy(voice="pass" if rng.random() < 0.25 else "act",
                    front_time=bool(ev.time) and rng.random() < 0.3)
        if label == 1:
            b = a
            while b.key() == a.key():
                b = ev.copy(voice="pass" if rng.random() < 0.5 else "act",
                            front_time=bool(ev.time) and rng.random() < 0.5)
        else:  # swapped roles, and (as in every positive pair) a different voice or word order
            if rng.random() < self.detail_share and ev.agent.ent and ev.patient.ent:
                keep = (ev.patient.ent[0], ev.agent.ent[0])
                other = w.person(rng, keep)
                sw = ev.copy(patient=other) if rng.random() < 0.5 else ev.copy(agent=other)
            else:
                sw = ev.copy(agent=ev.patient, patient=ev.agent)
            b = a
            while (b.voice, b.front_time) == (a.voice, a.front_time):
                b = sw.copy(voice="pass" if rng.random() < 0.5 else "act",
                            front_time=bool(ev.time) and rng.random() < 0.5)
        if rng.random() < 0.5:
            a, b = b, a
        return (a, b, label)

    def render(self, ex, L):
        a, b, label = ex
        w = self.w
        return {"text_a": w.text(L, w.sentence(L, a)), "text_b": w.text(L, w.sentence(L, b)), "label": label}


QQP_VARIANT = {"A": "Abywhom", "O": "Opass", "P": "Pwhich", "C": "Cpass", "K": "Kpass"}


class QQP(Builder):
    """Question pairs about one event. duplicate (1): the same question asked in its two forms (active vs
    passive: 'who bought X' / 'by whom was X bought', 'what did A buy' / 'what was bought by A'; 'where' /
    'in which city'). not duplicate (0): a role swap with the same names (who invited B / who did B
    invite), another slot of the same event, or another entity. In every pair, duplicate or not, exactly one
    question has the variant form, so form never gives the label away. Unlike PAWS-X: questions, and
    negatives of three kinds, a third of them word-order traps."""
    n_labels = 2
    labels = ["not_duplicate", "duplicate"]

    def make(self, rng, label):
        w = self.w
        social = rng.random() < 0.5
        ev = w.event(rng, "social" if social else "thing", place_p=0.4, time_p=0.2, org_p=0.0)
        slots = ["A", "O", "P"] + ([] if social else ["C", "K"])
        if label == 1:
            s = rng.choice(slots)
            qs = [(ev, s), (ev, s)]
        else:
            r = rng.random()
            if r < 0.35 and social:
                qs = [(ev, "A"), (ev.copy(agent=ev.patient, patient=ev.agent), "O")]
            elif r < 0.7:
                a, b = rng.sample(slots, 2)
                qs = [(ev, a), (ev, b)]
            else:
                s = rng.choice(slots)
                if s == "A" and social:  # the agent is not in an agent question: change the patient
                    ev2 = ev.copy(patient=w.person(rng, (ev.patient.ent[0], ev.agent.ent[0])))
                elif social or (s != "A" and rng.random() < 0.5):
                    ev2 = change(w, rng, ev, "agent")
                else:
                    ev2 = ev.copy(patient=ev.patient.copy(noun=w.z_nouns[w.lex[ev.patient.noun].topic](
                        rng, (ev.patient.noun,))))
                qs = [(ev, s), (ev2, s)]
        k = rng.randrange(2)
        pair = [(qevent(e, keep_place=s != "P"), QQP_VARIANT[s] if i == k else s) for i, (e, s) in enumerate(qs)]
        return (pair, label)

    def render(self, ex, L):
        (qa, qb), label = ex
        w = self.w
        return {"text_a": w.text(L, w.question(L, Question(*qa))), "text_b": w.text(L, w.question(L, Question(*qb))),
                "label": label}


class SST(Builder):
    """Single sentences. Clause polarity = adjective polarity, flipped by negation ('not bad' is positive);
    'X, but Y' takes the polarity of Y (the clauses disagree); 'X and Y' clauses agree; an event with an
    evaluative adjective ('bought a wonderful cake') has that adjective's polarity."""
    n_labels = 2
    labels = ["negative", "positive"]

    def make(self, rng, label):
        w = self.w
        for _ in range(100):
            r = rng.random()
            if r < 0.35:
                s = w.copula(rng, label)
            elif r < 0.55:
                ev = w.event(rng, time_p=0.3, place_p=0.5, org_p=0.0)
                p = ev.patient
                p = p.copy(adjs=tuple(a for a in p.adjs if w.lex[a].sub not in ("pos", "neg")))
                adj = (w.z_pos if label else w.z_neg)(rng)
                if p.count is None and p.num == "sg" and p.definite and rng.random() < 0.5:
                    p = p.copy(definite=False, count=1)
                s = ev.copy(patient=with_adj(w, p, adj))
            elif r < 0.8:
                c1 = w.copula(rng, 1 - label)
                c2 = w.copula(rng, label, two=False)
                s = Sentence([c1, c2], ["but"])
            else:
                c1 = w.copula(rng, label, two=False)
                c2 = w.copula(rng, label, two=False)
                s = Sentence([c1, c2], ["and"])
            if self.ok_len(w.sentence(w.langs["en"], s)):
                return (s, label)
        raise RuntimeError("SST: no example")

    def render(self, ex, L):
        s, label = ex
        return {"text_a": self.w.text(L, self.w.sentence(L, s)), "text_b": None, "label": label}


# ---------------------------------------------------------------------------------------------------------
# Tagging
# ---------------------------------------------------------------------------------------------------------
def general_sentence(w, rng, entity=False):
    """A declarative sentence of any construction the grammar has."""
    r = rng.random()
    if r < 0.38:
        s = w.event(rng)
    elif r < 0.5:
        s = w.event(rng).copy(voice="pass")
    elif r < 0.6:
        s = w.event(rng).copy(neg=True)
    elif r < 0.7:
        s = w.event(rng, "social" if rng.random() < 0.8 else "animal")
    elif r < 0.82:
        s = w.copula(rng)
    elif r < 0.9:
        a, b = distinct_events(w, rng, 2, (("thing", 0.8), ("social", 0.2)), place_p=0.4, time_p=0.2)
        s = Sentence([a, b], ["and"])
    elif r < 0.95:
        ev = w.event(rng)
        feel = w.copula(rng, subj=ev.agent.copy(ent=(ev.agent.ent[0], None)) if ev.agent.kind == "per" else None,
                        two=False, neg=False)
        s = Sentence([feel, ev], ["because"])
    else:
        ev = w.event(rng, time_p=0.0)
        s = ev.copy(lead="then")
    if entity and isinstance(s, Event) and s.place is None and rng.random() < 0.7:
        s = s.copy(place=w.place(rng))
    if isinstance(s, Event) and s.time and rng.random() < 0.2:
        s = s.copy(front_time=True)
    return s


class Tagging(Builder):
    """Token tagging: `field` is 'upos' (UD POS), 'ner' (BIO PER/ORG/LOC) or 'ccg' (supertags)."""

    def __init__(self, world, params, field, require_entity=False):
        super().__init__(world, params)
        self.field = {"upos": 1, "ner": 2, "ccg": 3}[field]
        self.require_entity = require_entity
        self.labels = {"upos": T.UPOS, "ner": T.NER, "ccg": CCG_LABELS}[field]

    def make(self, rng, label):
        w = self.w
        en = w.langs["en"]
        for _ in range(200):
            s = general_sentence(w, rng, self.require_entity)
            toks = w.sentence(en, s)
            if not self.ok_len(toks):
                continue
            if self.require_entity and all(t[2] == "O" for t in toks):
                continue
            return s
        raise RuntimeError("tagging: no sentence")

    def render(self, ex, L):
        toks = self.w.sentence(L, ex)
        i = self.field
        return {"tokens": [t[0] for t in toks], "tags": [t[i] for t in toks]}


# ---------------------------------------------------------------------------------------------------------
# Span QA
# ---------------------------------------------------------------------------------------------------------
ANSWER_SLOTS = {"A": ("A",), "P": ("P",), "C": ("OC",), "K": ("OK",)}


class SpanQA(Builder):
    """Multi-sentence contexts of events with distinct people and objects; a wh-question about one slot of
    one event (who / what / where / how many / what colour); the answer is that slot's span in the context.
    Unanswerable (label 1, SQuAD v2.0 only): the question asks about a slot that no sentence of the event
    fills (its place, count or colour, while other sentences state theirs), or about an object no sentence
    mentions."""
    n_labels = 1

    def __init__(self, world, params, unanswerable=0.0, sentences=None, wh_weights=None, passive=0.25):
        super().__init__(world, params)
        self.unans = unanswerable
        self.sentences = sentences or params["qa_sentences"]
        self.wh_weights = wh_weights or {"A": 1, "O": 1, "P": 1, "C": 1, "K": 1}
        self.passive = passive

    def labels_for(self, n, rng):
        k = round(self.unans * n)
        labs = [1] * k + [0] * (n - k)
        rng.shuffle(labs)
        return labs

    def _pick(self, rng, options):
        tot = sum(self.wh_weights.get(o, 1) for o in options)
        x = rng.random() * tot
        for o in options:
            x -= self.wh_weights.get(o, 1)
            if x < 0:
                return o
        return options[-1]

    def make(self, rng, label):
        w = self.w
        for _ in range(200):
            n = rng.randint(*self.sentences)
            evs = distinct_events(w, rng, n, (("thing", 0.85), ("social", 0.15)), place_p=0.6, time_p=0.3)
            for i in range(n):
                if rng.random() < self.passive:
                    evs[i] = evs[i].copy(voice="pass")
                elif evs[i].time and rng.random() < 0.2:
                    evs[i] = evs[i].copy(front_time=True)
            t = rng.randrange(n)
            ev = evs[t]
            thing = ev.patient.kind in OBJ
            if label == 0:
                opts = ["A", "O"]
                if ev.place:
                    opts.append("P")
                if thing and isinstance(ev.patient.count, int) and ev.patient.count >= 2:
                    opts.append("C")
                if thing and adj_of(w, ev.patient, "colour"):
                    opts.append("K")
                wh = self._pick(rng, opts)
                q = qevent(ev, keep_place=wh != "P" and rng.random() < 0.4)
                if wh == "O":
                    slots = ("ON",) if thing else ("O",)
                else:
                    slots = ANSWER_SLOTS[wh]
                return (evs, Question(q, wh), t, slots)
            # unanswerable
            opts = []
            if ev.place is None and any(e.place for e in evs):
                opts.append("P")
            if thing and not isinstance(ev.patient.count, int) and \
                    any(isinstance(e.patient.count, int) and e.patient.count >= 2 for e in evs):
                opts.append("C")
            if thing and not adj_of(w, ev.patient, "colour") and any(
                    e.patient.kind in OBJ and adj_of(w, e.patient, "colour") for e in evs):
                opts.append("K")
            if thing:
                opts.append("absent")
            if not opts:
                continue
            wh = rng.choice(opts)
            if wh == "absent":
                used = [e.patient.noun for e in evs if e.patient.kind in ("thing", "animal")]
                noun = w.z_nouns[w.lex[ev.patient.noun].topic](rng, tuple(used))
                if noun in used:
                    continue
                q = qevent(ev.copy(patient=ev.patient.copy(noun=noun)), keep_place=False)
                return (evs, Question(q, "A"), t, None)
            return (evs, Question(qevent(ev, keep_place=False), wh), t, None)
        raise RuntimeError("QA: no example")

    def render(self, ex, L):
        evs, q, t, slots = ex
        w = self.w
        sents = [w.sentence(L, e) for e in evs]
        ctx, offs = w.paragraph(L, sents)
        rec = {"context": ctx, "question": w.text(L, w.question(L, q)), "answers": {"text": [], "answer_start": []}}
        if slots:
            s, e = w.span(sents[t], offs[t], slots)
            rec["answers"] = {"text": [ctx[s:e]], "answer_start": [s]}
        return rec


# ---------------------------------------------------------------------------------------------------------
# Multiple choice
# ---------------------------------------------------------------------------------------------------------
class MCBuilder(Builder):
    n_choices = 4

    @property
    def n_labels(self):
        return self.n_choices

    def place_correct(self, rng, correct, distractors, label):
        ch = list(distractors)
        rng.shuffle(ch)
        ch.insert(label, correct)
        return ch


GENERIC_STEPS = {"buy", "find", "wash", "clean", "store", "use", "pick", "copy", "send"}  # plausible for anything


class HellaSwag(MCBuilder):
    """Activity scripts (buy -> wash -> cut -> cook -> eat ...). Context: the first k steps done by one person
    to one object; the consistent ending is step k+1 by the same person on the same object. Distractors:
    the right step on an object never introduced, by a person never mentioned, a step of another script,
    or a step already done."""
    n_choices = 4

    def make(self, rng, label):
        w = self.w
        topic = rng.choice(TOPIC_NAMES)
        script = [f"v:{v}" for v in TOPICS[topic]["script"].split()]
        agent = w.person(rng)
        ag = agent.copy(ent=(agent.ent[0], None))
        first = w.event(rng, topic=topic, agent=agent, place_p=0.5, time_p=0.3)
        first = first.copy(verb=script[0], tense="past", front_time=False, neg=False)
        p = first.patient
        defp = p.copy(definite=True, count=None, adjs=())
        k = rng.randint(1, 3)
        ctx = [first] + [Event(ag, script[i], defp, lead="then") for i in range(1, k)]
        nxt = script[k]
        correct = Event(ag, nxt, defp, lead="then")
        other_topic = rng.choice([t for t in TOPIC_NAMES if t != topic])
        other_noun_topic = topic if rng.random() < 0.5 else other_topic
        on = w.z_nouns[other_noun_topic](rng, (p.noun,))
        foreign = sorted({f"v:{v}" for t in TOPIC_NAMES for v in TOPICS[t]["script"].split()
                          if f"v:{v}" not in script and v not in GENERIC_STEPS})
        pool = [
            Event(ag, nxt, defp.copy(noun=on), lead="then"),
            Event(NP("per", (w.person(rng, (agent.ent[0],)).ent[0], None)), nxt, defp, lead="then"),
            Event(ag, foreign[rng.randrange(len(foreign))], defp, lead="then"),
            Event(ag, script[rng.randrange(k)], defp, lead="then"),
        ]
        dis = rng.sample(pool, 3)
        return (ctx, self.place_correct(rng, correct, dis, label), label)

    def render(self, ex, L):
        ctx, choices, label = ex
        w = self.w
        text, _ = w.paragraph(L, [w.sentence(L, e) for e in ctx])
        return {"context": text, "question": "", "choices": [w.text(L, w.sentence(L, c)) for c in choices],
                "label": label}


class CosmosQA(MCBuilder):
    """Reading comprehension over 2-4 events whose objects are judged (a wonderful cake, 3 terrible
    books): how a person felt (their object's polarity), why they felt so (the matching event), what they
    VERBed, or where they were. Exactly one choice fits both the question and the context."""
    n_choices = 4

    def make(self, rng, label):
        w = self.w
        for _ in range(100):
            n = rng.randint(2, 4)
            evs = distinct_events(w, rng, n, place_p=0.7, time_p=0.2, org_p=0.0)
            t, o = rng.sample(range(n), 2)
            pols = [rng.randrange(2) for _ in range(n)]
            pols[o] = 1 - pols[t]
            for i, e in enumerate(evs):
                p = e.patient.copy(adjs=tuple(a for a in e.patient.adjs if w.lex[a].sub not in ("pos", "neg")))
                evs[i] = e.copy(patient=with_adj(w, p, (w.z_pos if pols[i] else w.z_neg)(rng)), neg=False)
            ev, oev = evs[t], evs[o]
            X = ev.agent.copy(ent=(ev.agent.ent[0], None))
            Y = oev.agent.copy(ent=(oev.agent.ent[0], None))
            pol = pols[t]
            qtypes = ["feel", "why", "what"] + (["where"] if ev.place else [])
            qt = rng.choice(qtypes)
            if qt == "feel":
                q = Question(Event(X, "v:feel", None, tense="past"), "M")
                fe = lambda who, p: ("cl", Copula(who, [("adj", w.z_feel[p](rng), None)]))
                correct = fe(X, pol)
                dis = [fe(X, 1 - pol), fe(Y, pol), fe(Y, 1 - pol)]
            elif qt == "why":
                q = Question(Copula(X, [("adj", w.z_feel[pol](rng), None)]), "Y")
                flipped = ev.copy(patient=with_adj(w, without_adj(ev.patient, adj_of(w, ev.patient, "senti")),
                                                   (w.z_neg if pol else w.z_pos)(rng)))
                new = w.event(rng, agent=ev.agent, place_p=0.0, time_p=0.0,
                              exclude_nouns=tuple(e.patient.noun for e in evs))
                new = new.copy(patient=with_adj(w, new.patient.copy(adjs=()), (w.z_pos if pol else w.z_neg)(rng)))
                strip = lambda e: e.copy(place=None, time=None, front_time=False, voice="act")
                correct = ("because", strip(ev))
                dis = [("because", strip(flipped)), ("because", strip(oev)), ("because", strip(new))]
            elif qt == "what":
                q = Question(qevent(ev, keep_place=False), "O")
                others = [e.patient for e in evs if e is not ev]
                unseen = []
                while len(others) + len(unseen) < 3:
                    nn = w.thing(rng, exclude=tuple(e.patient.noun for e in evs) + tuple(u.noun for u in unseen))
                    unseen.append(nn.copy(adjs=ev.patient.adjs))
                correct = ("np", ev.patient)
                dis = [("np", x) for x in (others + unseen)[:3]]
            else:
                q = Question(Copula(X, [("pp", NP("wh", wh="where"))]), "W")
                places = [e.place for e in evs if e.place is not None and e is not ev
                          and e.place.ent[1] != ev.place.ent[1]]
                while len(places) < 3:
                    pl = w.place(rng, tuple(x.ent[1] for x in places + [ev.place]))
                    places.append(pl)
                correct = ("pp", ev.place)
                dis = [("pp", x) for x in places[:3]]
            ex = (evs, q, self.place_correct(rng, correct, dis, label), label)
            en = w.langs["en"]
            texts = [w.text(en, self._choice(en, c)) for c in ex[2]]
            if len(set(texts)) == len(texts):
                return ex
        raise RuntimeError("cosmosqa: no example")

    def _choice(self, L, c):
        w = self.w
        kind, x = c
        if kind == "cl":
            return w.fragment(L, x)
        if kind == "because":
            return w.fragment(L, x, conj="because")
        if kind == "np":
            return w.fragment(L, x)
        return w.fragment(L, ("pp", x))

    def render(self, ex, L):
        evs, q, choices, label = ex
        w = self.w
        text, _ = w.paragraph(L, [w.sentence(L, e) for e in evs])
        return {"context": text, "question": w.text(L, w.question(L, q)),
                "choices": [w.text(L, self._choice(L, c)) for c in choices], "label": label}


CAN_VERBS = {"eat": "food", "cook": "food", "bake": "food", "feed": "animals", "wear": "clothes",
             "iron": "clothes", "drive": "vehicles", "read": "writing", "write": "writing", "play": "music",
             "tune": "music", "plant": "garden", "sharpen": "tools"}


class CommonsenseQA(MCBuilder):
    """World knowledge, no context: where a thing is found (its topic's place), what one can VERB (a
    noun of the verb's topic), what kind of thing something is (its topic's category). The question stands
    in `context`; `question` is empty."""
    n_choices = 5

    def make(self, rng, label):
        w = self.w
        you = NP("pron", noun="you")
        qt = rng.choice(["where", "can", "isa"])
        if qt == "can":
            verb = rng.choice(sorted(CAN_VERBS))
            topic = CAN_VERBS[verb]
        else:
            topic = rng.choice(TOPIC_NAMES)
        others = rng.sample([t for t in TOPIC_NAMES if t != topic], 4)
        noun = w.z_nouns[topic](rng)
        a_thing = NP("thing", noun=noun, num="sg", count=None, definite=False)
        if qt == "where":
            q = Question(Event(you, "v:find", a_thing, modal="would", tense="pres"), "P")
            mk = lambda t: NP("common", noun=f"n:{TOPICS[t]['place']}", definite=True)
        elif qt == "can":
            q = Question(Event(you, f"v:{verb}", NP("wh", wh="what"), modal="can", tense="pres"), "O")
            mk = lambda t: NP("thing", noun=w.z_nouns[t](rng), num="pl", definite=False)
        else:
            q = Question(Copula(a_thing, [("np", NP("wh", wh="what"))], tense="pres"), "I")
            mk = lambda t: NP("common", noun=f"n:{TOPICS[t]['category']}", num="sg", definite=False)
        return (q, self.place_correct(rng, mk(topic), [mk(t) for t in others], label), label)

    def render(self, ex, L):
        q, choices, label = ex
        w = self.w
        return {"context": w.text(L, w.question(L, q)), "question": "",
                "choices": [w.text(L, w.fragment(L, c)) for c in choices], "label": label}


# ---------------------------------------------------------------------------------------------------------
# Retrieval sentences
# ---------------------------------------------------------------------------------------------------------
def simple_sentence(w, rng):
    r = rng.random()
    if r < 0.55:
        return w.event(rng, place_p=0.5, time_p=0.3)
    if r < 0.7:
        return w.event(rng, "social", place_p=0.4, time_p=0.3)
    if r < 0.85:
        return w.copula(rng)
    return w.event(rng, place_p=0.5, time_p=0.3).copy(voice="pass")


def perturb(w, rng, s):
    """A near-duplicate: one detail of the sentence changed."""
    if isinstance(s, Event):
        opts = ["agent"] + (["place"] if s.place else []) + \
               (["count"] if s.patient.kind in OBJ and isinstance(s.patient.count, int)
                and s.patient.count >= 2 else []) + \
               (["colour"] if s.patient.kind in OBJ and adj_of(w, s.patient, "colour") else [])
        return change(w, rng, s, rng.choice(opts))
    if isinstance(s, Copula):
        r = rng.random()
        if r < 0.3:
            return s.copy(neg=not s.neg)
        if r < 0.7 or s.subj.kind not in OBJ:
            kind, adj, ints = s.preds[0]
            z = {"pos": w.z_pos, "neg": w.z_neg, "feel_pos": w.z_feel[1], "feel_neg": w.z_feel[0]}[w.lex[adj].sub]
            return s.copy(preds=((kind, z(rng, (adj,)), ints),) + s.preds[1:])
        return s.copy(subj=s.subj.copy(noun=w.z_nouns[w.lex[s.subj.noun].topic](rng, (s.subj.noun,))))
    return s


# ---------------------------------------------------------------------------------------------------------
# MLM corpus
# ---------------------------------------------------------------------------------------------------------
def mlm_paragraph(w, rng, n_min=1, n_max=3):
    """n_min..n_max statements sharing one person and one topic (topical co-occurrence); every construction of
    the grammar appears, including commonsense statements and questions, so that pretraining sees all
    function words the tasks use. Word choice inherits the world's Zipfian distributions."""
    agent = w.person(rng)
    short = agent.copy(ent=(agent.ent[0], None))
    topic = w.person_topic[agent.ent[0]] if rng.random() < 0.5 else w.z_topic(rng)
    you = NP("pron", noun="you")
    out = []
    for i in range(rng.randint(n_min, n_max)):
        ag = agent if i == 0 else short
        r = rng.random()
        if r < 0.38:
            s = w.event(rng, agent=ag, topic=topic)
        elif r < 0.48:
            s = w.event(rng, agent=ag, topic=topic).copy(voice="pass")
        elif r < 0.55:
            s = w.event(rng, agent=ag, topic=topic).copy(neg=True)
        elif r < 0.62:
            s = w.event(rng, "social", agent=ag)
        elif r < 0.72:
            t = w.thing(rng, topic, colour=0.3, size=0.1, senti=0)
            s = w.copula(rng, subj=t.copy(definite=True, count=None))
        elif r < 0.77:
            ev = w.event(rng, agent=ag, topic=topic, place_p=0.3, time_p=0.0)
            s = Sentence([w.copula(rng, subj=short, two=False, neg=False), ev], ["because"])
        elif r < 0.83:
            script = TOPICS[topic]["script"].split()
            k = rng.randrange(1, len(script))
            t = w.thing(rng, topic, colour=0, size=0, senti=0)
            s = Event(short, f"v:{script[k]}", t.copy(definite=True, count=None, adjs=()), lead="then")
        elif r < 0.93:
            t = w.thing(rng, topic, colour=0, size=0, senti=0).copy(num="sg", count=None, definite=False)
            q = rng.random()
            if q < 0.4:
                s = Event(you, "v:find", t, NP("common", noun=f"n:{TOPICS[topic]['place']}", definite=True),
                          modal="can", tense="pres")
            elif q < 0.7:
                s = Copula(t, [("np", NP("common", noun=f"n:{TOPICS[topic]['category']}", definite=False))],
                           tense="pres")
            else:
                verbs = sorted(v for v, tp in CAN_VERBS.items() if tp == topic) or ["find"]
                s = Event(you, f"v:{rng.choice(verbs)}", t.copy(num="pl"), modal="can", tense="pres")
        else:
            ev = w.event(rng, agent=ag, topic=topic)
            opts = ["A", "O", "P", "Pwhich"] + (["C", "K"] if ev.patient.kind in OBJ else [])
            wh = rng.choice(opts)
            s = Question(qevent(ev, keep_place=wh not in ("P", "Pwhich")), wh)
        out.append(s)
    return out


def render_statement(w, L, s):
    return w.question(L, s) if isinstance(s, Question) else w.sentence(L, s)
