"""The `Method` interface: everything that differs between labelling methods, declared in one class.

A labelling method is how a model turns words into labels: a token-classification head over a
decoder with some blocks unmasked (`unmask`), over the plain causal decoder (`causal`), over a
sentence read twice (`repeat`), over an MLM encoder (`encoder`), or spans the decoder writes
(`generative`). Training (`lookright.training.train`), the model card, loading
(`lookright.inference.load_tagger`) and `lookright compare` run the steps all methods share and ask
the method for the rest, so a new method is one subclass plus `lookright.methods.register(...)`.

This module imports nothing heavy: configurations are checked and described without torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from rich.console import Console

    from ..data.sentence import Sentence
    from ..evaluation import EvaluationReport
    from ..inference.tagger import Tagger
    from ..modeling.artifact import ModelCard
    from ..modeling.loading import Precision
    from ..training.config import TrainConfig
    from ..training.splits import RunData

FINETUNE_NAMES = {"lora": "LoRA", "full": "full fine-tuning"}


@dataclass(frozen=True)
class Selection:
    """How checkpoints are compared on validation: a Trainer metric and its direction."""

    metric: str  # "f1" (word-level, computed by lookright) or "eval_loss"
    greater_is_better: bool
    description: str  # for the model card


F1_SELECTION = Selection("f1", True, "best validation f1")
LOSS_SELECTION = Selection("eval_loss", False, "lowest validation loss")


@dataclass
class LoadedModel:
    """A freshly loaded base model, its tokenizer, and the model spec the card records."""

    model: Any
    tokenizer: Any
    spec: str | None  # None: the bundled decoder


@dataclass
class Encoded:
    """A run's data as the method feeds it to the Trainer, and what its later steps need."""

    train: list[dict[str, list[int]]]
    validation: list[dict[str, list[int]]] | None
    summary: str  # the data in the opening line, e.g. "1,024 windows (20,480 subwords), 9 labels (IOB2)"
    record: dict[str, Any] = field(default_factory=dict)  # extra entries of the card's training record
    state: Any = None  # method-specific: validation windows, the demonstration pool...


@dataclass
class TrainerParts:
    """What the method hands transformers' Trainer."""

    collator: Callable
    compute_loss: Callable | None = None  # None: the model's own loss
    compute_metrics: Callable | None = None  # validation metrics, when checkpoints are selected on them
    preprocess_logits: Callable | None = None
    arguments: dict[str, Any] = field(default_factory=dict)  # TrainingArguments overrides


class Method(ABC):
    """One labelling method. Subclasses set `name` and implement the training and loading steps.

    Class attributes are the method's declarations (checked and shown without loading a model);
    methods that take a `TrainConfig` answer for that configuration.
    """

    name: ClassVar[str]
    task: ClassVar[str] = "token"  # "token": a classification head labels subwords; "causal": the LM head writes
    finetune_modes: ClassVar[tuple[str, ...]] = ("lora", "full")
    default_finetune: ClassVar[str] = "lora"
    learning_rates: ClassVar[dict[str, float]] = {"lora": 1e-3, "full": 5e-5}  # per fine-tuning mode
    default_model: ClassVar[str | None] = None  # None: the bundled SmolLM2-135M
    writes_spans: ClassVar[bool] = False  # needs span labels (BIO, BIOES...), not per-word tags such as POS
    selection: ClassVar[Selection] = F1_SELECTION  # how checkpoints are chosen on validation
    extra_files: ClassVar[tuple[str, ...]] = ()  # files `save_extras` writes, which an export copies too
    takes_unmask: ClassVar[bool] = False  # whether `--unmask` means anything to it
    compare_usage: ClassVar[str] = ""  # how `compare --methods` names it, e.g. "repeat[:R]"; default: the name

    # --- the configuration ----------------------------------------------------------------------

    def validate(self, cfg: TrainConfig) -> None:
        """Refuse settings this method cannot train with (before anything loads)."""
        if cfg.finetune_mode not in self.finetune_modes:
            modes = " or ".join(FINETUNE_NAMES.get(m, m) for m in self.finetune_modes)
            raise ValueError(f"method {self.name} fine-tunes with {modes} only")
        if cfg.unmask is not None and not self.takes_unmask:
            raise ValueError(
                f"--unmask does not apply to method {self.name!r}: use method unmask, or repeat to combine it "
                "with sequence repetition"
            )

    def learning_rate(self, finetune: str) -> float:
        """The learning rate when none is given, for a fine-tuning mode (`lora` or `full`)."""
        return self.learning_rates[finetune]

    def unmask_config(self, cfg: TrainConfig) -> str:
        """The unmasking applied to the decoder: one causal group unless the method unmasks."""
        return "0"

    def repeats(self, cfg: TrainConfig) -> int:
        """Extra copies of each window the model reads (sequence repetition)."""
        return 0

    def describe(self, cfg: TrainConfig) -> str:
        """What runs, in a few words (logs, comparison tables)."""
        return self.name

    def train_scheme(self, cfg: TrainConfig) -> str:
        """The scheme the model learns."""
        return cfg.train_scheme

    def compare_settings(self, argument: str, spec: str, encoder_model: str | None = None) -> dict[str, Any]:
        """The train settings of `compare --methods NAME[:ARGUMENT]`."""
        if argument:
            raise ValueError(f"method {spec!r}: {self.name} takes no argument")
        return {"method": self.name}

    # --- training (lookright.training.train calls these in this order) --------------------------

    def resolve(self, cfg: TrainConfig, train_sentences: int) -> TrainConfig:
        """The configuration that trains, once the training set is read (`auto` picks a method by its size)."""
        return cfg

    @abstractmethod
    def load_model(self, cfg: TrainConfig, labels: list[str], precision: Precision) -> LoadedModel:
        """The base model to fine-tune (with a fresh head over `labels` where it has one)."""

    def card_fields(self, cfg: TrainConfig, data: RunData) -> dict[str, Any]:
        """Model card fields this method sets (`unmask`, `repeat`, `generation`...)."""
        return {"unmask": self.unmask_config(cfg)}

    @abstractmethod
    def encode(self, cfg: TrainConfig, loaded: LoadedModel, card: ModelCard, data: RunData) -> Encoded:
        """Training (and validation) examples as the Trainer reads them."""

    def prepare_model(self, cfg: TrainConfig, model, precision: Precision):
        """The model as it trains: LoRA adapters (the head trained fully) unless fine-tuning fully."""
        if cfg.finetune_mode != "lora":
            return model
        from ..modeling.adapters import LoraSettings, add_lora
        from ..modeling.lora_blocks import lora_block_indices

        blocks = None
        if cfg.lora_blocks != "all":
            from ..unmasking.config import UnmaskConfig
            from ..unmasking.state import find_decoder

            depth = find_decoder(model).num_layers
            unmasked = UnmaskConfig.resolve(self.unmask_config(cfg), depth).layers
            blocks = lora_block_indices(cfg.lora_blocks, depth, unmasked)
        settings = LoraSettings(r=cfg.lora_r, alpha=cfg.lora_alpha, dropout=cfg.lora_dropout, targets=cfg.lora_targets,
                                blocks=blocks)
        return add_lora(model, settings, quantized=precision.quantize_4bit, task=self.task)

    @abstractmethod
    def trainer_parts(self, cfg: TrainConfig, encoded: Encoded, tokenizer, card: ModelCard, selecting: bool) -> TrainerParts:
        """Collator, loss and (when `selecting`) the validation metrics the Trainer runs with."""

    def save_extras(self, encoded: Encoded, output: Path) -> None:
        """Files beyond weights, config, tokenizer and card that the model directory needs."""

    @abstractmethod
    def scoring_tagger(self, model, tokenizer, card: ModelCard, encoded: Encoded, cfg: TrainConfig) -> Tagger:
        """The trained (merged) model as the tagger a reload gives, to score validation and test data."""

    def evaluate(
        self, tagger: Tagger, sentences: list[Sentence], tags: list[list[str]], *, console: Console, split: str
    ) -> EvaluationReport:
        """Score the trained model on a labelled split (`split`: validation or test)."""
        return tagger.score(sentences, tags)

    # --- loading --------------------------------------------------------------------------------

    @property
    @abstractmethod
    def tagger_class(self) -> type[Tagger]:
        """The `Tagger` subclass a directory trained with this method loads as."""
