"""Perturbation stage. Takes: clean task folders, a tokenizer (homoglyph table), bilingual dictionaries.
Gives: perturbed test sets per family and severity, and black-box attack sets against fine-tuned models."""
# Importing the stage registers the families of `families` into `core`'s registry; `core` never imports
# `families` back, so the two modules form no import cycle.
from xstilts.perturb import families as _families  # noqa: E402,F401
