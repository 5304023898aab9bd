"""Model-independent scoring of word-level tag sequences: strict and lenient span F1 side by side."""

from .metrics import SCHEMES, evaluate_tags, extract_spans, gold_log_loss, to_iob2
from .report import (
    Confusion,
    Counts,
    ErrorExample,
    EvaluationReport,
    Scores,
    SpanMetrics,
    SpanText,
    TypeErrors,
    TypeScores,
)

__all__ = [
    "SCHEMES",
    "Confusion",
    "Counts",
    "ErrorExample",
    "EvaluationReport",
    "Scores",
    "SpanMetrics",
    "SpanText",
    "TypeErrors",
    "TypeScores",
    "evaluate_tags",
    "extract_spans",
    "gold_log_loss",
    "to_iob2",
]
