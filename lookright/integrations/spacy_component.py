"""spaCy pipeline component: a trained lookright model directory as `nlp.add_pipe("lookright")`.

Why: spaCy users keep their tokenizer, `Doc`s, `DocBin`, displaCy and `nlp.evaluate`, and use a
lookright model unchanged::

    import spacy
    import lookright.integrations.spacy_component  # not needed once lookright is pip-installed

    nlp = spacy.blank("en")
    nlp.add_pipe("lookright", config={"model": "/abs/path/to/model-dir"})
    doc = nlp("John Smith moved to New York.")
    doc.ents, doc.spans["lookright"], [t._.lookright_label for t in doc]

How words and labels line up: the model is given spaCy's own tokens (every token except
whitespace-only ones, which lookright treats as separators), and its one label per word is written
back to the token with the same index. Spans are built over spaCy tokens (`Span(doc, start, end)`),
so their character offsets are exact by construction: no re-tokenisation, no offset arithmetic.
Whitespace tokens get no label (`Token._.lookright_label is None`) and never start or end an
entity; a whitespace token *between* two words of one predicted span (`New  York`, a single line
break) lies inside it, as in spaCy's own NER, because the model saw those words as adjacent.

Sentences (`split_sentences`, default on, like `Tagger.predict`): a model trained on sentences is
applied to sentences. spaCy's boundaries are used when the Doc has them (a `sentencizer`, `senter`
or parser ran earlier); otherwise lookright's own rules (`lookright.data.segment`) cut the tokens.
Each sentence is tagged as `Tagger.tag_words` tags one word list; long ones are windowed, never cut.

What is written (`annotate`):
- `"ents"`: `doc.ents` (works with `DocBin`, displaCy `style="ent"`, `nlp.evaluate`) and
  `doc.spans[spans_key]`. `overwrite_ents=True` replaces all entities with the model's;
  `False` keeps existing entities and adds only the predicted ones that overlap none of them;
- `"spans"`: only `doc.spans[spans_key]` (e.g. chunks: NP/VP are not named entities; render with
  displaCy `style="span", options={"spans_key": ...}`);
- `"tags"`: `token.tag_` = the label, and `token.pos_` too when the label is a Universal POS tag
  (POS models, scheme NONE); whitespace tokens are left as they are;
- `"auto"` (default): `"tags"` for scheme NONE; `"spans"` when every span type is a CoNLL-2000
  chunk type (NP, VP, PP, ...); otherwise `"ents"`.
Always: `Token._.lookright_label` (the raw label, e.g. `B-PER`) and `Token._.lookright_score`
(its probability), `Span._.lookright_score` (mean over the span's words). One set of extensions
per Doc: two lookright components in one pipeline overwrite each other's token extensions.

Serialization: the component stores a *reference* to the model directory, not the weights.
`nlp.to_disk` writes the path in `config.cfg` (and a small `lookright_component.json` with the
labels and scheme); `spacy.load` loads the directory again and checks the labels still match. Pass
an absolute path if the pipeline will be loaded from another working directory, and ship the model
directory alongside the saved pipeline.

spaCy finds the factory through the `spacy_factories` entry point (`lookright =
"lookright.integrations.spacy_component:make_lookright_component"`); importing this module
registers it as well. `import lookright` itself never imports spaCy.
"""

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import regex
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Span, Token
from spacy.training import Example
from spacy.util import minibatch

from ..data.schemes import NONE, normalize_scheme, tags_to_spans
from ..data.segment import sentence_ranges
from ..inference.decoding import DECODINGS
from ..inference.tagger import Tagger
from ..outputs import write_text_atomic

FACTORY = "lookright"
ANNOTATE_MODES = ("auto", "ents", "spans", "tags")
COMPONENT_FILE = "lookright_component.json"
DEFAULT_CONFIG: dict[str, Any] = {
    "model": None,
    "batch_size": 64,
    "annotate": "auto",
    "overwrite_ents": True,
    "spans_key": "lookright",
    "split_sentences": True,
    "decoding": "argmax",
    "device": None,
}
# Span types that are syntactic chunks (CoNLL-2000), not named entities: "auto" keeps them out of doc.ents.
CHUNK_TYPES = frozenset({"NP", "VP", "PP", "ADVP", "ADJP", "SBAR", "PRT", "CONJP", "INTJ", "LST", "UCP"})
# The 17 Universal POS tags: only these may go to token.pos_ (spaCy rejects anything else).
# fmt: off
UPOS_TAGS = frozenset({
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT", "SCONJ",
    "SYM", "VERB", "X",
})
# fmt: on
# A token is a word for the model when it has a character lookright does not treat as a separator
# (the same class as `lookright.data.words`: whitespace, control characters, ZWSP, BOM). This covers
# spaCy's `is_space` tokens and also tokens no subword could be aligned to.
_WORD_CHAR = regex.compile(r"[^\s\p{Cc}\u200b\ufeff]")

for _attr in ("lookright_label", "lookright_score"):
    if not Token.has_extension(_attr):
        Token.set_extension(_attr, default=None)


def _span_score(span: Span) -> float | None:
    scores = [t._.lookright_score for t in span if t._.lookright_score is not None]
    return float(np.mean(scores)) if scores else None


if not Span.has_extension("lookright_score"):
    Span.set_extension("lookright_score", getter=_span_score)


def is_model_word(token: Token) -> bool:
    """Whether `token` is given to the model (False for whitespace-only and separator-only tokens)."""
    return not token.is_space and _WORD_CHAR.search(token.text) is not None


def span_types(labels: Sequence[str], scheme: str) -> list[str]:
    """Entity/chunk types of a span-scheme label set (`B-PER`, `I-PER`, `O` -> `PER`), in first-seen order."""
    if normalize_scheme(scheme) == NONE:
        return list(labels)
    types: dict[str, None] = {}
    for label in labels:
        if label != "O":
            types.setdefault(label.partition("-")[2] or label, None)
    return list(types)


def resolve_annotate(annotate: str, scheme: str, labels: Sequence[str]) -> str:
    """The concrete mode (`ents`, `spans` or `tags`) for `annotate` and a model's labels.

    `auto`: per-word tag sets (scheme NONE) -> tags; span sets whose types are all chunk types ->
    spans; any other span set (PER/LOC/ORG/MISC, custom types) -> ents. Scheme NONE cannot give
    `ents`/`spans`: its labels are per word, so every word would become its own entity.
    """
    if annotate not in ANNOTATE_MODES:
        raise ValueError(f"annotate must be one of {', '.join(ANNOTATE_MODES)}, not {annotate!r}")
    scheme = normalize_scheme(scheme)
    if annotate == "auto":
        if scheme == NONE:
            return "tags"
        types = span_types(labels, scheme)
        return "spans" if types and set(types) <= CHUNK_TYPES else "ents"
    if scheme == NONE and annotate != "tags":
        raise ValueError(f"the model's labels are per-word tags (scheme NONE): use annotate='tags', not {annotate!r}")
    return annotate


class LookrightComponent(Pipe):
    """Tags spaCy Docs with a lookright `Tagger` loaded once; batched over many Docs in `pipe`."""

    def __init__(
        self,
        nlp: Language,
        name: str,
        tagger: Tagger,
        *,
        model_dir: str | Path | None = None,
        batch_size: int = 64,
        annotate: str = "auto",
        overwrite_ents: bool = True,
        spans_key: str = "lookright",
        split_sentences: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.nlp = nlp
        self.name = name
        self.tagger = tagger
        self.model_dir = Path(model_dir).expanduser().resolve() if model_dir is not None else None
        self.batch_size = batch_size
        self.scheme = normalize_scheme(tagger.scheme)
        self.annotate = resolve_annotate(annotate, self.scheme, tagger.labels)
        self.overwrite_ents = overwrite_ents
        self.spans_key = spans_key
        self.split_sentences = split_sentences

    @property
    def labels(self) -> tuple[str, ...]:
        """Entity/chunk types for span models, the tags for per-word models (`nlp.pipe_labels`)."""
        return tuple(span_types(self.tagger.labels, self.scheme))

    def __call__(self, doc: Doc) -> Doc:
        try:
            self._process([doc])
        except Exception as e:  # noqa: BLE001 - spaCy's error-handler protocol: the handler decides
            self.get_error_handler()(self.name, self, [doc], e)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Tag `batch_size` Docs (default: the component's) per tagger call, yielding them in order."""
        for docs in minibatch(stream, size=batch_size or self.batch_size):
            try:
                self._process(docs)
            except Exception as e:  # noqa: BLE001 - spaCy's error-handler protocol: the handler decides
                self.get_error_handler()(self.name, self, docs, e)
                continue
            yield from docs

    def units(self, doc: Doc) -> list[list[int]]:
        """The token indices the model labels, one list per sentence (each one `tag_words` word list)."""
        words = [t.i for t in doc if is_model_word(t)]
        if not words or not self.split_sentences:
            return [words] if words else []
        if doc.has_annotation("SENT_START"):
            units = [[t.i for t in sent if is_model_word(t)] for sent in doc.sents]
            return [u for u in units if u]
        offsets = [(doc[i].idx, doc[i].idx + len(doc[i].text)) for i in words]
        return [words[a:b] for a, b in sentence_ranges(doc.text, offsets)]

    def _process(self, docs: Sequence[Doc]) -> None:
        units = [self.units(doc) for doc in docs]
        flat = [[doc[i].text for i in unit] for doc, doc_units in zip(docs, units) for unit in doc_units]
        wheres = [f"spaCy tokens {u[0]}..{u[-1]} of {doc.text[:40]!r}" for doc, du in zip(docs, units) for u in du]
        # (Docs with no words make no tagger call at all)
        labelled = iter(self.tagger.label_words(flat, wheres, batch_size=self.batch_size) if flat else [])
        for doc, doc_units in zip(docs, units):
            predicted = [(unit, *next(labelled)) for unit in doc_units]
            self._annotate(doc, predicted)

    def _annotate(self, doc: Doc, predicted: list[tuple[list[int], list[str], list[float]]]) -> None:
        for token in doc:  # a Doc run twice must not keep stale values on its whitespace tokens
            token._.lookright_label = None
            token._.lookright_score = None
        spans: list[Span] = []
        for unit, labels, probs in predicted:
            for i, label, prob in zip(unit, labels, probs):
                doc[i]._.lookright_label = label
                doc[i]._.lookright_score = prob
                if self.annotate == "tags":
                    doc[i].tag_ = label
                    if label in UPOS_TAGS:
                        doc[i].pos_ = label
            if self.scheme != NONE:
                spans.extend(
                    Span(doc, unit[s.start], unit[s.end - 1] + 1, label=s.label)
                    for s in tags_to_spans(labels, self.scheme)
                )
        if self.annotate in ("ents", "spans"):
            doc.spans[self.spans_key] = spans
        if self.annotate == "ents":
            if self.overwrite_ents:
                doc.set_ents(spans, default="outside")
            else:
                taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
                doc.set_ents([s for s in spans if taken.isdisjoint(range(s.start, s.end))], default="unmodified")

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        """Scores for `nlp.evaluate`: entity P/R/F (`ents`), span P/R/F (`spans`) or tag accuracy (`tags`)."""
        if self.annotate == "ents":
            return get_ner_prf(examples)
        if self.annotate == "spans":
            key = self.spans_key
            return Scorer.score_spans(
                examples,
                f"spans_{key}",
                getter=lambda doc, _: doc.spans.get(key, []),
                has_annotation=lambda doc: key in doc.spans,
            )
        return Scorer.score_token_attr(examples, "tag", **kwargs)

    def _reference(self) -> dict[str, Any]:
        return {
            "model": str(self.model_dir) if self.model_dir is not None else None,
            "labels": list(self.tagger.labels),
            "scheme": self.scheme,
            "base_model": self.tagger.card.base_model,
        }

    def _check_reference(self, data: dict[str, Any]) -> None:
        """Refuse a saved pipeline whose model directory now holds a model with other labels."""
        if data.get("labels") != list(self.tagger.labels) or data.get("scheme") != self.scheme:
            raise ValueError(
                f"the pipeline was saved with a lookright model labelled {data.get('labels')} ({data.get('scheme')}), "
                f"but {self.model_dir} now holds one labelled {list(self.tagger.labels)} ({self.scheme}); "
                "point the component's 'model' setting at the model it was saved with"
            )

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return json.dumps(self._reference()).encode()

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> "LookrightComponent":
        self._check_reference(json.loads(data))
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the model reference (path, labels, scheme); the weights stay in the model directory."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path / COMPONENT_FILE, json.dumps(self._reference(), indent=2) + "\n")

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "LookrightComponent":
        file = Path(path) / COMPONENT_FILE
        if file.is_file():
            self._check_reference(json.loads(file.read_text()))
        return self


@Language.factory(
    FACTORY,
    default_config=DEFAULT_CONFIG,
    assigns=["doc.ents", "doc.spans", "token.tag", "token.pos", "token._.lookright_label", "token._.lookright_score"],
)
def make_lookright_component(
    nlp: Language,
    name: str,
    model: str | None,
    batch_size: int,
    annotate: str,
    overwrite_ents: bool,
    spans_key: str,
    split_sentences: bool,
    decoding: str,
    device: str | None,
) -> LookrightComponent:
    """spaCy factory `"lookright"`: load the trained model directory `model` once and wrap it."""
    if not model:
        raise ValueError(
            'the lookright component needs a model directory: nlp.add_pipe("lookright", config={"model": DIR})'
        )
    if decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {', '.join(DECODINGS)}, not {decoding!r}")
    tagger = Tagger.load(model, device=device, decoding=decoding)
    return LookrightComponent(
        nlp,
        name,
        tagger,
        model_dir=model,
        batch_size=batch_size,
        annotate=annotate,
        overwrite_ents=overwrite_ents,
        spans_key=spans_key,
        split_sentences=split_sentences,
    )


__all__ = [
    "ANNOTATE_MODES",
    "CHUNK_TYPES",
    "DEFAULT_CONFIG",
    "UPOS_TAGS",
    "LookrightComponent",
    "is_model_word",
    "make_lookright_component",
    "resolve_annotate",
    "span_types",
]
