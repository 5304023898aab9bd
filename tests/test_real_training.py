"""Slow: the real default model learns NER from a CoNLL-2003 slice (run with `make test-slow`)."""

from __future__ import annotations

import pytest

from lookright.inference import Tagger
from lookright.training import TrainConfig, train

pytestmark = pytest.mark.slow


def test_default_model_learns_ner_from_a_thousand_sentences(conll2003, tmp_path):
    result = train(
        TrainConfig(
            train=str(conll2003 / "train.txt"),
            validation=str(conll2003 / "validation.txt"),
            label_column=3,
            max_train_sentences=1000,
            max_validation_sentences=300,
            epochs=1,
            output=str(tmp_path),
        )
    )
    assert result.validation.strict.micro.f1 > 0.4  # a random or untrained head scores ~0
    tagger = Tagger.load(tmp_path)
    doc = tagger("Peter Blackburn met officials of the European Commission in Brussels on Monday .")
    assert any(span.label in {"PER", "ORG", "LOC"} for span in doc.spans)
