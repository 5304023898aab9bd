"""The result of an evaluation: one object that serialises to stable JSON and renders compactly.

Runs are compared across models and papers, so the JSON keys never change between runs and every
span metric says which convention (strict or conlleval-lenient) produced it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..data.prepare import Repairs
from ..outputs import write_text_atomic

# Above this many labels a confusion matrix is unreadable in a terminal; it stays in the JSON.
MAX_RENDERED_LABELS = 25


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class TypeScores(Scores):
    support: int


@dataclass(frozen=True)
class SpanMetrics:
    """Micro, macro and per-type P/R/F1 under one named matching convention."""

    description: str
    micro: Scores
    macro: Scores
    per_type: dict[str, TypeScores]


@dataclass
class TypeErrors:
    """Where each gold span of one type ended up; the five counts sum to its gold spans."""

    correct: int = 0
    wrong_type: int = 0
    boundary: int = 0
    type_and_boundary: int = 0
    missed: int = 0


@dataclass(frozen=True)
class SpanText:
    start: int
    end: int
    type: str
    text: str | None


@dataclass(frozen=True)
class ErrorExample:
    """One wrong gold span (or one spurious prediction, then `gold` is None), located for a human."""

    kind: str
    sentence_index: int
    source: str | None
    sentence: str | None
    gold: SpanText | None
    pred: list[SpanText]


@dataclass(frozen=True)
class Confusion:
    """Word-level tag confusion: matrix[gold][pred] over `labels`, 'O' first."""

    labels: list[str]
    matrix: list[list[int]]


@dataclass(frozen=True)
class Counts:
    sentences: int
    words: int
    gold_spans: int
    pred_spans: int


@dataclass
class EvaluationReport:
    """Everything `evaluate_tags` measured, with strict and lenient span metrics side by side."""

    scheme: str
    strict: SpanMetrics
    lenient: SpanMetrics
    token_accuracy: float
    confusion: Confusion
    errors: dict[str, TypeErrors]
    spurious: int
    type_confusions: dict[str, int]
    examples: dict[str, list[ErrorExample]]
    counts: Counts
    # mean -log p(gold label) per word; only models that score every label give it. Smooth where F1
    # is still flat (early in training), so successive halving can rank short runs by it.
    log_loss: float | None = None
    # invalid tag transitions of the gold tags (None: not counted) and of the predictions
    repairs: dict[str, Repairs | None] = field(default_factory=dict)

    @property
    def headline(self) -> float:
        """The single number to compare runs by: strict micro F1, or token accuracy for plain tags."""
        return self.token_accuracy if self.scheme == "NONE" else self.strict.micro.f1

    @property
    def headline_name(self) -> str:
        return "token accuracy" if self.scheme == "NONE" else "strict micro F1"

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "headline": {"name": self.headline_name, "value": self.headline},
            "strict": asdict(self.strict),
            "lenient": asdict(self.lenient),
            "token_accuracy": self.token_accuracy,
            "confusion": asdict(self.confusion),
            "errors": {
                **{type_: asdict(buckets) for type_, buckets in self.errors.items()},
                "spurious": self.spurious,
                "type_confusions": dict(self.type_confusions),
            },
            "examples": {
                bucket: [asdict(example) for example in examples] for bucket, examples in self.examples.items()
            },
            "counts": asdict(self.counts),
            "repairs": {side: asdict(r) if r is not None else None for side, r in self.repairs.items()},
            **({"log_loss": self.log_loss} if self.log_loss is not None else {}),
        }

    def write_json(self, path: str | Path, **extra: Any) -> Path:
        """The report (and `extra` top-level fields), replacing `path` whole or not at all."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, json.dumps({**self.to_dict(), **extra}, indent=2, ensure_ascii=False) + "\n")
        return path

    def render(self, console: Console | None = None) -> None:
        """Print overall, per-type and error tables; the confusion matrix only for small label sets."""
        console = console or Console()
        c = self.counts
        spans = "" if self.scheme == "NONE" else f", {c.gold_spans} gold / {c.pred_spans} predicted spans"
        console.print(
            f"[bold]{self.headline_name}: {_pct(self.headline)}[/bold]  "
            f"(scheme {self.scheme}, {c.sentences} sentences, {c.words} words{spans}"
            + (f", log loss {self.log_loss:.4f})" if self.log_loss is not None else ")")
        )
        for side, repairs in self.repairs.items():
            if repairs is not None and repairs.transitions:  # one unwrapped line: it holds a path to copy
                console.print(f"[yellow]{repairs.describe(side)}[/yellow]", soft_wrap=True, highlight=False)
        console.print(self._overall_table())
        console.print(f"  {self.strict.description}")
        if self.scheme != "NONE":
            console.print(f"  {self.lenient.description}")
        console.print(self._per_type_table())
        if self.scheme != "NONE":
            confusions = ", ".join(
                f"{pair} {n}" for pair, n in sorted(self.type_confusions.items(), key=lambda kv: -kv[1])[:5]
            )
            console.print(f"spurious predicted spans: {self.spurious}; type confusions: {confusions or 'none'}")
        if len(self.confusion.labels) <= MAX_RENDERED_LABELS:
            console.print(self._confusion_table())
        else:
            console.print(f"confusion matrix ({len(self.confusion.labels)} labels) omitted; see the JSON report")
        self._print_examples(console, per_bucket=RENDERED_EXAMPLES)

    def _print_examples(self, console: Console, per_bucket: int) -> None:
        """A couple of concrete errors per type: what users read before they trust a number."""
        shown = [(bucket, ex) for bucket, items in sorted(self.examples.items()) for ex in items[:per_bucket]]
        if not shown:
            return
        console.print(f"[bold]Error examples[/bold] (up to {per_bucket} per type; all in the JSON report)")
        for bucket, ex in shown:
            gold = f"{ex.gold.text!r}:{ex.gold.type}" if ex.gold else "-"
            pred = ", ".join(f"{p.text!r}:{p.type}" for p in ex.pred) or "-"
            where = f" [dim]{ex.source}[/dim]" if ex.source else ""
            console.print(f"  {bucket:>9} {ex.kind:<17} gold {gold}  pred {pred}{where}", highlight=False)

    def _overall_table(self) -> Table:
        table = Table(title="Overall")
        for column in ("metric", "P", "R", "F1"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        if self.scheme == "NONE":  # per-tag scores over words: strict and lenient are the same
            rows = [("per-tag", self.strict)]
        else:
            rows = [("strict", self.strict), ("lenient", self.lenient)]
        for name, metrics in rows:
            for average in ("micro", "macro"):
                s: Scores = getattr(metrics, average)
                table.add_row(f"{name} {average}", _pct(s.precision), _pct(s.recall), _pct(s.f1))
        table.add_row("token accuracy", "", "", _pct(self.token_accuracy))
        return table

    def _per_type_table(self) -> Table:
        if self.scheme == "NONE":
            table = Table(title="Per tag")
            for column in ("tag", "support", "P", "R", "F1"):
                table.add_column(column, justify="left" if column == "tag" else "right")
            for tag, s in sorted(self.strict.per_type.items()):
                table.add_row(tag, str(s.support), _pct(s.precision), _pct(s.recall), _pct(s.f1))
            return table
        table = Table(title="Per type (support = gold spans)")
        buckets = ("correct", "wrong type", "boundary", "type+bound", "missed")
        for column in ("type", "support", "strict F1", "lenient F1", *buckets):
            table.add_column(column, justify="left" if column == "type" else "right")
        types = sorted(set(self.strict.per_type) | set(self.lenient.per_type) | set(self.errors))
        for type_ in types:
            b = self.errors.get(type_, TypeErrors())
            strict, lenient = self.strict.per_type.get(type_), self.lenient.per_type.get(type_)
            support = b.correct + b.wrong_type + b.boundary + b.type_and_boundary + b.missed
            table.add_row(
                type_,
                str(support),
                _pct(strict.f1) if strict else "—",
                _pct(lenient.f1) if lenient else "—",
                *(str(n) for n in (b.correct, b.wrong_type, b.boundary, b.type_and_boundary, b.missed)),
            )
        return table

    def _confusion_table(self) -> Table:
        table = Table(title="Tag confusion (rows gold, columns predicted)")
        table.add_column("gold \\ pred")
        for label in self.confusion.labels:
            table.add_column(label, justify="right")
        for i, (label, row) in enumerate(zip(self.confusion.labels, self.confusion.matrix)):
            cells = [f"[bold]{n}[/bold]" if i == j else (str(n) if n else "·") for j, n in enumerate(row)]
            table.add_row(label, *cells)
        return table


RENDERED_EXAMPLES = 2


def _pct(value: float) -> str:
    """Percent with two decimals, the convention of conlleval and of NER papers."""
    return f"{100 * value:.2f}"
