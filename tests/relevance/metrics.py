"""Precision@10 and nDCG@10 of one ranked answer against graded judgments (README.md)."""

import math

CUTOFF = 10


def precision_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    """Judged-relevant providers among the first min(10, relevant count) results, over that count.
    With nobody relevant: 1.0 only when nothing came back."""
    depth = min(CUTOFF, len(grades))
    if depth == 0:
        return 0.0 if ranked else 1.0
    return sum(1 for npi in ranked[:depth] if grades.get(npi, 0) >= 1) / depth


def _dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains[:CUTOFF]))


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    """DCG of the first 10 results (gain 2^grade - 1) over the DCG of the best 10 judged providers.
    With nobody relevant: 1.0 only when nothing came back."""
    ideal = _dcg(sorted(grades.values(), reverse=True))
    if ideal == 0:
        return 0.0 if ranked else 1.0
    return _dcg([grades.get(npi, 0) for npi in ranked]) / ideal


def overlap(first: list[str], second: list[str]) -> float:
    """|A ∩ B| / max(|A|, |B|, 1) of two top-10 answers; two empty answers agree
    (1.0)."""
    a, b = set(first[:CUTOFF]), set(second[:CUTOFF])
    if not a and not b:
        return 1.0  # both found nobody: they agree
    return len(a & b) / max(len(a), len(b), 1)
