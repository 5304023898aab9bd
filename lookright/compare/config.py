"""What a comparison trains: the shared setup and the methods, checked before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..training.config import TrainConfig
from .methods import BEST, MethodSpec


@dataclass
class CompareConfig:
    base: TrainConfig  # data, budget, seed and decoder shared by every method
    methods: list[MethodSpec]
    output: str = "runs/compare"
    groups: int = 4  # unmask:BEST searches configs of this many groups
    best_among: list[str] | None = None  # candidates for unmask:BEST; default all 2^groups
    parallel: int = 1
    submit: str | None = None
    seeds: list[int] | None = None  # every method trained once per seed, reported as mean ± sd (default: base.seed)

    @property
    def seed_list(self) -> list[int]:
        return self.seeds or [self.base.seed]

    def validate(self) -> None:
        from ..evaluation.seeds import parse_seeds

        if self.seeds is not None:
            self.seeds = parse_seeds(self.seeds)
        self.base.validate()
        if not self.base.test:
            raise ValueError("a comparison reports test scores: give --test")
        if not (self.base.validation or self.base.validation_holdout):
            raise ValueError("methods are selected on validation data: give --validation or --validation-holdout")
        for spec in self.methods:
            replace(self.base, **{k: v for k, v in spec.overrides.items() if v != BEST}).validate()
