"""`TokenTagger`: a token-classifier directory (unmask, causal, repeat, encoder) behind `Tagger`.

Words are windowed exactly as in training, scored in length-sorted batches under a token budget,
stitched back into sentences (each word from the window where it has most context) and decoded
by argmax or Viterbi; optionally with int8 linear layers on a CPU.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from ..alignment.encoder import WindowEncoder
from ..alignment.windows import stitch
from ..data.words import split_words
from ..errors import ModelError
from ..modeling.artifact import ModelCard, load_model_dir, scoring_precision
from ..modeling.int8 import DEFAULT_ALPHA, load_scales
from ..modeling.loading import Precision
from .decoding import decode_sentence
from .scoring import score_windows
from .tagger import Labelled, Tagger, wants_int8


class TokenTagger(Tagger):
    """Labels every word with the classification head's most likely label (or the best valid sequence)."""

    def __init__(self, model, tokenizer, card: ModelCard, *, decoding: str = "argmax", token_budget: int | None = None):
        super().__init__(model, tokenizer, card)
        self.decoding = decoding
        self.token_budget = token_budget
        self.int8 = None  # an Int8Record once the linear layers are int8

    @cached_property
    def encoder(self) -> WindowEncoder:
        return WindowEncoder(self.tokenizer, self.card.max_length, self.card.stride)

    @classmethod
    def from_directory(
        cls,
        directory: str | os.PathLike,
        card: ModelCard,
        *,
        device: str | None = None,
        decoding: str = "argmax",
        precision: str = "auto",
        quantize: str = "auto",
        token_budget: int | None = None,
    ) -> TokenTagger:
        int8 = wants_int8(quantize, card)
        if int8:
            if precision not in ("auto", "fp32"):
                raise ModelError(f"--quantize int8 computes from fp32 weights; it cannot be combined with precision {precision}")
            chosen = Precision.choose("fp32", "none", device)
            if chosen.device != "cpu":
                raise ModelError("--quantize int8 runs on a CPU (torch's dynamic int8 kernels); use bf16 on a GPU")
        else:
            chosen = scoring_precision(card, precision, device)
        model, tokenizer, card = load_model_dir(directory, card=card, precision=chosen)
        tagger = cls(model, tokenizer, card, decoding=decoding, token_budget=token_budget)
        if int8:
            saved = load_scales(directory) if str(card.quantization.get("scheme", "")).startswith("int8") else None
            tagger.quantize_int8(scales=saved)
        return tagger

    def quantize_int8(
        self, calibration: Sequence[Sequence[str]] | None = None, *, scales=None, alpha: float = DEFAULT_ALPHA
    ):
        """Swap the model's linear layers for smoothed dynamic int8 ones, in place (see `modeling.int8`).

        The smoothing comes from `scales` (as saved by an int8 export) or from a calibration pass over
        `calibration` sentences (lists of words; default: the built-in sentences). Returns the scales.
        """
        from ..modeling.int8 import CALIBRATION_SENTENCES, apply_int8, quantize_int8

        if scales is not None:
            self.int8 = apply_int8(self.model, scales, alpha=self.card.quantization.get("alpha", alpha), calibration="saved scales")
            return scales
        described = "built-in sentences" if calibration is None else f"{len(calibration)} given sentences"
        if calibration is None:
            calibration = [[text[a:b] for a, b in split_words(text)] for text in CALIBRATION_SENTENCES]
        self.int8, scales = quantize_int8(
            self.model, lambda: self.word_scores(calibration), alpha=alpha, calibration=described
        )
        return scales

    def word_scores(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress=None,
    ) -> list[np.ndarray]:
        """Per sentence, a (words x labels) array of log-probabilities; empty sentences give empty arrays.

        `batch_size` caps sequences per forward pass (the token budget caps them too).
        """
        out = [np.zeros((0, len(self.labels)), dtype=np.float32) for _ in sentences]
        nonempty = [i for i, words in enumerate(sentences) if len(words)]
        if not nonempty:
            return out
        windows = self.encoder.encode(
            [sentences[i] for i in nonempty], [wheres[i] for i in nonempty] if wheres else None
        )
        scores = score_windows(
            self.model, windows, self.tokenizer.pad_token_id, token_budget=self.token_budget,
            max_batch=batch_size or 64, progress=progress, repeats=self.card.repeat,
        )
        stitched = stitch(windows, scores, [len(sentences[i]) for i in nonempty])
        for i, rows in zip(nonempty, stitched):
            out[i] = np.stack(rows)
        return out

    def label_words(
        self,
        sentences: Sequence[Sequence[str]],
        wheres: Sequence[str] | None = None,
        *,
        batch_size: int | None = None,
        progress=None,
    ) -> Labelled:
        return [self.decode(scores) for scores in self.word_scores(sentences, wheres, batch_size=batch_size,
                                                                    progress=progress)]

    def decode(self, scores: np.ndarray) -> tuple[list[str], list[float]]:
        """One sentence's labels (argmax or Viterbi) and their probabilities from its `word_scores` array."""
        index = {label: i for i, label in enumerate(self.labels)}
        labels = decode_sentence(scores, self.labels, self.scheme, self.decoding)
        return labels, [float(np.exp(scores[k, index[label]])) for k, label in enumerate(labels)]
