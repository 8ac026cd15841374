"""Retrieval stage. Takes: encoder folders and BUCC/Tatoeba sentence sets (clean and perturbed).
Gives: stored sentence embeddings and, from them, BUCC F1 and Tatoeba accuracy with per-example statistics."""
