"""The spaCy component: spaCy tokens in, the Tagger's labels out, exact spans, spaCy's tooling intact.

The trained model is a tiny random one, so its labels are arbitrary: these tests check that the
component reproduces `Tagger.tag_words` / `Tagger.predict` exactly, not that the labels are good.
A stub tagger with rule-based labels makes sure entities (also across whitespace) really occur.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import spacy
from spacy.tokens import DocBin

from lookright.data.schemes import tags_to_spans
from lookright.data.segment import sentence_ranges
from lookright.inference import Tagger
from lookright.integrations.spacy_component import (
    LookrightComponent,
    resolve_annotate,
)

TEXTS = [
    "John  Smith visited New York\twith Mary.\nThen he flew to Berlin 🚀 and met Angela Merkel .",
    "  Leading spaces,\t\ttabs and   runs \n\n  EU rejects German call to boycott British lamb .  ",
    "Ünïcödé naïve café in Zürich — 北京 and Москва 👩‍👩‍👧 ! Ça va ?\r\n",
    "\t\n  ",
    "",
    "Peter Blackburn\nBRUSSELS 1996\n\nThe European Commission said on Thursday it disagreed with German advice .",
]
NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC")


@pytest.fixture(scope="module")
def tagger(trained_dir) -> Tagger:
    return Tagger.load(trained_dir)


@pytest.fixture(scope="module")
def nlp(trained_dir):
    nlp = spacy.blank("en")
    nlp.add_pipe("lookright", config={"model": str(trained_dir)})
    return nlp


def word_indices(doc) -> list[int]:
    return [t.i for t in doc if not t.is_space]


def expected_labels(doc, tagger: Tagger, split_sentences: bool) -> list[str | None]:
    """Per spaCy token: the Tagger's label on the non-space tokens (sentence by sentence), None on whitespace."""
    words = word_indices(doc)
    if not split_sentences:
        units = [words] if words else []
    else:
        offsets = [(doc[i].idx, doc[i].idx + len(doc[i])) for i in words]
        units = [words[a:b] for a, b in sentence_ranges(doc.text, offsets)]
    labels: list[str | None] = [None] * len(doc)
    predicted = tagger.tag_words([[doc[i].text for i in unit] for unit in units]) if units else []
    for unit, unit_labels in zip(units, predicted):
        for i, label in zip(unit, unit_labels):
            labels[i] = label
    return labels


def expected_ents(doc, labels: list[str | None], scheme: str) -> list[tuple[int, int, str]]:
    """Spans decoded from the labels of all non-space tokens, mapped back to spaCy token indices."""
    words = word_indices(doc)
    return [(words[s.start], words[s.end - 1] + 1, s.label) for s in tags_to_spans([labels[i] for i in words], scheme)]


def check_doc(doc, tagger: Tagger, split_sentences: bool) -> list[str | None]:
    labels = expected_labels(doc, tagger, split_sentences)
    assert [t._.lookright_label for t in doc] == labels
    for t in doc:
        assert (t._.lookright_score is None) == t.is_space
        if not t.is_space:
            assert 0.0 < t._.lookright_score <= 1.0
        else:  # whitespace never starts or ends an entity
            assert t.ent_iob_ in ("O", "I")
    assert all(not ent[0].is_space and not ent[-1].is_space for ent in doc.ents)
    for ent in doc.ents:
        assert ent.text == doc.text[ent.start_char : ent.end_char]
    assert [(e.start, e.end, e.label_) for e in doc.spans["lookright"]] == [
        (e.start, e.end, e.label_) for e in doc.ents
    ]
    return labels


@pytest.mark.parametrize("text", TEXTS)
def test_token_labels_and_ents_match_the_tagger_sentence_by_sentence(nlp, tagger, text):
    doc = nlp(text)
    check_doc(doc, tagger, split_sentences=True)
    # spans are decoded per sentence; a sentence's spans are the decode of its own labels
    words = word_indices(doc)
    offsets = [(doc[i].idx, doc[i].idx + len(doc[i])) for i in words]
    expected = []
    for a, b in sentence_ranges(doc.text, offsets):
        unit = words[a:b]
        expected += [
            (unit[s.start], unit[s.end - 1] + 1, s.label)
            for s in tags_to_spans([doc[i]._.lookright_label for i in unit], tagger.scheme)
        ]
    assert [(e.start, e.end, e.label_) for e in doc.ents] == expected


def test_whole_doc_mode_equals_tag_words_on_the_non_space_tokens(nlp, tagger):
    whole = LookrightComponent(nlp, "lookright", tagger, split_sentences=False)  # reuses the loaded model
    for text in TEXTS:
        doc = whole(nlp.make_doc(text))
        labels = check_doc(doc, tagger, split_sentences=False)
        assert [(e.start, e.end, e.label_) for e in doc.ents] == expected_ents(doc, labels, tagger.scheme)


def test_ents_have_the_character_offsets_of_tagger_predict(nlp, tagger):
    text = TEXTS[-1]
    doc = nlp(text)
    tagged = tagger.predict([text])[0]
    assert [t.text for t in doc if not t.is_space] == [w.text for w in tagged.words]  # same words
    assert [t._.lookright_label for t in doc if not t.is_space] == [w.label for w in tagged.words]
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [(s.start, s.end, s.label) for s in tagged.spans]
    np.testing.assert_allclose(
        [t._.lookright_score for t in doc if not t.is_space], [w.score for w in tagged.words], atol=1e-4
    )


def test_pipe_in_batches_equals_one_doc_at_a_time(nlp):
    texts = TEXTS * 3
    one_by_one = [nlp(t) for t in texts]
    batched = list(nlp.pipe(texts, batch_size=4))
    assert [d.text for d in batched] == texts
    for a, b in zip(one_by_one, batched):
        assert [t._.lookright_label for t in a] == [t._.lookright_label for t in b]
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]


def test_docbin_displacy_and_disk_round_trips(nlp, tagger, tmp_path):
    docs = list(nlp.pipe(TEXTS))
    ents = [[(e.start, e.end, e.label_) for e in d.ents] for d in docs]

    restored = list(
        DocBin(docs=docs, store_user_data=True)
        .from_bytes(DocBin(docs=docs, store_user_data=True).to_bytes())
        .get_docs(nlp.vocab)
    )
    assert [[(e.start, e.end, e.label_) for e in d.ents] for d in restored] == ents
    assert [[t._.lookright_label for t in d] for d in restored] == [[t._.lookright_label for t in d] for d in docs]
    assert [[(s.start, s.end, s.label_) for s in d.spans["lookright"]] for d in restored] == ents

    with_ents = [d for d in docs if d.ents]
    assert with_ents, "the random model predicts no entity at all: the round trips would test nothing"
    html = spacy.displacy.render(with_ents[0], style="ent", jupyter=False)
    assert html.count('<mark class="entity"') == len(with_ents[0].ents)
    for ent in with_ents[0].ents:
        assert f"{ent.text}\n    <span" in html and f">{ent.label_}</span>" in html

    nlp.to_disk(tmp_path / "pipeline")
    assert spacy.util.load_config(tmp_path / "pipeline" / "config.cfg")["components"]["lookright"]["model"]
    reloaded = spacy.load(tmp_path / "pipeline")
    assert reloaded.pipe_names == ["lookright"]
    assert [[(e.start, e.end, e.label_) for e in reloaded(t).ents] for t in TEXTS] == ents
    assert set(reloaded.get_pipe("lookright").labels) == {"PER", "LOC", "ORG", "MISC"}
    assert nlp.from_bytes(nlp.to_bytes()) is nlp  # the byte form carries the same model reference


# ---------------------------------------------------------------------------------------------
# A stub tagger with rule-based labels: entities are certain to occur, also across whitespace.


class RuleTagger:
    """Capitalised words are PER (a run of them one span), digits MISC, the rest O; counts calls."""

    labels = NER_LABELS
    scheme = "IOB2"
    decoding = "argmax"

    class card:  # mimics the ModelCard attribute the component reads
        base_model = "rule-stub"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def label_words(self, sentences, wheres=None, *, batch_size=None):
        """The interface the component uses (as `Tagger.label_words`): labels and probabilities per word."""
        self.calls.append(len(sentences))
        out = []
        for words in sentences:
            labels, previous = [], "O"
            for word in words:
                if word[:1].isupper():
                    label = "I-PER" if previous.endswith("PER") else "B-PER"
                elif word.isdigit():
                    label = "B-MISC"
                else:
                    label = "O"
                labels.append(label)
                previous = label
            out.append((labels, [0.9] * len(words)))
        return out


def test_rule_labels_become_exact_entities_around_all_kinds_of_whitespace():
    nlp = spacy.blank("en")
    component = LookrightComponent(nlp, "lookright", RuleTagger())
    doc = component(nlp("  Hello , Anna  Maria\tLopez met\n\nBob in 1996 🚀 ! "))
    got = [(e.text, e.label_) for e in doc.ents]
    # "Anna  Maria\tLopez": one span across the extra-space and tab tokens; the blank line splits
    # sentences, so Bob starts a new span; whitespace tokens carry no label
    assert got == [("Hello", "PER"), ("Anna  Maria\tLopez", "PER"), ("Bob", "PER"), ("1996", "MISC")]
    for ent in doc.ents:
        assert ent.text == doc.text[ent.start_char : ent.end_char]
        assert not ent[0].is_space and not ent[-1].is_space
        assert ent._.lookright_score == pytest.approx(0.9, abs=1e-6)
    assert all(t._.lookright_label is None and t._.lookright_score is None for t in doc if t.is_space)
    assert [(t.text, t.ent_iob_) for t in doc if t.is_space] == [("  ", "O"), (" ", "I"), ("\t", "I"), ("\n\n", "O")]
    html = spacy.displacy.render(doc, style="ent", jupyter=False)
    assert "Anna" in html and "Lopez" in html and "MISC" in html


def test_pipe_tags_a_whole_batch_in_one_tagger_call():
    nlp = spacy.blank("en")
    tagger = RuleTagger()
    component = LookrightComponent(nlp, "lookright", tagger, batch_size=3)
    docs = [nlp(t) for t in ["Anna came .", "", "Bob left . Carl stayed .", "x", "Dora"]]
    out = list(component.pipe(docs))
    assert out == docs and tagger.calls == [3, 2]  # 3 docs -> 3 sentences, then 2 docs -> 2 sentences
    assert [[e.text for e in d.ents] for d in docs] == [["Anna"], [], ["Bob", "Carl"], [], ["Dora"]]


@spacy.Language.factory("lookright_rule_stub", default_config={"annotate": "ents"})
def make_rule_stub(nlp, name: str, annotate: str) -> LookrightComponent:
    return LookrightComponent(nlp, name, RuleTagger(), annotate=annotate, spans_key=name)


def test_nlp_evaluate_scores_the_component():
    from spacy.training import Example

    nlp = spacy.blank("en")
    nlp.add_pipe("lookright_rule_stub", name="ner_stub")
    nlp.add_pipe("lookright_rule_stub", name="chunk_stub", config={"annotate": "spans"})
    gold = nlp("Anna met Bob Jones in Paris")
    gold.ents = [spacy.tokens.Span(gold, 0, 1, "PER"), spacy.tokens.Span(gold, 2, 4, "PER")]  # Paris missed
    gold.spans["chunk_stub"] = list(gold.ents)
    scores = nlp.evaluate([Example(nlp.make_doc(gold.text), gold)])
    assert scores["ents_p"] == pytest.approx(2 / 3) and scores["ents_r"] == 1.0
    assert scores["spans_chunk_stub_p"] == pytest.approx(2 / 3) and scores["spans_chunk_stub_r"] == 1.0


def test_existing_entities_are_kept_unless_overwrite_ents():
    nlp = spacy.blank("en")
    text = "Anna met Bob Jones in Paris"
    keep = LookrightComponent(nlp, "lookright", RuleTagger(), overwrite_ents=False)
    doc = nlp(text)
    doc.ents = [spacy.tokens.Span(doc, 3, 4, "ORG")]  # "Jones" overlaps the predicted "Bob Jones"
    keep(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Anna", "PER"), ("Jones", "ORG"), ("Paris", "PER")]
    assert [s.text for s in doc.spans["lookright"]] == ["Anna", "Bob Jones", "Paris"]  # the model's own spans
    replace = LookrightComponent(nlp, "lookright", RuleTagger(), overwrite_ents=True)
    replace(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Anna", "PER"), ("Bob Jones", "PER"), ("Paris", "PER")]


def test_spans_mode_leaves_ents_alone_and_spacy_sentences_are_used():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    component = LookrightComponent(nlp, "lookright", RuleTagger(), annotate="spans", spans_key="chunks")
    doc = component(nlp("Anna Bell . Carl"))
    assert doc.ents == () and [s.text for s in doc.spans["chunks"]] == ["Anna Bell", "Carl"]
    doc = nlp("Anna Bell Carl")
    doc[2].is_sent_start = True  # a sentence boundary from spaCy cuts the span
    for t in doc[1:2]:
        t.is_sent_start = False
    assert [s.text for s in component(doc).spans["chunks"]] == ["Anna Bell", "Carl"]


def test_separator_only_tokens_are_not_given_to_the_model():
    nlp = spacy.blank("en")
    tagger = RuleTagger()
    seen = []
    label_words = tagger.label_words
    tagger.label_words = lambda s, w=None, **k: (seen.extend(s), label_words(s, w, **k))[1]
    doc = LookrightComponent(nlp, "lookright", tagger)(nlp("Anna \u200b Bell"))
    assert seen == [["Anna", "Bell"]]
    assert [t._.lookright_label for t in doc] == ["B-PER", None, "I-PER"]


def test_tags_mode_sets_tag_and_only_valid_upos():
    class PosTagger(RuleTagger):
        labels = ("NOUN", "VERB", "NNP")
        scheme = "NONE"

        def label_words(self, sentences, wheres=None, *, batch_size=None):
            pick = {"dogs": "NOUN", "bark": "VERB"}
            return [([pick.get(w, "NNP") for w in words], [1.0] * len(words)) for words in sentences]

    nlp = spacy.blank("en")
    component = LookrightComponent(nlp, "lookright", PosTagger())
    assert component.annotate == "tags"
    doc = component(nlp("Rex  dogs bark"))
    assert [(t.text, t.tag_, t.pos_) for t in doc] == [
        ("Rex", "NNP", ""),
        (" ", "", ""),
        ("dogs", "NOUN", "NOUN"),
        ("bark", "VERB", "VERB"),
    ]
    assert doc.ents == () and "lookright" not in doc.spans


def test_annotate_auto_picks_ents_spans_or_tags():
    assert resolve_annotate("auto", "IOB2", NER_LABELS) == "ents"
    assert resolve_annotate("auto", "BIOES", ["O", "S-DISEASE", "B-DISEASE", "I-DISEASE", "E-DISEASE"]) == "ents"
    assert resolve_annotate("auto", "IOB2", ["O", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP"]) == "spans"
    assert resolve_annotate("auto", "NONE", ["NN", "VB"]) == "tags"
    assert resolve_annotate("spans", "IOB1", NER_LABELS) == "spans"
    with pytest.raises(ValueError, match="scheme NONE"):
        resolve_annotate("ents", "NONE", ["NN"])
    with pytest.raises(ValueError, match="annotate must be one of"):
        resolve_annotate("entities", "IOB2", NER_LABELS)


def test_factory_needs_a_model_directory():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="needs a model directory"):
        nlp.add_pipe("lookright")


def test_importing_lookright_does_not_import_spacy():
    code = (
        "import sys; sys.modules['spacy'] = None\n"  # makes any `import spacy` fail
        "import lookright, lookright.integrations\n"
        "try:\n    import lookright.integrations.spacy_component\nexcept ImportError:\n    print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_spacy_finds_the_component_through_its_entry_point(trained_dir):
    """A user's script never imports lookright: spaCy must find the factory by itself."""
    code = (
        "import spacy, sys\n"
        "nlp = spacy.blank('en')\n"
        f"nlp.add_pipe('lookright', config={{'model': {str(trained_dir)!r}}})\n"
        "doc = nlp('EU rejects German call .')\n"
        "assert 'lookright.integrations.spacy_component' in sys.modules\n"
        "print(len(doc), [t._.lookright_label for t in doc])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("5 [")
