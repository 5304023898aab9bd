"""spaCy `DocBin` files (`.spacy`): each Doc's tokens are the words, `doc.ents` the spans.

spaCy is imported only when such a file is read or written. Whitespace tokens (`"\\n"`, extra
spaces) are separators, not words. A Doc whose tokens all have no entity annotation
(`ent_iob_ == ""`) is unlabeled; a Doc annotated on some words only is an error (lookright cannot
leave words unlabeled). Span groups (`doc.spans`) are not read; a file that has them is reported.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ...errors import DataError
from ..sentence import Sentence
from ..words import split_words
from .spans import AnnotatedText, RawSpan, SpanChecker

USER_DATA_KEY = "lookright"  # written Docs keep their scores here (doc.user_data)


def _docbin():
    try:
        from spacy.tokens import DocBin
        from spacy.vocab import Vocab
    except ImportError:  # pragma: no cover - spaCy is installed with lookright[spacy]
        raise DataError("reading or writing .spacy files needs spaCy: pip install 'lookright[spacy]'") from None
    return DocBin, Vocab


def iter_docbin(path: str | os.PathLike, *, labelled: bool = True, snap_spans: bool = False) -> Iterator[Sentence]:
    """Sentences of a `.spacy` file, one per Doc (see the module docstring)."""
    DocBin, Vocab = _docbin()
    try:
        docs = DocBin().from_disk(path).get_docs(Vocab())
    except (OSError, ValueError, KeyError, TypeError) as error:  # spaCy raises these on a damaged file
        raise DataError(f"not a readable spaCy DocBin file ({type(error).__name__}: {error})", path) from None
    checker = SpanChecker(path, snap_spans)
    count = 0
    for index, doc in enumerate(docs):
        name = f"doc {index}"
        real = [t for t in doc if t.text.strip()]  # `is_space` needs the language's vocab: test the text
        words = [(t.idx, t.idx + len(t.text)) for t in real]
        iobs = {t.ent_iob_ for t in real}
        spans = None
        if labelled and iobs != {""}:
            if "" in iobs:
                missing = next(t for t in real if t.ent_iob_ == "")
                raise checker.fail(f"token {missing.i} ({missing.text!r}) has no entity annotation while others do",
                                   None, name)
            spans = [RawSpan(k, e.start_char, e.end_char, e.label_) for k, e in enumerate(doc.ents)]
        if any(len(group) for group in doc.spans.values()):
            checker.note("doc(s) with span groups (doc.spans) not read: only doc.ents are")
        yield checker.sentence(doc.text, spans, line=None, record=name, words=words)
        count += 1
    if count == 0:
        raise DataError("no docs found (the DocBin is empty)", path)
    checker.finish()


class DocBinWriter:
    """Docs collected in a `DocBin` and saved to `path` on `close()` (scores kept in `doc.user_data`)."""

    def __init__(self, path: str | os.PathLike) -> None:
        DocBin, Vocab = _docbin()
        self.path, self.vocab = Path(path), Vocab()
        self.docbin = DocBin(attrs=["ENT_IOB", "ENT_TYPE"], store_user_data=True)

    def write(self, item: AnnotatedText) -> None:
        from spacy.tokens import Doc
        from spacy.util import get_words_and_spaces

        words = item.words if item.words is not None else _words(item.text, item.spans or [])
        tokens, spaces = get_words_and_spaces([item.text[s:e] for s, e in words], item.text) if words else ([], [])
        doc = Doc(self.vocab, words=tokens, spaces=spaces)
        ents = []
        for span in item.spans or []:
            ent = doc.char_span(span.start, span.end, label=span.label)
            if ent is None:
                raise ValueError(f"span [{span.start}, {span.end}) of {item.text[:40]!r} is not on token boundaries")
            ents.append(ent)
        if item.spans is not None:
            doc.ents = ents
        doc.user_data[USER_DATA_KEY] = {"score": item.score, "span_scores": [s.score for s in item.spans or []],
                                        **item.meta}
        self.docbin.add(doc)

    def close(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.docbin.to_disk(self.path)


def _words(text: str, spans) -> list[tuple[int, int]]:
    return split_words(text, [x for s in spans for x in (s.start, s.end)])
