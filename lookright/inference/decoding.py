"""Word scores -> one label per word: plain argmax, or the best *valid* sequence (Viterbi).

Argmax is what the paper and every peer report. A token classifier can emit sequences the scheme
forbids (`O I-PER` in IOB2), which strict span metrics then drop; constrained Viterbi picks the most
probable sequence that obeys the scheme, at no training cost. Both are available, argmax is default.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from ..data.schemes import allowed_transitions

DECODINGS = ("argmax", "viterbi")


@lru_cache(maxsize=32)
def _constraints(labels: tuple[str, ...], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    allowed = allowed_transitions(list(labels), scheme)
    forbid = -1e9
    start = np.where(np.asarray(allowed.start_allowed), 0.0, forbid)
    trans = np.where(np.asarray(allowed.transition), 0.0, forbid)
    end = np.where(np.asarray(allowed.end_allowed), 0.0, forbid)
    return start, trans, end


def viterbi(scores: np.ndarray, start: np.ndarray, trans: np.ndarray, end: np.ndarray) -> list[int]:
    """Best label path under additive start/transition/end scores (log-space)."""
    n = scores.shape[0]
    best = start + scores[0]
    back = np.zeros((n, scores.shape[1]), dtype=np.int64)
    for t in range(1, n):
        candidates = best[:, None] + trans  # previous x current
        back[t] = candidates.argmax(axis=0)
        best = candidates.max(axis=0) + scores[t]
    best = best + end
    path = [int(best.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def decode_sentence(scores: np.ndarray, labels: Sequence[str], scheme: str, decoding: str = "argmax") -> list[str]:
    """Labels for one sentence from its (words x labels) log-probabilities."""
    if len(scores) == 0:
        return []
    if decoding == "argmax":
        return [labels[i] for i in scores.argmax(axis=1)]
    if decoding == "viterbi":
        start, trans, end = _constraints(tuple(labels), scheme)
        return [labels[i] for i in viterbi(scores, start, trans, end)]
    raise ValueError(f"unknown decoding {decoding!r}: use one of {', '.join(DECODINGS)}")
