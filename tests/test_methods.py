"""The comparison methods: sequence repetition, early exit, encoder baseline, generative labelling.

Mechanics on tiny random decoders (no claims about quality) and the real packaged MiniLM encoder.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lookright.alignment.encoder import WindowEncoder
from lookright.cli import app
from lookright.data.schemes import Span
from lookright.errors import DataError, ModelError
from lookright.generative.constrained import SpanGrammar
from lookright.generative.demos import Demo, DemoPool
from lookright.generative.prompts import PieceTokenizer, prompt_text, response_text, type_names
from lookright.generative.tagger import GenerativeTagger
from lookright.inference import Tagger, TokenTagger
from lookright.inference.scoring import score_windows
from lookright.methods import register, unregister
from lookright.methods.token import TokenMethod
from lookright.modeling.artifact import ModelCard
from lookright.modeling.early_exit import keep_first_blocks
from lookright.modeling.loading import Precision, load_token_classifier, load_tokenizer
from lookright.training import TrainConfig, train

LABELS = ["O", "B-PER", "I-PER"]


def _config(model, conll2003, output, **overrides) -> TrainConfig:
    """Tiny budgets; the test split is the first 80 test sentences (written next to the run)."""
    output.mkdir(parents=True, exist_ok=True)
    test_file = output.parent / f"{output.name}-test.txt"
    test_file.write_text("\n\n".join((conll2003 / "test.txt").read_text().split("\n\n")[:80]) + "\n")
    settings = dict(
        train=str(conll2003 / "train.txt"), validation=str(conll2003 / "validation.txt"),
        test=str(test_file), output=str(output), model=None if model is None else str(model),
        label_column=3, max_train_sentences=48, max_validation_sentences=16, max_steps=3, batch_size=8,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


# --- configuration -----------------------------------------------------------------------------


def test_method_validation_and_legacy_configs():
    assert TrainConfig(train="x", method="full").finetune == "full"  # configs written before --finetune
    assert TrainConfig(train="x", method="lora").method == "unmask"
    assert TrainConfig(train="x", method="encoder").finetune_mode == "full"
    assert TrainConfig(train="x", method="repeat").unmask_config == "0"
    assert TrainConfig(train="x").unmask_config == "0011"
    with pytest.raises(ValueError, match="unknown method"):
        TrainConfig(train="x", method="bogus").validate()
    with pytest.raises(ValueError, match="does not apply to method 'causal'"):
        TrainConfig(train="x", method="causal", unmask="0011").validate()
    assert TrainConfig(train="x", method="repeat", unmask="0011").unmask_config == "0011"
    with pytest.raises(ValueError, match="invalid unmasking config"):
        TrainConfig(train="x", method="repeat", unmask="0021").validate()
    with pytest.raises(ValueError, match="LoRA only"):
        TrainConfig(train="x", method="generative", finetune="full").validate()
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        TrainConfig(train="x", method="repeat", repeat=0).validate()


def test_a_format_1_card_is_read_as_unmask_with_its_finetune_mode(tmp_path):
    card = {"labels": LABELS, "scheme": "IOB2", "method": "full", "base_model": "default", "max_length": 128,
            "stride": 32, "unmask": "0011", "format_version": 1}
    (tmp_path / "lookright.json").write_text(json.dumps(card))
    read = ModelCard.read(tmp_path)
    assert (read.method, read.finetune) == ("unmask", "full")


# --- sequence repetition and early exit ----------------------------------------------------------


def test_repetition_lets_a_causal_model_see_the_right_context(tiny_model_dir):
    """With r=1 the first word's score depends on the last word; without repetition it cannot."""
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_token_classifier(tiny_model_dir, LABELS, pad_token_id=tokenizer.pad_token_id).eval()
    encoder = WindowEncoder(tokenizer, 64, 8)
    a, b = encoder.encode([["Peter", "lives", "in", "Berlin"], ["Peter", "lives", "in", "Paris"]])
    for repeats, same in ((0, True), (1, False)):
        first_a, first_b = (score_windows(model, [w], tokenizer.pad_token_id, repeats=repeats)[0][0] for w in (a, b))
        assert np.allclose(first_a, first_b, atol=1e-6) is same, repeats


def test_repeated_scoring_is_batch_and_padding_independent(tiny_model_dir):
    """In fp32, to the last bit (bf16 rounds per batch shape)."""
    tokenizer = load_tokenizer(tiny_model_dir)
    fp32 = Precision.choose("fp32", "none", "cpu")
    model = load_token_classifier(tiny_model_dir, LABELS, pad_token_id=tokenizer.pad_token_id, precision=fp32).eval()
    windows = WindowEncoder(tokenizer, 64, 8).encode([["a", "short", "one"], ["a", "much", "longer", "sentence", "than", "that"]])
    together = score_windows(model, windows, tokenizer.pad_token_id, repeats=2)
    alone = [score_windows(model, [w], tokenizer.pad_token_id, repeats=2)[0] for w in windows]
    for x, y in zip(together, alone):
        assert x.shape == y.shape and np.allclose(x, y, atol=1e-5)


def test_repeat_with_unmasking_trains_reloads_unmasked_and_reproduces_its_score(tiny_model_dir, conll2003, tmp_path):
    from lookright.unmasking import saved_unmasking

    run = train(_config(tiny_model_dir, conll2003, tmp_path / "ru", method="repeat", unmask="001", exit_layer=3,
                        max_steps=2))
    card = ModelCard.read(run.output)
    assert (card.method, card.repeat, card.unmask) == ("repeat", 1, "001")
    tagger = Tagger.load(run.output)
    assert saved_unmasking(tagger.model.config).layers == (2,)
    report = tagger.evaluate(run.output.parent / f"{run.output.name}-test.txt")
    assert report.strict.micro.f1 == pytest.approx(run.test.strict.micro.f1)


def test_compare_spec_combines_repetition_and_unmasking():
    from lookright.compare.methods import parse_method

    assert parse_method("repeat:2:0011").overrides == {"method": "repeat", "repeat": 2, "unmask": "0011"}
    assert parse_method("repeat").overrides == {"method": "repeat", "repeat": 1}
    with pytest.raises(ValueError, match="invalid unmasking config"):
        parse_method("repeat:1:01x1")


def test_keep_first_blocks_truncates_model_and_config(tiny_model_dir):
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_token_classifier(tiny_model_dir, LABELS, pad_token_id=tokenizer.pad_token_id)
    keep_first_blocks(model, 2)
    assert model.config.num_hidden_layers == 2 and len(model.model.layers) == 2
    with pytest.raises(Exception, match="outside 1..2"):
        keep_first_blocks(model, 3)


@pytest.fixture(scope="module")
def repeat_run(tiny_model_dir, conll2003, tmp_path_factory):
    return train(_config(tiny_model_dir, conll2003, tmp_path_factory.mktemp("repeat"), method="repeat", repeat=2, exit_layer=3))


def test_repeat_run_reloads_as_trained_and_reproduces_its_test_score(repeat_run, conll2003):
    card = ModelCard.read(repeat_run.output)
    assert (card.method, card.repeat, card.unmask) == ("repeat", 2, "0")
    assert json.loads((repeat_run.output / "config.json").read_text())["num_hidden_layers"] == 3
    tagger = Tagger.load(repeat_run.output)
    assert tagger.model.config.num_hidden_layers == 3
    report = tagger.evaluate(repeat_run.output.parent / f"{repeat_run.output.name}-test.txt")
    assert report.strict.micro.f1 == pytest.approx(repeat_run.test.strict.micro.f1)
    assert card.training["test_words_per_second"] > 0


# --- encoder baseline (the real packaged MiniLM) --------------------------------------------------


def test_encoder_baseline_trains_the_packaged_minilm_and_reloads(conll2003, tmp_path):
    result = train(_config(None, conll2003, tmp_path / "enc", method="encoder", max_steps=4))
    card = ModelCard.read(tmp_path / "enc")
    assert (card.method, card.finetune, card.base_model) == ("encoder", "full", "minilm")
    assert (tmp_path / "enc" / "model.safetensors").is_file()
    tagger = Tagger.load(tmp_path / "enc")
    assert type(tagger.model).__name__ == "BertForTokenClassification"
    tagged = tagger("Peter Blackburn visited Brussels on Monday .")
    assert [w.text for w in tagged.words] == ["Peter", "Blackburn", "visited", "Brussels", "on", "Monday", "."]
    report = tagger.evaluate(tmp_path / "enc-test.txt")
    assert report.strict.micro.f1 == pytest.approx(result.test.strict.micro.f1)


# --- generative labelling --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pieces(tiny_model_dir):
    return PieceTokenizer(load_tokenizer(tiny_model_dir))


def _run_grammar(grammar: SpanGrammar, choose) -> list[Span]:
    for _ in range(grammar.max_tokens()):
        if grammar.finished:
            break
        grammar.advance(choose(sorted(grammar.allowed())))
    grammar.finish()
    return [s for s, _ in grammar.spans()]


def test_the_grammar_reproduces_every_gold_response(pieces, conll2003):
    from lookright.data.readers import read_data
    from lookright.data.schemes import tags_to_spans

    names = type_names(["PER", "LOC", "ORG", "MISC"])
    for sentence in read_data(conll2003 / "validation.txt", label_column=3)[:200]:
        gold = tags_to_spans(sentence.tags, "IOB2")
        target = pieces.response(sentence.tokens, gold, names)
        grammar = SpanGrammar(sentence.tokens, pieces, names)
        for token in target:
            assert token in grammar.allowed()
            grammar.advance(token)
        assert grammar.finished and [s for s, _ in grammar.spans()] == gold


def test_the_grammar_spans_words_made_only_of_invisible_characters(pieces):
    from test_alignment import INVISIBLE_WORDS

    words = ["Peter", *INVISIBLE_WORDS, "Blackburn"]
    assert all(pieces.word(w) for w in words)  # byte-level BPE gives every character a token
    gold = [Span(0, 1, "PER"), Span(1, 4, "MISC"), Span(len(words) - 2, len(words), "PER")]
    names = type_names(["PER", "MISC"])
    grammar = SpanGrammar(words, pieces, names)
    for token in pieces.response(words, gold, names):
        assert token in grammar.allowed()
        grammar.advance(token)
    assert grammar.finished and [s for s, _ in grammar.spans()] == gold


def test_any_choice_under_the_grammar_parses_to_valid_spans(pieces):
    words = "the cat saw the dog and the cat ran".split()
    names = type_names(["PER", "LOC"])
    rng = np.random.default_rng(0)
    for _ in range(200):
        spans = _run_grammar(SpanGrammar(words, pieces, names), lambda allowed: allowed[rng.integers(len(allowed))])
        end = 0
        for span in spans:
            assert end <= span.start < span.end <= len(words) and span.label in names
            end = span.end


def test_the_grammar_forbids_words_not_in_the_sentence_and_unknown_types(pieces):
    names = type_names(["PER"])
    grammar = SpanGrammar(["Peter", "sleeps"], pieces, names)
    assert pieces.word("Berlin")[0] not in grammar.allowed()
    for token in pieces.word("Peter") + pieces.arrow:
        grammar.advance(token)
    assert grammar.allowed() == {pieces.name("person")[0]}


def test_repeated_words_resolve_to_their_first_occurrence_after_the_previous_span(pieces):
    words = "the cat saw the cat".split()
    names = type_names(["PER"])
    grammar = SpanGrammar(words, pieces, names)
    response = pieces.response(words, [Span(1, 2, "PER"), Span(4, 5, "PER")], names)
    for token in response:
        grammar.advance(token)
    assert [s for s, _ in grammar.spans()] == [Span(1, 2, "PER"), Span(4, 5, "PER")]


def test_prompts_and_demonstrations():
    names = type_names(["PER", "LOC"])
    assert names == {"PER": "person", "LOC": "location"}
    pool = DemoPool([
        Demo(("Peter", "visited", "Rome"), (Span(0, 1, "PER"), Span(2, 3, "LOC"))),
        Demo(("It", "rained"), ()),
        Demo(("Anna", "left", "Rome", "today"), (Span(0, 1, "PER"), Span(2, 3, "LOC"))),
    ])
    assert [d.words[0] for d in pool.select(["Rome", "is", "big"], 1)] in (["Peter"], ["Anna"])
    assert pool.select(["Peter", "visited", "Rome"], 1, exclude=0)[0].words[0] == "Anna"
    assert pool.select(["x"], 2, "random") == pool.select(["x"], 2, "random")  # deterministic per query
    text = prompt_text(["Bob", "ran"], [(pool.demos[0].words, pool.demos[0].spans)], names, instruction=True)
    assert "Types: person, location" in text
    assert "### Response: Peter => person ; Rome => location\n\n" in text
    assert text.endswith("### Sentence:\nBob ran\n### Response:")
    assert response_text(["x"], [], names) == ""


def test_generative_refuses_per_word_tags_naming_the_file(tiny_model_dir, conll2003, tmp_path):
    """POS tags have no spans to write: the run stops before any model is loaded, naming the training file."""
    with pytest.raises(DataError, match=r"train\.txt.*method generative writes spans.*not per-word tags"):
        train(_config(tiny_model_dir, conll2003, tmp_path / "pos", method="generative", label_column=1))


def test_generative_learns_iob2_spans_even_when_token_classifiers_would_use_bioes(tiny_model_dir, conll2003, tmp_path):
    run = train(_config(tiny_model_dir, conll2003, tmp_path / "bioes", method="generative", train_scheme="BIOES",
                        max_steps=1, demos=0))
    card = ModelCard.read(run.output)
    assert card.scheme == "IOB2" and "B-PER" in card.labels and not any(label.startswith("E-") for label in card.labels)


@pytest.fixture(scope="module")
def generative_run(tiny_model_dir, conll2003, tmp_path_factory):
    return train(_config(tiny_model_dir, conll2003, tmp_path_factory.mktemp("gen"), method="generative", demos=1, max_steps=2))


def test_generative_run_writes_a_reloadable_directory_whose_outputs_always_parse(generative_run, conll2003):
    card = ModelCard.read(generative_run.output)
    assert card.method == "generative" and card.generation["demos"] == 1
    assert (generative_run.output / "demonstrations.jsonl").is_file()
    tagger = Tagger.load(generative_run.output)
    assert isinstance(tagger, GenerativeTagger) and len(tagger.pool) == 48
    text = "EU rejects German call to boycott British lamb ."
    tagged = tagger(text)
    assert len(tagged.words) == 9
    for span in tagged.spans:
        assert text[span.start : span.end] == span.text and span.label in ("PER", "LOC", "ORG", "MISC")
        assert 0 <= span.score <= 1
    report = tagger.evaluate(generative_run.output.parent / f"{generative_run.output.name}-test.txt")
    assert report.strict.micro.f1 == pytest.approx(generative_run.test.strict.micro.f1)
    assert not math.isnan(report.token_accuracy)


def test_generative_long_sentences_are_chunked_not_cut(generative_run):
    tagger = Tagger.load(generative_run.output)
    tagger.card.max_length = 12  # force several chunks
    words = [f"word{i}" for i in range(40)]
    labels = tagger.tag_words([words])[0]
    assert len(labels) == 40 and len(tagger.chunks(words)) > 1


def test_cli_trains_the_repeat_method(tiny_model_dir, conll2003, tmp_path):
    result = CliRunner().invoke(app, [
        "train", "--train", str(conll2003 / "train.txt"), "--label-column", "3", "--model", str(tiny_model_dir),
        "--method", "repeat", "--repeat", "1", "--max-train-sentences", "16", "--max-steps", "1",
        "--output", str(tmp_path / "m"),
    ])
    assert result.exit_code == 0, result.output
    assert ModelCard.read(tmp_path / "m").repeat == 1


def test_cli_rejects_unmask_with_another_method(conll2003, tmp_path):
    result = CliRunner().invoke(app, ["train", "--train", str(conll2003 / "train.txt"), "--method", "causal", "--unmask", "0011"])
    assert result.exit_code != 0
    assert "does not apply to method 'causal'" in str(result.exception) + result.output


def test_generative_processor_masks_the_scores(pieces):
    from lookright.generative.constrained import SpanConstraint

    names = type_names(["PER"])
    grammar = SpanGrammar(["Peter", "sleeps"], pieces, names)
    constraint = SpanConstraint([grammar], prompt_length=3)
    scores = torch.zeros(1, 50000)
    masked = constraint(torch.zeros(1, 3, dtype=torch.long), scores)
    finite = set(torch.isfinite(masked[0]).nonzero().flatten().tolist())
    assert finite == grammar.allowed()


def test_a_generative_export_keeps_its_demonstrations_and_predictions(generative_run, tmp_path):
    from lookright.modeling.export import export_merged

    path = export_merged(generative_run.output, tmp_path / "merged")
    assert (path / "demonstrations.jsonl").read_text() == (generative_run.output / "demonstrations.jsonl").read_text()
    texts = ["EU rejects German call to boycott British lamb .", "Peter Blackburn visited Brussels ."]
    before = [t.to_dict() for t in Tagger.load(generative_run.output).predict(texts)]
    after = [t.to_dict() for t in Tagger.load(path).predict(texts)]
    assert before == after


def test_every_public_loader_keeps_the_demonstration_pool(generative_run, trained_dir, monkeypatch):
    """`GenerativeTagger.load(dir)` once dropped `demonstrations.jsonl`: its prompts then showed no demonstrations."""
    import spacy
    import uvicorn

    import lookright.integrations.spacy_component  # noqa: F401 - registers the "lookright" factory
    from lookright import serving
    from lookright.inference import load_tagger

    directory = generative_run.output
    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.setdefault("tagger", app.state.tagger))
    serving.serve(directory)
    nlp = spacy.blank("en")
    nlp.add_pipe("lookright", config={"model": str(directory)})
    loaded = {
        "Tagger.load": Tagger.load(directory),
        "GenerativeTagger.load": GenerativeTagger.load(directory),
        "load_tagger": load_tagger(directory),
        "spaCy component": nlp.get_pipe("lookright").tagger,
        "serve": served["tagger"],
    }
    for entry, tagger in loaded.items():
        assert isinstance(tagger, GenerativeTagger) and len(tagger.pool) == 48, entry
        assert tagger.prompt(["Peter", "visited", "Rome"]).count("### Sentence:") == 2, entry  # a demonstration + it
    with pytest.raises(ModelError, match="loads as TokenTagger, not GenerativeTagger"):
        GenerativeTagger.load(trained_dir)
    with pytest.raises(ModelError, match="int8 applies to token classifiers"):
        Tagger.load(directory, quantize="int8")


def test_a_span_cut_by_a_long_sentences_chunks_stays_a_target_in_each_part(generative_run, monkeypatch):
    """A gold span crossing a chunk edge was left out of both chunks' responses: the model was taught
    to leave its words unlabelled."""
    from lookright.data.sentence import Sentence
    from lookright.methods.generative import prompt_features

    tagger = Tagger.load(generative_run.output)
    monkeypatch.setattr(tagger, "chunks", lambda words: [(0, 1), (1, len(words))])
    words = ["Peter", "Blackburn", "visited", "Brussels"]
    (first, second) = prompt_features(tagger, [Sentence(words)], [["B-PER", "I-PER", "O", "B-LOC"]], None)
    want = [tagger.pieces.response(["Peter"], [Span(0, 1, "PER")], tagger.names),
            tagger.pieces.response(words[1:], [Span(0, 1, "PER"), Span(2, 3, "LOC")], tagger.names)]
    assert [f["labels"][-len(w):] for f, w in zip((first, second), want)] == want


def test_a_missing_or_damaged_demonstration_pool_is_an_error_not_prompts_without_demonstrations(
    generative_run, tmp_path, monkeypatch
):
    """A model directory copied without `demonstrations.jsonl` once loaded with an empty pool: every
    prompt then showed none, unlike in training, and nothing said so. Found before the model loads."""
    import shutil

    import lookright.generative.tagger as generative_tagger

    monkeypatch.setattr(generative_tagger, "load_model_dir", lambda *a, **k: pytest.fail("the model loaded first"))
    copy = Path(shutil.copytree(generative_run.output, tmp_path / "copy"))
    pool = copy / "demonstrations.jsonl"
    lines = pool.read_text(encoding="utf-8").splitlines(keepends=True)
    pool.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")  # cut mid-line
    with pytest.raises(DataError, match=f"^{re.escape(str(pool))}:4: not a demonstration"):
        Tagger.load(copy)
    pool.unlink()
    with pytest.raises(ModelError, match=f"^{re.escape(str(pool))}: missing"):
        Tagger.load(copy)


def test_response_collator_keeps_the_loss_of_full_logits(tiny_model_dir):
    """Left padding + logits on the response tail only gives the loss of right padding + all logits."""
    from transformers import AutoModelForCausalLM

    from lookright.methods.generative import ResponseCollator

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    rows = [
        {"input_ids": [5, 6, 7, 8, 9, 10], "labels": [-100, -100, -100, 8, 9, 10]},
        {"input_ids": [11, 12, 13, 14], "labels": [-100, -100, 13, 14]},
    ]
    kept = ResponseCollator(0)(rows)
    assert kept["logits_to_keep"] == 4 and kept["labels"].shape == (2, 4)
    full = ResponseCollator(0, keep_logits=False)(rows)
    with torch.no_grad():
        loss_kept = model(**kept).loss
        loss_full = model(**full).loss
    assert torch.allclose(loss_kept, loss_full, atol=1e-5)
    # and the same as each row alone, unpadded (positions count from the first real token)
    with torch.no_grad():
        total = sum(
            torch.nn.functional.cross_entropy(
                model(input_ids=torch.tensor([r["input_ids"]])).logits[0, :-1], torch.tensor(r["labels"][1:]),
                ignore_index=-100, reduction="sum",
            )
            for r in rows
        )
    assert torch.allclose(loss_full, total / 5, atol=1e-5)


def test_prompts_hold_k_demonstrations_with_or_without_instruction(generative_run):
    tagger = Tagger.load(generative_run.output)
    words = ["Peter", "visited", "Rome"]
    for k in (0, 1, 3):
        for instruction in (False, True):
            tagger.demos, tagger.instruction = k, instruction
            prompt = tagger.prompt(words)
            assert prompt.count("### Sentence:") == k + 1
            assert prompt.startswith("List the labelled spans") is instruction
            assert prompt.endswith("### Sentence:\nPeter visited Rome\n### Response:")
    tagger.selection = "random"
    assert tagger.prompt(words) == tagger.prompt(words)  # the same prompt in training and prediction


def test_generation_reports_progress_for_every_prompt(generative_run):
    tagger = Tagger.load(generative_run.output)
    seen: list[int] = []
    labelled = tagger.label_words([["Peter", "sleeps"], ["Rome"], []], progress=seen.append)
    assert sum(seen) == 2 and [len(labels) for labels, _ in labelled] == [2, 1, 0]


def test_generative_tagger_accepts_only_documented_input_types(generative_run):
    from lookright.errors import InputTypeError

    tagger = Tagger.load(generative_run.output)
    for given, where in (({"text": "EU rejects it"}, "dict"), (["ok", None], r"texts\[1\] is NoneType"),
                         ([["EU", 3]], r"texts\[0\]\[1\] is int"), (b"EU", "bytes")):
        with pytest.raises(InputTypeError, match=where):
            tagger(given)
    results = tagger.predict(["EU rejects German call .", ["Peter", "Blackburn"]])
    assert [[w.text for w in r.words] for r in results] == [["EU", "rejects", "German", "call", "."], ["Peter", "Blackburn"]]


def test_encoder_trains_evaluates_and_predicts_words_its_tokenizer_maps_to_no_subword(conll2003, tmp_path):
    from test_alignment import INVISIBLE_WORDS

    blocks = (conll2003 / "train.txt").read_text(encoding="utf-8").split("\n\n")[1:25]
    with_invisible = []
    for k, block in enumerate(blocks):  # one invisible word (label O) after the first word of every sentence
        lines = block.splitlines()
        with_invisible.append("\n".join([lines[0], f"{INVISIBLE_WORDS[k % len(INVISIBLE_WORDS)]} SYM O O", *lines[1:]]))
    data = tmp_path / "invisible.txt"
    data.write_text("\n\n".join(with_invisible) + "\n", encoding="utf-8")
    run = train(_config(None, conll2003, tmp_path / "enc", method="encoder", train=str(data), validation=str(data),
                        test=str(data), max_train_sentences=None, max_steps=2))
    sentences = [line.split("\n") for line in with_invisible]
    assert run.test.counts.sentences == len(sentences) and run.test.counts.words == sum(map(len, sentences))
    tagger = Tagger.load(tmp_path / "enc")
    words = [line.split(" ")[0] for line in with_invisible[0].splitlines()]
    labels = tagger.tag_words([words])[0]
    assert len(labels) == len(words) and all(label in tagger.labels for label in labels)
    tagged = tagger(f"Peter {INVISIBLE_WORDS[0]} Blackburn\u200d visited \u0301 Brussels")
    assert [w.text for w in tagged.words] == ["Peter", "\ufe0f", "Blackburn", "\u200d", "visited", "\u0301", "Brussels"]
    assert all(w.label in tagger.labels for w in tagged.words)


# --- a method added from outside the package ---------------------------------------------------------


class LastGroupOnly(TokenMethod):
    """A toy method defined here, not in lookright: only the last of four block groups bidirectional,
    with its own default learning rate and description."""

    name = "toy-last-group"
    learning_rates: ClassVar[dict[str, float]] = {"lora": 2e-3, "full": 1e-5}

    def unmask_config(self, cfg):
        return "0001"

    def describe(self, cfg):
        return "toy: last group bidirectional"


@pytest.fixture
def toy_method():
    method = register(LastGroupOnly)
    yield method
    unregister(method.name)


def test_a_registered_method_trains_reloads_and_takes_part_in_comparisons(toy_method, tiny_train_config, tmp_path):
    from lookright.compare import parse_methods
    from lookright.unmasking import check_attention

    cfg = tiny_train_config(tmp_path / "toy", method=toy_method.name, unmask=None, learning_rate=None, max_steps=2,
                            eval_every=2)
    assert (cfg.lr, cfg.finetune_mode, cfg.describe()) == (2e-3, "lora", "toy: last group bidirectional")
    result = train(cfg)
    card = ModelCard.read(result.output)
    assert (card.method, card.unmask, card.repeat) == ("toy-last-group", "0001", 0)
    assert result.validation is not None and result.validation.log_loss > 0
    tagger = Tagger.load(result.output)
    assert isinstance(tagger, TokenTagger) and check_attention(tagger.model).sees_right == (3,)
    assert len(tagger.tag_words([["Peter", "visited", "Rome"]])[0]) == 3
    assert parse_methods("causal,toy-last-group")[1].overrides == {"method": "toy-last-group"}
    with pytest.raises(ValueError, match="takes no argument"):
        parse_methods("toy-last-group:2")
    with pytest.raises(ValueError, match="already registered"):
        register(LastGroupOnly)
    unregister(toy_method.name)
    with pytest.raises(ModelError, match="unknown method 'toy-last-group'"):
        Tagger.load(result.output)
    with pytest.raises(ValueError, match="unknown method 'toy-last-group'"):
        TrainConfig(train="x", method=toy_method.name).validate()


def test_auto_reads_twice_with_unmasking_on_small_sets_and_unmasks_alone_on_larger_ones():
    from lookright.methods.auto_policy import AUTO_REPEAT_UP_TO

    small = TrainConfig(train="x", method="auto").labelling.resolve(TrainConfig(train="x", method="auto"), AUTO_REPEAT_UP_TO)
    assert (small.method, small.repeats, small.unmask_config) == ("repeat", 1, "0011")
    default = TrainConfig(train="x", method="auto")
    large = default.labelling.resolve(default, AUTO_REPEAT_UP_TO + 1)
    assert (large.method, large.repeats, large.unmask_config) == ("unmask", 0, "1111")
    cfg = TrainConfig(train="x", method="auto", unmask="0001")  # a config given is kept at every size
    assert cfg.labelling.resolve(cfg, AUTO_REPEAT_UP_TO).unmask_config == "0001"
    large = cfg.labelling.resolve(cfg, AUTO_REPEAT_UP_TO + 1)
    assert (large.method, large.repeats, large.unmask_config) == ("unmask", 0, "0001")
    assert cfg.method == "auto"  # the request itself is left as it was
    assert "else unmask 1111" in default.describe() and "else unmask 0001" in cfg.describe()


def test_auto_is_the_default_method_and_its_help_states_the_measured_threshold():
    from dataclasses import fields

    from lookright.methods.auto_policy import AUTO_REPEAT_UP_TO

    assert TrainConfig(train="x").method == "auto"
    help_text = next(f for f in fields(TrainConfig) if f.name == "method").metadata["help"]
    assert f"up to {AUTO_REPEAT_UP_TO:,} training sentences" in help_text


def test_an_auto_run_records_what_it_resolved_to_and_the_same_command_finds_it(tiny_train_config, tmp_path):
    from lookright.errors import LookrightError

    # no method named: the default (auto) on 64 sentences reads twice with the upper groups unmasked
    cfg = tiny_train_config(tmp_path / "auto", method=TrainConfig(train="x").method, max_steps=2, eval_every=0)
    train(cfg)
    card = ModelCard.read(tmp_path / "auto")
    assert (card.method, card.repeat, card.unmask) == ("repeat", 1, "0011")
    with pytest.raises(LookrightError, match="already holds this run"):
        train(tiny_train_config(tmp_path / "auto", method="auto", max_steps=2, eval_every=0))
