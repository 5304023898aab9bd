"""Parity gate: what a reduced-precision path (bf16, int8) changes against fp32 on labelled data.

A faster numeric path is only worth having if it labels like the model that was validated. This
scores the same sentences with an fp32 tagger and with the candidate, and reports strict span F1 of
both, the drop, and the share of words that got the same label; `lookright evaluate
--compare-precision` prints it and an int8 export refuses when the drop is too large.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from rich.console import Console
from rich.table import Table

from ..data.sentence import Sentence
from ..evaluation import EvaluationReport, evaluate_tags
from .gold import GoldData, read_gold
from .tagger import Tagger

MAX_F1_DROP = 0.3  # points of strict F1 an int8 export may lose against fp32 (override: allow_f1_drop)


@dataclass
class ParityReport:
    reference: str  # e.g. "fp32"
    candidate: str  # e.g. "int8" or "bf16"
    sentences: int
    words: int
    reference_strict_f1: float
    candidate_strict_f1: float
    label_agreement: float  # share of words labelled as the reference labels them
    words_differing: int
    reference_words_per_second: float
    candidate_words_per_second: float

    @property
    def f1_drop_points(self) -> float:
        """Strict F1 points lost against the reference (negative: the candidate scores higher)."""
        return round(100 * (self.reference_strict_f1 - self.candidate_strict_f1), 4)

    def to_dict(self) -> dict:
        return {**asdict(self), "f1_drop_points": self.f1_drop_points}

    def render(self, console: Console | None = None) -> None:
        console = console or Console()
        table = Table(title=f"parity: {self.candidate} vs {self.reference} ({self.sentences:,} sentences, {self.words:,} words)")
        for column in ("", "strict F1", "words/s"):
            table.add_column(column, justify="right" if column else "left")
        table.add_row(self.reference, f"{100 * self.reference_strict_f1:.2f}", f"{self.reference_words_per_second:,.0f}")
        table.add_row(self.candidate, f"{100 * self.candidate_strict_f1:.2f}", f"{self.candidate_words_per_second:,.0f}")
        console.print(table)
        console.print(
            f"F1 drop {self.f1_drop_points:+.2f} points; same label on {100 * self.label_agreement:.2f}% of words "
            f"({self.words_differing:,} differ)", soft_wrap=True,
        )


def _timed_tags(tagger: Tagger, sentences: Sequence[Sentence]) -> tuple[list[list[str]], float]:
    tagger.tag_words([s.tokens for s in sentences[:8]])  # warm-up: first calls allocate
    started = time.perf_counter()
    tags = tagger.tag_words([s.tokens for s in sentences], [s.where for s in sentences])
    return tags, time.perf_counter() - started


def compare_taggers(
    reference: Tagger, candidate: Tagger, sentences: Sequence[Sentence], gold: Sequence[Sequence[str]],
    *, names: tuple[str, str],
) -> tuple[ParityReport, EvaluationReport]:
    """Both taggers on the same sentences: the parity report and the candidate's full evaluation."""
    ref_tags, ref_seconds = _timed_tags(reference, sentences)
    cand_tags, cand_seconds = _timed_tags(candidate, sentences)
    words = sum(len(s.tokens) for s in sentences)
    same = sum(a == b for ref, cand in zip(ref_tags, cand_tags) for a, b in zip(ref, cand))
    tokens, sources = [s.tokens for s in sentences], [s.where for s in sentences]
    ref_report = evaluate_tags(gold, ref_tags, reference.scheme)
    cand_report = evaluate_tags(gold, cand_tags, candidate.scheme, tokens=tokens, sources=sources)
    parity = ParityReport(
        reference=names[0], candidate=names[1], sentences=len(sentences), words=words,
        reference_strict_f1=ref_report.strict.micro.f1, candidate_strict_f1=cand_report.strict.micro.f1,
        label_agreement=same / words if words else 1.0, words_differing=words - same,
        reference_words_per_second=words / ref_seconds if ref_seconds else 0.0,
        candidate_words_per_second=words / cand_seconds if cand_seconds else 0.0,
    )
    return parity, cand_report


def describe_numerics(tagger: Tagger) -> str:
    """"int8", "bf16" or "fp32": what a tagger computes in."""
    if getattr(tagger, "int8", None) is not None:  # only token classifiers quantize
        return "int8"
    dtype = next(tagger.model.parameters()).dtype
    return str(dtype).removeprefix("torch.").replace("bfloat16", "bf16").replace("float32", "fp32").replace("float16", "fp16")


def compare_precision(
    directory: str,
    data,
    *,
    precision: str = "auto",
    quantize: str = "auto",
    fmt: str = "auto",
    label_column: int | str | None = None,
    scheme: str | None = None,
    decoding: str = "argmax",
) -> tuple[ParityReport, EvaluationReport]:
    """Load `directory` twice, in fp32 and as asked (`precision`, `quantize`), and compare them on `data`
    (a labelled file, sentences, or what `read_gold` returned)."""
    gold = data if isinstance(data, GoldData) else read_gold(data, directory, fmt=fmt, label_column=label_column, scheme=scheme)
    candidate = Tagger.load(directory, precision=precision, quantize=quantize, decoding=decoding)
    reference = Tagger.load(directory, precision="fp32", quantize="none", decoding=decoding)
    names = ("fp32", describe_numerics(candidate))
    return compare_taggers(reference, candidate, gold.sentences, gold.tags, names=names)
