"""The transformers Trainer setup every method shares: arguments, callbacks, resume, the run record.

Labelling methods differ in their data, collator, loss and how a checkpoint is selected (word-level
F1 vs validation loss; `lookright.methods`); the schedule, precision, checkpointing, resume and what
the model card records about the run are the same, so they are written once here.
"""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from torch.utils.data import SequentialSampler
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import ExportableState, TrainerState
from transformers.trainer_pt_utils import LengthGroupedSampler

from .. import __version__
from ..console import print_plain
from ..data.sentence import Sentence
from ..errors import LookrightError
from ..evaluation import EvaluationReport
from ..methods.base import Selection
from ..modeling.artifact import ModelCard
from ..modeling.loading import Precision
from ..unmasking.easing import easing_weight, set_right_context_weight
from .config import TrainConfig
from .distributed import is_main_process, world_size
from .interrupt import StopRequest, stop_on_signal
from .progress import RichProgressCallback
from .rundir import CHECKPOINT_DIR, TRAINER_STATE, claim_output, last_checkpoint
from .stopping import EarlyStoppingAfterFirstScore, not_scored_yet


@dataclass
class TrainResult:
    """Where the model went and what it measured."""

    output: Path
    validation: EvaluationReport | None
    test: EvaluationReport | None
    train_seconds: float
    tokens_per_second: float
    peak_memory_mb: float
    steps: int
    total_steps: int
    tokens_seen: int


class LookrightTrainer(Trainer):
    """Trainer whose length groups span the global batch and whose validation keeps dataset order.

    transformers reuses the randomised length-grouped sampler for evaluation when training uses
    it; stitching windows back into sentences needs predictions in dataset order.
    """

    def _get_train_sampler(self, train_dataset=None):
        """Length groups sized by the *global* batch, so N processes see the batches one process would.

        transformers sizes them by the per-device batch; then a 2-process run would draw different
        batches than a 1-process run with the same global batch, seed and data.
        """
        if self.args.train_sampling_strategy != "group_by_length" or self.args.world_size == 1:
            return super()._get_train_sampler(train_dataset)
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        global_batch = (
            self.args.per_device_train_batch_size * self.args.world_size * self.args.gradient_accumulation_steps
        )
        return LengthGroupedSampler(global_batch, dataset=dataset, model_input_name="input_ids")

    def _load_callback_state(self) -> None:
        """After a resume, give every stateful callback of this run an entry in the loaded state.

        transformers saves a checkpoint by updating the entry named after each stateful callback and
        fails with a KeyError where the checkpoint's state has none, i.e. whenever it was written by
        a run with other callbacks (an earlier lookright, whose early stopping had another class).
        """
        super()._load_callback_state()
        saved = self.state.stateful_callbacks
        for callback in [*self.callback_handler.callbacks, self.control]:
            if isinstance(callback, ExportableState):
                saved.setdefault(type(callback).__name__, callback.state())

    def _determine_best_metric(self, metrics: dict[str, float], trial: Any) -> bool:
        """As transformers decides, except that while F1 has never left 0 the latest checkpoint is the best.

        transformers keeps the first of equal scores, so a run whose validation F1 stayed 0 (250
        tweets, a rare label set) would end on its first-epoch weights although the loss kept falling.
        """
        before = self.state.best_metric
        if super()._determine_best_metric(metrics, trial):
            return True
        name = self.args.metric_for_best_model or ""
        value = metrics.get(name if name.startswith("eval_") else f"eval_{name}")
        if before is not None and not_scored_yet(self.args, before) and value is not None and value <= 0:
            self.state.best_global_step = self.state.global_step
            return True
        return False

    def restore_finished(self, checkpoint: str) -> None:
        """Take a finished run's final weights from its checkpoints instead of training on.

        transformers resumes from a run's last step by taking one step more when that step falls
        mid-epoch (`max_steps`, fractional epochs): a run whose model save failed would then come back
        as step 7 of 6 with one more evaluation.
        """
        self.state = TrainerState.load_from_json(str(Path(checkpoint) / TRAINER_STATE))
        best = self.state.best_model_checkpoint if self.args.load_best_model_at_end else None
        self._load_from_checkpoint(best if best and Path(best).is_dir() else checkpoint)

    def _get_eval_sampler(self, eval_dataset):
        if eval_dataset is None or self.args.world_size > 1:
            return None  # distributed: accelerate shards in order and gather_for_metrics restores it
        return SequentialSampler(eval_dataset)


class StopAtFraction(TrainerCallback):
    """Pause after a share of the run's steps, with a checkpoint; the LR schedule stays the full run's.

    A resumed run then continues exactly as the uninterrupted run would have (successive halving
    relies on this: a config's partial result is a prefix of its full run).
    """

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= math.ceil(self.fraction * state.max_steps):
            control.should_training_stop = True
            control.should_save = True


def planned_steps(cfg: TrainConfig, rows: int) -> tuple[int, int]:
    """The run's optimizer steps and how often it evaluates and saves a checkpoint (once per epoch by default)."""
    steps_per_epoch = math.ceil(rows / (cfg.batch_size * cfg.grad_accum * world_size()))
    total_steps = cfg.max_steps if cfg.max_steps > 0 else math.ceil(steps_per_epoch * cfg.epochs)
    return total_steps, max(1, min(cfg.eval_every or steps_per_epoch, total_steps))


def training_arguments(
    cfg: TrainConfig, precision: Precision, rows: int, *, selection: Selection | None, **overrides: Any
) -> TrainingArguments:
    """One schedule for every method: linear warmup/decay over the whole run, checkpoints at each
    evaluation (once per epoch unless `eval_every`), the best kept when `selection` is given."""
    total_steps, eval_every = planned_steps(cfg, rows)
    on_gpu = precision.device.startswith("cuda")
    settings: dict[str, Any] = {
        "output_dir": str(Path(cfg.output) / CHECKPOINT_DIR),
        "per_device_train_batch_size": cfg.batch_size,
        "per_device_eval_batch_size": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "num_train_epochs": cfg.epochs,
        "max_steps": cfg.max_steps,
        "learning_rate": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "warmup_steps": round(cfg.warmup_ratio * total_steps),
        "lr_scheduler_type": "linear",
        "max_grad_norm": 1.0,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "train_sampling_strategy": "group_by_length",
        "eval_strategy": "steps" if selection else "no",
        "eval_steps": eval_every,
        "save_strategy": "steps",
        "save_steps": eval_every,
        "save_total_limit": cfg.keep_checkpoints,
        "load_best_model_at_end": selection is not None,
        "metric_for_best_model": selection.metric if selection else None,
        "greater_is_better": selection.greater_is_better if selection else True,
        "logging_steps": max(1, min(10, eval_every // 4)),  # the training loss in progress lines stays recent
        "include_num_input_tokens_seen": "non_padding",
        "report_to": "none",
        "bf16": precision.autocast_bf16 and precision.dtype != torch.float16,
        "fp16": on_gpu and precision.dtype == torch.float16,
        "use_cpu": not on_gpu,
        "activation_checkpointing": cfg.gradient_checkpointing,
        "dataloader_num_workers": 0,
        "remove_unused_columns": False,
        "disable_tqdm": False,
    }
    settings.update(overrides)
    return TrainingArguments(**settings)


class UnmaskEasing(TrainerCallback):
    """Ease unmasked blocks in over the first `fraction` of the steps (see `unmasking.easing`).

    The weight is set for each training step and back at 1 after it, so validation and the saved
    model always see the blocks fully unmasked.
    """

    def __init__(self, fraction: float) -> None:
        self.fraction = fraction

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        set_right_context_weight(model, easing_weight(state.global_step, state.max_steps, self.fraction))

    def on_step_end(self, args, state, control, model=None, **kwargs):
        set_right_context_weight(model, 1.0)


def training_callbacks(cfg: TrainConfig, console: Console, selecting: bool) -> list[TrainerCallback]:
    """Progress once (main process), a successive-halving pause, unmask easing, early stopping on the selection metric
    (patience counted from the first nonzero F1: `stopping`)."""
    callbacks: list[TrainerCallback] = [RichProgressCallback(console, log_every_seconds=cfg.log_every_seconds)]
    if cfg.stop_after_fraction is not None and cfg.stop_after_fraction < 1:
        callbacks.append(StopAtFraction(cfg.stop_after_fraction))
    if cfg.unmask_easing:
        callbacks.append(UnmaskEasing(cfg.unmask_easing))
    if selecting and cfg.patience:
        callbacks.append(EarlyStoppingAfterFirstScore(early_stopping_patience=cfg.patience))
    return callbacks


def run_training(
    trainer: Trainer, cfg: TrainConfig, console: Console | None = None, requested: TrainConfig | None = None
) -> TrainResult:
    """Train (resuming from the last checkpoint when asked) and measure only what this call spent.

    Ctrl-C or SIGTERM ends training with a checkpoint after the current step (`interrupt`).

    The output directory was checked before anything loaded (`rundir.check_output`); here, as the
    first step starts, it is cleared when overwriting and this run's settings are recorded in it.
    """
    output = Path(cfg.output)
    checkpoint_dir = output / CHECKPOINT_DIR
    resume_from, cut_off = None, []
    if cfg.resume:
        last, cut_off = last_checkpoint(output)
        if last is None:
            raise LookrightError(f"--resume: no checkpoint found in {checkpoint_dir}")
        resume_from = str(last)
    state = _checkpoint_state(resume_from) if resume_from else {}  # read once: the step reached, the tokens seen
    finished = 0 < int(state.get("max_steps") or 0) <= int(state.get("global_step") or 0)
    out = console or Console(stderr=True)
    if is_main_process():
        claim_output(requested or cfg)  # as asked (`auto`), so that the same command resumes it
        for checkpoint in cut_off:  # rewritten when training reaches its step again
            print_plain(out, f"skipping {checkpoint}: its save was cut off (no complete {TRAINER_STATE})")
        if resume_from is not None:
            print_plain(out, f"resuming from {resume_from}" + (": the run's last step, nothing left to train"
                                                               if finished else ""))
    tokens_before = int(state.get("num_input_tokens_seen") or 0)
    started = time.perf_counter()
    if finished:
        trainer.restore_finished(resume_from)
    else:
        stop = StopRequest()  # Ctrl-C / SIGTERM: a checkpoint after this step, then TrainingInterrupted
        trainer.add_callback(stop)
        with stop_on_signal(stop, out):
            trainer.train(resume_from_checkpoint=resume_from)
        trainer.remove_callback(stop)
        if stop.signal_name is not None:
            raise stop.interrupted(output, trainer.state.global_step, trainer.state.max_steps)
    train_seconds = time.perf_counter() - started
    if is_main_process() and _never_scored(trainer):
        print_plain(
            out,
            f"warning: validation {trainer.args.metric_for_best_model} stayed 0 in every evaluation, so nothing "
            "on validation was labelled right; the last checkpoint is kept. Train longer (--epochs) or check "
            "that the training labels occur in the validation set.",
        )
    tokens = (trainer.state.num_input_tokens_seen or 0) - tokens_before  # spent by this call
    return TrainResult(
        output=output,
        validation=None,
        test=None,
        train_seconds=train_seconds,
        tokens_per_second=tokens / train_seconds if train_seconds else 0.0,
        peak_memory_mb=peak_memory_mb(),
        steps=trainer.state.global_step,
        total_steps=trainer.state.max_steps,
        tokens_seen=tokens,
    )


def training_record(
    cfg: TrainConfig,
    result: TrainResult,
    trainer: Trainer,
    precision: Precision,
    *,
    source_scheme: str,
    train_sentences: int,
    validation_sentences: int,
    selection: Selection | None,
    **extra: Any,
) -> dict[str, Any]:
    """What the model card says about how the model was trained (enough to rerun and to compare)."""
    return {
        "config": cfg.to_dict(),
        "source_scheme": source_scheme,
        "train_sentences": train_sentences,
        "validation_sentences": validation_sentences,
        **extra,
        "steps": result.steps,
        "total_steps": result.total_steps,
        "train_seconds": round(result.train_seconds, 1),
        "tokens_seen": result.tokens_seen,
        "tokens_per_second": round(result.tokens_per_second, 1),
        "peak_memory_mb": round(result.peak_memory_mb, 1),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "selection": selection.description if selection else "none (last step)",
        "lookright_version": __version__,
        "torch_version": torch.__version__,
        "transformers_version": version("transformers"),
        "attn_implementation": cfg.attn_implementation,
        "precision": str(precision.dtype),
    }


def record_inference_speed(card: ModelCard, sentences: list[Sentence], seconds: float) -> None:
    """Words/s of the test-set evaluation (the same batched path as `Tagger.predict`) into the card."""
    words = sum(len(s.tokens) for s in sentences)
    card.training["test_eval_seconds"] = round(seconds, 1)
    card.training["test_words_per_second"] = round(words / seconds, 1) if seconds else 0.0


def write_final_card(card: ModelCard, result: TrainResult, output: Path) -> None:
    """The card again, now with the scores of the saved (merged) model and the peak memory of scoring it."""
    card.training["peak_memory_mb_with_evaluation"] = round(peak_memory_mb(), 1)
    card.metrics = {name: r.to_dict() for name, r in (("validation", result.validation), ("test", result.test)) if r}
    card.write(output)


def peak_memory_mb() -> float:
    """Peak resident memory of this process (CPU) or peak allocated GPU memory, in MiB.

    On Linux this is `VmHWM` of the process's own address space: `ru_maxrss` would also count the
    parent's peak at fork time (kept across exec), so a small run started by a big one (a sweep or
    comparison process) would report the parent's memory.
    """
    if torch.cuda.is_available() and torch.cuda.max_memory_allocated() > 0:
        return torch.cuda.max_memory_allocated() / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / 2**20


def _never_scored(trainer: Trainer) -> bool:
    """Whether checkpoints were selected on a greater-is-better score (F1) that no evaluation lifted above 0."""
    best = trainer.state.best_metric  # None: no evaluation ran (a paused run), so nothing to warn of
    return trainer.args.load_best_model_at_end and best is not None and not_scored_yet(trainer.args, best)


def _checkpoint_state(checkpoint: str) -> dict[str, Any]:
    return json.loads((Path(checkpoint) / TRAINER_STATE).read_text())
